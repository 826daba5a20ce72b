"""Attestations of cross-chain messages: the EIP-712 hashes ``AttestedMessenger`` checks, and signing them.

A message is signed for its destination: the EIP-712 domain is ``("LINK AttestedMessenger", "1",
dst_chain_id, dst_messenger)`` and the struct is the whole :class:`Message`. Its id, the same on both chains,
is the struct hash. Pure: no ape, no network.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode
from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

MESSAGE_TYPE = (
    "Message(uint256 srcChainId,address srcMessenger,address sender,uint256 dstChainId,address receiver,"
    "uint64 nonce,bytes payload)"
)


MESSAGE_TYPEHASH = keccak(text=MESSAGE_TYPE)


DOMAIN_NAME = "LINK AttestedMessenger"


DOMAIN_VERSION = "1"


_DOMAIN_TYPEHASH = keccak(
    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)


@dataclass(frozen=True)
class Message:
    """A cross-chain message as the messenger emits (``MessageSent``) and delivers it."""

    src_chain_id: int
    src_messenger: str
    sender: str
    dst_chain_id: int
    receiver: str
    nonce: int
    payload: bytes

    def as_tuple(self) -> tuple[Any, ...]:
        """The ``IAttestedMessenger.Message`` struct, for a contract call."""
        return (
            self.src_chain_id,
            to_checksum_address(self.src_messenger),
            to_checksum_address(self.sender),
            self.dst_chain_id,
            to_checksum_address(self.receiver),
            self.nonce,
            bytes(self.payload),
        )

    @property
    def message_id(self) -> bytes:
        """The EIP-712 struct hash: the message's id on both chains."""
        return keccak(
            encode(
                ["bytes32", "uint256", "address", "address", "uint256", "address", "uint64", "bytes32"],
                [
                    MESSAGE_TYPEHASH,
                    self.src_chain_id,
                    to_checksum_address(self.src_messenger),
                    to_checksum_address(self.sender),
                    self.dst_chain_id,
                    to_checksum_address(self.receiver),
                    self.nonce,
                    keccak(bytes(self.payload)),
                ],
            )
        )


def domain_separator(chain_id: int, messenger: str) -> bytes:
    """The EIP-712 domain separator of the messenger at `messenger` on chain `chain_id`."""
    return keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                _DOMAIN_TYPEHASH,
                keccak(text=DOMAIN_NAME),
                keccak(text=DOMAIN_VERSION),
                chain_id,
                to_checksum_address(messenger),
            ],
        )
    )


def digest(message: Message, dst_messenger: str) -> bytes:
    """What a signer signs so that `message` may be delivered by `dst_messenger` (on its destination)."""
    return keccak(b"\x19\x01" + domain_separator(message.dst_chain_id, dst_messenger) + message.message_id)


@dataclass(frozen=True)
class Signature:
    signer: str
    signature: bytes


def sign(message: Message, dst_messenger: str, private_key: bytes | str) -> Signature:
    """One signer's attestation of `message` (65 bytes, r ‖ s ‖ v)."""
    signed = Account.unsafe_sign_hash(digest(message, dst_messenger), private_key)
    signer = Account.from_key(private_key).address
    return Signature(to_checksum_address(signer), bytes(signed.signature))


def ordered(signatures: Iterable[Signature]) -> list[bytes]:
    """Signatures as ``deliver`` takes them: one per signer, by ascending signer address."""
    by_signer = {int(s.signer, 16): s.signature for s in signatures}
    return [by_signer[k] for k in sorted(by_signer)]


def attest(message: Message, dst_messenger: str, private_keys: Sequence[bytes | str]) -> list[bytes]:
    """The attestations of `message` by each key in `private_keys`, ready for ``deliver``."""
    return ordered(sign(message, dst_messenger, key) for key in private_keys)
