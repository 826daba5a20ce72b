"""Indexed events built by hand, a store holding them as the index would, and a node that answers the reads
the rules make (``eth_call`` at a block, call traces, transactions): the rules' logic without a chain.

Testing only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from link_ops.index.rpc import JsonRpcError
from link_ops.store import BlockRef, IndexedEvent, OpsStore

HOME, REMOTE = 137, 1


def address(byte: str) -> str:
    return to_checksum_address("0x" + byte * 20)


ZERO = "0x" + "00" * 20
CUBES, LBC, FACTORY = address("c1"), address("1b"), address("fa")
MESSENGER, LBC_BRIDGE, CUBE_BRIDGE = address("3e"), address("b1"), address("b2")
TIMELOCK, SAFE, GUARDIAN = address("71"), address("5a"), address("9d")
R_MESSENGER, R_LBC, R_LBC_BRIDGE, R_CUBE_BRIDGE, R_CUBES = (
    address("e3"),
    address("e1"),
    address("eb"),
    address("ec"),
    address("ed"),
)
STRANGER, ALICE, BOB = address("66"), address("a1"), address("b0")
LBC_UNIT = 10**18

HOME_CONTRACTS = {
    "OptimizedCubeManagement": (CUBES,),
    "LBCToken": (LBC,),
    "PartnerFactory": (FACTORY,),
    "AttestedMessenger": (MESSENGER,),
    "LBCBridge": (LBC_BRIDGE,),
    "CubeBridge": (CUBE_BRIDGE,),
    "LinkTimelock": (TIMELOCK,),
    "SafeL2": (SAFE,),
}
REMOTE_CONTRACTS = {
    "LBCToken": (R_LBC,),
    "AttestedMessenger": (R_MESSENGER,),
    "LBCBridge": (R_LBC_BRIDGE,),
    "RemoteCubeBridge": (R_CUBE_BRIDGE,),
    "RemoteCube": (R_CUBES,),
    "LinkTimelock": (TIMELOCK,),
    "SafeL2": (SAFE,),
}


def role(name: str) -> str:
    return "0x" + ("00" * 32 if name == "DEFAULT_ADMIN_ROLE" else keccak(text=name).hex())


def tx(n: int) -> str:
    return "0x" + f"{n:064x}"


def block_time(number: int) -> int:
    return 1_700_000_000 + 12 * number


def ev(
    contract: str,
    name: str,
    args: Mapping[str, Any],
    block: int,
    *,
    log: int = 0,
    tx_hash: str | None = None,
    at: str | None = None,
    chain_id: int = HOME,
    time: int | None = None,
) -> IndexedEvent:
    """An event as the index stores it (the query columns filled as the catalog fills them)."""
    contracts = HOME_CONTRACTS if chain_id == HOME else REMOTE_CONTRACTS
    return IndexedEvent.of(
        chain_id,
        block,
        log,
        f"0x{block:064x}",
        tx_hash or tx(block * 100 + log),
        at or contracts[contract][0],
        contract,
        name,
        dict(args),
        block_time(block) if time is None else time,
    )


def executed_by_timelock(target: str, block: int, tx_hash: str, log: int = 9) -> IndexedEvent:
    """The timelock's ``CallExecuted`` of a call to `target` in transaction `tx_hash`."""
    return ev(
        "LinkTimelock",
        "CallExecuted",
        {"id": "0x" + "11" * 32, "index": "0", "target": target, "value": "0", "data": "0x"},
        block,
        log=log,
        tx_hash=tx_hash,
    )


@dataclass
class Chains:
    """The store, written batch by batch as the index writes it, chain by chain."""

    store: OpsStore
    last: dict[int, int] = field(default_factory=dict)

    def write(
        self, chain_id: int, events: Sequence[IndexedEvent], last_block: int, *, time: int | None = None
    ) -> tuple[int, int]:
        """Writes blocks from the chain's cursor + 1 up to `last_block` with `events`; returns the range."""
        first = self.last.get(chain_id, -1) + 1
        contracts = HOME_CONTRACTS if chain_id == HOME else REMOTE_CONTRACTS
        stamp = block_time(last_block) if time is None else time
        self.store.index.write_batch(
            chain_id,
            first_block=first,
            last=BlockRef(last_block, f"0x{last_block:064x}", f"0x{last_block - 1:064x}", stamp),
            events=list(events),
            start_block=0,
            contracts=contracts,
        )
        self.last[chain_id] = last_block
        return first, last_block


def word(*values: int) -> str:
    return "0x" + encode(["uint256"] * len(values), list(values)).hex()


@dataclass
class FakeNode:
    """Answers ``eth_call`` by (to, selector, block) -> 0x answer, ``debug_traceTransaction`` from `traces`
    (absent: refused, as a node without the debug API refuses) and ``eth_getTransactionByHash`` from
    `transactions`; records what it was asked."""

    calls: dict[tuple[str, str, int], str] = field(default_factory=dict)
    traces: dict[str, dict[str, Any]] = field(default_factory=dict)
    transactions: dict[str, dict[str, Any]] = field(default_factory=dict)
    asked: list[tuple[str, Any]] = field(default_factory=list)
    on_call: Callable[[str, str, int], str | None] | None = None

    def answer(self, to: str, signature: str, block: int, value: str) -> None:
        self.calls[(to.lower(), "0x" + keccak(text=signature)[:4].hex(), block)] = value

    def request(self, method: str, params: list[Any]) -> Any:
        self.asked.append((method, params))
        if method == "eth_call":
            call, block = params
            key = (call["to"].lower(), call["data"][:10], int(block, 16))
            if key not in self.calls:
                raise JsonRpcError(method, -32000, f"no answer for {key}")
            return self.calls[key]
        if method == "debug_traceTransaction":
            if params[0] not in self.traces:
                raise JsonRpcError(method, -32601, "the method debug_traceTransaction does not exist")
            return self.traces[params[0]]
        if method == "eth_getTransactionByHash":
            return self.transactions.get(params[0])
        raise JsonRpcError(method, -32601, f"{method} not served")


def paging(alerts: Sequence[Any]) -> list[tuple[str, str]]:
    """(rule, severity label) of the alerts of severity warning or more, sorted."""
    from link_ops.watch.alerts import Severity

    return sorted((a.rule, a.severity.label) for a in alerts if a.severity >= Severity.WARNING)
