// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IGoverned} from "./IGoverned.sol";
import {IMessageReceiver} from "./IMessenger.sol";

/// @title IBridge
/// @notice What every L.I.N.K bridge contract shares: routes to its peers on other chains, the messenger it
/// speaks through, its own replay record, held transfers and refunds, pausing, and rescue.
///
/// Trust: a bridge trusts its messenger (see {IMessenger}) and its admin, who wires routes and may swap
/// the messenger. It accepts a message only from its messenger, and only when the sender is its peer on the
/// message's source chain. Polygon (the home chain) holds the originals: LBC locked in the LBC bridge and
/// cubes locked in the cube bridge; a remote chain holds only what arrived through the home chain.
///
/// Transfers: every send is a transfer numbered by the sending bridge (`nonce`), identified on both chains
/// by `transferId(srcChainId, srcBridge, nonce)` whatever messenger carries it, and committed to in the
/// sender's outbox. On its destination a transfer is received at most once for the lifetime of the route,
/// across messenger swaps (the bridge's own replay record), and then ends in exactly one of two ways:
/// - **delivered**: executed on arrival, or, if it could not execute then (a receive limit, a paused or
///   unwired token, a cube that cannot be released), **held** and later executed by anyone's {retry};
/// - **refunded**: a held transfer that its sender or recipient gives up ({refund}) goes back to the
///   source, where the outbox commitment is spent and the sender gets exactly what left (LBC released or
///   re-minted, cubes released or re-minted with their data).
/// No value is created either way: a refund is paid only against an unspent commitment of the source.
///
/// Every payload starts with the same four words: `abi.encode(uint256 kind, uint64 nonce, address from,
/// address to, ...)`, kind 1 a transfer, 2 the refund of transfer `nonce` (the transfer's payload with its
/// kind changed).
interface IBridge is IMessageReceiver, IGoverned {
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
    /// @notice Transfer `transferId` was received here already (delivered, held or refunded).
    error AlreadyReceived(bytes32 transferId);
    /// @notice Transfer `transferId` is not held here with this payload.
    error NotHeld(bytes32 transferId);
    /// @notice Only the transfer's sender or recipient may refund it; `caller` is neither.
    error NotSenderOrRecipient(address caller);
    /// @notice Chain `dstChainId` asks to refund transfer `nonce`, which this bridge has no unspent
    /// commitment for (never sent there, refunded already, or another payload).
    error NotRefundable(uint256 dstChainId, uint64 nonce);
    /// @notice The payload's kind `kind` is neither a transfer (1) nor a refund (2).
    error UnknownKind(uint256 kind);
    /// @notice Only the bridge itself may call this.
    error OnlySelf();
    /// @notice The delivery ran out of gas while the transfer executed: deliver it again with more gas
    /// (nothing was received; a transfer is held only when it fails for a reason of its own).
    error NotEnoughGas();

    /// @notice The peer of this bridge on chain `chainId` is now `peer` (zero: unwired).
    event PeerSet(uint256 indexed chainId, address peer);
    /// @notice The bridge now speaks through `messenger`.
    event MessengerSet(address messenger);
    /// @notice Transfer `transferId` (`payload`, from `srcBridge` on chain `srcChainId`) arrived in message
    /// `messageId` but could not execute (`reason`: the revert data); it waits for {retry} or {refund}.
    event TransferHeld(
        bytes32 indexed transferId,
        uint256 indexed srcChainId,
        address srcBridge,
        bytes32 messageId,
        bytes payload,
        bytes reason
    );
    /// @notice Held transfer `transferId` from chain `srcChainId` goes back to its sender, in message
    /// `messageId`.
    event TransferRefundSent(bytes32 indexed transferId, uint256 indexed srcChainId, bytes32 messageId);
    /// @notice Transfer `transferId`, sent to chain `dstChainId`, was refunded to `to` here.
    event TransferRefunded(bytes32 indexed transferId, uint256 indexed dstChainId, address indexed to);

