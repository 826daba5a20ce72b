// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IAttestedMessenger} from "../interfaces/IAttestedMessenger.sol";
import {IMessageReceiver, IMessenger} from "../interfaces/IMessenger.sol";
import {Governed} from "../utils/Governed.sol";

/// @title AttestedMessenger
/// @notice Carries messages between chains on the word of M of N signers. See {IAttestedMessenger} for
/// what each side trusts.
/// @dev One instance per chain sends and receives. Delivery follows checks-effects-interactions: the
/// message is marked executed before its receiver is called, and a reverting receiver reverts the whole
/// delivery (no try/catch), so a message is either executed once, with its effect, or not at all.
contract AttestedMessenger is IAttestedMessenger, Governed, EIP712 {
    /// @inheritdoc IAttestedMessenger
    bytes32 public constant SENDER_ROLE = keccak256("SENDER_ROLE");
    /// @inheritdoc IAttestedMessenger
    string public constant MESSAGE_TYPE =
        "Message(uint256 srcChainId,address srcMessenger,address sender,uint256 dstChainId,address receiver,uint64 nonce,bytes payload)";
    bytes32 private constant _MESSAGE_TYPEHASH = keccak256(bytes(MESSAGE_TYPE));

    /// @inheritdoc IAttestedMessenger
    uint64 public outboundNonce;
    /// @inheritdoc IAttestedMessenger
    mapping(uint256 chainId => address messenger) public remoteMessenger;
    mapping(uint256 chainId => mapping(address messenger => bool)) private _trustedSource;
    /// @inheritdoc IAttestedMessenger
    mapping(bytes32 messageId => bool) public executed;
    /// @inheritdoc IAttestedMessenger
    uint256 public threshold;
    address[] private _signers;
    mapping(address signer => bool) private _isSigner;

    /// @param admin Configures signers and routes (DEFAULT_ADMIN_ROLE).
    /// @param initialSigners The signer set, ascending.
    /// @param initialThreshold How many of them must sign.
    constructor(address admin, address[] memory initialSigners, uint256 initialThreshold)
        Governed(admin)
        EIP712("LINK AttestedMessenger", "1")
    {
        _setSigners(initialSigners, initialThreshold);
    }

    /*//////////////////////////////////////////////////////////////
                                SENDING
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IMessenger
    function sendMessage(uint256 dstChainId, address receiver, bytes calldata payload)
        external
        onlyRole(SENDER_ROLE)
        returns (bytes32 id)
    {
        if (remoteMessenger[dstChainId] == address(0)) revert UnsupportedDestination(dstChainId);
        uint64 nonce = outboundNonce++;
        id = _structHash(block.chainid, address(this), msg.sender, dstChainId, receiver, nonce, payload);
        emit MessageSent(id, dstChainId, nonce, msg.sender, receiver, payload);
    }

    /*//////////////////////////////////////////////////////////////
                               DELIVERING
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAttestedMessenger
    function deliver(Message calldata message, bytes[] calldata signatures) external {
        if (message.dstChainId != block.chainid) revert WrongDestination(message.dstChainId, block.chainid);
        if (!isTrustedSource(message.srcChainId, message.srcMessenger)) {
            revert UnknownSource(message.srcChainId, message.srcMessenger);
        }
        if (message.receiver.code.length == 0) revert InvalidReceiver(message.receiver);
        bytes32 id = _hash(message);
        if (executed[id]) revert AlreadyExecuted(id);
        _verify(_hashTypedDataV4(id), signatures);

        executed[id] = true;
        IMessageReceiver(message.receiver).receiveMessage(id, message.srcChainId, message.sender, message.payload);
        emit MessageExecuted(id, message.srcChainId, message.nonce);
    }

    /// @inheritdoc IAttestedMessenger
    function messageId(Message calldata message) external pure returns (bytes32) {
        return _hash(message);
    }

    /// @inheritdoc IAttestedMessenger
    function digest(Message calldata message) external view returns (bytes32) {
        return _hashTypedDataV4(_hash(message));
    }

    /// @inheritdoc IAttestedMessenger
    function isTrustedSource(uint256 chainId, address messenger) public view returns (bool) {
        if (messenger == address(0)) return false;
        return remoteMessenger[chainId] == messenger || _trustedSource[chainId][messenger];
    }

    /// @inheritdoc IAttestedMessenger
    function signers() external view returns (address[] memory) {
        return _signers;
    }

    /*//////////////////////////////////////////////////////////////
                                 ADMIN
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAttestedMessenger
    function setSigners(address[] calldata newSigners, uint256 newThreshold) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setSigners(newSigners, newThreshold);
    }

    /// @inheritdoc IAttestedMessenger
    function setRemoteMessenger(uint256 chainId, address messenger) external onlyRole(DEFAULT_ADMIN_ROLE) {
        remoteMessenger[chainId] = messenger;
        emit RemoteMessengerSet(chainId, messenger);
    }

    /// @inheritdoc IAttestedMessenger
    function setTrustedSource(uint256 chainId, address messenger, bool trusted)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        _trustedSource[chainId][messenger] = trusted;
        emit TrustedSourceSet(chainId, messenger, trusted);
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    function _setSigners(address[] memory newSigners, uint256 newThreshold) private {
        uint256 count = newSigners.length;
        if (count == 0) revert InvalidSignerSet();
        if (newThreshold == 0 || newThreshold > count) revert InvalidThreshold(newThreshold, count);
        for (uint256 i; i < _signers.length; ++i) {
            _isSigner[_signers[i]] = false;
        }
        address previous;
        for (uint256 i; i < count; ++i) {
            address signer = newSigners[i];
            if (signer <= previous) revert InvalidSignerSet(); // also rejects zero and duplicates
            _isSigner[signer] = true;
            previous = signer;
        }
        _signers = newSigners;
        threshold = newThreshold;
        emit SignersSet(newSigners, newThreshold);
    }

    /// @dev Counts signatures by distinct signers of the set, in ascending address order; all must be good.
    function _verify(bytes32 typedDigest, bytes[] calldata signatures) private view {
        uint256 count = signatures.length;
        if (count < threshold) revert NotEnoughSignatures(count, threshold);
        address previous;
        for (uint256 i; i < count; ++i) {
            (address signer, ECDSA.RecoverError error,) = ECDSA.tryRecover(typedDigest, signatures[i]);
            if (error != ECDSA.RecoverError.NoError) revert InvalidSignature(i);
            if (signer <= previous) revert SignersNotAscending(i);
            if (!_isSigner[signer]) revert SignerNotInSet(i, signer);
            previous = signer;
        }
    }

    function _hash(Message calldata m) private pure returns (bytes32) {
        return _structHash(m.srcChainId, m.srcMessenger, m.sender, m.dstChainId, m.receiver, m.nonce, m.payload);
    }

    function _structHash(
        uint256 srcChainId,
        address srcMessenger,
        address sender,
        uint256 dstChainId,
        address receiver,
        uint64 nonce,
        bytes calldata payload
    ) private pure returns (bytes32) {
        return keccak256(
            abi.encode(
                _MESSAGE_TYPEHASH, srcChainId, srcMessenger, sender, dstChainId, receiver, nonce, keccak256(payload)
            )
        );
    }
}
