"""Governance messages: Safe transactions (their EIP-712 hash and signatures) and timelock operations.

Two contracts decide who may change the protocol: a Safe (an M-of-N multisig) proposes, an OpenZeppelin
``TimelockController`` (``contracts/governance/LinkTimelock.sol``) makes every proposal wait before anyone
may execute it. This module is their arithmetic in Python, held equal to the contracts by tests:

- :class:`SafeTx` and :meth:`SafeTx.hash`: what the Safe's ``getTransactionHash`` returns (Safe 1.3/1.4.1:
  domain ``EIP712Domain(uint256 chainId,address verifyingContract)``, struct ``SafeTx``), and
  :func:`encode_signatures`, the owners' signatures in the order ``checkSignatures`` wants;
- :class:`TimelockOperation` and :attr:`TimelockOperation.id`: ``hashOperation`` / ``hashOperationBatch``,
  and the calldata of ``schedule``, ``execute`` and ``cancel``;
- :func:`encode_call` and :func:`parse_argument`: a function call typed on a command line
  (``setTierRate(uint8,uint256) 1 23e12``) as calldata; :func:`describe_call` the other way.

Pure: no ape, no web3, no network.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import IntEnum
from typing import Any

from eth_abi.abi import decode, encode
from eth_abi.exceptions import DecodingError, EncodingError
from eth_account import Account
from eth_account.messages import SignableMessage
from eth_utils.address import is_address, to_checksum_address
from eth_utils.crypto import keccak

from link_ops.exceptions import ConfigurationError

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ZERO_BYTES32 = b"\x00" * 32

# ------------------------------------------------------------------------------------------------ Safe

SAFE_TX_TYPE = (
    "SafeTx(address to,uint256 value,bytes data,uint8 operation,uint256 safeTxGas,uint256 baseGas,"
    "uint256 gasPrice,address gasToken,address refundReceiver,uint256 nonce)"
)
SAFE_TX_TYPEHASH = keccak(text=SAFE_TX_TYPE)
#: Safe 1.3.0 and later sign for the chain id and the Safe's address, nothing else (no name, no version).
SAFE_DOMAIN_TYPEHASH = keccak(text="EIP712Domain(uint256 chainId,address verifyingContract)")


class SafeOperation(IntEnum):
    """What a Safe transaction does with its call: a plain CALL, or a DELEGATECALL (never used here)."""

    CALL = 0
    DELEGATECALL = 1


@dataclass(frozen=True)
class SafeTx:
    """One Safe transaction: a call the Safe makes once enough owners signed it.

    The gas-refund fields stay 0, so whoever executes pays the gas and gets nothing back, and the Safe
    reverts the whole transaction when its call fails (``GS013``) instead of using up its nonce.
    """

    safe: str
    chain_id: int
    to: str
    data: bytes
    nonce: int
    value: int = 0
    operation: SafeOperation = SafeOperation.CALL
    safe_tx_gas: int = 0
    base_gas: int = 0
    gas_price: int = 0
    gas_token: str = ZERO_ADDRESS
    refund_receiver: str = ZERO_ADDRESS

    def struct_hash(self) -> bytes:
        return keccak(
            encode(
                [
                    "bytes32",
                    "address",
                    "uint256",
                    "bytes32",
                    "uint8",
                    "uint256",
                    "uint256",
                    "uint256",
                    "address",
                    "address",
                    "uint256",
                ],
                [
                    SAFE_TX_TYPEHASH,
                    to_checksum_address(self.to),
                    self.value,
                    keccak(bytes(self.data)),
                    int(self.operation),
                    self.safe_tx_gas,
                    self.base_gas,
                    self.gas_price,
                    to_checksum_address(self.gas_token),
                    to_checksum_address(self.refund_receiver),
                    self.nonce,
                ],
            )
        )

    def domain_separator(self) -> bytes:
        return keccak(
            encode(
                ["bytes32", "uint256", "address"],
                [SAFE_DOMAIN_TYPEHASH, self.chain_id, to_checksum_address(self.safe)],
            )
        )

    def signable(self) -> SignableMessage:
        """The EIP-712 message an owner signs (what ``account.sign_message`` takes)."""
        return SignableMessage(version=b"\x01", header=self.domain_separator(), body=self.struct_hash())

    def hash(self) -> bytes:
        """The Safe's ``getTransactionHash(...)`` for this transaction: what each owner's signature covers."""
        return keccak(b"\x19\x01" + self.domain_separator() + self.struct_hash())

    def exec_args(self, signatures: bytes) -> tuple[Any, ...]:
        """The arguments of the Safe's ``execTransaction``, in order."""
        return (
            to_checksum_address(self.to),
            self.value,
            bytes(self.data),
            int(self.operation),
            self.safe_tx_gas,
            self.base_gas,
            self.gas_price,
            to_checksum_address(self.gas_token),
            to_checksum_address(self.refund_receiver),
            bytes(signatures),
        )

    def exec_calldata(self, signatures: bytes) -> bytes:
        """The Safe's ``execTransaction(...)`` calldata with `signatures` (packed, see
        :func:`encode_signatures`)."""
        return _call_data(
            "execTransaction(address,uint256,bytes,uint8,uint256,uint256,uint256,address,address,bytes)",
            self.exec_args(signatures),
        )


