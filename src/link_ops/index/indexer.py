"""The reorg-safe event index of one chain (:class:`ChainIndexer`) and of several (:class:`Indexer`).

A round (:meth:`ChainIndexer.round`):

1. **checks** the last indexed block: its hash must still be the chain's at that height. If not, the chain
   reorganised: the index walks down the hashes it kept (the blocks not yet final, see below) to the
   highest one the chain still has, and deletes everything above it in one transaction (a *rollback*);
   the blocks are read again in step 2. A reorganisation deeper than the kept hashes stops the index
   (:class:`ReorgTooDeepError`): it says so instead of keeping events of a chain that no longer exists.
2. **reads** batches from the next block up to the head: one ``eth_getLogs`` for every indexed contract
   and event (its block range adapting to what the node accepts, :mod:`link_ops.index.ranges`), plus one
   for partner contracts created inside the batch (their addresses come from ``PartnerCreated``, so their
   first welcome claims can be in the very range that created them). Blocks within the chain's
   confirmation depth of the head are not final: their headers are read too, checked to chain onto each
   other and onto the last indexed block, and the logs checked to come from them; a mismatch means the
   chain moved while it was read, and the round starts again from step 1. LBC mints at home are looked up
   as transactions: a mint in a transaction to the cube contract's ``batchClaimRewards`` is a reward claim
   (the claim emits no event of its own), with its cube ids from the calldata.
3. **writes** each batch in one transaction: its events and claims, the hashes of its blocks that are not
   final and of its last block, and the cursor (the last indexed block); hashes of blocks that became final
   are dropped. A batch begins exactly after the cursor (checked), and rewriting a range replaces what is
   there, so a process killed at any point resumes where the last committed batch ended, with nothing
   lost or doubled.

The chain is reached through any :class:`~link_ops.index.rpc.JsonRpc` (the RPC pool, or
:class:`~link_ops.index.rpc.HttpJsonRpc`); no ape.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils.crypto import keccak

from link_ops.exceptions import ConfigurationError, LinkOpsError
from link_ops.index.catalog import Catalog, checksum
from link_ops.index.metrics import IndexMetrics
from link_ops.index.ranges import AdaptiveRange, classify_logs_error
from link_ops.index.rpc import IndexRpcError, JsonRpc
from link_ops.index.settings import IndexSettings
from link_ops.index.targets import IndexTargets
from link_ops.model.chains import ChainInfo, chain_by_id
from link_ops.store.index import IndexStore
from link_ops.store.index_tables import BlockRef, IndexCursor, IndexedClaim, IndexedEvent

KillHook = Callable[[str], None]

#: The points :class:`ChainIndexer` calls its `kill_hook` at: after reading a batch, inside its database
#: transaction before the commit, after the commit, and before a rollback's transaction.
KILL_POINTS = ("fetched", "writing", "written", "rolling_back")

#: How often a round starts again because the chain moved while it was read, before giving up.
MAX_RESTARTS = 20

_TRANSFER_TOPIC = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
_ZERO_TOPIC = "0x" + "0" * 64
_CLAIM_SELECTOR = "0x" + keccak(text="batchClaimRewards(uint256[])")[:4].hex()
_ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
_BEYOND_HEAD_WORDS = (
    "beyond",
    "block height is",
    "out of range",
    "after last accepted block",
    "unknown block",
)


class ReorgTooDeepError(LinkOpsError):
    """The chain reorganised below every block whose hash the index kept: it cannot tell where the chains
    part. Raise the chain's confirmation depth and index it again from scratch."""


class IndexMismatchError(ConfigurationError):
    """The node serves another chain than the index's, or the index was built for other contracts or from
    another block."""


class _ChainMoved(Exception):
    """The chain changed while a batch was read (internal: the round starts again)."""


@dataclass(frozen=True)
class Header:
    number: int
    hash: str
    parent_hash: str
    timestamp: int

    def ref(self) -> BlockRef:
        return BlockRef(self.number, self.hash, self.parent_hash, self.timestamp)


