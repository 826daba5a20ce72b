"""The index's Prometheus metrics, on a registry of its own (or the one given).

All labelled by ``chain`` (the chain key); events also by ``event`` (the event name): a few dozen series.
Base units: blocks, seconds, events.

- ``link_ops_index_indexed_block``, ``link_ops_index_chain_head_block``, ``link_ops_index_lag_blocks``;
- ``link_ops_index_events_total{chain,event}``, ``link_ops_index_batches_total``,
  ``link_ops_index_events_per_second`` (over the last batches, about ten seconds);
- ``link_ops_index_reorgs_total``, ``link_ops_index_rollback_depth_blocks`` (a histogram);
- ``link_ops_index_getlogs_range_blocks`` (the adaptive range now), ``link_ops_index_getlogs_refusals_total``;
- ``link_ops_index_phase_seconds_total{chain,phase}``: time spent fetching (RPC), decoding and writing.
"""

from __future__ import annotations

import time
from collections import deque

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

#: Seconds over which events per second are measured.
RATE_WINDOW = 10.0


class IndexMetrics:
    """The index's metrics on `registry` (default: a new private one, served by ``start_http_server(…,
    registry=metrics.registry)``)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        self.indexed_block = Gauge(
            "link_ops_index_indexed_block", "The last block the index holds.", ["chain"], registry=r
        )
        self.chain_head = Gauge(
            "link_ops_index_chain_head_block", "The chain's head as last seen.", ["chain"], registry=r
        )
        self.lag = Gauge(
            "link_ops_index_lag_blocks",
            "Blocks between the chain's head and the index.",
            ["chain"],
            registry=r,
        )
        self.events = Counter(
            "link_ops_index_events", "Events indexed by this process.", ["chain", "event"], registry=r
        )
        self.batches = Counter("link_ops_index_batches", "Batches written.", ["chain"], registry=r)
        self.events_per_second = Gauge(
            "link_ops_index_events_per_second",
            f"Events indexed per second over the last {RATE_WINDOW:g} seconds of batches.",
            ["chain"],
            registry=r,
        )
        self.reorgs = Counter("link_ops_index_reorgs", "Reorganisations rolled back.", ["chain"], registry=r)
        self.rollback_depth = Histogram(
            "link_ops_index_rollback_depth_blocks",
            "Blocks rolled back per reorganisation.",
            ["chain"],
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=r,
        )
        self.range_blocks = Gauge(
            "link_ops_index_getlogs_range_blocks",
            "Blocks the next eth_getLogs asks for.",
            ["chain"],
            registry=r,
        )
        self.refusals = Counter(
            "link_ops_index_getlogs_refusals",
            "eth_getLogs ranges a node refused (too many blocks or results, or too slow).",
            ["chain"],
            registry=r,
        )
        self.phase_seconds = Counter(
            "link_ops_index_phase_seconds",
            "Seconds spent per phase: fetch (RPC), decode, write (database).",
            ["chain", "phase"],
            registry=r,
        )
        self._recent: dict[str, deque[tuple[float, int]]] = {}

    def add_chain(self, chain: str) -> None:
        """Creates `chain`'s series at zero, so that a scrape shows them before anything happened."""
        for metric in (self.batches, self.reorgs, self.refusals, self.rollback_depth, self.events_per_second):
            metric.labels(chain=chain)
        for phase in ("fetch", "decode", "write"):
            self.phase_seconds.labels(chain=chain, phase=phase)

    def batch_done(self, chain: str, events: int, *, now: float | None = None) -> None:
        """Counts a batch of `events` and updates the events-per-second gauge."""
        self.batches.labels(chain=chain).inc()
        moment = time.monotonic() if now is None else now
        recent = self._recent.setdefault(chain, deque())
        recent.append((moment, events))
        while len(recent) > 1 and moment - recent[0][0] > RATE_WINDOW:
            recent.popleft()
        span = moment - recent[0][0]
        counted = sum(n for _t, n in list(recent)[1:])
        self.events_per_second.labels(chain=chain).set(counted / span if span > 0 else 0.0)

    def heights(self, chain: str, *, indexed: int, head: int) -> None:
        """Sets the last indexed block (the block before the first when nothing is indexed yet), the chain
        head and the lag between them."""
        self.chain_head.labels(chain=chain).set(head)
        self.indexed_block.labels(chain=chain).set(indexed)
        self.lag.labels(chain=chain).set(max(0, head - indexed))