def recover_signer(safe_tx: SafeTx, signature: bytes) -> str:
    """The address whose key made `signature` (65 bytes ``r || s || v``, ``v`` 27 or 28) over `safe_tx`.

    Raises :class:`ConfigurationError` for a signature that is not such a signature.
    """
    if len(signature) != 65 or signature[64] not in (27, 28):
        raise ConfigurationError(
            f"a Safe owner's signature is 65 bytes ending in v = 27 or 28 (signed EIP-712 data), got "
            f"{len(signature)} bytes{f' with v = {signature[64]}' if len(signature) == 65 else ''}"
        )
    return to_checksum_address(Account.recover_message(safe_tx.signable(), signature=bytes(signature)))


def encode_signatures(signatures: Mapping[str, bytes]) -> bytes:
    """The owners' signatures as ``execTransaction`` takes them: concatenated in ascending order of the
    owner's address (the Safe rejects any other order, and a repeated owner, with ``GS026``)."""
    ordered = sorted(signatures.items(), key=lambda item: int(item[0], 16))
    return b"".join(bytes(sig) for _owner, sig in ordered)


def safe_setup_calldata(owners: Sequence[str], threshold: int, fallback_handler: str = ZERO_ADDRESS) -> bytes:
    """``setup(owners, threshold, 0, "", fallbackHandler, 0, 0, 0)``: a new Safe's initializer (no module
    call, no deployment payment)."""
    selector = keccak(text="setup(address[],uint256,address,bytes,address,address,uint256,address)")[:4]
    body = encode(
        ["address[]", "uint256", "address", "bytes", "address", "address", "uint256", "address"],
        [
            [to_checksum_address(o) for o in owners],
            threshold,
            ZERO_ADDRESS,
            b"",
            to_checksum_address(fallback_handler),
            ZERO_ADDRESS,
            0,
            ZERO_ADDRESS,
        ],
    )
    return selector + body


def create2_address(deployer: str, salt: bytes, init_code: bytes) -> str:
    """The address ``CREATE2`` gives `init_code` deployed by `deployer` with `salt`."""
    digest = keccak(b"\xff" + bytes.fromhex(deployer[2:]) + salt + keccak(init_code))
    return to_checksum_address(digest[12:])


def safe_proxy_address(
    factory: str, proxy_creation_code: bytes, singleton: str, initializer: bytes, salt_nonce: int
) -> str:
    """Where Safe's ``SafeProxyFactory.createProxyWithNonce(singleton, initializer, saltNonce)`` puts the
    proxy (1.3.0 and 1.4.1: the salt hashes the initializer and the nonce)."""
    salt = keccak(keccak(initializer) + salt_nonce.to_bytes(32, "big"))
    init_code = proxy_creation_code + encode(["address"], [to_checksum_address(singleton)])
    return create2_address(factory, salt, init_code)


#: What the Safe's ``GS`` revert codes mean (the ones users meet), from Safe's own error list.
SAFE_ERRORS: dict[str, str] = {
    "GS000": "the Safe could not finish its setup",
    "GS001": "the Safe has no threshold: it was never set up",
    "GS010": "not enough gas for the Safe transaction",
    "GS013": "the Safe's call reverted (with safeTxGas and gasPrice 0 the whole transaction reverts)",
    "GS020": "the signatures are too short for the threshold",
    "GS021": "a contract signature points outside the signature data",
    "GS022": "a contract signature's data is out of bounds",
    "GS023": "a contract signature's data is out of bounds",
    "GS024": "a contract owner's signature is invalid",
    "GS025": "a hash was not approved by the owner it names",
    "GS026": "a signer is not an owner, or the signatures are not sorted by owner address, or repeat one",
    "GS030": "only owners may approve hashes",
    "GS031": "the Safe can only be called by itself here (an owner or module change goes through it)",
}


# -------------------------------------------------------------------------------------------- timelock


