"""The relayer: reads the messages each source chain sent and delivers them, attested, on their destination.

Every round (:meth:`Relayer.poll`) does two things, in this order, each safe to interrupt anywhere:

1. **read**: for each chain, the ``MessageSent`` events from its cursor (the first block not yet read) to
   the head are stored as pending together with the new cursor, in one transaction of the operations store
   (:meth:`~link_ops.store.RelayerStore.record_scan`). Killed before that commits, the next run reads the same
   blocks again; after it, the messages are on record.
2. **deliver**: each pending message is first looked up on its destination (``executed``); one already
   executed, by us before a crash or by anyone, is only marked delivered. Otherwise the signers attest it
   and it is delivered. Killed after the delivery but before marking it, the next run finds it executed.

So each message is executed exactly once on chain, whatever point the relayer is killed at: delivering may
be tried again, and the messenger refuses a second execution (``AlreadyExecuted``). A delivery that
reverts (a limit not yet refilled, a paused bridge) stays pending with its error and is retried next round.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ape import chain
from ape.exceptions import ApeException

from link_ops.bridge.client import message_from_event
from link_ops.bridge.connections import Connections
from link_ops.bridge.deploy import BridgeSide
from link_ops.contracts.errors import describe_revert
from link_ops.model.attest import attest
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
    ) -> None:
        self.sides = {side.chain.chain_id: side for side in sides}
        self.connections = connections
        self.signer_keys = list(signer_keys)
        self.store = store
        self.sender = sender
        self._hook = kill_hook or (lambda _point: None)

    # -- one round ------------------------------------------------------------------------------------------

    def poll(self, say: Progress | None = None) -> RoundReport:
        report = RoundReport()
        for side in self.sides.values():
            self._scan(side, report)
        self._hook("scanned")
        self._deliver_pending(report, say or (lambda _line: None))
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
            destination = self.sides.get(pending.dst_chain_id)
            if destination is None:
                self.store.relayer.record_delivery_attempt(
                    pending.message_id, f"no bridge known on chain {pending.dst_chain_id}"
                )
                report.failed[pending.message_id] = "unknown destination"
                continue
            message = pending.message
            with self.connections.on(destination.chain.key):
                if destination.messenger.executed(message.message_id):
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
            self._hook("delivered")
            self.store.relayer.mark_delivered(pending.message_id, str(receipt.txn_hash))
            report.delivered.append(pending.message_id)
            say(f"{pending.message_id[:10]}… delivered to chain {pending.dst_chain_id}")
