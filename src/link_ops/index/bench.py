"""The index's backfill benchmark: a local anvil filled with protocol events, then indexed from scratch.

:func:`fill` deploys LBC and the cube collection on a development anvil (its unlocked accounts sign, through
plain ``eth_sendTransaction``: no ape, no keys) and makes about `events` events: cubes minted in large
batches to a few holders (one ``Transfer`` per cube, the bulk), LBC minted and moved between the holders,
and reward claims (each an LBC mint the index looks up as a transaction). :func:`backfill` indexes that
chain into a database and says how fast it went and where the time went: RPC (``eth_getLogs`` and the
few other calls, JSON parsing included), decoding, database writes. :func:`run` does both::

    filled, result = run("http://127.0.0.1:8545", "postgresql+psycopg://…/bench", events=100_000)
    print(result.events_per_second, result.fetch_seconds, result.decode_seconds, result.write_seconds)

The chain must be a throwaway development node (anvil) with funded, unlocked accounts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from link_ops import contracts
from link_ops.contracts.errors import decode_error
from link_ops.exceptions import LinkOpsError
from link_ops.index.catalog import Catalog, checksum
from link_ops.index.indexer import ChainIndexer
from link_ops.index.rpc import HttpJsonRpc, IndexRpcError, JsonRpcError
from link_ops.index.settings import IndexSettings
from link_ops.index.targets import IndexTargets
from link_ops.store import OpsStore

Say = Callable[[str], None]

#: LBC's cap for the bench token.
BENCH_CAP = 10**9 * 10**18

#: Tier 0's rate while the bench runs (wei per second per cube), so that claims pay something.
BENCH_RATE = 11 * 10**12


#: Gas given to each LBC mint or transfer (they use under 70,000): no estimate asked for.
LBC_GAS = 100_000

#: What a bench transaction gets over the node's estimate: 125 % of it plus 50,000. An estimate is exact for
#: the block it was made in, not for the next: ``setTierRate`` in the deployment's second rewrites the
#: tier's checkpoint (39,091 gas), a second later it adds one (61,935), and a transaction sent with the
#: first figure lands in the next second whenever the machine is busy.
GAS_MARGIN_PERCENT = 125
GAS_MARGIN = 50_000


class BenchError(LinkOpsError):
    """The benchmark's chain cannot be filled: not a development node, or a transaction failed."""


@dataclass(frozen=True)
class FilledChain:
    """A chain :func:`fill` filled: the contracts to index and how many events they emitted."""

    url: str
    targets: IndexTargets
    first_block: int
    last_block: int
    events: int
    transactions: int
    seconds: float


@dataclass(frozen=True)
class BackfillResult:
    """How a backfill went: `events` events of `blocks` blocks in `seconds`, and where the time went."""

    events: int
    blocks: int
    batches: int
    rpc_calls: int
    seconds: float
    fetch_seconds: float
    decode_seconds: float
    write_seconds: float
    database: str

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    @property
    def other_seconds(self) -> float:
        """Time outside the three phases (bookkeeping, reading the cursor, progress)."""
        return max(0.0, self.seconds - self.fetch_seconds - self.decode_seconds - self.write_seconds)


def _selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