class OperationState(IntEnum):
    """``TimelockController.OperationState``: Unset (never scheduled, or cancelled), Waiting (scheduled,
    its delay running), Ready (executable), Done (executed)."""

    UNSET = 0
    WAITING = 1
    READY = 2
    DONE = 3


def state_bitmap(*states: OperationState) -> bytes:
    """The ``expectedStates`` of ``TimelockUnexpectedOperationState``: bit ``i`` set for state ``i``."""
    bits = 0
    for state in states:
        bits |= 1 << int(state)
    return bits.to_bytes(32, "big")


def states_of_bitmap(bitmap: bytes) -> tuple[OperationState, ...]:
    """The states a ``TimelockUnexpectedOperationState`` bitmap expected."""
    bits = int.from_bytes(bytes(bitmap), "big")
    return tuple(state for state in OperationState if bits >> int(state) & 1)


@dataclass(frozen=True)
class Call:
    """One call the timelock makes: ``target.call{value: value}(data)``."""

    target: str
    data: bytes
    value: int = 0

    def __post_init__(self) -> None:
        if not is_address(self.target):
            raise ConfigurationError(f"a call's target must be a 0x address, got {self.target!r}")
        if self.value < 0:
            raise ConfigurationError(f"a call's value is wei and cannot be negative, got {self.value}")
        object.__setattr__(self, "target", to_checksum_address(self.target))
        object.__setattr__(self, "data", bytes(self.data))


@dataclass(frozen=True)
class TimelockOperation:
    """Calls scheduled together under one id. ``batch`` says which of the timelock's functions schedules
    them: ``schedule`` (one call) or ``scheduleBatch`` (any number); a batch of one call has another id than
    the same call scheduled alone."""

    calls: tuple[Call, ...]
    predecessor: bytes = ZERO_BYTES32
    salt: bytes = ZERO_BYTES32
    batch: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "calls", tuple(self.calls))
        if not self.calls:
            raise ConfigurationError("an operation needs at least one call")
        if not self.batch and len(self.calls) != 1:
            raise ConfigurationError(
                f"a single (non-batch) operation has exactly one call, got {len(self.calls)}: use batch=True"
            )
        for name in ("predecessor", "salt"):
            value = bytes(getattr(self, name))
            if len(value) != 32:
                raise ConfigurationError(f"{name} must be 32 bytes, got {len(value)}")
            object.__setattr__(self, name, value)

    @classmethod
    def of(
        cls, calls: Sequence[Call], *, predecessor: bytes = ZERO_BYTES32, salt: bytes = ZERO_BYTES32
    ) -> TimelockOperation:
        """One call goes through ``schedule``, several through ``scheduleBatch``."""
        return cls(tuple(calls), predecessor, salt, batch=len(calls) != 1)

    @property
    def id(self) -> bytes:
        """``hashOperation(target, value, data, predecessor, salt)``, or ``hashOperationBatch(...)``."""
        if self.batch:
            payload = encode(
                ["address[]", "uint256[]", "bytes[]", "bytes32", "bytes32"],
                [
                    [c.target for c in self.calls],
                    [c.value for c in self.calls],
                    [c.data for c in self.calls],
                    self.predecessor,
                    self.salt,
                ],
            )
        else:
            (call,) = self.calls
            payload = encode(
                ["address", "uint256", "bytes", "bytes32", "bytes32"],
                [call.target, call.value, call.data, self.predecessor, self.salt],
            )
        return keccak(payload)

    def schedule_calldata(self, delay: int) -> bytes:
        """The timelock's ``schedule`` / ``scheduleBatch`` of this operation, with `delay` seconds."""
        if self.batch:
            return _call_data(
                "scheduleBatch(address[],uint256[],bytes[],bytes32,bytes32,uint256)",
                [*self._batch_columns(), self.predecessor, self.salt, delay],
            )
        (call,) = self.calls
        return _call_data(
            "schedule(address,uint256,bytes,bytes32,bytes32,uint256)",
            [call.target, call.value, call.data, self.predecessor, self.salt, delay],
        )

    def execute_calldata(self) -> bytes:
        """The timelock's ``execute(...)`` / ``executeBatch(...)`` of this operation."""
        if self.batch:
            return _call_data(
                "executeBatch(address[],uint256[],bytes[],bytes32,bytes32)",
                [*self._batch_columns(), self.predecessor, self.salt],
            )
        (call,) = self.calls
        return _call_data(
            "execute(address,uint256,bytes,bytes32,bytes32)",
            [call.target, call.value, call.data, self.predecessor, self.salt],
        )

    @property
    def value(self) -> int:
        """Wei the executor must send along (the calls' values together)."""
        return sum(c.value for c in self.calls)

    def _batch_columns(self) -> list[list[Any]]:
        return [[c.target for c in self.calls], [c.value for c in self.calls], [c.data for c in self.calls]]