    /// @notice The role that may pause the bridge (a guardian); unpausing takes the default admin.
    function PAUSER_ROLE() external view returns (bytes32);
    /// @notice The chain whose bridge holds the originals (Polygon: 137, Amoy: 80002).
    function homeChainId() external view returns (uint256);
    /// @notice Whether this is the home chain's bridge.
    function isHome() external view returns (bool);
    /// @notice The messenger messages go through.
    function messenger() external view returns (address);
    /// @notice The number of transfers this bridge has sent (the next one's nonce).
    function outboundNonce() external view returns (uint64);
    /// @notice This bridge's peer on chain `chainId`, or zero.
    function peer(uint256 chainId) external view returns (address);
    /// @notice Every chain a peer was ever wired for, in wiring order.
    function routes() external view returns (uint256[] memory);
    /// @notice The id of transfer `nonce` of bridge `srcBridge` on chain `srcChainId`.
    function transferId(uint256 srcChainId, address srcBridge, uint64 nonce) external pure returns (bytes32);
    /// @notice The commitment to sent transfer `nonce` while it can still be refunded (zero once refunded):
    /// `keccak256(abi.encodePacked(dstChainId, payload))`.
    function outbox(uint64 nonce) external view returns (bytes32);
    /// @notice Whether transfer `nonce` of `srcBridge` on `srcChainId` was received here.
    function received(uint256 srcChainId, address srcBridge, uint64 nonce) external view returns (bool);
    /// @notice `keccak256(payload)` of held transfer `transferId`, or zero when it is not held.
    function held(bytes32 transferId) external view returns (bytes32);
    /// @notice Whether the message from `srcSender` on `srcChainId` carrying `payload` can no longer
    /// execute here (a transfer received already; a refund spent or without a commitment): a relayer has
    /// nothing left to deliver.
    function processed(uint256 srcChainId, address srcSender, bytes calldata payload)
        external
        view
        returns (bool);

    /// @notice Executes held transfer `payload` from `srcBridge` on `srcChainId` now. Anyone; reverts (and
    /// it stays held) when it still cannot execute.
    function retry(uint256 srcChainId, address srcBridge, bytes calldata payload) external;
    /// @notice Sends held transfer `payload` from `srcBridge` on `srcChainId` back to its sender. Only its
    /// sender or recipient (the addresses in the payload, as on this chain).
    /// @return messageId The message carrying the refund.
    function refund(uint256 srcChainId, address srcBridge, bytes calldata payload)
        external
        returns (bytes32 messageId);
    /// @notice The self-call through which arrivals execute, so that a failure holds the transfer instead
    /// of reverting the delivery. Only the bridge itself.
    function executeTransfer(uint256 srcChainId, bytes32 transferId, bytes calldata payload) external;

    /// @notice Wires (or, with zero, unwires) the peer on `chainId`. Only the admin. A remote bridge has
    /// exactly one peer: the home chain's.
    function setPeer(uint256 chainId, address newPeer) external;
    /// @notice Speaks through `newMessenger` from now on. Transfers in flight stay deliverable exactly
    /// once through it (the replay record is the bridge's). Only the admin.
    function setMessenger(address newMessenger) external;
    /// @notice Stops sending, receiving, retrying and refunding (`paused()` tells). A message arriving
    /// while paused reverts and can be delivered again after unpausing. Only PAUSER_ROLE.
    function pause() external;
    /// @notice Resumes. Only the default admin (the timelock): a guardian can stop the bridge, not restart it.
    function unpause() external;
}

/// @title ILBCBridge
/// @notice Moves LBC between chains. On the home chain LBC is locked in this bridge and released (the
/// ERC-7281 "lockbox"), so the home token's supply, and so its cap, always counts the LBC abroad; on a
/// remote chain LBC is burnt on the way out and minted on the way in (ERC-7281 "xERC20"), by this bridge,
/// which holds the remote token's MINTER_ROLE. Across all chains together the supply never exceeds the cap.
///
/// Limits are per route (chain), each direction its own: a bucket of `max` that refills linearly at `max`
/// per day. So what crosses a route in any window of `t` seconds is at most `max + max * t / 1 days`:
/// `max` at once, at most twice `max` within any 24 hours. One route's traffic never uses another's
/// limit, and a compromised messenger or peer can take no more than that from its route. The home bridge
/// also releases to each chain no more than was sent to it (`outstanding`). Refunds are paid against the
/// outbox commitment and use no limit.
interface ILBCBridge is IBridge {
    /// @notice Nothing to send.
    error ZeroAmount();
    /// @notice `amount` exceeds the `available` part of the route's limit right now.
    error LimitExceeded(uint256 amount, uint256 available);
    /// @notice A limit of `limit` is above the largest storable, 2^104 - 1.
    error LimitTooHigh(uint256 limit);
    /// @notice Chain `srcChainId` asks to release `amount`, but only `outstanding` was sent there.
    error ExceedsOutstanding(uint256 srcChainId, uint256 amount, uint256 outstanding);

