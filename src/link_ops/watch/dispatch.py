"""Raising alerts, and delivering them to the sinks without ever holding up the watch.

:meth:`AlertDispatcher.raise_alerts` is all the watch loop calls: one transaction stores each new alert,
correlates it into an incident and queues one delivery per sink (:class:`~link_ops.store.watch.WatchStore`),
then the sinks' workers are woken and the call returns. It never waits for a sink.

Each sink has a worker thread that drains its part of the durable outbox, oldest first: a delivery is
marked delivered only after the sink took it (a webhook: a 2xx answer), and a failure is retried at the
time :class:`~link_ops.watch.sinks.RetryPolicy` gives (exponential backoff, jitter, a cap), forever or
until the delivery is older than the policy's give-up age. The first failure ends a worker's round, so a
receiver that is down is not hammered with every queued alert. Deliveries a stopped process left pending
are taken up by the next dispatcher on the same database; the store's key and the ``Idempotency-Key``
header make a resend after a crash (the receiver answered, the process died before recording it)
recognisable, so each alert is delivered once as far as a sender can make it so.

One dispatcher per sink name and database: two would both send each delivery.

The dispatcher also keeps the alert state on a Prometheus registry (:class:`WatchMetrics`).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from typing_extensions import Self

from link_ops.exceptions import ConfigurationError
from link_ops.store.engine import utcnow
from link_ops.store.watch import DEFAULT_CORRELATION_WINDOW, Raised, WatchStore
from link_ops.store.watch_tables import DELIVERY_STATUSES
from link_ops.watch.alerts import Alert, Severity
from link_ops.watch.sinks import DeliveryError, RetryPolicy, Sink, sink_names

log = logging.getLogger("link_ops.watch")

Clock = Callable[[], datetime]


class _StoreState(Collector):
    """Gauges read from the store at each scrape: incidents not resolved by severity, deliveries by sink
    and status."""

    def __init__(self, store: WatchStore) -> None:
        self._store = store

    def collect(self) -> Iterator[Metric]:
        incidents = GaugeMetricFamily(
            "link_ops_watch_open_incidents",
            "Incidents not resolved (open or acknowledged), by severity.",
            labels=("severity",),
        )
        for severity, count in self._store.open_incident_counts().items():
            incidents.add_metric((severity.label,), count)
        yield incidents
        deliveries = GaugeMetricFamily(
            "link_ops_watch_deliveries",
            "Deliveries in the outbox by sink and status (pending, delivered, failed: given up, cancelled).",
            labels=("sink", "status"),
        )
        counts = self._store.delivery_counts()
        for sink in sorted({sink for sink, _ in counts}):
            for status in DELIVERY_STATUSES:
                deliveries.add_metric((sink, status), counts.get((sink, status), 0))
        yield deliveries

    def describe(self) -> Iterator[Metric]:
        # Named up front so the registry refuses a clash at registration, without reading the store.
        yield GaugeMetricFamily("link_ops_watch_open_incidents", "", labels=("severity",))
        yield GaugeMetricFamily("link_ops_watch_deliveries", "", labels=("sink", "status"))


class WatchMetrics:
    """The alert side's metrics on `registry`:

    ========================================================= ======= ========================================
    ``link_ops_watch_alerts_total``                           counter new alerts by ``rule`` and ``severity``
    ``link_ops_watch_open_incidents``                         gauge   incidents not resolved, by ``severity``
    ``link_ops_watch_deliveries``                             gauge   outbox rows by ``sink`` and ``status``
    ``link_ops_watch_delivery_attempts_total``                counter attempts by ``sink`` and ``result``
                                                                      (delivered, failed, gave_up)
    ``link_ops_watch_last_delivery_error_timestamp_seconds``  gauge   unix time of a sink's latest failure
    ========================================================= ======= ========================================
    """

    def __init__(self, registry: CollectorRegistry, store: WatchStore) -> None:
        self.registry = registry
        self.alerts = Counter(
            "link_ops_watch_alerts",
            "New alerts raised, by rule and severity (an alert raised again is not counted again).",
            ("rule", "severity"),
            registry=registry,
        )
        self.attempts = Counter(
            "link_ops_watch_delivery_attempts",
            "Delivery attempts by sink and result: delivered, failed (retried later), gave_up.",
            ("sink", "result"),
            registry=registry,
        )
        self.last_error = Gauge(
            "link_ops_watch_last_delivery_error_timestamp_seconds",
            "Unix time of the latest failed delivery attempt of each sink.",
            ("sink",),
            registry=registry,
        )
        registry.register(_StoreState(store))


@dataclass(frozen=True)
class RoundResult:
    """What one round of a sink's worker did."""

    delivered: int = 0
    failed: int = 0
    gave_up: int = 0


