"""The RPC pool's Prometheus metrics, on a registry of the pool's own unless it is given one.

Base units (seconds, blocks), and labels of bounded size: ``chain`` (the chain's key, ``polygon``),
``upstream`` (the node's redacted ``host:port``, never its path or query, where API keys live), ``method``
(a fixed set of common methods, else ``other``), ``kind`` and ``result``.

=========================================== ======= =========================================================
metric                                      type    meaning
=========================================== ======= =========================================================
``link_ops_rpc_requests_total``             counter requests sent to an upstream (each attempt), by method
``link_ops_rpc_errors_total``               counter failed attempts by ``kind``: transport, timeout,
                                                    http_status, bad_response, rpc_upstream (the node could
                                                    not answer) and rpc_answer (a revert or other error that
                                                    was the call's answer)
``link_ops_rpc_request_duration_seconds``   histo.  time from sending to the reply, every attempt
``link_ops_rpc_in_flight_requests``         gauge   requests waiting for a reply
``link_ops_rpc_head_block``                 gauge   the head the latest successful check saw
``link_ops_rpc_head_lag_blocks``            gauge   blocks behind the reference (second-highest) head
``link_ops_rpc_upstream_state``             enum    healthy, lagging, unhealthy, unknown, wrong_chain
``link_ops_rpc_checks_total``               counter health checks by ``result`` (ok, failed)
``link_ops_rpc_failovers_total``            counter reads moved on to another upstream after a failure
``link_ops_rpc_upstream_weight``            gauge   the upstream's share of traffic (1 = equal; lowered by
                                                    the watchtower while it is slow)
=========================================== ======= =========================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Enum, Gauge, Histogram

from link_ops.rpc.classify import metric_method
from link_ops.rpc.upstream import HealthState

#: Latency buckets in seconds: loopback (a few hundred µs) to a slow remote node (tens of seconds).
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class PoolMetrics:
    """The metric families of one pool, registered on `registry`."""

    def __init__(self, registry: CollectorRegistry, chain: str, upstreams: Sequence[str]) -> None:
        self.registry = registry
        self.chain = chain
        labels = ("chain", "upstream")
        self.requests = Counter(
            "link_ops_rpc_requests",
            "Requests sent to an upstream, each attempt counted.",
            (*labels, "method"),
            registry=registry,
        )
        self.errors = Counter(
            "link_ops_rpc_errors",
            "Failed attempts (and JSON-RPC error answers, kind rpc_answer) by kind.",
            (*labels, "kind"),
            registry=registry,
        )
        self.latency = Histogram(
            "link_ops_rpc_request_duration_seconds",
            "Seconds from sending a request to an upstream to its reply (or failure).",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.in_flight = Gauge(
            "link_ops_rpc_in_flight_requests",
            "Requests waiting for an upstream's reply.",
            labels,
            registry=registry,
        )
        self.head = Gauge(
            "link_ops_rpc_head_block",
            "Head block number the latest successful check saw.",
            labels,
            registry=registry,
        )
        self.head_lag = Gauge(
            "link_ops_rpc_head_lag_blocks",
            "Blocks the upstream's head is behind the reference (second-highest) head.",
            labels,
            registry=registry,
        )
        self.state = Enum(
            "link_ops_rpc_upstream_state",
            "Health state of the upstream.",
            labels,
            states=[s.value for s in HealthState],
            registry=registry,
        )
        self.checks = Counter(
            "link_ops_rpc_checks",
            "Health checks by result (ok, failed).",
            (*labels, "result"),
            registry=registry,
        )
        self.failovers = Counter(
            "link_ops_rpc_failovers",
            "Reads moved on to another upstream after a failure.",
            ("chain",),
            registry=registry,
        )
        self.weight = Gauge(
            "link_ops_rpc_upstream_weight",
            "Share of the traffic the upstream takes relative to the others (1 = an equal share).",
            labels,
            registry=registry,
        )
        for name in upstreams:  # every series exists from the start, at 0
            self.in_flight.labels(chain, name).set(0)
            self.weight.labels(chain, name).set(1)
            self.state.labels(chain, name).state(HealthState.UNKNOWN.value)
            for result in ("ok", "failed"):
                self.checks.labels(chain, name, result)
        self.failovers.labels(chain)
        # labels() takes a lock and builds a key on every call: the children used per request are kept.
        self._requests: dict[tuple[str, str], Any] = {}
        self._latency = {name: self.latency.labels(chain, name) for name in upstreams}
        self._in_flight = {name: self.in_flight.labels(chain, name) for name in upstreams}

    def request(self, upstream: str, method: str) -> None:
        key = (upstream, metric_method(method))
        child = self._requests.get(key)
        if child is None:
            child = self._requests[key] = self.requests.labels(self.chain, *key)
        child.inc()

    def error(self, upstream: str, kind: str) -> None:
        self.errors.labels(self.chain, upstream, kind).inc()

    def observe(self, upstream: str, seconds: float) -> None:
        self._latency[upstream].observe(seconds)

    def set_in_flight(self, upstream: str, count: int) -> None:
        self._in_flight[upstream].set(count)

    def set_head(self, upstream: str, head: int | None, lag: int | None) -> None:
        if head is not None:
            self.head.labels(self.chain, upstream).set(head)
        if lag is not None:
            self.head_lag.labels(self.chain, upstream).set(lag)

    def set_state(self, upstream: str, state: HealthState) -> None:
        self.state.labels(self.chain, upstream).state(state.value)

    def check(self, upstream: str, ok: bool) -> None:
        self.checks.labels(self.chain, upstream, "ok" if ok else "failed").inc()

    def set_weight(self, upstream: str, weight: float) -> None:
        self.weight.labels(self.chain, upstream).set(weight)

    def failover(self) -> None:
        self.failovers.labels(self.chain).inc()