    /// @notice `amount` LBC left for `to` on chain `dstChainId` from `from`, as transfer `transferId` in
    /// message `messageId`.
    event LBCSent(
        bytes32 indexed transferId,
        uint256 indexed dstChainId,
        address indexed from,
        address to,
        uint256 amount,
        bytes32 messageId
    );
    /// @notice `amount` LBC of transfer `transferId` arrived for `to` from chain `srcChainId`.
    event LBCReceived(bytes32 indexed transferId, uint256 indexed srcChainId, address indexed to, uint256 amount);
    /// @notice The limits of the route to and from chain `chainId` are now `sendLimit` (leaving) and
    /// `receiveLimit` (arriving).
    event LimitsSet(uint256 indexed chainId, uint256 sendLimit, uint256 receiveLimit);

    /// @notice The LBC token on this chain.
    function token() external view returns (address);
    /// @notice The most that may leave for chain `chainId` at once, and what may leave right now.
    function sendLimit(uint256 chainId) external view returns (uint256 max, uint256 available);
    /// @notice The most that may arrive from chain `chainId` at once, and what may arrive right now.
    function receiveLimit(uint256 chainId) external view returns (uint256 max, uint256 available);
    /// @notice Home chain only: LBC sent to chain `chainId` and neither returned nor refunded (what that
    /// chain may release).
    function outstanding(uint256 chainId) external view returns (uint256);

    /// @notice Sends `amount` LBC of the caller to `to` on chain `dstChainId`: locks it (home) or burns it
    /// (remote; approve this bridge first on either). Reverts when paused, unrouted or over the route's send
    /// limit.
    /// @return messageId The message that carries it.
    function send(uint256 dstChainId, address to, uint256 amount) external returns (bytes32 messageId);
    /// @notice Sets both limits of the route to and from chain `chainId` (wei). Raising a limit adds the
    /// difference to what is available now; lowering it takes it away. Only the admin.
    function setLimits(uint256 chainId, uint256 newSendLimit, uint256 newReceiveLimit) external;
}

/// @title ICubeBridge
/// @notice Moves CUBEs between the home chain and remote chains. At home, a cube leaving is locked in this
/// bridge (it keeps accruing LBC, claimable by its holder once it is home again) and a {IRemoteCube} with
/// the same id, tier and total mined is minted on the destination; coming home, the remote cube is burnt
/// and the original released. So every cube is unlocked on exactly one chain at a time, or in flight. The
/// home bridge releases a cube only to the chain it was sent to, or back to its sender on a refund.
///
/// A message carries at most `MAX_CUBES_PER_MESSAGE` cubes, so that its worst-case delivery or refund
/// (cold storage, new holders) uses at most half of Polygon's 30M block gas limit.
interface ICubeBridge is IBridge {
    /// @notice No cube ids were given.
    error NoCubes();
    /// @notice `count` cubes are more than one message carries (`max`): send them in several.
    error TooManyCubes(uint256 count, uint256 max);
    /// @notice `caller` may not move cube `cubeId`: at home only its holder sends it (after approving the
    /// bridge); away from home its holder or an approved operator.
    error NotHolder(uint256 cubeId, address caller);
    /// @notice Cube `cubeId` is not locked for chain `chainId`, which asks to release it.
    error NotLockedFor(uint256 cubeId, uint256 chainId);

    /// @notice Cubes `cubeIds` left for `to` on chain `dstChainId` from `from`, as transfer `transferId` in
    /// message `messageId`.
    event CubesSent(
        bytes32 indexed transferId,
        uint256 indexed dstChainId,
        address indexed from,
        address to,
        uint256[] cubeIds,
        bytes32 messageId
    );
    /// @notice Cubes `cubeIds` of transfer `transferId` arrived for `to` from chain `srcChainId`.
    event CubesReceived(
        bytes32 indexed transferId, uint256 indexed srcChainId, address indexed to, uint256[] cubeIds
    );

    /// @notice The most cubes one message carries.
    function MAX_CUBES_PER_MESSAGE() external view returns (uint256);
    /// @notice The CUBE collection on this chain: the original at home, the {IRemoteCube} elsewhere.
    function cubes() external view returns (address);
    /// @notice Home chain only: the chain cube `cubeId` is locked for, or 0 when it is at home.
    function lockedFor(uint256 cubeId) external view returns (uint256);

    /// @notice Sends the caller's cubes `cubeIds` to `to` on chain `dstChainId` (a remote bridge sends only
    /// home). At home, approve this bridge for the cubes first. Reverts when paused or unrouted, or with
    /// more than `MAX_CUBES_PER_MESSAGE` cubes.
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
    /// @notice `value` native coin came with a transfer or approval: refused, as nothing here could ever
    /// send it on.
    error ValueNotAccepted(uint256 value);

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
    /// @notice Burns cube `cubeId` and returns its data. Only the bridge.
    function burn(uint256 cubeId) external returns (uint8 tier, uint256 totalMined);
}
