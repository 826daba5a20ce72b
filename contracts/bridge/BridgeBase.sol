// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IBridge} from "../interfaces/IBridge.sol";
import {IMessenger} from "../interfaces/IMessenger.sol";
import {Governed} from "../utils/Governed.sol";

/// @title BridgeBase
/// @notice Routes, messenger, transfer numbering, the replay record, held transfers and refunds, roles and
/// pausing shared by the LBC and cube bridges. See {IBridge}.
/// @dev An asset bridge encodes its payloads as `abi.encode(kind, nonce, from, to, ...)` and implements
/// {_execute} (an arrival, to `to`) and {_refund} (a transfer of its own coming back, to `from`).
abstract contract BridgeBase is IBridge, Governed, Pausable {
    /// @inheritdoc IBridge
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @inheritdoc IBridge
    uint256 public immutable homeChainId;

    /// @dev Payload kinds (the first word).
    uint256 internal constant _TRANSFER = 1;
    uint256 internal constant _REFUND = 2;

    /// @dev Whether this is the home chain's bridge (which holds the originals).
    bool private immutable _HOME;

    /// @inheritdoc IBridge
    address public messenger;
    /// @inheritdoc IBridge
    /// @dev Shares the messenger's slot: a send reads both and writes this one.
    uint64 public outboundNonce;
    /// @inheritdoc IBridge
    mapping(uint256 chainId => address) public peer;
    /// @inheritdoc IBridge
    mapping(uint64 nonce => bytes32 commitment) public outbox;
    /// @inheritdoc IBridge
    mapping(bytes32 transferId => bytes32 payloadHash) public held;
    /// @dev The replay record, 256 transfers a word: bit `nonce % 256` of the word at
    /// `keccak256(abi.encode(srcChainId, srcBridge, nonce / 256))`. A sender's transfers are numbered in
    /// sequence, so all but one in 256 receipts rewrite a word already written (5k gas, not 22k).
    mapping(bytes32 word => uint256 bits) private _received;
    uint256[] internal _routes;
    mapping(uint256 chainId => bool) private _routed;

    /// @param admin The default admin: wires routes, swaps the messenger, unpauses, rescues (in a governed
    /// deployment, the timelock). Also gets PAUSER_ROLE.
    /// @param messenger_ The messenger to speak through.
    /// @param homeChainId_ The home chain (Polygon); a home bridge must be deployed on it.
    /// @param home_ Whether this is the home bridge.
    constructor(address admin, address messenger_, uint256 homeChainId_, bool home_) Governed(admin) {
        if (home_ && homeChainId_ != block.chainid) revert WrongHomeChain(homeChainId_, block.chainid);
        _grantRole(PAUSER_ROLE, admin);
        homeChainId = homeChainId_;
        _HOME = home_;
        _setMessenger(messenger_);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IBridge
    function isHome() public view returns (bool) {
        return _HOME;
    }

    /// @inheritdoc IBridge
    function routes() external view returns (uint256[] memory) {
        return _routes;
    }

    /// @inheritdoc IBridge
    function transferId(uint256 srcChainId, address srcBridge, uint64 nonce) public pure returns (bytes32) {
        return keccak256(abi.encode(srcChainId, srcBridge, nonce));
    }

    /// @inheritdoc IBridge
    function received(uint256 srcChainId, address srcBridge, uint64 nonce) public view returns (bool) {
        return _received[_receivedWord(srcChainId, srcBridge, nonce)] >> (nonce & 0xff) & 1 != 0;
    }

    /// @inheritdoc IBridge
    function processed(uint256 srcChainId, address srcSender, bytes calldata payload)
        external
        view
        returns (bool)
    {
        (uint256 kind, uint256 nonce) = _header(payload);
        if (nonce > type(uint64).max) return true;
        if (kind == _REFUND) {
            bytes32 commitment = outbox[uint64(nonce)];
            return commitment == 0 || commitment != _commitment(srcChainId, payload);
        }
        return kind != _TRANSFER || received(srcChainId, srcSender, uint64(nonce));
    }

    /*//////////////////////////////////////////////////////////////
                               RECEIVING
    //////////////////////////////////////////////////////////////*/

    /// @notice Receives a transfer (executed, or held when it cannot execute) or the refund of one of this
    /// bridge's transfers. Only the messenger, for this bridge's peer on `srcChainId`.
    function receiveMessage(bytes32 messageId, uint256 srcChainId, address srcSender, bytes calldata payload)
        external
        whenNotPaused
    {
        _checkOrigin(srcChainId, srcSender);
        (uint256 kind, uint64 nonce,,) = abi.decode(payload[:128], (uint256, uint64, address, address));
        if (kind == _REFUND) {
            _applyRefund(srcChainId, nonce, payload);
            return;
        }
        if (kind != _TRANSFER) revert UnknownKind(kind);
        bytes32 id = _markReceived(srcChainId, srcSender, nonce);
        // Executed through a self-call, so that whatever stops it (a limit, a paused token, a missing
        // role) holds the transfer for a retry or a refund instead of leaving it undeliverable.
        uint256 gasBefore = gasleft();
        try this.executeTransfer(srcChainId, id, payload) {}
        catch (bytes memory reason) {
            // Out of gas inside (it used up the 63/64 it was given, and says nothing): the delivery
            // reverts, to be made again with enough gas, rather than hold a transfer that would execute.
            // Otherwise gas estimation would settle on holding, and a relayer could force holds.
            if (reason.length == 0 && gasleft() <= gasBefore / 64) revert NotEnoughGas();
            held[id] = keccak256(payload);
            emit TransferHeld(id, srcChainId, srcSender, messageId, payload, reason);
        }
    }

    /// @inheritdoc IBridge
    function executeTransfer(uint256 srcChainId, bytes32 id, bytes calldata payload) external {
        if (msg.sender != address(this)) revert OnlySelf();
        _execute(srcChainId, id, payload);
    }

    /// @inheritdoc IBridge
    function retry(uint256 srcChainId, address srcBridge, bytes calldata payload) external whenNotPaused {
        bytes32 id = _takeHeld(srcChainId, srcBridge, payload);
        _execute(srcChainId, id, payload);
    }

    /// @inheritdoc IBridge
    function refund(uint256 srcChainId, address srcBridge, bytes calldata payload)
        external
        whenNotPaused
        returns (bytes32 messageId)
    {
        bytes32 id = _takeHeld(srcChainId, srcBridge, payload);
        (,, address from, address to) = abi.decode(payload[:128], (uint256, uint64, address, address));
        if (msg.sender != from && msg.sender != to) revert NotSenderOrRecipient(msg.sender);
        bytes memory back = payload;
        /// @solidity memory-safe-assembly
        assembly {
            mstore(add(back, 0x20), _REFUND)
        }
        // Back to the bridge that sent it (not the current peer, should the route have been rewired).
        messageId = IMessenger(messenger).sendMessage(srcChainId, srcBridge, back);
        emit TransferRefundSent(id, srcChainId, messageId);
    }

    /*//////////////////////////////////////////////////////////////
                                 ADMIN
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IBridge
    function setPeer(uint256 chainId, address newPeer) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!_HOME && chainId != homeChainId) revert UnsupportedRoute(chainId);
        if (newPeer != address(0) && !_routed[chainId]) {
            _routed[chainId] = true;
            _routes.push(chainId);
        }
        peer[chainId] = newPeer;
        emit PeerSet(chainId, newPeer);
    }

    /// @inheritdoc IBridge
    function setMessenger(address newMessenger) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMessenger(newMessenger);
    }

    /// @inheritdoc IBridge
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc IBridge
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev Executes an arrival: pays `to` (reverting holds the transfer).
    function _execute(uint256 srcChainId, bytes32 id, bytes calldata payload) internal virtual;

    /// @dev Pays back the sender (`from`) of this bridge's transfer to `dstChainId`, its commitment spent.
    function _refund(uint256 dstChainId, bytes32 id, bytes calldata payload) internal virtual;

    /// @dev This bridge's peer on `dstChainId`, reverting when unrouted.
    function _peerOn(uint256 dstChainId) internal view returns (address to) {
        to = peer[dstChainId];
        if (to == address(0)) revert UnsupportedRoute(dstChainId);
    }

    /// @dev The next transfer's nonce, counted.
    function _useNonce() internal returns (uint64 nonce) {
        nonce = outboundNonce;
        outboundNonce = nonce + 1;
    }

    /// @dev Commits to transfer `nonce` (encoded in `payload`) and sends it to `dstBridge` on `dstChainId`.
    function _dispatch(uint256 dstChainId, address dstBridge, uint64 nonce, bytes memory payload)
        internal
        returns (bytes32 id, bytes32 messageId)
    {
        outbox[nonce] = keccak256(abi.encodePacked(dstChainId, payload));
        messageId = IMessenger(messenger).sendMessage(dstChainId, dstBridge, payload);
        id = transferId(block.chainid, address(this), nonce);
    }

    /// @dev Reverts unless the messenger is calling on behalf of this bridge's peer on `srcChainId`.
    function _checkOrigin(uint256 srcChainId, address srcSender) private view {
        if (msg.sender != messenger) revert NotMessenger(msg.sender);
        address expected = peer[srcChainId];
        if (expected == address(0) || expected != srcSender) revert UnknownPeer(srcChainId, srcSender);
    }

    function _applyRefund(uint256 dstChainId, uint64 nonce, bytes calldata payload) private {
        bytes32 commitment = outbox[nonce];
        if (commitment == 0 || commitment != _commitment(dstChainId, payload)) {
            revert NotRefundable(dstChainId, nonce);
        }
        delete outbox[nonce];
        bytes32 id = transferId(block.chainid, address(this), nonce);
        _refund(dstChainId, id, payload);
        (,, address from,) = abi.decode(payload[:128], (uint256, uint64, address, address));
        emit TransferRefunded(id, dstChainId, from);
    }

    /// @dev Records transfer `nonce` of `srcBridge` on `srcChainId` as received (once) and returns its id.
    function _markReceived(uint256 srcChainId, address srcBridge, uint64 nonce) private returns (bytes32 id) {
        id = transferId(srcChainId, srcBridge, nonce);
        bytes32 word = _receivedWord(srcChainId, srcBridge, nonce);
        uint256 bits = _received[word];
        uint256 bit = 1 << (nonce & 0xff);
        if (bits & bit != 0) revert AlreadyReceived(id);
        _received[word] = bits | bit;
    }

    /// @dev Removes held transfer `payload` of `srcBridge` on `srcChainId` and returns its id.
    function _takeHeld(uint256 srcChainId, address srcBridge, bytes calldata payload) private returns (bytes32 id) {
        (, uint64 nonce,,) = abi.decode(payload[:128], (uint256, uint64, address, address));
        id = transferId(srcChainId, srcBridge, nonce);
        bytes32 payloadHash = held[id];
        if (payloadHash == 0 || payloadHash != keccak256(payload)) revert NotHeld(id);
        delete held[id];
    }

    /// @dev The outbox commitment a refund `payload` from `dstChainId` must match: that of the transfer it
    /// refunds, which is the same payload with kind 1.
    function _commitment(uint256 dstChainId, bytes calldata payload) private pure returns (bytes32 result) {
        /// @solidity memory-safe-assembly
        assembly {
            let m := mload(0x40) // Scratch past the free memory pointer, not kept.
            mstore(m, dstChainId)
            calldatacopy(add(m, 0x20), payload.offset, payload.length)
            mstore(add(m, 0x20), _TRANSFER)
            result := keccak256(m, add(payload.length, 0x20))
        }
    }

    function _header(bytes calldata payload) private pure returns (uint256 kind, uint256 nonce) {
        /// @solidity memory-safe-assembly
        assembly {
            kind := calldataload(payload.offset)
            nonce := calldataload(add(payload.offset, 0x20))
        }
    }

    function _receivedWord(uint256 srcChainId, address srcBridge, uint64 nonce) private pure returns (bytes32) {
        return keccak256(abi.encode(srcChainId, srcBridge, nonce >> 8));
    }

    function _setMessenger(address newMessenger) private {
        if (newMessenger.code.length == 0) revert InvalidAddress();
        messenger = newMessenger;
        emit MessengerSet(newMessenger);
    }
}