def _call_data(signature: str, values: Sequence[Any]) -> bytes:
    sig = FunctionSignature.parse(signature)
    return sig.selector + encode(list(sig.types), list(values))


def cancel_calldata(operation_id: bytes) -> bytes:
    """The timelock's ``cancel(id)``."""
    return _call_data("cancel(bytes32)", [bytes(operation_id)])


def update_delay_calldata(new_delay: int) -> bytes:
    """The timelock's ``updateDelay(newDelay)`` (only the timelock itself may call it)."""
    return _call_data("updateDelay(uint256)", [new_delay])


def salt_from_text(text: str) -> bytes:
    """A salt as users give it: ``0x`` and 64 hex digits as they are, any other text as its keccak-256
    (``--salt rates-2026-12``), the empty text as zero."""
    if not text:
        return ZERO_BYTES32
    if text.startswith(("0x", "0X")):
        try:
            raw = bytes.fromhex(text[2:])
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise ConfigurationError(
                f"a 0x salt is 32 bytes (64 hex digits), got {text!r}; or give any text without 0x, "
                "which is hashed into a salt"
            )
        return raw
    return keccak(text=text)


# ------------------------------------------------------------------------------------ calls as typed

_SIGNATURE = re.compile(r"\A([A-Za-z_$][A-Za-z0-9_$]*)\((.*)\)\Z", re.DOTALL)
_ARRAY = re.compile(r"\A(.+)\[(\d*)\]\Z")
_INT = re.compile(r"\A(u?)int(\d*)\Z")
_BYTES = re.compile(r"\Abytes(\d*)\Z")


@dataclass(frozen=True)
class FunctionSignature:
    """``name(type,...)``: a function's name and its canonical argument types."""

    name: str
    types: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def parse(cls, text: str) -> FunctionSignature:
        match = _SIGNATURE.match(text.replace(" ", ""))
        if match is None:
            raise ConfigurationError(
                f"{text!r} is not a function signature: write it as name(type,...), e.g. "
                "setTierRate(uint8,uint256)"
            )
        name, inner = match.groups()
        if "(" in inner:
            raise ConfigurationError(
                f"{text!r}: tuple (struct) arguments cannot be typed on a command line; give the calldata "
                "instead (--data 0x...)"
            )
        types = tuple(_canonical_type(t) for t in inner.split(",")) if inner else ()
        return cls(name, types)

    def __str__(self) -> str:
        return f"{self.name}({','.join(self.types)})"

    @property
    def selector(self) -> bytes:
        return keccak(text=str(self))[:4]


def _canonical_type(kind: str) -> str:
    array = _ARRAY.match(kind)
    if array:
        return f"{_canonical_type(array.group(1))}[{array.group(2)}]"
    integer = _INT.match(kind)
    if integer:
        unsigned, bits = integer.groups()
        size = int(bits or 256)
        if size % 8 or not 8 <= size <= 256:
            raise ConfigurationError(f"{kind!r} is not an ABI type (int sizes are 8 to 256 in steps of 8)")
        return f"{unsigned}int{size}"
    raw = _BYTES.match(kind)
    if raw and raw.group(1) and not 1 <= int(raw.group(1)) <= 32:
        raise ConfigurationError(f"{kind!r} is not an ABI type (bytes1 to bytes32, or bytes)")
    if kind in ("address", "bool", "string", "bytes") or raw:
        return kind
    raise ConfigurationError(f"{kind!r} is not an ABI type this command line understands")