class AlertDispatcher:
    """Raises alerts into `store` and delivers them to `sinks` from one worker thread per sink (see the
    module's description). Use it as a context manager, or :meth:`start` and :meth:`stop` it.

    `routes` gives a sink the least severity it takes (alert routing: a pager for ``high`` and above, a file
    for everything; every sink takes every alert by default). `retry` says when failed deliveries are tried
    again; `window` is the incidents' correlation window;
    `clock` gives the current time (UTC) and `rng` the jitter, both replaceable in tests; metrics go to
    `registry` (a private one by default). A worker with nothing due looks at the outbox again after
    `idle_poll_s` seconds at the latest (deliveries another process queued, a clock that jumped).
    """

    def __init__(
        self,
        store: WatchStore,
        sinks: Sequence[Sink],
        *,
        retry: RetryPolicy | None = None,
        window: timedelta = DEFAULT_CORRELATION_WINDOW,
        registry: CollectorRegistry | None = None,
        clock: Clock = utcnow,
        rng: random.Random | None = None,
        idle_poll_s: float = 5.0,
        routes: Mapping[str, Severity] | None = None,
    ) -> None:
        if not idle_poll_s > 0:
            raise ConfigurationError(f"idle_poll_s must be above 0 seconds, got {idle_poll_s!r}")
        self.store = store
        self.sinks = {sink.name: sink for sink in sinks}
        self._names = sink_names(sinks)
        unknown = sorted(set(routes or {}) - set(self._names))
        if unknown:
            raise ConfigurationError(
                f"alert routes name sink(s) {', '.join(unknown)} the dispatcher does not have "
                f"({', '.join(self._names)})"
            )
        #: Each sink and the least severity it takes (alert routing; every alert by default).
        self.routes = {name: int((routes or {}).get(name, Severity.INFO)) for name in self._names}
        self.retry = retry or RetryPolicy()
        self.window = window
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self.metrics = WatchMetrics(self.registry, store)
        self._clock = clock
        self._rng = rng or random.Random()
        self._idle_poll_s = idle_poll_s
        self._stopping = threading.Event()
        self._wake = {name: threading.Event() for name in self._names}
        self._threads: list[threading.Thread] = []

    # -- the watch side -----------------------------------------------------------------------------------

    def raise_alerts(self, alerts: Sequence[Alert]) -> list[Raised]:
        """Stores, correlates and queues `alerts` for every sink in one transaction, wakes the workers and
        returns what became of each (new, known, reinstated). Never waits for a sink."""
        raised = self.store.raise_alerts(alerts, self.routes, window=self.window, now=self._clock())
        for item in raised:
            if item.is_new:
                alert = item.alert.alert
                self.metrics.alerts.labels(alert.rule, alert.severity.label).inc()
        if any(item.outcome != "known" for item in raised):
            for event in self._wake.values():
                event.set()
        return raised

    # -- the sinks' side ----------------------------------------------------------------------------------

    def deliver_round(self, sink_name: str) -> RoundResult:
        """Hands each due delivery of `sink_name` to its sink, oldest first, and records the outcome; the
        first failure ends the round (its receiver is likely down: the rest wait for the next round).
        What the workers run; tests call it directly to step through time."""
        sink = self.sinks.get(sink_name)
        if sink is None:
            raise ConfigurationError(
                f"no sink named {sink_name!r}: the dispatcher has {', '.join(self._names)}"
            )
        delivered = failed = gave_up = 0
        for delivery in self.store.due_deliveries(sink_name, now=self._clock()):
            if self._stopping.is_set():
                break
            try:
                sink.deliver(delivery.alert.alert)
            except Exception as exc:  # a sink's bug must not stop its worker: it is a failed delivery too
                error = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
                now = self._clock()
                if self.retry.gives_up(now - delivery.enqueued_at):
                    retry_at = None
                    gave_up += 1
                    self.metrics.attempts.labels(sink_name, "gave_up").inc()
                    log.error("%s: gave up on alert %s: %s", sink_name, delivery.alert.alert.key, error)
                else:
                    retry_at = now + timedelta(seconds=self.retry.delay(delivery.attempts + 1, self._rng))
                    failed += 1
                    self.metrics.attempts.labels(sink_name, "failed").inc()
                    log.warning("%s: alert %s not delivered (%s)", sink_name, delivery.alert.alert.key, error)
                self.metrics.last_error.labels(sink_name).set(now.timestamp())
                self.store.record_failure(delivery.id, error, retry_at=retry_at, now=now)
                break
            if self.store.mark_delivered(delivery.id, now=self._clock()):
                delivered += 1
                self.metrics.attempts.labels(sink_name, "delivered").inc()
        return RoundResult(delivered, failed, gave_up)

    def _work(self, sink_name: str) -> None:
        wake = self._wake[sink_name]
        pause_after_error = 0.0
        while not self._stopping.is_set():
            wake.clear()
            try:
                self.deliver_round(sink_name)
                due = self.store.next_attempt_at(sink_name)
                pause_after_error = 0.0
            except Exception as exc:  # the database unreachable: try again later, never die
                pause_after_error = min(max(2 * pause_after_error, 0.5), self._idle_poll_s)
                log.error("%s: the alert outbox cannot be read (%s); trying again", sink_name, exc)
                wake.wait(pause_after_error)
                continue
            wait = self._idle_poll_s
            if due is not None:
                wait = min(wait, max(0.0, (due - self._clock()).total_seconds()))
            if wait > 0:
                wake.wait(wait)

    def start(self) -> Self:
        """Starts one worker per sink (they take up what a previous process left pending)."""
        if self._threads:
            raise ConfigurationError("the dispatcher is running already")
        self._stopping.clear()
        for name in self._names:
            thread = threading.Thread(
                target=self._work, args=(name,), name=f"link-ops-sink-{name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        for event in self._wake.values():
            event.set()
        return self

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stops the workers after the delivery each is making; pending deliveries stay in the outbox."""
        self._stopping.set()
        for event in self._wake.values():
            event.set()
        for thread in self._threads:
            thread.join(timeout_s)
        self._threads = []

    def pending(self) -> int:
        """Deliveries still pending, over every sink of this dispatcher."""
        counts = self.store.delivery_counts()
        return sum(counts.get((name, "pending"), 0) for name in self._names)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


__all__ = ["AlertDispatcher", "RoundResult", "WatchMetrics"]
