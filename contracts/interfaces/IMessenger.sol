// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IMessenger
/// @notice The one interface the bridges speak to move a message between chains. A messenger carries an
/// opaque payload from a sending contract on one chain to a receiving contract on another, and tells the
/// receiver, authenticated, which chain and which contract sent it. {AttestedMessenger} is the one
/// provided (M-of-N signed attestations); a canonical bridge (e.g. Polygon's FxPortal) can be plugged in
/// behind the same interface by the bridges' admin.
///
/// What a bridge trusts: that {IMessageReceiver-receiveMessage} is only ever called by its messenger, with
/// the true source chain and sender, at most once per message. What the messenger trusts is its own
/// business and is documented on it.
interface IMessenger {
    /// @notice Message `messageId` (number `nonce` of this messenger) left for chain `dstChainId`, from
    /// `sender` on this chain to `receiver` there, carrying `payload`.
    event MessageSent(
        bytes32 indexed messageId,
        uint256 indexed dstChainId,
        uint64 indexed nonce,
        address sender,
        address receiver,
        bytes payload
    );
    /// @notice Message `messageId` from chain `srcChainId` was executed here: its receiver accepted it.
    event MessageExecuted(bytes32 indexed messageId, uint256 indexed srcChainId, uint64 indexed nonce);

    /// @notice Sends `payload` from the caller to `receiver` on chain `dstChainId`.
    /// @return messageId The message's id, the same on both chains.
    function sendMessage(uint256 dstChainId, address receiver, bytes calldata payload)
        external
        returns (bytes32 messageId);
}

/// @title IMessageReceiver
/// @notice What a messenger calls on the destination. A receiver must accept calls from its messenger
/// only, and check that `srcSender` is the contract it expects on `srcChainId`; reverting leaves the
/// message unexecuted, to be delivered again later (e.g. when a rate limit has refilled).
interface IMessageReceiver {
    /// @notice Delivers message `messageId`, sent by `srcSender` on chain `srcChainId`.
    function receiveMessage(bytes32 messageId, uint256 srcChainId, address srcSender, bytes calldata payload)
        external;
}
