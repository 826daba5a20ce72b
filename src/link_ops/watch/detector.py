"""A detection round: after the index wrote blocks of a chain, run the intrusion rules on what it wrote.

::

    detector = IntrusionDetector(store.index, {137: rpc_polygon, 1: rpc_ethereum})
    report = indexer.round()
    for rollback in report.rollbacks:
        gone = detector.rolled_back(chain_id, rollback.to_block)  # keys of alerts about forgotten blocks
    alerts = detector.after_round(chain_id, first_block, last_block)

Most rules look at one chain's round alone. Two look across chains and may have to wait: a message
delivered here was sent on its source chain *before* (so the source chain's index must have reached the
delivery's block time before its absence means anything), and a cube released at home was burnt abroad
before. Such checks are kept as pending and tried again after every later round, of any chain, until the
other chains' indexes have caught up; nothing is said before then, and a check whose block a
reorganisation took away is dropped (whether or not :meth:`IntrusionDetector.rolled_back` was called).

The detector remembers the key and block of every alert it raised (to tell which are about blocks a
reorganisation took away) and the pending checks; both live in memory: after a restart the watch reads
again from where its alert store says, and the stable keys keep alerts from doubling.
"""

from __future__ import annotations

from collections.abc import Mapping

from link_ops.exceptions import ConfigurationError
from link_ops.index.rpc import JsonRpc
from link_ops.store.index import IndexStore
from link_ops.watch.alerts import Alert
from link_ops.watch.rules import (
    RULES,
    KnownAddresses,
    Pending,
    Round,
    RuleSettings,
    check_cube,
    check_delivery,
    cube_moves,
    deliveries,
)


class IntrusionDetector:
    """Runs the intrusion rules on each round of the index.

    Args:
        index: the event index (``OpsStore().index``).
        rpcs: each chain's JSON-RPC by chain id, for the reads at a block (cap, supply, limits) and the
            minter's call trace; a chain without one is judged on its events alone.
        settings: the thresholds (:class:`RuleSettings`).
        known: the protocol's addresses; by default read from the index's cursors (and
            ``settings.trusted``) at each round, so that contracts indexed later are known too.
    """

    def __init__(
        self,
        index: IndexStore,
        rpcs: Mapping[int, JsonRpc] | None = None,
        *,
        settings: RuleSettings | None = None,
        known: KnownAddresses | None = None,
    ) -> None:
        self.index = index
        self.rpcs = dict(rpcs or {})
        self.settings = settings or RuleSettings()
        self._known = known
        self._pending: list[Pending] = []
        #: Alert key -> (chain id, block number) of every alert raised.
        self._raised: dict[str, tuple[int, int]] = {}

    def known(self) -> KnownAddresses:
        return self._known or KnownAddresses.from_index(self.index, self.settings.trusted)

    @property
    def pending(self) -> tuple[Pending, ...]:
        """The cross-chain checks still waiting for another chain's index."""
        return tuple(self._pending)

    def after_round(self, chain_id: int, first_block: int, last_block: int) -> list[Alert]:
        """The alerts about blocks `first_block` .. `last_block` of `chain_id` (which the index has written),
        and those of pending cross-chain checks that can now be decided, in chain order.

        A chain that cannot be reached for a read (:class:`~link_ops.index.rpc.IndexRpcError`) fails the
        call before anything is remembered: call it again for the same blocks (the keys are the same)."""
        if first_block > last_block:
            return self._settle(self.known())
        cursor = self.index.cursor(chain_id)
        if cursor is None or cursor.last_block < last_block:
            indexed = "nothing" if cursor is None else f"up to block {cursor.last_block}"
            raise ConfigurationError(
                f"the index of chain {chain_id} holds {indexed}: run the rules after the round that wrote "
                f"blocks {first_block} .. {last_block}"
            )
        known = self.known()
        claims = self.index.claims(chain_id, blocks=(first_block, last_block))
        current = Round(
            chain_id=chain_id,
            first_block=first_block,
            last_block=last_block,
            events=self.index.events_between(chain_id, first_block, last_block),
            claim_txs=frozenset(c.tx_hash for c in claims),
            index=self.index,
            known=known,
            settings=self.settings,
            rpc=self.rpcs.get(chain_id),
        )
        alerts: list[Alert] = []
        for rule in RULES:
            alerts += rule(current)
        found, waiting = deliveries(current)
        alerts += found
        # Blocks read again (after a reorganisation) bring their checks again: one per event is kept.
        seen = {_identity(p) for p in self._pending}
        self._pending += [p for p in waiting + cube_moves(current) if _identity(p) not in seen]
        alerts += self._settle(known)
        for alert in alerts:
            if alert.chain_id is not None and alert.block_number is not None:
                self._raised[alert.key] = (alert.chain_id, alert.block_number)
        return sorted(alerts, key=lambda a: (a.chain_id or 0, a.block_number or 0, a.key))

    def _settle(self, known: KnownAddresses) -> list[Alert]:
        """Decides the pending checks whose other chains' indexes have caught up."""
        reached: dict[int, int | None] = {}
        still: list[Pending] = []
        out: list[Alert] = []
        for item in self._pending:
            ready = True
            for other, needed in item.needs.items():
                if other not in reached:
                    reached[other] = self.index.indexed_time(other)
                time = reached[other]
                if time is None or time < needed:
                    ready = False
            if not ready:
                still.append(item)
                continue
            if not self._still_indexed(item):
                continue  # its block was reorganised away (and the loop may not have said so)
            check = check_delivery if item.kind == "delivery" else check_cube
            alert = check(self.index, known, item)
            if alert is not None:
                out.append(alert)
        self._pending = still
        return out

    def _still_indexed(self, item: Pending) -> bool:
        e = item.event
        return any(
            x.log_index == e.log_index and x.block_hash == e.block_hash
            for x in self.index.events_between(item.chain_id, e.block_number, e.block_number)
        )

    def rolled_back(self, chain_id: int, to_block: int | None) -> list[str]:
        """A reorganisation made the index forget the blocks of `chain_id` above `to_block` (all of them when
        None): returns the keys of the alerts raised about those blocks (for the alert store to withdraw)
        and forgets them, and drops the pending checks of those blocks."""
        floor = -1 if to_block is None else to_block
        gone = sorted(k for k, (c, b) in self._raised.items() if c == chain_id and b > floor)
        for key in gone:
            del self._raised[key]
        self._pending = [
            p for p in self._pending if not (p.chain_id == chain_id and p.event.block_number > floor)
        ]
        return gone


def _identity(item: Pending) -> tuple[str, int, str, int, str]:
    e = item.event
    return (item.kind, item.chain_id, e.tx_hash, e.log_index, e.block_hash)


def keys_above(alerts: list[Alert], chain_id: int, fork_block: int | None) -> list[str]:
    """The keys of `alerts` about blocks of `chain_id` above `fork_block` (all when None): those a
    reorganisation back to `fork_block` took away."""
    floor = -1 if fork_block is None else fork_block
    return sorted(
        a.key
        for a in alerts
        if a.chain_id == chain_id and a.block_number is not None and a.block_number > floor
    )
