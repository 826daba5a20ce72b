// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IMessageReceiver} from "./IMessenger.sol";

/// @title IBridge
/// @notice What every L.I.N.K bridge contract shares: routes to its peers on other chains, the messenger it
/// speaks through, pausing, and the errors of a message arriving from where it should not.
///
/// Trust: a bridge trusts its messenger (see {IMessenger}) and its admin, who wires routes and may swap
/// the messenger. It accepts a message only from its messenger, and only when the sender is its peer on the
/// message's source chain. Polygon (the home chain) holds the originals: LBC locked in the LBC bridge and
/// cubes locked in the cube bridge; a remote chain holds only what arrived through the home chain.
interface IBridge is IMessageReceiver {
    /// @notice No peer bridge is wired for chain `chainId`, or this bridge does not route there.
    error UnsupportedRoute(uint256 chainId);
    /// @notice `caller` is not this bridge's messenger.
    error NotMessenger(address caller);
    /// @notice `sender` on chain `srcChainId` is not this bridge's peer there.
    error UnknownPeer(uint256 srcChainId, address sender);
    /// @notice The recipient is the zero address.
    error ZeroRecipient();
    /// @notice A required address was zero or has no code.
    error InvalidAddress();
    /// @notice A home bridge for home chain `homeChainId` cannot be deployed on chain `thisChainId`.
    error WrongHomeChain(uint256 homeChainId, uint256 thisChainId);

    /// @notice The peer of this bridge on chain `chainId` is now `peer` (zero: unwired).
    event PeerSet(uint256 indexed chainId, address peer);
    /// @notice The bridge now speaks through `messenger`.
    event MessengerSet(address messenger);

    /// @notice The role that may pause and unpause the bridge.
    function PAUSER_ROLE() external view returns (bytes32);
    /// @notice The chain whose bridge holds the originals (Polygon: 137, Amoy: 80002).
    function homeChainId() external view returns (uint256);
    /// @notice Whether this is the home chain's bridge.
    function isHome() external view returns (bool);
    /// @notice The messenger messages go through.
    function messenger() external view returns (address);
    /// @notice This bridge's peer on chain `chainId`, or zero.
    function peer(uint256 chainId) external view returns (address);

    /// @notice Wires (or, with zero, unwires) the peer on `chainId`. Only the admin. A remote bridge has
    /// exactly one peer: the home chain's.
    function setPeer(uint256 chainId, address newPeer) external;
    /// @notice Speaks through `newMessenger` from now on. Only the admin.
    function setMessenger(address newMessenger) external;
    /// @notice Stops sending and receiving (`paused()` tells). A message arriving while paused reverts and
    /// can be delivered again after unpausing. Only PAUSER_ROLE.
    function pause() external;
    /// @notice Resumes sending and receiving. Only PAUSER_ROLE.
    function unpause() external;
}

/// @title ILBCBridge
/// @notice Moves LBC between chains. On the home chain LBC is locked in this bridge and released (the
/// ERC-7281 "lockbox"), so the home token's supply, and so its cap, always counts the LBC abroad; on a
/// remote chain LBC is burnt on the way out and minted on the way in (ERC-7281 "xERC20"), by this bridge,
/// which holds the remote token's MINTER_ROLE. Across all chains together the supply never exceeds the cap.
///
/// Each direction has a limit (what may leave, and what may arrive, within a day) that refills linearly
/// over a day up to its maximum, set by the admin: a compromised messenger or peer can take at most a
/// day's limit. The home bridge also releases to each chain no more than was sent to it.
interface ILBCBridge is IBridge {
    /// @notice Nothing to send.
    error ZeroAmount();
    /// @notice `amount` exceeds the `available` part of the limit right now.
    error LimitExceeded(uint256 amount, uint256 available);
    /// @notice A limit of `limit` is above the largest storable, 2^104 - 1.
    error LimitTooHigh(uint256 limit);
    /// @notice Chain `srcChainId` asks to release `amount`, but only `outstanding` was sent there.
    error ExceedsOutstanding(uint256 srcChainId, uint256 amount, uint256 outstanding);

    /// @notice `amount` LBC left for `to` on chain `dstChainId` from `from`, in message `messageId`.
    event LBCSent(
        bytes32 indexed messageId, uint256 indexed dstChainId, address indexed from, address to, uint256 amount
    );
    /// @notice `amount` LBC arrived for `to` from chain `srcChainId`, in message `messageId`.
    event LBCReceived(bytes32 indexed messageId, uint256 indexed srcChainId, address indexed to, uint256 amount);
    /// @notice The daily limits are now `sendLimit` (leaving) and `receiveLimit` (arriving).
    event LimitsSet(uint256 sendLimit, uint256 receiveLimit);