@dataclass(frozen=True)
class BatchReport:
    """One batch written: blocks `first_block` .. `last_block` of `chain` with `events` events."""

    chain: str
    first_block: int
    last_block: int
    events: int
    claims: int
    head: int
    start_block: int


@dataclass(frozen=True)
class Rollback:
    """A reorganisation followed: blocks above `to_block` (from `from_block` down) were forgotten."""

    chain: str
    from_block: int
    to_block: int | None
    events_deleted: int

    @property
    def depth(self) -> int:
        return self.from_block - (self.to_block if self.to_block is not None else -1)


@dataclass
class RoundReport:
    """What one :meth:`ChainIndexer.round` did."""

    chain: str
    head: int = 0
    #: The last indexed block after the round (None: nothing indexed yet).
    indexed: int | None = None
    batches: int = 0
    events: int = 0
    rollbacks: list[Rollback] = field(default_factory=list)
    #: More blocks wait up to the head than the round's `max_batches` covered.
    behind: bool = False


@dataclass
class Timings:
    """Seconds spent per phase since the indexer was made: RPC, decoding, database writes."""

    fetch: float = 0.0
    decode: float = 0.0
    write: float = 0.0
    rpc_calls: int = 0


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


class ChainIndexer:
    """Indexes `targets` (the contracts of one chain) from `rpc` into `store`.

    Args:
        rpc: the chain's JSON-RPC (``request(method, params)``).
        targets: the contracts to read and the block to start at.
        store: the index in the operations store (``OpsStore().index``).
        settings: confirmation depths and range bounds (default :class:`IndexSettings`).
        metrics: where to count (default: a private :class:`IndexMetrics`).
        from_block: start here instead of `targets.start_block` (only for an index not yet begun).
        kill_hook: for tests: called with the name of each point in :data:`KILL_POINTS`; raising there (or
            killing the process) simulates a crash.
        sleep: how to wait between retries (tests pass a no-op).
    """

    def __init__(
        self,
        rpc: JsonRpc,
        targets: IndexTargets,
        store: IndexStore,
        *,
        settings: IndexSettings | None = None,
        metrics: IndexMetrics | None = None,
        from_block: int | None = None,
        kill_hook: KillHook | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rpc = rpc
        self.targets = targets
        self.store = store
        self.settings = settings or IndexSettings()
        self.metrics = metrics or IndexMetrics()
        self.chain: ChainInfo = chain_by_id(targets.chain_id)
        self.depth = self.settings.confirmations_for(self.chain)
        if from_block is not None and from_block < 0:
            raise ConfigurationError(f"from_block must be 0 or more, got {from_block}")
        self.start_block = targets.start_block if from_block is None else from_block
        self._from_block_given = from_block is not None
        self.range = AdaptiveRange(
            initial=self.settings.first_range,
            minimum=self.settings.min_range,
            maximum=self.settings.max_range,
            target_logs=self.settings.target_logs,
        )
        self.timings = Timings()
        self._catalog = Catalog()
        self._hook = kill_hook or (lambda _point: None)
        self._sleep = sleep
        self._names = targets.by_address()
        self._static_addresses = sorted(self._names)
        self._topics = self._catalog.topics(set(targets.contracts))
        self._partner_topics = self._catalog.topics(["PartnerBenefits"])
        self._partners: list[str] | None = None
        self._factories = set(targets.addresses("PartnerFactory"))
        self._claims_from = set(targets.addresses("OptimizedCubeManagement"))
        self._lbc = set(targets.addresses("LBCToken")) if self._claims_from else set()
        self._label = self.chain.key
        self.metrics.add_chain(self._label)

    def __repr__(self) -> str:
        return f"ChainIndexer({self.chain.key}, {len(self._names)} contracts, depth {self.depth})"

    # -- RPC ----------------------------------------------------------------------------------------------

    def _call(self, method: str, params: list[Any]) -> Any:
        began = time.perf_counter()
        try:
            return self.rpc.request(method, params)
        finally:
            spent = time.perf_counter() - began
            self.timings.fetch += spent
            self.timings.rpc_calls += 1
            self.metrics.phase_seconds.labels(chain=self._label, phase="fetch").inc(spent)

    def _retrying(self, method: str, params: list[Any]) -> Any:
        """`method` tried up to ``settings.attempts`` times while the node fails to answer."""
        for attempt in range(1, self.settings.attempts + 1):
            try:
                return self._call(method, params)
            except IndexRpcError:
                if attempt == self.settings.attempts:
                    raise
                self._sleep(self.settings.retry_delay)
        raise AssertionError("unreachable")

    def head(self) -> int:
        """The chain's latest block number."""
        return _int(self._retrying("eth_blockNumber", []))

    def _header(self, number: int) -> Header | None:
        block = self._retrying("eth_getBlockByNumber", [hex(number), False])
        if block is None:
            return None
        return Header(
            _int(block["number"]),
            str(block["hash"]).lower(),
            str(block["parentHash"]).lower(),
            _int(block["timestamp"]),
        )

    def _logs(
        self, addresses: Sequence[str], topics: Sequence[str], first: int, target: int
    ) -> tuple[int, list[Any]]:
        """Logs of `addresses` with `topics` from `first` to at most `target`, in one answer: the range
        adapts to the node. Returns the last block covered and the logs."""
        attempts = 0
        while True:
            last = min(target, first + self.range.blocks - 1)
            query = {
                "fromBlock": hex(first),
                "toBlock": hex(last),
                "address": list(addresses),
                "topics": [list(topics)],
            }
            try:
                logs = self._call("eth_getLogs", [query])
            except (LinkOpsError, TimeoutError) as exc:
                refusal = classify_logs_error(exc)
                if refusal is None:
                    if any(w in str(exc).lower() for w in _BEYOND_HEAD_WORDS):
                        raise _ChainMoved() from exc
                    attempts += 1
                    if not isinstance(exc, IndexRpcError) or attempts >= self.settings.attempts:
                        raise
                    self._sleep(self.settings.retry_delay)
                    continue
                self.metrics.refusals.labels(chain=self._label).inc()
                if not self.range.refused(last - first + 1, refusal, first):
                    attempts += 1
                    if attempts >= self.settings.attempts:
                        raise IndexRpcError(
                            f"{self.chain.name} refuses eth_getLogs even for {last - first + 1} block(s) "
                            f"from block {first} ({exc}): use another node, or lower --max-range"
                        ) from exc
                    self._sleep(self.settings.retry_delay)
                self.metrics.range_blocks.labels(chain=self._label).set(self.range.blocks)
                continue
            if not isinstance(logs, list):
                raise IndexRpcError(
                    f"eth_getLogs on {self.chain.name} answered {type(logs).__name__}, not a list"
                )
            self.range.answered(last - first + 1, len(logs))
            self.metrics.range_blocks.labels(chain=self._label).set(self.range.blocks)
            return last, logs

    def _logs_exactly(
        self, addresses: Sequence[str], topics: Sequence[str], first: int, last: int
    ) -> list[Any]:
        """Logs of `addresses` with `topics` in exactly `first` .. `last`, in as many answers as it takes."""
        out: list[Any] = []
        while first <= last:
            covered, logs = self._logs(addresses, topics, first, last)
            out += logs
            first = covered + 1
        return out

    # -- checks -------------------------------------------------------------------------------------------

    def check(self) -> IndexCursor | None:
        """Refuses a node of another chain, and an index begun for other contracts or from another block;
        returns the chain's cursor (None: nothing indexed yet)."""
        served = _int(self._retrying("eth_chainId", []))
        if served != self.chain.chain_id:
            raise IndexMismatchError(
                f"the node given for {self.chain.name} serves chain {served}, not {self.chain.chain_id}: "
                f"check {self.chain.rpc_env or 'its RPC URL'}"
            )
        cursor = self.store.cursor(self.chain.chain_id)
        if cursor is None:
            return None
        if cursor.contracts != dict(self.targets.contracts):
            added = _added(cursor.contracts, self.targets.contracts)
            if added is not None:
                raise IndexMismatchError(
                    f"the index of {self.chain.name} was built without {added}, which it reads now (the "
                    "governance timelock and Safe are indexed since the watchtower needs them): start it "
                    f"again with `ape run index --chains {self.chain.key} --reset`, so that their history is "
                    "read from the start too"
                )
            raise IndexMismatchError(
                f"the index of {self.chain.name} was built for other contracts ({_names(cursor.contracts)}) "
                f"than the ones recorded now ({_names(self.targets.contracts)}): start it again for these "
                f"with `ape run index --chains {self.chain.key} --reset`"
            )
        if self._from_block_given and cursor.start_block != self.start_block:
            raise IndexMismatchError(
                f"the index of {self.chain.name} began at block {cursor.start_block} and holds blocks up "
                f"to {cursor.last_block}; to begin at block {self.start_block} instead, start it again with "
                "--reset"
            )
        return cursor

    # -- a round ------------------------------------------------------------------------------------------

    def round(
        self,
        *,
        until: int | None = None,
        max_batches: int | None = None,
        on_batch: Callable[[BatchReport], None] | None = None,
    ) -> RoundReport:
        """Checks the last indexed block (rolling back a reorganisation), then indexes up to the head (or
        block `until`), at most `max_batches` batches."""
        report = RoundReport(self._label)
        for _restart in range(MAX_RESTARTS):
            try:
                self._round(report, until, max_batches, on_batch)
                return report
            except _ChainMoved:
                continue
        raise IndexRpcError(
            f"{self.chain.name} changed under the index {MAX_RESTARTS} times in one round (a node switching "
            "between forks?): try again later, or use another node"
        )

    def _round(
        self,
        report: RoundReport,
        until: int | None,
        max_batches: int | None,
        on_batch: Callable[[BatchReport], None] | None,
    ) -> None:
        head = self.head()
        report.head = head
        cursor = self.store.cursor(self.chain.chain_id)
        cursor = self._follow_reorg(cursor, head, report)
        target = head if until is None else min(head, until)
        report.behind = False
        while True:
            first = self.start_block if cursor is None else cursor.last_block + 1
            report.indexed = None if cursor is None else cursor.last_block
            self.metrics.heights(self._label, indexed=first - 1, head=head)
            if first > target:
                return
            if max_batches is not None and report.batches >= max_batches:
                report.behind = True
                return
            batch = self._read(first, target, head, cursor)
            self._hook("fetched")
            self._write(batch)
            self._hook("written")
            report.batches += 1
            report.events += len(batch.events)
            self.metrics.batch_done(self._label, len(batch.events))
            for name, count in batch.counts().items():
                self.metrics.events.labels(chain=self._label, event=name).inc(count)
            if on_batch is not None:
                on_batch(
                    BatchReport(
                        self._label,
                        first,
                        batch.last.number,
                        len(batch.events),
                        len(batch.claims),
                        head,
                        self.start_block,
                    )
                )
            cursor = self.store.cursor(self.chain.chain_id)

    # -- reorganisations ------------------------------------------------------------------------------------

    def _follow_reorg(self, cursor: IndexCursor | None, head: int, report: RoundReport) -> IndexCursor | None:
        if cursor is None:
            return None
        current = self._header(cursor.last_block) if cursor.last_block <= head else None
        if current is not None and current.hash == cursor.last_hash:
            return cursor
        stored = self.store.stored_blocks(self.chain.chain_id)
        fork: BlockRef | None = None
        for block in stored:
            if block.number >= cursor.last_block or block.number > head:
                continue
            on_chain = self._header(block.number)
            if on_chain is not None and on_chain.hash == block.hash:
                fork = block
                break
        if fork is None:
            numbers = {b.number for b in stored}
            everything_kept = numbers == set(range(cursor.start_block, cursor.last_block + 1))
            if not everything_kept:
                lowest = min(numbers, default=cursor.last_block)
                raise ReorgTooDeepError(
                    f"{self.chain.name} reorganised below block {lowest}, the oldest the index checks (its "
                    f"confirmation depth is {self.depth} blocks): block {cursor.last_block} is no longer the "
                    f"one indexed. Index it again from scratch with a larger depth: `ape run index --chains "
                    f"{self.chain.key} --reset --confirmations {self.chain.key}=<blocks>`"
                )
        self._hook("rolling_back")
        deleted = self.store.roll_back(self.chain.chain_id, expected_last=cursor.last_block, to=fork)
        self._partners = None
        rollback = Rollback(self._label, cursor.last_block, None if fork is None else fork.number, deleted)
        report.rollbacks.append(rollback)
        self.metrics.reorgs.labels(chain=self._label).inc()
        self.metrics.rollback_depth.labels(chain=self._label).observe(rollback.depth)
        return self.store.cursor(self.chain.chain_id)

    # -- reading a batch ----------------------------------------------------------------------------------

    def _known_partners(self) -> list[str]:
        if self._partners is None:
            self._partners = [checksum(a) for a in self.store.partner_contracts(self.chain.chain_id)]
        return self._partners

    def _read(self, first: int, target: int, head: int, cursor: IndexCursor | None) -> _Batch:
        partners = self._known_partners()
        addresses = self._static_addresses + partners
        topics = self._topics + (self._partner_topics if partners else [])
        last, logs = self._logs(addresses, topics, first, target)
        names = dict(self._names)
        names.update(dict.fromkeys(partners, "PartnerBenefits"))

        # Partner contracts created in this batch: their logs from their creation on, in the same batch.
        created: dict[str, int] = {}
        for log in logs:
            if checksum(log["address"]) in self._factories and log["topics"] and len(log["topics"]) > 2:
                clone = checksum("0x" + log["topics"][2][-40:])
                if clone not in names and clone not in created:
                    created[clone] = _int(log["blockNumber"])
        if created:
            logs += self._logs_exactly(sorted(created), self._partner_topics, min(created.values()), last)
            names.update(dict.fromkeys(created, "PartnerBenefits"))
            logs.sort(key=lambda entry: (_int(entry["blockNumber"]), _int(entry["logIndex"])))

        # Blocks not yet final: headers read, chained to their neighbours, and the logs checked against them.
        # The hashes kept are those of every block from the depth below the head to the batch's end: window
        # blocks below the batch that are not kept (after a rollback to a shorter chain) are read again.
        final = head - self.depth
        window = max(self.start_block, final + 1)
        kept: dict[int, BlockRef] = {}
        if window < first:
            kept = {b.number: b for b in self.store.stored_blocks(self.chain.chain_id) if b.number >= window}
        headers: dict[int, Header] = {}
        for number in range(window, first):
            if number not in kept:
                headers[number] = self._need_header(number)
        for number in range(max(first, final + 1), last + 1):
            headers[number] = self._need_header(number)
        if last not in headers:
            headers[last] = self._need_header(last)
        links: dict[int, tuple[str, str | None]] = {n: (b.hash, b.parent_hash) for n, b in kept.items()}
        if cursor is not None:
            links[cursor.last_block] = (cursor.last_hash, links.get(cursor.last_block, ("", None))[1])
        links.update({n: (h.hash, h.parent_hash) for n, h in headers.items()})
        unfinal = [n for n in sorted(headers) if n > final]
        for number in unfinal:
            below, above = links.get(number - 1), links.get(number + 1)
            if below is not None and headers[number].parent_hash != below[0]:
                raise _ChainMoved()
            if above is not None and above[1] is not None and above[1] != headers[number].hash:
                raise _ChainMoved()
        times: dict[int, int] = {n: h.timestamp for n, h in headers.items()}
        for log in logs:
            number = _int(log["blockNumber"])
            header = headers.get(number)
            if header is not None and number > final and str(log["blockHash"]).lower() != header.hash:
                raise _ChainMoved()
            if number not in times:
                stamp = log.get("blockTimestamp")
                times[number] = _int(stamp) if stamp is not None else self._need_header(number).timestamp

        claimed = self._claim_transactions(logs, names)

        began = time.perf_counter()
        events: list[IndexedEvent] = []
        claims: list[IndexedClaim] = []
        chain_id = self.chain.chain_id
        for log in logs:
            if log.get("removed"):
                continue
            contract = names.get(checksum(log["address"]))
            if contract is None:
                continue
            try:
                event = self._catalog.decode(chain_id, contract, log, times[_int(log["blockNumber"])])
            except (ValueError, DecodingError) as exc:
                raise IndexMismatchError(
                    f"a log of {log['address']} (block {_int(log['blockNumber'])}, log "
                    f"{_int(log['logIndex'])}) does not decode as an event of {contract} ({exc}): is that "
                    f"address really the {contract} of {self.chain.name}? Check "
                    f"deployments/{self.chain.chain_id}.json"
                ) from exc
            if event is None:
                continue
            events.append(event)
            cube_ids = claimed.get(event.tx_hash)
            if cube_ids is not None and event.contract == "LBCToken" and event.from_address == _ZERO_ADDRESS:
                claims.append(
                    IndexedClaim(
                        chain_id,
                        event.block_number,
                        event.log_index,
                        event.block_hash,
                        event.tx_hash,
                        str(event.to_address),
                        int(str(event.amount)),
                        cube_ids,
                        event.block_time,
                    )
                )
        spent = time.perf_counter() - began
        self.timings.decode += spent
        self.metrics.phase_seconds.labels(chain=self._label, phase="decode").inc(spent)
        return _Batch(
            first=first,
            last=headers[last].ref(),
            events=events,
            claims=claims,
            blocks=[headers[n].ref() for n in unfinal],
            keep_from=final + 1,
            created=sorted(created),
        )

    def _need_header(self, number: int) -> Header:
        header = self._header(number)
        if header is None:  # the head went back since it was read
            raise _ChainMoved()
        return header

    def _claim_transactions(self, logs: Sequence[Any], names: dict[str, str]) -> dict[str, tuple[int, ...]]:
        """The reward claims among the LBC mints of `logs`: transaction hash -> cube ids."""
        if not self._lbc:
            return {}
        mints: dict[str, str] = {}
        for log in logs:
            topics = log["topics"]
            if (
                len(topics) == 3
                and topics[0].lower() == _TRANSFER_TOPIC
                and topics[1] == _ZERO_TOPIC
                and checksum(log["address"]) in self._lbc
            ):
                mints[str(log["transactionHash"]).lower()] = str(log["blockHash"]).lower()
        claims: dict[str, tuple[int, ...]] = {}
        for tx_hash, block_hash in mints.items():
            tx = self._retrying("eth_getTransactionByHash", [tx_hash])
            if tx is None or str(tx.get("blockHash") or "").lower() != block_hash:
                raise _ChainMoved()
            to = tx.get("to")
            data = str(tx.get("input") or tx.get("data") or "")
            if to is None or checksum(to) not in self._claims_from or not data.startswith(_CLAIM_SELECTOR):
                continue
            (cube_ids,) = abi_decode(["uint256[]"], bytes.fromhex(data[10:]))
            claims[tx_hash] = tuple(int(c) for c in cube_ids)
        return claims

    # -- writing a batch ----------------------------------------------------------------------------------

    def _write(self, batch: _Batch) -> None:
        began = time.perf_counter()
        self.store.write_batch(
            self.chain.chain_id,
            first_block=batch.first,
            last=batch.last,
            events=batch.events,
            claims=batch.claims,
            blocks=batch.blocks,
            keep_blocks_from=batch.keep_from,
            start_block=self.start_block,
            contracts=self.targets.contracts,
            before_commit=lambda: self._hook("writing"),
        )
        spent = time.perf_counter() - began
        self.timings.write += spent
        self.metrics.phase_seconds.labels(chain=self._label, phase="write").inc(spent)
        if batch.created and self._partners is not None:
            self._partners += batch.created


@dataclass
class _Batch:
    first: int
    last: BlockRef
    events: list[IndexedEvent]
    claims: list[IndexedClaim]
    blocks: list[BlockRef]
    keep_from: int
    created: list[str]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for event in self.events:
            out[event.event] = out.get(event.event, 0) + 1
        return out


def _added(before: Any, now: Any) -> str | None:
    """The contracts `now` reads beyond `before` (``LinkTimelock 0x…``), when it keeps every one of
    `before`'s; None when `before` had others."""
    before, now = dict(before), dict(now)
    if any(not set(addresses) <= set(now.get(name, ())) for name, addresses in before.items()):
        return None
    extra = {
        name: tuple(a for a in addresses if a not in before.get(name, ())) for name, addresses in now.items()
    }
    return _names({name: addresses for name, addresses in extra.items() if addresses}) or None


def _names(contracts: Any) -> str:
    return ", ".join(f"{name} {' '.join(addresses)}" for name, addresses in sorted(dict(contracts).items()))


class Indexer:
    """Several chains' indexers, run round after round.

    Each round gives every chain up to `batches_per_round` batches, so that a long backfill of one chain
    does not starve the others; rounds follow each other at once while a chain is behind, else every
    `interval` seconds.
    """

    def __init__(self, chains: Sequence[ChainIndexer], *, batches_per_round: int = 20) -> None:
        if not chains:
            raise ConfigurationError("give at least one chain to index")
        keys = [c.chain.key for c in chains]
        if len(set(keys)) != len(keys):
            raise ConfigurationError(f"each chain is indexed once; got {', '.join(keys)}")
        self.chains = list(chains)
        self.batches_per_round = batches_per_round

    def check(self) -> None:
        """:meth:`ChainIndexer.check` of every chain (refuses a wrong node or a mismatched index)."""
        for indexer in self.chains:
            indexer.check()

    def catch_up(self, *, on_batch: Callable[[BatchReport], None] | None = None) -> list[RoundReport]:
        """Indexes every chain up to its head as it is now; returns each chain's report."""
        return [indexer.round(on_batch=on_batch) for indexer in self.chains]

    def run(
        self,
        *,
        interval: float = 2.0,
        on_batch: Callable[[BatchReport], None] | None = None,
        on_round: Callable[[list[RoundReport]], None] | None = None,
        on_error: Callable[[ChainIndexer, IndexRpcError], None] | None = None,
        stop: Callable[[], bool] = lambda: False,
    ) -> None:
        """Indexes until `stop()` says so (or KeyboardInterrupt). A node's failure in a round
        (:class:`IndexRpcError`) goes to `on_error` and that chain is tried again next round; without
        `on_error` it is raised. Reorganisations too deep to follow are always raised."""
        while not stop():
            reports = []
            for indexer in self.chains:
                try:
                    reports.append(indexer.round(max_batches=self.batches_per_round, on_batch=on_batch))
                except IndexRpcError as exc:
                    if on_error is None:
                        raise
                    on_error(indexer, exc)
            if on_round is not None:
                on_round(reports)
            if not any(r.behind for r in reports) and not stop():
                time.sleep(interval)
