// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICubeBridge} from "../interfaces/IBridge.sol";
import {IOptimizedCubeManagement} from "../interfaces/IOptimizedCubeManagement.sol";
import {BridgeBase} from "./BridgeBase.sol";

interface IERC721Transfer {
    function ownerOf(uint256 id) external view returns (address);
    function transferFrom(address from, address to, uint256 id) external;
}

/// @title CubeBridge
/// @notice The home chain's cube bridge: locks cubes leaving for a remote chain, with their tier and total
/// mined in the message, and releases them when they come back from that chain, or back to their sender
/// when the transfer is refunded. See {ICubeBridge}.
/// @dev A locked cube is owned by this contract, which never claims: its rewards keep accruing to the
/// cube and are claimed by whoever receives it back. Payload, both ways:
/// `abi.encode(kind, nonce, from, to, cubeIds, tiers, totalMined)`.
contract CubeBridge is ICubeBridge, BridgeBase {
    /// @inheritdoc ICubeBridge
    /// @dev Measured worst case at 400 cubes (cold cubes, a new holder): see the gas report.
    uint256 public constant MAX_CUBES_PER_MESSAGE = 400;

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
        if (count > MAX_CUBES_PER_MESSAGE) revert TooManyCubes(count, MAX_CUBES_PER_MESSAGE);
        if (to == address(0)) revert ZeroRecipient();
        address dstBridge = _peerOn(dstChainId);
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

    /// @dev Cubes coming home from `srcChainId`: released to `to`.
    function _execute(uint256 srcChainId, bytes32 id, bytes calldata payload) internal override {
        (,,, address to, uint256[] memory cubeIds) =
            abi.decode(payload, (uint256, uint64, address, address, uint256[]));
        _release(srcChainId, to, cubeIds);
        emit CubesReceived(id, srcChainId, to, cubeIds);
    }

    /// @dev Cubes sent to `dstChainId` and refunded: released to their sender.
    function _refund(uint256 dstChainId, bytes32, bytes calldata payload) internal override {
        (,, address from,, uint256[] memory cubeIds) =
            abi.decode(payload, (uint256, uint64, address, address, uint256[]));
        _release(dstChainId, from, cubeIds);
    }

    function _release(uint256 chainId, address to, uint256[] memory cubeIds) private {
        for (uint256 i; i < cubeIds.length; ++i) {
            uint256 id = cubeIds[i];
            if (lockedFor[id] != chainId) revert NotLockedFor(id, chainId);
            delete lockedFor[id];
            IERC721Transfer(_CUBES).transferFrom(address(this), to, id);
        }
    }

    /// @dev A locked cube is never rescued; a cube sent here directly (not locked) can be.
    function _reservedNFT(address collection, uint256 cubeId) internal view override returns (bool) {
        return collection == _CUBES && lockedFor[cubeId] != 0;
    }
}
