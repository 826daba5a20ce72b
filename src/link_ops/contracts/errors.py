"""Revert reasons by name: raw revert data decoded against every error the shipped contracts can raise.

ape decodes a custom error only with the ABI of the contract it called, so an error raised deeper (Solady's
``TransferFromFailed()`` inside a bridge's token pull, the cube collection's ``TokenDoesNotExist()`` under a
bridge's lock) reaches the user as ``0x7939f424``. :func:`describe_revert` names it: the table holds every
``error`` of every packaged ABI (OpenZeppelin's and Solady's errors that the contracts declare included),
Solady's library errors that no ABI lists (``SafeTransferLib``), and Solidity's ``Error(string)`` and
``Panic(uint256)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils.crypto import keccak

#: Errors raised from Solady libraries inline (so declared in no contract's ABI), and Solidity's own.
LIBRARY_ERRORS: tuple[str, ...] = (
    "TransferFromFailed()",
    "TransferFailed()",
    "ApproveFailed()",
    "ETHTransferFailed()",
    "Error(string)",
    "Panic(uint256)",
)


@dataclass(frozen=True)
class DecodedError:
    """A revert, decoded: the error's name and its arguments by name."""

    name: str
    args: tuple[tuple[str, Any], ...] = ()

    def __str__(self) -> str:
        shown = ", ".join(f"{k}={_show(v)}" if k else _show(v) for k, v in self.args)
        return f"{self.name}({shown})"


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def _canonical(item: dict[str, Any]) -> str:
    """The canonical ABI type of an input (tuples spelled out)."""
    kind = str(item["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_canonical(c) for c in item.get("components", []))
        return f"({inner}){kind[len('tuple') :]}"
    return kind


@cache
def error_table() -> dict[bytes, tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """Selector → (name, argument names, argument types) for every error link_ops knows."""
    from link_ops.contracts import abi, names  # the package's own ABIs; imported late, no cycle

    table: dict[bytes, tuple[str, tuple[str, ...], tuple[str, ...]]] = {}
    for contract in names():
        for item in abi(contract):
            if item.get("type") != "error":
                continue
            types = tuple(_canonical(i) for i in item.get("inputs", []))
            signature = f"{item['name']}({','.join(types)})"
            arg_names = tuple(str(i.get("name", "")) for i in item.get("inputs", []))
            table.setdefault(keccak(text=signature)[:4], (str(item["name"]), arg_names, types))
    for signature in LIBRARY_ERRORS:
        name, _, rest = signature.partition("(")
        types = tuple(t for t in rest.rstrip(")").split(",") if t)
        table.setdefault(keccak(text=signature)[:4], (name, ("",) * len(types), types))
    return table


def decode_error(data: bytes) -> DecodedError | None:
    """`data` (selector + ABI-encoded arguments) as a named error, or None when no known error matches."""
    if len(data) < 4:
        return None
    entry = error_table().get(bytes(data[:4]))
    if entry is None:
        return None
    name, arg_names, types = entry
    try:
        values = decode(list(types), bytes(data[4:])) if types else ()
    except (DecodingError, ValueError, OverflowError):
        return DecodedError(name, (("", "0x" + bytes(data[4:]).hex()),)) if types else DecodedError(name)
    return DecodedError(name, tuple(zip(arg_names, values, strict=True)))


_CUSTOM_ERROR = re.compile(r"custom error 0x([0-9a-fA-F]{8})(?:: (.*))?\Z", re.DOTALL)
_HEX = re.compile(r"0x(?:[0-9a-fA-F]{2})+")


def revert_data(exc: BaseException) -> bytes | None:
    """The raw revert data behind an ape or web3 error, when it carries any.

    Transactions keep it on the web3 error (``base_err.data``) or, undecoded, as ape's revert message
    (``0x7939f424``); for calls, anvil puts it in the message as ``custom error 0x<selector>`` followed by
    ``: <arguments>`` (hex, or text when the bytes are valid UTF-8).
    """
    base = getattr(exc, "base_err", None)
    data = getattr(base, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and _HEX.fullmatch(data):
        return bytes.fromhex(data[2:])
    if isinstance(data, bytes) and data:
        return data
    message = getattr(exc, "revert_message", None)
    if isinstance(message, str) and _HEX.fullmatch(message.strip()):
        return bytes.fromhex(message.strip()[2:])
    match = _CUSTOM_ERROR.search(str(base) if base is not None else str(exc))
    if match is None:
        return None
    selector, arguments = match.groups()
    arguments = arguments or ""
    if re.fullmatch(r"(?:[0-9a-fA-F]{64})*", arguments):
        body = bytes.fromhex(arguments)
    else:
        body = arguments.encode("utf-8")
    return bytes.fromhex(selector) + body


def describe_revert(exc: BaseException) -> str:
    """A revert in one line, its error named: ``NotHolder(cubeId=7, caller=0x…)``.

    ape's own decoding (a ``CustomError`` of the called contract) is used when present; otherwise the raw
    data is looked up in :func:`error_table`; otherwise the first line of the error's message.
    """
    inputs = getattr(exc, "inputs", None)
    if isinstance(inputs, dict) and type(exc).__name__ not in ("ContractLogicError", "VirtualMachineError"):
        return str(DecodedError(type(exc).__name__, tuple(inputs.items())))
    data = revert_data(exc)
    decoded = decode_error(data) if data else None
    if decoded is not None:
        return str(decoded)
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
