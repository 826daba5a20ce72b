// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICubeBridge} from "../interfaces/IBridge.sol";
import {BridgeBase} from "./BridgeBase.sol";
import {RemoteCube} from "./RemoteCube.sol";

/// @title RemoteCubeBridge
/// @notice A remote chain's cube bridge: mints a {RemoteCube} for each cube arriving from home and burns it
/// when it goes home again (re-minting it to its sender if that transfer is refunded). It creates its
/// RemoteCube collection, and is its only minter. See {ICubeBridge}.
/// @dev Payload, both ways: `abi.encode(kind, nonce, from, to, cubeIds, tiers, totalMined)`.
contract RemoteCubeBridge is ICubeBridge, BridgeBase {
    /// @inheritdoc ICubeBridge
    uint256 public constant MAX_CUBES_PER_MESSAGE = 400;

    RemoteCube private immutable _CUBES;

    /// @param admin See {BridgeBase}.
    /// @param messenger_ The messenger.
    /// @param homeChainId_ The home chain, the only one this bridge sends to and receives from.
    /// @param baseURI The token URI prefix of the remote collection (may be empty).
    constructor(address admin, address messenger_, uint256 homeChainId_, string memory baseURI)
        BridgeBase(admin, messenger_, homeChainId_, false)
    {
        _CUBES = new RemoteCube(address(this), baseURI);
    }

    /// @inheritdoc ICubeBridge
    function cubes() external view returns (address) {
        return address(_CUBES);
    }

    /// @inheritdoc ICubeBridge
    /// @dev Always 0: nothing is locked away from home.
    function lockedFor(uint256) external pure returns (uint256) {
        return 0;
    }

    /// @inheritdoc ICubeBridge
    function send(uint256 dstChainId, address to, uint256[] calldata cubeIds)
        external
        whenNotPaused
        returns (bytes32 messageId)
    {
        uint256 count = cubeIds.length;
        if (count == 0) revert NoCubes();
        if (count > MAX_CUBES_PER_MESSAGE) revert TooManyCubes(count, MAX_CUBES_PER_MESSAGE);
        if (to == address(0)) revert ZeroRecipient();
        if (dstChainId != homeChainId) revert UnsupportedRoute(dstChainId);
        address dstBridge = _peerOn(dstChainId);
        uint8[] memory tiers = new uint8[](count);
        uint256[] memory mined = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            uint256 id = cubeIds[i];
            if (!_CUBES.isApprovedOrOwner(msg.sender, id)) revert NotHolder(id, msg.sender);
            (tiers[i], mined[i]) = _CUBES.burn(id);
        }
        messageId = _sendCubes(dstChainId, dstBridge, to, cubeIds, tiers, mined);
    }

    function _sendCubes(
        uint256 dstChainId,
        address dstBridge,
        address to,
        uint256[] calldata cubeIds,
        uint8[] memory tiers,
        uint256[] memory mined
    ) private returns (bytes32 messageId) {
        uint64 nonce = _useNonce();
        bytes memory payload = abi.encode(_TRANSFER, nonce, msg.sender, to, cubeIds, tiers, mined);
        bytes32 transfer;
        (transfer, messageId) = _dispatch(dstChainId, dstBridge, nonce, payload);
        emit CubesSent(transfer, dstChainId, msg.sender, to, cubeIds, messageId);
    }

    /// @dev Cubes arriving from home: minted to `to` with the data they left with.
    function _execute(uint256 srcChainId, bytes32 id, bytes calldata payload) internal override {
        (address to, uint256[] memory cubeIds) = _mintAll(payload, false);
        emit CubesReceived(id, srcChainId, to, cubeIds);
    }

    /// @dev Cubes sent home and refunded: minted again to their sender, with the data they left with.
    function _refund(uint256, bytes32, bytes calldata payload) internal override {
        _mintAll(payload, true);
    }

    function _mintAll(bytes calldata payload, bool toSender)
        private
        returns (address recipient, uint256[] memory cubeIds)
    {
        (, , address from, address to, uint256[] memory ids, uint8[] memory tiers, uint256[] memory mined) =
            abi.decode(payload, (uint256, uint64, address, address, uint256[], uint8[], uint256[]));
        recipient = toSender ? from : to;
        for (uint256 i; i < ids.length; ++i) {
            _CUBES.mint(recipient, ids[i], tiers[i], mined[i]);
        }
        cubeIds = ids;
    }
}