def parse_argument(kind: str, value: Any) -> Any:
    """`value` (a command-line string, or a JSON value inside an array) as the ABI type `kind`.

    Integers take decimal, ``0x`` hex, underscores and exact scientific notation (``23e12``); addresses
    0x; booleans true/false; bytes 0x hex; arrays a JSON list (``[1,2,3]``).
    """
    kind = _canonical_type(kind)
    array = _ARRAY.match(kind)
    if array:
        items = value
        if isinstance(value, str):
            try:
                items = json.loads(value)
            except ValueError:
                items = None
        if not isinstance(items, list):
            raise ConfigurationError(f"{kind} takes a JSON list, like [1,2], got {value!r}")
        if array.group(2) and len(items) != int(array.group(2)):
            raise ConfigurationError(f"{kind} takes exactly {array.group(2)} items, got {len(items)}")
        return [parse_argument(array.group(1), item) for item in items]
    text = str(value).strip() if not isinstance(value, bool) else ("true" if value else "false")
    integer = _INT.match(kind)
    if integer:
        number = _integer(text, kind)
        bits = int(integer.group(2) or 256)
        low, high = (0, 2**bits - 1) if integer.group(1) else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        if not low <= number <= high:
            raise ConfigurationError(f"{text} does not fit in {kind} ({low} to {high})")
        return number
    if kind == "address":
        if not is_address(text):
            raise ConfigurationError(f"{text!r} is not an address (0x and 40 hex digits)")
        return to_checksum_address(text)
    if kind == "bool":
        if text.lower() in ("true", "1"):
            return True
        if text.lower() in ("false", "0"):
            return False
        raise ConfigurationError(f"{text!r} is not a bool: give true or false")
    if kind == "string":
        return str(value)
    raw = _BYTES.match(kind)
    assert raw is not None  # _canonical_type admits nothing else
    try:
        data = bytes.fromhex(text[2:]) if text.startswith(("0x", "0X")) else None
    except ValueError:
        data = None
    if data is None:
        raise ConfigurationError(f"{text!r} is not {kind}: give 0x and hex digits")
    if raw.group(1) and len(data) != int(raw.group(1)):
        raise ConfigurationError(f"{kind} takes exactly {raw.group(1)} bytes, got {len(data)}")
    return data


def _integer(text: str, kind: str) -> int:
    cleaned = text.replace("_", "")
    try:
        if cleaned.lower().startswith(("0x", "-0x")):
            return int(cleaned, 16)
        number = Decimal(cleaned)
    except (InvalidOperation, ValueError):
        raise ConfigurationError(f"{text!r} is not an integer for {kind}") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise ConfigurationError(f"{text!r} is not a whole number for {kind}")
    return int(number)


def encode_call(signature: str | FunctionSignature, args: Sequence[Any]) -> bytes:
    """The calldata of `signature` called with `args` (command-line strings, see :func:`parse_argument`)."""
    sig = signature if isinstance(signature, FunctionSignature) else FunctionSignature.parse(signature)
    if len(args) != len(sig.types):
        raise ConfigurationError(f"{sig} takes {len(sig.types)} arguments, got {len(args)}")
    values = []
    for position, (kind, value) in enumerate(zip(sig.types, args, strict=True), start=1):
        try:
            values.append(parse_argument(kind, value))
        except ConfigurationError as exc:
            raise ConfigurationError(f"{sig}, argument {position}: {exc}") from None
    try:
        return sig.selector + encode(list(sig.types), values)
    except EncodingError as exc:
        raise ConfigurationError(f"{sig}: cannot encode {args!r}: {exc}") from None


def signature_in_abi(abi: Sequence[Mapping[str, Any]], name: str, argument_count: int) -> FunctionSignature:
    """The function `name` of `abi` taking `argument_count` arguments (so ``setTierRate`` alone works for a
    known contract)."""
    candidates = [
        FunctionSignature(str(item["name"]), tuple(_abi_type(i) for i in item.get("inputs", [])))
        for item in abi
        if item.get("type") == "function" and item.get("name") == name
    ]
    if not candidates:
        raise ConfigurationError(
            f"the contract has no function {name}: check the name, or give its signature"
        )
    matching = [c for c in candidates if len(c.types) == argument_count]
    if len(matching) != 1:
        shown = ", ".join(str(c) for c in candidates)
        raise ConfigurationError(
            f"{name} with {argument_count} arguments matches {len(matching)} of the contract's functions "
            f"({shown}): give the full signature"
        )
    return matching[0]


def _abi_type(item: Mapping[str, Any]) -> str:
    kind = str(item["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in item.get("components", []))
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def describe_call(data: bytes, abi: Sequence[Mapping[str, Any]]) -> str | None:
    """``setTierRate(1, 23000000000000)`` for calldata of a function in `abi`; None when none matches."""
    data = bytes(data)
    for item in abi:
        if item.get("type") != "function":
            continue
        types = [_abi_type(i) for i in item.get("inputs", [])]
        if keccak(text=f"{item['name']}({','.join(types)})")[:4] != data[:4]:
            continue
        try:
            values = decode(types, data[4:]) if types else ()
        except (DecodingError, ValueError, OverflowError):
            return None
        return f"{item['name']}({', '.join(_show(v) for v in values)})"
    return None


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, str) and is_address(value):
        return to_checksum_address(value)
    return str(value)