class _Sender:
    """Sends transactions from the node's unlocked accounts and checks each receipt."""

    def __init__(self, rpc: HttpJsonRpc) -> None:
        self.rpc = rpc
        self.sent = 0
        self._what: dict[str, tuple[str, dict[str, Any]]] = {}

    def send(
        self,
        sender: str,
        to: str | None,
        data: bytes,
        *,
        what: str,
        wait: bool = True,
        gas: int | None = None,
    ) -> str:
        """Sends `data` from `sender` to `to` (None: a deployment); `what` names it in errors."""
        tx: dict[str, Any] = {"from": sender, "data": "0x" + data.hex()}
        if to is not None:
            tx["to"] = to
        tx["gas"] = hex(gas if gas is not None else self.gas_for(tx))
        tx_hash = str(self.rpc.request("eth_sendTransaction", [tx]))
        self.sent += 1
        self._what[tx_hash] = (what, tx)
        if wait:
            self.receipt(tx_hash)
        return tx_hash

    def gas_for(self, tx: dict[str, Any]) -> int:
        """The node's estimate for `tx` with room to spare (:data:`GAS_MARGIN`): the estimate holds for the
        block it was made in, and the transaction may land a second later on another branch."""
        estimate = int(self.rpc.request("eth_estimateGas", [tx]), 16)
        return estimate * GAS_MARGIN_PERCENT // 100 + GAS_MARGIN

    def receipt(self, tx_hash: str, *, patience: float = 60.0) -> dict[str, Any]:
        """The receipt of `tx_hash`, waited for (anvil answers a send before the block is stored)."""
        deadline = time.monotonic() + patience
        while (receipt := self.rpc.request("eth_getTransactionReceipt", [tx_hash])) is None:
            if time.monotonic() > deadline:
                raise BenchError(
                    f"transaction {tx_hash} was not mined within {patience:g} s: is the node an anvil that "
                    "mines each transaction?"
                )
            time.sleep(0.005)
        if int(receipt["status"], 16) != 1:
            what, tx = self._what[tx_hash]
            raise BenchError(
                f"transaction {tx_hash} ({what}) reverted while filling the bench chain: "
                f"{self._why(tx, receipt)}"
            )
        return dict(receipt)

    def _why(self, tx: dict[str, Any], receipt: dict[str, Any]) -> str:
        """Why the transaction of `receipt` reverted: replayed as a call on the state before its block."""
        used, block, gas = int(receipt["gasUsed"], 16), int(receipt["blockNumber"], 16), int(tx["gas"], 16)
        if used >= gas:
            return f"out of gas: it used all {gas:,} it was given"
        spent = f"{used:,} gas used of {gas:,}"
        call = {k: v for k, v in tx.items() if k in ("from", "to", "data", "gas")}
        try:
            self.rpc.request("eth_call", [call, hex(block - 1)])
        except JsonRpcError as exc:
            data = exc.data.get("data") if isinstance(exc.data, dict) else exc.data
            decoded = (
                decode_error(bytes.fromhex(data[2:]))
                if isinstance(data, str) and data.startswith("0x") and len(data) >= 10
                else None
            )
            return f"{decoded or exc.message} ({spent})"
        except IndexRpcError as exc:
            return f"{spent}; replaying it failed: {exc}"
        return (
            f"{spent}; the same call succeeds on the state before its block (out of gas, or another sender)"
        )

    def deploy(self, sender: str, name: str, types: list[str], args: list[Any]) -> str:
        bytecode = contracts.contract_type(name).deployment_bytecode
        code = bytes.fromhex(str(bytecode.bytecode if bytecode else "").removeprefix("0x"))
        address = self.receipt(
            self.send(sender, None, code + encode(types, args), what=f"deploying {name}", wait=False)
        )["contractAddress"]
        return checksum(str(address))


def _count_events(rpc: HttpJsonRpc, targets: IndexTargets, first: int, last: int) -> int:
    """How many of the indexed events the targets emitted in `first` .. `last` (counted by the node)."""
    addresses = [a for addresses in targets.contracts.values() for a in addresses]
    topics = Catalog().topics(targets.contracts)
    total, start = 0, first
    while start <= last:
        end = min(last, start + 49)
        query = {"fromBlock": hex(start), "toBlock": hex(end), "address": addresses, "topics": [topics]}
        total += len(rpc.request("eth_getLogs", [query]))
        start = end + 1
    return total


