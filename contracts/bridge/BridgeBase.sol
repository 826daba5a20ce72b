// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IBridge} from "../interfaces/IBridge.sol";
import {IMessenger} from "../interfaces/IMessenger.sol";

/// @title BridgeBase
/// @notice Routes, messenger, roles and pausing shared by the LBC and cube bridges. See {IBridge}.
abstract contract BridgeBase is IBridge, AccessControl, Pausable {
    /// @inheritdoc IBridge
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @inheritdoc IBridge
    uint256 public immutable homeChainId;
    /// @inheritdoc IBridge
    address public messenger;
    /// @inheritdoc IBridge
    mapping(uint256 chainId => address) public peer;
    /// @dev Whether this is the home chain's bridge (which holds the originals).
    bool private immutable _HOME;

    /// @param admin Wires routes and limits, swaps the messenger (DEFAULT_ADMIN_ROLE), and pauses.
    /// @param messenger_ The messenger to speak through.
    /// @param homeChainId_ The home chain (Polygon); a home bridge must be deployed on it.
    /// @param home_ Whether this is the home bridge.
    constructor(address admin, address messenger_, uint256 homeChainId_, bool home_) {
        if (admin == address(0)) revert InvalidAddress();
        if (home_ && homeChainId_ != block.chainid) revert WrongHomeChain(homeChainId_, block.chainid);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
        homeChainId = homeChainId_;
        _HOME = home_;
        _setMessenger(messenger_);
    }

    /// @inheritdoc IBridge
    function isHome() public view returns (bool) {
        return _HOME;
    }

    /// @inheritdoc IBridge
    function setPeer(uint256 chainId, address newPeer) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!_HOME && chainId != homeChainId) revert UnsupportedRoute(chainId);
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
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    /// @dev This bridge's peer on `dstChainId`, reverting when unrouted.
    function _peerOn(uint256 dstChainId) internal view returns (address to) {
        to = peer[dstChainId];
        if (to == address(0)) revert UnsupportedRoute(dstChainId);
    }

    /// @dev Reverts unless the messenger is calling on behalf of this bridge's peer on `srcChainId`.
    function _checkOrigin(uint256 srcChainId, address srcSender) internal view {
        if (msg.sender != messenger) revert NotMessenger(msg.sender);
        address expected = peer[srcChainId];
        if (expected == address(0) || expected != srcSender) revert UnknownPeer(srcChainId, srcSender);
    }

    function _sendMessage(uint256 dstChainId, bytes memory payload) internal returns (bytes32) {
        return IMessenger(messenger).sendMessage(dstChainId, _peerOn(dstChainId), payload);
    }

    function _setMessenger(address newMessenger) private {
        if (newMessenger.code.length == 0) revert InvalidAddress();
        messenger = newMessenger;
        emit MessengerSet(newMessenger);
    }
}
