"""The relayer: reads the messages each source chain sent and delivers them, attested, on their destination.

Every round (:meth:`Relayer.poll`) does two things, in this order, each safe to interrupt anywhere:

1. **read**: for each chain, the ``MessageSent`` events from its cursor (the first block not yet read) to
   the head are stored as pending together with the new cursor, in one transaction of the operations store
   (:meth:`~link_ops.store.RelayerStore.record_scan`). Killed before that commits, the next run reads the same
   blocks again; after it, the messages are on record.
2. **deliver**: each pending message is first looked up on its destination: one the destination messenger
   executed, or whose receiving bridge has nothing left to do with it (``processed``: a transfer received
   already, through this messenger or one swapped out since; a refund paid), is only marked delivered.
   Otherwise the signers attest it for the destination's current messenger and it is delivered. Killed
   after the delivery but before marking it, the next run finds it executed.

So each message is executed exactly once on chain, whatever point the relayer is killed at: delivering may
be tried again, and both the messenger (``AlreadyExecuted``) and the bridge (``AlreadyReceived``) refuse a
second execution. A transfer that arrives but cannot execute (its route's receive limit used up, say) is
*held* by the bridge, which the round reports (:mod:`link_ops.bridge.held`: retry or refund it). A
delivery that reverts (a paused bridge) stays pending with its error and is retried next round.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ape import chain
from ape.exceptions import ApeException
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from link_ops.bridge.client import message_from_event
from link_ops.bridge.connections import Connections
from link_ops.bridge.deploy import BridgeSide
from link_ops.contracts.errors import describe_revert
from link_ops.model.attest import Message, attest
from link_ops.store import OpsStore, RelayedMessage

Progress = Callable[[str], None]


@dataclass
class RoundReport:
    """What one :meth:`Relayer.poll` did."""

    seen: list[RelayedMessage] = field(default_factory=list)
    delivered: list[str] = field(default_factory=list)
    found_executed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    heads: dict[str, int] = field(default_factory=dict)
    #: Delivered messages whose transfer the destination bridge held: message id -> transfer id.
    held: dict[str, str] = field(default_factory=dict)
    #: The destination chain id of every message this round tried to deliver: message id -> chain id.
    destinations: dict[str, int] = field(default_factory=dict)


class RelayerMetrics:
    """The relayer's Prometheus metrics on `registry` (labels: chain keys only).

    - ``link_ops_relayer_messages_seen_total{chain}``: messages read on a source chain;
    - ``link_ops_relayer_deliveries_total{chain, outcome}``: per destination chain, ``delivered`` (by this
      relayer), ``found_executed`` (by someone else, or processed already), ``failed`` (reverted; retried
      next round), ``held`` (delivered, and the bridge held the transfer);
    - ``link_ops_relayer_pending_messages{chain}``: messages waiting for delivery to a chain;
    - ``link_ops_relayer_head_block{chain}``, ``link_ops_relayer_next_block{chain}``: the source chain's head
      at the last round and the first block not yet read;
    - ``link_ops_relayer_round_duration_seconds``: one round, reading and delivering;
    - ``link_ops_relayer_last_round_timestamp_seconds``: when the last round ended (alert when it is old).
    """

    OUTCOMES = ("delivered", "found_executed", "failed", "held")

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        prefix = "link_ops_relayer"
        self.seen = Counter(
            f"{prefix}_messages_seen", "Messages read at their source", ["chain"], registry=self.registry
        )
        self.deliveries = Counter(
            f"{prefix}_deliveries",
            "Delivery outcomes per destination chain",
            ["chain", "outcome"],
            registry=self.registry,
        )
        self.pending = Gauge(
            f"{prefix}_pending_messages", "Messages waiting for delivery", ["chain"], registry=self.registry
        )
        self.head = Gauge(
            f"{prefix}_head_block", "Source chain head at the last round", ["chain"], registry=self.registry
        )
        self.next_block = Gauge(
            f"{prefix}_next_block", "First source block not yet read", ["chain"], registry=self.registry
        )
        self.round_duration = Histogram(
            f"{prefix}_round_duration_seconds", "Duration of one relayer round", registry=self.registry
        )
        self.last_round = Gauge(
            f"{prefix}_last_round_timestamp_seconds",
            "Unix time the last round ended",
            registry=self.registry,
        )

    def observe(self, relayer: Relayer, report: RoundReport, duration_s: float) -> None:
        """Records one round of `relayer` that took `duration_s` seconds."""
        key_of = {chain_id: side.chain.key for chain_id, side in relayer.sides.items()}
        for message in report.seen:
            self.seen.labels(key_of.get(message.src_chain_id, "other")).inc()
        for key in key_of.values():
            for outcome in self.OUTCOMES:  # every series exists from the first round: rate() sees its start
                self.deliveries.labels(key, outcome)
        outcomes = (
            ("delivered", report.delivered),
            ("found_executed", report.found_executed),
            ("failed", report.failed),
            ("held", report.held),
        )
        for outcome, message_ids in outcomes:
            for message_id in message_ids:
                chain_key = key_of.get(report.destinations.get(message_id, 0), "other")
                self.deliveries.labels(chain_key, outcome).inc()
        pending = relayer.store.relayer.pending_messages()
        for chain_id, key in key_of.items():
            self.pending.labels(key).set(sum(m.dst_chain_id == chain_id for m in pending))
            if key in report.heads:  # each scan moved the chain's cursor to the block after its head
                self.head.labels(key).set(report.heads[key])
                self.next_block.labels(key).set(report.heads[key] + 1)
        self.round_duration.observe(duration_s)
        self.last_round.set(time.time())


class Relayer:
    """Relays between the bridge `sides` through `connections`, with the attestations of `signer_keys`.

    Args:
        sides: the bridge on each chain (home and remotes).
        connections: reaches each chain (``on(chain_key)``).
        signer_keys: private keys of the signers this relayer speaks for (at least the threshold).
        store: where cursors and messages are kept.
        sender: the account that pays for deliveries, on every chain.
        kill_hook: for tests: called with the name of each point a crash can happen at
            ("scanned", "before_deliver", "delivered"); raising there simulates a kill.
        metrics: where each round is recorded (:class:`RelayerMetrics`), if anywhere.
    """

    def __init__(
        self,
        sides: Sequence[BridgeSide],
        connections: Connections,
        signer_keys: Sequence[bytes | str],
        store: OpsStore,
        sender: Any,
        *,
        kill_hook: Callable[[str], None] | None = None,
        metrics: RelayerMetrics | None = None,
    ) -> None:
        self.sides = {side.chain.chain_id: side for side in sides}
        self.connections = connections
        self.signer_keys = list(signer_keys)
        self.store = store
        self.sender = sender
        self._hook = kill_hook or (lambda _point: None)
        self.metrics = metrics

    # -- one round ------------------------------------------------------------------------------------------

    def poll(self, say: Progress | None = None) -> RoundReport:
        started = time.monotonic()
        report = RoundReport()
        for side in self.sides.values():
            self._scan(side, report)
        self._hook("scanned")
        self._deliver_pending(report, say or (lambda _line: None))
        if self.metrics is not None:
            self.metrics.observe(self, report, time.monotonic() - started)
        return report

    def run(
        self,
        *,
        interval: float = 2.0,
        rounds: int | None = None,
        on_round: Callable[[RoundReport], None] | None = None,
    ) -> None:
        """Polls every `interval` seconds, `rounds` times (forever when None)."""
        done = 0
        while rounds is None or done < rounds:
            report = self.poll()
            if on_round is not None:
                on_round(report)
            done += 1
            if rounds is None or done < rounds:
                time.sleep(interval)

    # -- reading --------------------------------------------------------------------------------------------

    def _scan(self, side: BridgeSide, report: RoundReport) -> None:
        messenger = str(side.messenger.address)
        with self.connections.on(side.chain.key):
            head = int(chain.blocks.height)
            start = self.store.relayer.relayer_cursor(side.chain.chain_id, messenger)
            start = side.deployed_at_block if start is None else start
            logs = list(side.messenger.MessageSent.range(start, head + 1)) if start <= head else []
        seen = [message_from_event(log, side) for log in logs]
        report.seen += self.store.relayer.record_scan(side.chain.chain_id, messenger, head + 1, seen)
        report.heads[side.chain.key] = head

    # -- delivering -----------------------------------------------------------------------------------------

    def _deliver_pending(self, report: RoundReport, say: Progress) -> None:
        for pending in self.store.relayer.pending_messages():
            report.destinations[pending.message_id] = pending.dst_chain_id
            destination = self.sides.get(pending.dst_chain_id)
            if destination is None:
                self.store.relayer.record_delivery_attempt(
                    pending.message_id, f"no bridge known on chain {pending.dst_chain_id}"
                )
                report.failed[pending.message_id] = "unknown destination"
                continue
            message = pending.message
            with self.connections.on(destination.chain.key):
                if destination.messenger.executed(message.message_id) or _processed(destination, message):
                    self.store.relayer.mark_delivered(pending.message_id, None)
                    report.found_executed.append(pending.message_id)
                    continue
                signatures = attest(message, str(destination.messenger.address), self.signer_keys)
                self._hook("before_deliver")
                try:
                    receipt = destination.messenger.deliver(
                        message.as_tuple(), signatures, sender=self.sender
                    )
                except ApeException as exc:
                    error = describe_revert(exc)
                    self.store.relayer.record_delivery_attempt(pending.message_id, error)
                    report.failed[pending.message_id] = error
                    say(f"{pending.message_id[:10]}… not delivered: {error}")
                    continue
                held = _held_in(destination, receipt)
            self._hook("delivered")
            self.store.relayer.mark_delivered(pending.message_id, str(receipt.txn_hash))
            report.delivered.append(pending.message_id)
            say(f"{pending.message_id[:10]}… delivered to chain {pending.dst_chain_id}")
            if held is not None:
                report.held[pending.message_id] = held
                say(
                    f"{pending.message_id[:10]}… transfer {held[:10]}… is held on chain "
                    f"{pending.dst_chain_id}: retry or refund it (`ape run held`)"
                )


def _receiving_bridge(side: BridgeSide, receiver: str) -> Any | None:
    for bridge in (side.lbc_bridge, side.cube_bridge):
        if str(bridge.address).lower() == receiver.lower():
            return bridge
    return None


def _processed(side: BridgeSide, message: Message) -> bool:
    """Whether `message`'s receiving bridge on `side` has nothing left to do with it."""
    bridge = _receiving_bridge(side, message.receiver)
    if bridge is None:
        return False
    return bool(bridge.processed(message.src_chain_id, message.sender, message.payload))


def _held_in(side: BridgeSide, receipt: Any) -> str | None:
    """The transfer id a delivery left held on `side`, if any."""
    for bridge in (side.lbc_bridge, side.cube_bridge):
        for log in bridge.TransferHeld.from_receipt(receipt):
            if str(log.contract_address).lower() == str(bridge.address).lower():
                return "0x" + bytes(log.transferId).hex()
    return None
