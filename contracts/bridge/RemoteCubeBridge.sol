// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICubeBridge} from "../interfaces/IBridge.sol";
import {IMessageReceiver} from "../interfaces/IMessenger.sol";
import {BridgeBase} from "./BridgeBase.sol";
import {RemoteCube} from "./RemoteCube.sol";

/// @title RemoteCubeBridge
/// @notice A remote chain's cube bridge: mints a {RemoteCube} for each cube arriving from home and burns it
/// when it goes home again. It creates its RemoteCube collection, and is its only minter. See {ICubeBridge}.
contract RemoteCubeBridge is ICubeBridge, BridgeBase {
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
        if (cubeIds.length == 0) revert NoCubes();
        if (to == address(0)) revert ZeroRecipient();
        if (dstChainId != homeChainId) revert UnsupportedRoute(dstChainId);
        _peerOn(dstChainId);
        for (uint256 i; i < cubeIds.length; ++i) {
            uint256 id = cubeIds[i];
            if (!_CUBES.isApprovedOrOwner(msg.sender, id)) revert NotHolder(id, msg.sender);
            _CUBES.burn(id);
        }
        messageId = _sendMessage(dstChainId, abi.encode(to, cubeIds));
        emit CubesSent(messageId, dstChainId, msg.sender, to, cubeIds);
    }

    /// @inheritdoc IMessageReceiver
    function receiveMessage(bytes32 messageId, uint256 srcChainId, address srcSender, bytes calldata payload)
        external
        whenNotPaused
    {
        _checkOrigin(srcChainId, srcSender);
        (address to, uint256[] memory cubeIds, uint8[] memory tiers, uint256[] memory mined) =
            abi.decode(payload, (address, uint256[], uint8[], uint256[]));
        for (uint256 i; i < cubeIds.length; ++i) {
            _CUBES.mint(to, cubeIds[i], tiers[i], mined[i]);
        }
        emit CubesReceived(messageId, srcChainId, to, cubeIds);
    }
}
