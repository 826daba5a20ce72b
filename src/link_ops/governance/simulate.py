"""Trying a transaction without sending it: a call simulated from any address, and on chains that can go
back in time (anvil: local chains and forks) the transaction itself, sent from an impersonated account
inside a snapshot that is then reverted, to see the events it would emit.

Every governance step simulates before it sends, so a refusal is reported as its named reason (the
timelock's ``TimelockUnexpectedOperationState(...)``, the Safe's ``GS026``) before any gas is spent; a dry
run stops there and reports what would change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ape import chain
from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils.address import is_address, to_checksum_address
from eth_utils.crypto import keccak

from link_ops import contracts
from link_ops.contracts import safe as safe_contracts
from link_ops.contracts.errors import decode_error
from link_ops.exceptions import SimulationError
from link_ops.model.chains import is_local_chain
from link_ops.model.governance import SAFE_ERRORS


def has_code(address: str) -> bool:
    """Whether `address` holds contract code on the connected chain."""
    code = chain.provider.get_code(to_checksum_address(address))
    return bool(code) and len(code) > 0


def is_local_or_fork() -> bool:
    """A throwaway chain: a local development chain, or a fork (nothing there is real)."""
    return is_local_chain(chain.chain_id) or bool(getattr(chain.provider.network, "is_fork", False))


def genesis_hash() -> str:
    block_hash = chain.blocks[0].hash
    return block_hash.hex() if isinstance(block_hash, bytes) else str(block_hash)


@dataclass(frozen=True)
class Simulation:
    """What a transaction would do: whether it succeeds, its gas, the revert reason, and (a preview on a
    local chain or fork) the events it would emit."""

    ok: bool
    revert: str | None = None
    gas: int | None = None
    return_data: bytes = b""
    #: Each event the transaction would emit, one line each (``Contract.Event(arg=value, ...)``).
    events: tuple[str, ...] = field(default_factory=tuple)
    #: Whether :attr:`events` come from actually running the transaction (a preview).
    previewed: bool = False


def _web3() -> Any:
    return chain.provider.web3


def _tx(sender: str, to: str, data: bytes, value: int) -> dict[str, Any]:
    return {
        "from": to_checksum_address(sender),
        "to": to_checksum_address(to),
        "data": "0x" + bytes(data).hex(),
        "value": int(value),
    }


def simulate_call(sender: str, to: str, data: bytes, value: int = 0) -> Simulation:
    """`data` sent from `sender` to `to`, run as ``eth_call`` on the latest block (``from`` may be any
    address, a contract's included): its return data or revert reason, and its gas when it succeeds."""
    from web3.exceptions import ContractLogicError

    tx = _tx(sender, to, data, value)
    try:
        returned = bytes(_web3().eth.call(tx, "latest"))
    except ContractLogicError as exc:
        return Simulation(ok=False, revert=_reason(exc))
    try:
        gas = int(_web3().eth.estimate_gas(tx, "latest"))
    except ContractLogicError as exc:  # a call that succeeds yet fails once it costs gas (value, limits)
        return Simulation(ok=False, revert=_reason(exc), return_data=returned)
    return Simulation(ok=True, gas=gas, return_data=returned)


def require_success(simulation: Simulation, what: str) -> Simulation:
    """`simulation`, or :class:`SimulationError` saying `what` and why."""
    if not simulation.ok:
        raise SimulationError(f"{what}: it reverts with {simulation.revert}")
    return simulation


def _reason(exc: Exception) -> str:
    data = getattr(exc, "data", None)
    raw: bytes | None = None
    if isinstance(data, str) and data.startswith("0x"):
        try:
            raw = bytes.fromhex(data[2:])
        except ValueError:
            raw = None
    elif isinstance(data, bytes):
        raw = data
    if raw:
        decoded = decode_error(raw)
        if decoded is not None:
            if decoded.name == "Error" and decoded.args and str(decoded.args[0][1]) in SAFE_ERRORS:
                code = str(decoded.args[0][1])
                return f"{code} ({SAFE_ERRORS[code]})"
            return str(decoded)
        return f"unknown error 0x{raw.hex()}"
    message = str(getattr(exc, "message", None) or exc).strip()
    return message.splitlines()[0] if message else "a revert without a reason"


def preview_transaction(
    sender: str, to: str, data: bytes, value: int = 0, names: Mapping[str, str] | None = None
) -> Simulation:
    """:func:`simulate_call`, and on anvil (a local chain or a fork) the transaction itself: sent from
    `sender` impersonated (no key needed, gas money lent), its events read and named, then the chain
    reverted to where it was. `names` maps addresses to the names shown for them."""
    simulated = simulate_call(sender, to, data, value)
    if not simulated.ok or not is_local_or_fork():
        return simulated
    provider = chain.provider
    try:
        snapshot = provider.make_request("evm_snapshot", [])
    except Exception:  # a provider without snapshots: the simulation is all a dry run gets
        return simulated
    sender = to_checksum_address(sender)
    try:
        balance = int(_web3().eth.get_balance(sender))
        provider.make_request("anvil_impersonateAccount", [sender])
        provider.make_request("anvil_setBalance", [sender, hex(balance + 10**24)])
        tx = _tx(sender, to, data, value)
        tx["gas"] = hex(int((simulated.gas or 1_000_000) * 3 // 2))
        tx["value"] = hex(tx["value"])
        tx_hash = provider.make_request("eth_sendTransaction", [tx])
        receipt = _web3().eth.wait_for_transaction_receipt(tx_hash, timeout=60)
        events = tuple(describe_log(log, names or {}) for log in receipt["logs"])
        ok = int(receipt["status"]) == 1
    finally:
        try:
            provider.make_request("anvil_stopImpersonatingAccount", [sender])
        finally:
            provider.make_request("evm_revert", [snapshot])
    if not ok:
        return Simulation(ok=False, revert="the transaction reverted when sent (but not as a call)")
    return Simulation(
        ok=True, gas=simulated.gas, return_data=simulated.return_data, events=events, previewed=True
    )


@cache
def _event_table() -> dict[bytes, list[dict[str, Any]]]:
    """topic0 -> the event ABIs with that signature, from every contract link_ops knows."""
    abis = [contracts.abi(name) for name in contracts.names()]
    abis += [safe_contracts.abi(safe_contracts.SINGLETON), safe_contracts.abi(safe_contracts.PROXY_FACTORY)]
    table: dict[bytes, list[dict[str, Any]]] = {}
    for abi in abis:
        for item in abi:
            if item.get("type") != "event" or item.get("anonymous"):
                continue
            types = ",".join(_type(i) for i in item.get("inputs", []))
            topic = keccak(text=f"{item['name']}({types})")
            if all(known != item for known in table.get(topic, [])):
                table.setdefault(topic, []).append(item)
    return table


def _type(item: Mapping[str, Any]) -> str:
    kind = str(item["type"])
    if kind.startswith("tuple"):
        return f"({','.join(_type(c) for c in item.get('components', []))}){kind[len('tuple') :]}"
    return kind


def describe_log(log: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """A log as ``Name.Event(arg=value, ...)``, decoded with whichever known ABI matches."""
    address = to_checksum_address(log["address"])
    known = {str(to_checksum_address(k)): v for k, v in names.items()}
    shown = known.get(address, address)
    topics = [bytes(t) for t in log["topics"]]
    data = bytes(log["data"])
    for item in _event_table().get(topics[0], []) if topics else []:
        inputs = item.get("inputs", [])
        indexed = [i for i in inputs if i.get("indexed")]
        plain = [i for i in inputs if not i.get("indexed")]
        if len(indexed) != len(topics) - 1:
            continue
        try:
            values = dict(
                zip([i["name"] for i in plain], decode([_type(i) for i in plain], data), strict=True)
            )
            for entry, topic in zip(indexed, topics[1:], strict=True):
                kind = _type(entry)
                dynamic = kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("(")
                values[entry["name"]] = topic if dynamic else decode([kind], topic)[0]
        except (DecodingError, ValueError, OverflowError):
            continue
        args = ", ".join(f"{i['name']}={_show(values[i['name']], known)}" for i in inputs)
        return f"{shown}.{item['name']}({args})"
    return f"{shown}: log {topics[0].hex() if topics else '(anonymous)'}"


#: Longer byte strings in an event are shortened to their start and length (a Safe's calldata, signatures).
_LONG_BYTES = 36


def _show(value: Any, names: Mapping[str, str]) -> str:
    """An event argument for a reader: known addresses by name, long bytes shortened."""
    if isinstance(value, bytes):
        if len(value) > _LONG_BYTES:
            return f"0x{value[:8].hex()}…({len(value)} bytes)"
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v, names) for v in value) + "]"
    if isinstance(value, str) and is_address(value):
        address = to_checksum_address(value)
        return names.get(address, address)
    return str(value)