def fill(
    url: str,
    *,
    events: int = 100_000,
    cubes_per_tx: int = 500,
    holders: int = 8,
    say: Say | None = None,
) -> FilledChain:
    """Fills the development node at `url` with about `events` protocol events (at least that many).

    About 99.9% are cube transfers from ``mintBatch`` (`cubes_per_tx` per transaction, one block each),
    the rest LBC mints and transfers between `holders` holders, and one reward claim per holder (the index
    looks each up as a transaction). One transaction per block: anvil mines each as it arrives.
    """
    if events < 10 or cubes_per_tx < 1 or holders < 2:
        raise BenchError("fill at least 10 events, with at least 1 cube per transaction and 2 holders")
    report = say or (lambda _line: None)
    began = time.perf_counter()
    rpc = HttpJsonRpc(url, timeout=120)
    accounts = [checksum(a) for a in rpc.request("eth_accounts", [])]
    if len(accounts) < holders + 1:
        raise BenchError(
            f"the node at {url} has {len(accounts)} unlocked accounts, the bench needs {holders + 1}: use a "
            "development anvil"
        )
    admin, owners = accounts[0], accounts[1 : holders + 1]
    first_block = int(rpc.request("eth_blockNumber", []), 16) + 1
    sender = _Sender(rpc)
    lbc = sender.deploy(admin, "LBCToken", ["address", "uint256"], [admin, BENCH_CAP])
    cubes = sender.deploy(admin, "OptimizedCubeManagement", ["address", "address"], [admin, lbc])
    minter = keccak(text="MINTER_ROLE")
    grant = _selector("grantRole(bytes32,address)")
    sender.send(
        admin,
        lbc,
        grant + encode(["bytes32", "address"], [minter, cubes]),
        what="granting the cubes LBC's minter role",
    )
    sender.send(
        admin,
        lbc,
        grant + encode(["bytes32", "address"], [minter, admin]),
        what="granting the admin LBC's minter role",
    )
    sender.send(
        admin,
        cubes,
        _selector("setTierRate(uint8,uint256)") + encode(["uint8", "uint256"], [0, BENCH_RATE]),
        what="setting tier 0's rate",
    )
    report(f"deployed LBC {lbc} and cubes {cubes}")

    lbc_moves = max(2 * holders, events // 1000)
    cube_events = events - lbc_moves - holders
    mint_batch = _selector("mintBatch(address,uint8,uint256)")
    minted: dict[str, list[int]] = {owner: [] for owner in owners}
    next_id, made = 1, 0
    while made < cube_events:
        quantity = min(cubes_per_tx, max(1, cube_events - made - 1))
        owner = owners[(next_id // cubes_per_tx) % holders]
        sender.send(
            admin,
            cubes,
            mint_batch + encode(["address", "uint8", "uint256"], [owner, 0, quantity]),
            what=f"minting {quantity} cubes to {owner}",
        )
        minted[owner] += range(next_id, next_id + quantity)
        next_id += quantity
        made += quantity + 1  # a Transfer per cube and one CubesMinted
        if sender.sent % 20 == 0:
            report(f"{made:,} cube events")

    # LBC: a mint to each holder, then transfers around (a block each, as anvil mines them).
    mint = _selector("mint(address,uint256)")
    transfer = _selector("transfer(address,uint256)")
    for owner in owners:
        sender.send(
            admin,
            lbc,
            mint + encode(["address", "uint256"], [owner, 10**24]),
            what=f"minting LBC to {owner}",
            gas=LBC_GAS,
        )
    for i in range(lbc_moves - holders):
        frm, to = owners[i % holders], owners[(i + 1) % holders]
        sender.send(
            frm,
            lbc,
            transfer + encode(["address", "uint256"], [to, 10**15]),
            what=f"an LBC transfer from {frm}",
            gas=LBC_GAS,
        )
    report(f"{lbc_moves:,} LBC mints and transfers")

    # One claim per holder, a day later: an LBC mint the index looks up as a transaction.
    rpc.request("evm_increaseTime", [86_400])
    rpc.request("evm_mine", [])
    claim = _selector("batchClaimRewards(uint256[])")
    for owner in owners:
        if minted[owner]:
            sender.send(
                owner,
                cubes,
                claim + encode(["uint256[]"], [minted[owner][:50]]),
                what=f"{owner}'s claim of {len(minted[owner][:50])} cubes",
            )
    last_block = int(rpc.request("eth_blockNumber", []), 16)
    chain_id = int(rpc.request("eth_chainId", []), 16)
    targets = IndexTargets(chain_id, first_block, {"LBCToken": (lbc,), "OptimizedCubeManagement": (cubes,)})
    counted = _count_events(rpc, targets, first_block, last_block)
    report(f"{counted:,} events in blocks {first_block:,} to {last_block:,}")
    rpc.close()
    return FilledChain(
        url, targets, first_block, last_block, counted, sender.sent, time.perf_counter() - began
    )


def backfill(
    url: str,
    targets: IndexTargets,
    db_url: str,
    *,
    settings: IndexSettings | None = None,
    say: Say | None = None,
) -> BackfillResult:
    """Indexes `targets` at `url` from scratch into the store at `db_url` (its index of that chain is reset
    first) and measures it."""
    report = say or (lambda _line: None)
    rpc = HttpJsonRpc(url, timeout=120)
    with OpsStore(db_url) as store:
        store.index.reset(targets.chain_id)
        indexer = ChainIndexer(rpc, targets, store.index, settings=settings)
        indexer.check()
        began = time.perf_counter()
        round_report = indexer.round(
            on_batch=lambda b: report(f"blocks {b.first_block:,}-{b.last_block:,}: {b.events:,} events")
        )
        seconds = time.perf_counter() - began
        database = store.url
    rpc.close()
    cursor_from = targets.start_block
    return BackfillResult(
        events=round_report.events,
        blocks=(round_report.indexed or cursor_from - 1) - cursor_from + 1,
        batches=round_report.batches,
        rpc_calls=indexer.timings.rpc_calls,
        seconds=seconds,
        fetch_seconds=indexer.timings.fetch,
        decode_seconds=indexer.timings.decode,
        write_seconds=indexer.timings.write,
        database=database,
    )


def run(
    url: str, db_url: str, *, events: int = 100_000, say: Say | None = None
) -> tuple[FilledChain, BackfillResult]:
    """:func:`fill` the node at `url` with `events` events, then :func:`backfill` them into `db_url`."""
    filled = fill(url, events=events, say=say)
    return filled, backfill(url, filled.targets, db_url, say=say)
