// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IGoverned} from "./IGoverned.sol";
import {IMessenger} from "./IMessenger.sol";

/// @title IAttestedMessenger
/// @notice A messenger whose deliveries are authorised by attestations: EIP-712 signatures over the whole
/// message by at least `threshold` of a configured set of signers.
///
/// Trust, in plain words:
/// - On the source chain nothing is trusted: any contract holding SENDER_ROLE (the bridges) sends, and the
///   {IMessenger-MessageSent} event is the message.
/// - On the destination, a message executes when at least `threshold` distinct configured signers signed
///   it. Signers are trusted not to sign a message that was not sent: `threshold` of them colluding can
///   forge any message. Fewer cannot.
/// - A signature covers the source chain id, the source messenger, the sending contract, the destination
///   chain id, the receiving contract, the nonce and the payload; the EIP-712 domain binds it to this
///   messenger on this chain. So a signature is good for exactly one message on exactly one chain.
/// - Each message id executes at most once; who delivers it (the relayer, or anyone) does not matter.
/// - The admin (DEFAULT_ADMIN_ROLE) sets the signers, the threshold and which messengers are trusted on
///   each source chain, and is therefore trusted like the signers.
/// - Replay protection here is per messenger: a bridge keeps its own record of what it received, so a
///   message re-attested through another messenger (after a swap) still executes at most once.
/// - After a source chain swaps its messenger, the admin keeps the old one trusted ({setTrustedSource})
///   until every message it sent is delivered, so messages in flight at the swap stay deliverable.
interface IAttestedMessenger is IMessenger, IGoverned {
    /// @notice A cross-chain message, as signed. Its id is its EIP-712 struct hash.
    struct Message {
        uint256 srcChainId;
        address srcMessenger;
        address sender;
        uint256 dstChainId;
        address receiver;
        uint64 nonce;
        bytes payload;
    }

    /// @notice No messenger is wired for chain `dstChainId`: the route is not supported.
    error UnsupportedDestination(uint256 dstChainId);
    /// @notice The message is for chain `dstChainId`, not this chain (`thisChainId`).
    error WrongDestination(uint256 dstChainId, uint256 thisChainId);
    /// @notice `srcMessenger` is not a messenger this one trusts on chain `srcChainId`.
    error UnknownSource(uint256 srcChainId, address srcMessenger);
    /// @notice Message `messageId` was executed already.
    error AlreadyExecuted(bytes32 messageId);
    /// @notice Signature number `index` is malformed or does not recover to an address.
    error InvalidSignature(uint256 index);
    /// @notice Signature number `index` is by `signer`, who is not in the signer set.
    error SignerNotInSet(uint256 index, address signer);
    /// @notice Signature number `index` is not by a signer of a higher address than the one before: sort
    /// signatures by signer address, one per signer.
    error SignersNotAscending(uint256 index);
    /// @notice `count` signatures were given; at least `threshold` are needed.
    error NotEnoughSignatures(uint256 count, uint256 threshold);
    /// @notice A signer set must be non-empty, strictly ascending and without the zero address.
    error InvalidSignerSet();
    /// @notice The threshold must be between 1 and the number of signers (`signerCount`).
    error InvalidThreshold(uint256 threshold, uint256 signerCount);
    /// @notice The receiver `receiver` has no code.
    error InvalidReceiver(address receiver);

    /// @notice The signer set is now `signers` and `threshold` of them must sign.
    event SignersSet(address[] signers, uint256 threshold);
    /// @notice Messages go to `messenger` on chain `chainId`, and are accepted from it (zero: unwired).
    event RemoteMessengerSet(uint256 indexed chainId, address messenger);
    /// @notice Messages from `messenger` on chain `chainId` are accepted too (`trusted`), or no longer.
    event TrustedSourceSet(uint256 indexed chainId, address indexed messenger, bool trusted);

    /// @notice The role allowed to send messages (the bridges on this chain).
    function SENDER_ROLE() external view returns (bytes32);
    /// @notice The EIP-712 type string of {Message}.
    function MESSAGE_TYPE() external view returns (string memory);
    /// @notice The number of messages this messenger has sent (the next message's nonce).
    function outboundNonce() external view returns (uint64);
    /// @notice The messenger this one sends to on chain `chainId` (and trusts), or zero.
    function remoteMessenger(uint256 chainId) external view returns (address);
    /// @notice Whether a message sent by `messenger` on chain `chainId` is accepted here: the remote
    /// messenger, or one kept trusted with {setTrustedSource}.
    function isTrustedSource(uint256 chainId, address messenger) external view returns (bool);
    /// @notice The signer set, ascending.
    function signers() external view returns (address[] memory);
    /// @notice How many signers must sign a message.
    function threshold() external view returns (uint256);
    /// @notice Whether message `messageId` was executed here.
    function executed(bytes32 messageId) external view returns (bool);
    /// @notice The id of `message`: its EIP-712 struct hash.
    function messageId(Message calldata message) external view returns (bytes32);
    /// @notice What signers sign for `message` when it is delivered here: the EIP-712 digest.
    function digest(Message calldata message) external view returns (bytes32);

    /// @notice Executes `message` on its receiver, given `signatures` (65 bytes each, r ‖ s ‖ v) of at
    /// least `threshold` signers, sorted by ascending signer address. Anyone may deliver. Reverts, and
    /// leaves the message deliverable later, when the receiver reverts.
    function deliver(Message calldata message, bytes[] calldata signatures) external;

    /// @notice Replaces the signer set (ascending) and the threshold. Only the admin.
    function setSigners(address[] calldata newSigners, uint256 newThreshold) external;
    /// @notice Sends to and trusts `messenger` on chain `chainId` (zero unwires the route). Only the admin.
    function setRemoteMessenger(uint256 chainId, address messenger) external;
    /// @notice Also accepts (`trusted`), or no longer, messages sent by `messenger` on chain `chainId`:
    /// for a swapped-out messenger's messages in flight. Only the admin.
    function setTrustedSource(uint256 chainId, address messenger, bool trusted) external;
}