    /// @notice The LBC token on this chain.
    function token() external view returns (address);
    /// @notice The most that may leave within a day, and what may leave right now.
    function sendLimit() external view returns (uint256 max, uint256 available);
    /// @notice The most that may arrive within a day, and what may arrive right now.
    function receiveLimit() external view returns (uint256 max, uint256 available);
    /// @notice Home chain only: LBC sent to chain `chainId` and not yet returned (what it may release).
    function outstanding(uint256 chainId) external view returns (uint256);

    /// @notice Sends `amount` LBC of the caller to `to` on chain `dstChainId`: locks it (home) or burns it
    /// (remote; approve this bridge first on either). Reverts when paused, unrouted or over the send limit.
    /// @return messageId The message that carries it.
    function send(uint256 dstChainId, address to, uint256 amount) external returns (bytes32 messageId);
    /// @notice Sets both daily limits (wei). Raising a limit adds the difference to what is available now;
    /// lowering it takes it away. Only the admin.
    function setLimits(uint256 newSendLimit, uint256 newReceiveLimit) external;
}

/// @title ICubeBridge
/// @notice Moves CUBEs between the home chain and remote chains. At home, a cube leaving is locked in this
/// bridge (it keeps accruing LBC, claimable by its holder once it is home again) and a {IRemoteCube} with
/// the same id, tier and total mined is minted on the destination; coming home, the remote cube is burnt
/// and the original released. So every cube is unlocked on exactly one chain at a time. The home bridge
/// releases a cube only to the chain it was sent to.
interface ICubeBridge is IBridge {
    /// @notice No cube ids were given.
    error NoCubes();
    /// @notice `caller` may not move cube `cubeId`: at home only its holder sends it (after approving the
    /// bridge); away from home its holder or an approved operator.
    error NotHolder(uint256 cubeId, address caller);
    /// @notice Cube `cubeId` is not locked for chain `chainId`, which asks to release it.
    error NotLockedFor(uint256 cubeId, uint256 chainId);

    /// @notice Cubes `cubeIds` left for `to` on chain `dstChainId` from `from`, in message `messageId`.
    event CubesSent(
        bytes32 indexed messageId, uint256 indexed dstChainId, address indexed from, address to, uint256[] cubeIds
    );
    /// @notice Cubes `cubeIds` arrived for `to` from chain `srcChainId`, in message `messageId`.
    event CubesReceived(bytes32 indexed messageId, uint256 indexed srcChainId, address indexed to, uint256[] cubeIds);

    /// @notice The CUBE collection on this chain: the original at home, the {IRemoteCube} elsewhere.
    function cubes() external view returns (address);
    /// @notice Home chain only: the chain cube `cubeId` is locked for, or 0 when it is at home.
    function lockedFor(uint256 cubeId) external view returns (uint256);

    /// @notice Sends the caller's cubes `cubeIds` to `to` on chain `dstChainId` (a remote bridge sends only
    /// home). At home, approve this bridge for the cubes first. Reverts when paused or unrouted.
    /// @return messageId The message that carries them.
    function send(uint256 dstChainId, address to, uint256[] calldata cubeIds) external returns (bytes32 messageId);
}

/// @title IRemoteCube
/// @notice A CUBE away from home: an ERC-721 with the home cube's id, minted and burnt only by its bridge,
/// carrying the cube's tier and the LBC it had mined when it left, read-only. It does not mine: rewards
/// accrue to the original, locked at home, and are claimed there once the cube is back.
interface IRemoteCube {
    /// @notice Only the bridge that created this collection mints and burns.
    error NotBridge(address caller);
    /// @notice A tier above 3, or a total mined of 2^94 wei or more, cannot be stored.
    error InvalidCubeData(uint8 tier, uint256 totalMined);

    /// @notice The bridge that mints and burns.
    function bridge() external view returns (address);
    /// @notice The tier of cube `cubeId` (reverts when it does not exist here).
    function tierOf(uint256 cubeId) external view returns (uint8);
    /// @notice The LBC (wei) cube `cubeId` had mined when it left home (reverts when it does not exist here).
    function totalMinedOf(uint256 cubeId) external view returns (uint256);
    /// @notice Whether `account` may move cube `cubeId` (holder or approved).
    function isApprovedOrOwner(address account, uint256 cubeId) external view returns (bool);
    /// @notice Mints cube `cubeId` to `to` with its data. Only the bridge.
    function mint(address to, uint256 cubeId, uint8 tier, uint256 totalMined) external;
    /// @notice Burns cube `cubeId`. Only the bridge.
    function burn(uint256 cubeId) external;
}
