// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICubeBridge} from "../interfaces/IBridge.sol";
import {IOptimizedCubeManagement} from "../interfaces/IOptimizedCubeManagement.sol";
import {IMessageReceiver} from "../interfaces/IMessenger.sol";
import {BridgeBase} from "./BridgeBase.sol";

interface IERC721Transfer {
    function ownerOf(uint256 id) external view returns (address);
    function transferFrom(address from, address to, uint256 id) external;
}

/// @title CubeBridge
/// @notice The home chain's cube bridge: locks cubes leaving for a remote chain, with their tier and total
/// mined in the message, and releases them when they come back from that chain. See {ICubeBridge}.
/// @dev A locked cube is owned by this contract, which never claims: its rewards keep accruing to the
/// cube and are claimed by whoever receives it back.
contract CubeBridge is ICubeBridge, BridgeBase {
    address private immutable _CUBES;
    /// @inheritdoc ICubeBridge
    mapping(uint256 cubeId => uint256 chainId) public lockedFor;

    /// @param admin See {BridgeBase}.
    /// @param cubes_ The CUBE collection ({OptimizedCubeManagement}).
    /// @param messenger_ The messenger.
    constructor(address admin, address cubes_, address messenger_)
        BridgeBase(admin, messenger_, block.chainid, true)
    {
        if (cubes_.code.length == 0) revert InvalidAddress();
        _CUBES = cubes_;
    }

    /// @inheritdoc ICubeBridge
    function cubes() external view returns (address) {
        return _CUBES;
    }

    /// @inheritdoc ICubeBridge
    function send(uint256 dstChainId, address to, uint256[] calldata cubeIds)
        external
        whenNotPaused
        returns (bytes32 messageId)
    {
        uint256 count = cubeIds.length;
        if (count == 0) revert NoCubes();
        if (to == address(0)) revert ZeroRecipient();
        _peerOn(dstChainId);
        uint8[] memory tiers = new uint8[](count);
        uint256[] memory mined = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            uint256 id = cubeIds[i];
            if (IERC721Transfer(_CUBES).ownerOf(id) != msg.sender) revert NotHolder(id, msg.sender);
            lockedFor[id] = dstChainId;
            (uint128 totalMined,,,) = IOptimizedCubeManagement(_CUBES).nodeData(id);
            (tiers[i], mined[i]) = (IOptimizedCubeManagement(_CUBES).tierOf(id), totalMined);
            IERC721Transfer(_CUBES).transferFrom(msg.sender, address(this), id);
        }
        messageId = _sendMessage(dstChainId, abi.encode(to, cubeIds, tiers, mined));
        emit CubesSent(messageId, dstChainId, msg.sender, to, cubeIds);
    }

    /// @inheritdoc IMessageReceiver
    function receiveMessage(bytes32 messageId, uint256 srcChainId, address srcSender, bytes calldata payload)
        external
        whenNotPaused
    {
        _checkOrigin(srcChainId, srcSender);
        (address to, uint256[] memory cubeIds) = abi.decode(payload, (address, uint256[]));
        for (uint256 i; i < cubeIds.length; ++i) {
            uint256 id = cubeIds[i];
            if (lockedFor[id] != srcChainId) revert NotLockedFor(id, srcChainId);
            delete lockedFor[id];
            IERC721Transfer(_CUBES).transferFrom(address(this), to, id);
        }
        emit CubesReceived(messageId, srcChainId, to, cubeIds);
    }
}
