"""The PerformanceMonitor: the brief's response time, concurrency, error rate and throughput, measured per
window, and what the watchtower does when a threshold is crossed.

Every window (:attr:`MonitorSettings.window_s`, one :meth:`PerformanceMonitor.tick`) it reads:

- each RPC upstream of each pool: its requests, failures and latency in the window, from the pool's own
  Prometheus families (``link_ops_rpc_request_duration_seconds``, ``…_errors_total``, ``…_requests_total``;
  the difference between two ticks' readings is the window), and its requests in flight now;
- the watchtower's own HTTP API: the latency histogram of its routes (``link_ops_watch_http_request_seconds``)
  and its server errors;
- concurrency: distinct addresses active on the protocol in the last :attr:`~MonitorSettings.users_window_s`
  of indexed time (:meth:`link_ops.store.index.IndexStore.active_addresses`), and requests in flight;
- the watch's own tasks (the index of each chain, the probes, ...): each one's failures in a row.

Thresholds (configurable; the brief's by default) and what crossing each one does:

============================ ================================ ================================================
threshold                    alert                            action
============================ ================================ ================================================
p95 response > 200 ms        ``performance.response-time``    the slow upstream's weight is lowered (it takes
                                                              a quarter of an equal share) while others are
                                                              fast; when all are slow (or the API is), a
                                                              scale-out is recommended. Weight restored after
                                                              two good windows
concurrent users > 8,000     ``performance.capacity``         scale-out recommended, with the numbers
error rate > 1 %             ``performance.error-rate``       recovery: the upstream is marked unhealthy (the
                                                              health checks bring it back); a task failing
                                                              repeatedly is restarted
============================ ================================ ================================================

An alert is raised once per *episode* (the threshold crossed, until it has been clear for
:attr:`~MonitorSettings.clear_after_windows` windows); its ``values`` hold the measurements and ``action``
what was done, so the stored alert is the record of the action. A window with fewer than
:attr:`~MonitorSettings.min_requests` requests judges neither latency nor errors (two slow calls are not a
slow node).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from prometheus_client import CollectorRegistry
from pydantic import BaseModel, ConfigDict, Field

from link_ops.rpc.pool import RpcPool
from link_ops.rpc.upstream import HealthState
from link_ops.watch.alerts import Alert, Severity

Clock = Callable[[], datetime]

#: The watchtower API's latency histogram (the HTTP server registers it).
HTTP_LATENCY_METRIC = "link_ops_watch_http_request_seconds"

_RPC_LATENCY = "link_ops_rpc_request_duration_seconds"
_RPC_REQUESTS = "link_ops_rpc_requests"
_RPC_ERRORS = "link_ops_rpc_errors"
#: Error kinds that are the call's answer (a revert), not a failing node.
_ANSWER_KINDS = frozenset({"rpc_answer"})


class MonitorSettings(BaseModel):
    """The PerformanceMonitor's thresholds and window (the brief's numbers by default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Seconds per measurement window (one tick).
    window_s: float = Field(default=60.0, gt=0)
    #: Response time above which a target is slow.
    response_time_s: float = Field(default=0.200, gt=0)
    #: The quantile compared with it.
    response_quantile: float = Field(default=0.95, gt=0, le=1)
    #: Active addresses above which to scale out.
    concurrent_users: int = Field(default=8_000, gt=0)
    #: Seconds of indexed time users count as active.
    users_window_s: int = Field(default=300, gt=0)
    #: Share of failed requests that means trouble.
    error_rate: float = Field(default=0.01, gt=0, lt=1)
    #: Requests a window needs before it is judged.
    min_requests: int = Field(default=20, ge=1)
    #: Traffic share left to a slow upstream.
    slow_weight: float = Field(default=0.25, gt=0, le=1)
    #: Good windows that end an episode.
    clear_after_windows: int = Field(default=2, ge=1)
    #: Failures in a row after which a task is restarted.
    task_failures: int = Field(default=3, ge=1)


# -- reading Prometheus families ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HistogramReading:
    """A histogram's cumulative buckets (upper bound -> count), count and sum at one moment."""

    buckets: tuple[tuple[float, float], ...]
    count: float
    total: float

    def minus(self, earlier: HistogramReading | None) -> HistogramReading:
        """What was observed since `earlier` (the same histogram read before)."""
        if earlier is None:
            return self
        before = dict(earlier.buckets)
        return HistogramReading(
            tuple((le, count - before.get(le, 0.0)) for le, count in self.buckets),
            self.count - earlier.count,
            self.total - earlier.total,
        )

    def quantile(self, q: float) -> float | None:
        """The `q` quantile, interpolated within its bucket as Prometheus' ``histogram_quantile`` does (the
        highest finite bound when it falls in the ``+Inf`` bucket); None without observations."""
        if self.count <= 0:
            return None
        rank = q * self.count
        lower_bound, lower_count = 0.0, 0.0
        finite = [b for b in self.buckets if not math.isinf(b[0])]
        for le, cumulative in sorted(self.buckets):
            if cumulative >= rank:
                if math.isinf(le):
                    return finite[-1][0] if finite else None
                span = cumulative - lower_count
                share = (rank - lower_count) / span if span > 0 else 1.0
                return lower_bound + (le - lower_bound) * share
            lower_bound, lower_count = le, cumulative
        return finite[-1][0] if finite else None

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count > 0 else None


def read_histograms(
    registries: Iterable[Any], name: str, group_by: Sequence[str]
) -> dict[tuple[str, ...], HistogramReading]:
    """Histogram family `name` in `registries`, summed over every label but `group_by`."""
    buckets: dict[tuple[str, ...], dict[float, float]] = {}
    counts: dict[tuple[str, ...], list[float]] = {}
    for registry in registries:
        for family in registry.collect():
            if family.name != name:
                continue
            for sample in family.samples:
                key = tuple(sample.labels.get(label, "") for label in group_by)
                entry = counts.setdefault(key, [0.0, 0.0])
                if sample.name == f"{name}_bucket":
                    le = float(sample.labels["le"])
                    into = buckets.setdefault(key, {})
                    into[le] = into.get(le, 0.0) + sample.value
                elif sample.name == f"{name}_count":
                    entry[0] += sample.value
                elif sample.name == f"{name}_sum":
                    entry[1] += sample.value
    return {
        key: HistogramReading(tuple(sorted(buckets.get(key, {}).items())), count, total)
        for key, (count, total) in counts.items()
    }


def read_counters(
    registries: Iterable[Any],
    name: str,
    group_by: Sequence[str],
    skip: Mapping[str, frozenset[str]] | None = None,
) -> dict[tuple[str, ...], float]:
    """Counter family `name` (``name_total`` samples) summed over every label but `group_by`, leaving out
    samples whose label is in `skip`'s set for it."""
    out: dict[tuple[str, ...], float] = {}
    for registry in registries:
        for family in registry.collect():
            if family.name != name:
                continue
            for sample in family.samples:
                if sample.name != f"{name}_total":
                    continue
                if skip and any(sample.labels.get(k) in v for k, v in skip.items()):
                    continue
                key = tuple(sample.labels.get(label, "") for label in group_by)
                out[key] = out.get(key, 0.0) + sample.value
    return out


# -- what a window measured -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetWindow:
    """One target's window: an RPC upstream (``polygon/host:port``) or the watchtower's API (``api``)."""

    target: str
    requests: int
    errors: int
    p50_s: float | None
    quantile_s: float | None
    mean_s: float | None
    in_flight: int
    seconds: float

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def throughput(self) -> float:
        """Requests per second in the window."""
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "requests": self.requests,
            "errors": self.errors,
            "error_rate": round(self.error_rate, 6),
            "throughput_per_s": round(self.throughput, 3),
            "p50_ms": None if self.p50_s is None else round(self.p50_s * 1000, 3),
            "quantile_ms": None if self.quantile_s is None else round(self.quantile_s * 1000, 3),
            "mean_ms": None if self.mean_s is None else round(self.mean_s * 1000, 3),
            "in_flight": self.in_flight,
        }


@dataclass(frozen=True)
class MonitorReport:
    """What one tick measured, raised and did."""

    at: datetime
    targets: tuple[TargetWindow, ...]
    active_users: int | None
    in_flight: int
    alerts: tuple[Alert, ...]
    actions: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "targets": [t.as_json() for t in self.targets],
            "active_users": self.active_users,
            "in_flight": self.in_flight,
            "alerts": [a.key for a in self.alerts],
            "actions": list(self.actions),
        }


class Restartable(Protocol):
    """A task of the watch the monitor may restart: a name, its failures in a row, and a restart."""

    @property
    def name(self) -> str: ...

    @property
    def failures_in_a_row(self) -> int: ...

    def restart(self) -> str:
        """Restarts the task; returns what was done, in words."""
        ...


@dataclass
class _Episode:
    started: datetime
    key: str
    clear_windows: int = 0
    weighted: bool = False


@dataclass
class _Previous:
    histograms: dict[tuple[str, ...], HistogramReading] = field(default_factory=dict)
    requests: dict[tuple[str, ...], float] = field(default_factory=dict)
    errors: dict[tuple[str, ...], float] = field(default_factory=dict)
    at: datetime | None = None


class PerformanceMonitor:
    """Measures `pools` (and the API histogram in `api_registry`, and the users of `active_users`) each
    :meth:`tick`, and acts on the thresholds of `settings` (see the module documentation).

    `active_users(window_s)` returns the distinct active addresses (e.g. ``store.index.active_addresses``);
    `tasks` lists the watch's restartable tasks; `clock` gives the time (UTC).
    """

    def __init__(
        self,
        pools: Sequence[RpcPool],
        settings: MonitorSettings | None = None,
        *,
        api_registry: CollectorRegistry | None = None,
        active_users: Callable[[int], int] | None = None,
        tasks: Callable[[], Sequence[Restartable]] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.pools = tuple(pools)
        self.settings = settings or MonitorSettings()
        self.api_registry = api_registry
        self.active_users = active_users
        self.tasks = tasks
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self._previous: dict[str, _Previous] = {}
        self._episodes: dict[str, _Episode] = {}
        self.last: MonitorReport | None = None
        #: Every action taken, newest last (bounded), for the status page.
        self.actions: list[tuple[datetime, str]] = []

    # -- measuring -----------------------------------------------------------------------------------------

    def _window(
        self, source: str, registry: Any, latency: str, group: Sequence[str], now: datetime
    ) -> dict[tuple[str, ...], tuple[HistogramReading, float, float, float]]:
        """Per label group of `source`: (latency in the window, requests, errors, seconds)."""
        histograms = read_histograms([registry], latency, group)
        previous = self._previous.setdefault(source, _Previous())
        seconds = (now - previous.at).total_seconds() if previous.at else self.settings.window_s
        if source == "api":
            requests = {k: h.count for k, h in histograms.items()}
            errors = read_counters([registry], "link_ops_watch_http_errors", group)
        else:
            requests = read_counters([registry], _RPC_REQUESTS, group)
            errors = read_counters([registry], _RPC_ERRORS, group, {"kind": _ANSWER_KINDS})
        out = {}
        for key, reading in histograms.items():
            window = reading.minus(previous.histograms.get(key))
            asked = requests.get(key, 0.0) - previous.requests.get(key, 0.0)
            failed = errors.get(key, 0.0) - previous.errors.get(key, 0.0)
            out[key] = (window, max(asked, window.count), failed, seconds)
        previous.histograms, previous.requests, previous.errors = histograms, requests, errors
        previous.at = now
        return out

    def measure(self, now: datetime) -> tuple[list[TargetWindow], int]:
        """Every target's window ending `now`, and the requests in flight."""
        q = self.settings.response_quantile
        targets: list[TargetWindow] = []
        in_flight_total = 0
        for pool in self.pools:
            in_flight = {s.name: s.in_flight for s in pool.status()}
            in_flight_total += sum(in_flight.values())
            windows = self._window(pool.chain_label, pool.registry, _RPC_LATENCY, ("chain", "upstream"), now)
            for name in pool.names:
                reading, asked, failed, seconds = windows.get(
                    (pool.chain_label, name), (HistogramReading((), 0, 0), 0.0, 0.0, self.settings.window_s)
                )
                targets.append(
                    TargetWindow(
                        f"{pool.chain_label}/{name}",
                        int(asked),
                        int(failed),
                        reading.quantile(0.5),
                        reading.quantile(q),
                        reading.mean,
                        in_flight.get(name, 0),
                        seconds,
                    )
                )
        if self.api_registry is not None:
            windows = self._window("api", self.api_registry, HTTP_LATENCY_METRIC, (), now)
            reading, asked, failed, seconds = windows.get(
                (), (HistogramReading((), 0, 0), 0.0, 0.0, self.settings.window_s)
            )
            targets.append(
                TargetWindow(
                    "api",
                    int(asked),
                    int(failed),
                    reading.quantile(0.5),
                    reading.quantile(q),
                    reading.mean,
                    0,
                    seconds,
                )
            )
        return targets, in_flight_total

    # -- acting ----------------------------------------------------------------------------------------------

    def tick(self) -> MonitorReport:
        """Measures one window, raises what crossed a threshold and acts on it (see the module doc)."""
        now = self.clock()
        s = self.settings
        targets, in_flight = self.measure(now)
        alerts: list[Alert] = []
        actions: list[str] = []
        judged = [t for t in targets if t.requests >= s.min_requests]
        slow = {t.target for t in judged if t.quantile_s is not None and t.quantile_s > s.response_time_s}
        failing = {t.target for t in judged if t.error_rate > s.error_rate}

        for target in targets:
            alerts += self._slow(target, target.target in slow, slow, targets, now, actions)
            alerts += self._errors(target, target.target in failing, now, actions)
        users = None
        if self.active_users is not None:
            users = self.active_users(s.users_window_s)
            alerts += self._capacity(users, in_flight, targets, now)
        alerts += self._tasks(now, actions)

        self.actions = (self.actions + [(now, a) for a in actions])[-200:]
        report = MonitorReport(now, tuple(targets), users, in_flight, tuple(alerts), tuple(actions))
        self.last = report
        return report

    def _begin(self, rule: str, target: str, now: datetime) -> _Episode | None:
        """A new episode of `rule` on `target` (None when one is already going on)."""
        name = f"{rule}:{target}"
        episode = self._episodes.get(name)
        if episode is not None:
            episode.clear_windows = 0
            return None
        episode = _Episode(now, f"{name}:{now.strftime('%Y-%m-%dT%H:%M:%SZ')}")
        self._episodes[name] = episode
        return episode

    def _clear(self, rule: str, target: str) -> _Episode | None:
        """Counts a good window for `rule` on `target`; returns the episode when it has just ended."""
        name = f"{rule}:{target}"
        episode = self._episodes.get(name)
        if episode is None:
            return None
        episode.clear_windows += 1
        if episode.clear_windows < self.settings.clear_after_windows:
            return None
        del self._episodes[name]
        return episode

    def _pool_of(self, target: str) -> tuple[RpcPool, str] | None:
        chain, _, name = target.partition("/")
        for pool in self.pools:
            if pool.chain_label == chain and name in pool.names:
                return pool, name
        return None

    def _slow(
        self,
        target: TargetWindow,
        is_slow: bool,
        slow: set[str],
        targets: Sequence[TargetWindow],
        now: datetime,
        actions: list[str],
    ) -> list[Alert]:
        rule = "performance.response-time"
        s = self.settings
        found = self._pool_of(target.target)
        if not is_slow:
            ended = self._clear(rule, target.target)
            if ended is not None and ended.weighted and found is not None:
                pool, name = found
                pool.set_weight(name, 1.0)
                actions.append(f"restored {target.target}'s full share of traffic: fast again")
            return []
        episode = self._begin(rule, target.target, now)
        if episode is None:
            return []
        ms = (target.quantile_s or 0.0) * 1000
        limit_ms = s.response_time_s * 1000
        pct = f"p{round(s.response_quantile * 100):d}"
        values: dict[str, Any] = {
            "target": target.target,
            f"{pct}_ms": round(ms, 3),
            "threshold_ms": limit_ms,
            "requests": target.requests,
            "throughput_per_s": round(target.throughput, 3),
        }
        if found is not None:
            pool, name = found
            siblings = [t for t in targets if t.target.startswith(f"{pool.chain_label}/")]
            fast = [t.target for t in siblings if t.target not in slow and t.target != target.target]
            usable = {st.name for st in pool.status() if st.state is HealthState.HEALTHY}
            fast = [t for t in fast if t.partition("/")[2] in usable]
            if fast:
                pool.set_weight(name, s.slow_weight, f"{pct} {ms:.0f} ms > {limit_ms:.0f} ms")
                episode.weighted = True
                done = f"shifted traffic away from {target.target}: it takes {s.slow_weight:g} of a share"
                actions.append(done)
                action = "shift-weight"
                summary = (
                    f"RPC upstream {target.target} is slow: {pct} {ms:.0f} ms over the last window, "
                    f"above {limit_ms:.0f} ms; {done} (its siblings are fast)"
                )
            else:
                action = "scale-out"
                summary = (
                    f"every RPC upstream of {pool.chain_label} is slow ({target.target}: {pct} {ms:.0f} "
                    f"ms, above {limit_ms:.0f} ms) and none to shift traffic to: add upstreams (scale out)"
                )
            values["done"] = actions[-1] if action == "shift-weight" else None
        else:
            action, summary = (
                "scale-out",
                (
                    f"the watchtower's API is slow: {pct} {ms:.0f} ms over the last window, above "
                    f"{limit_ms:.0f} ms, at {target.throughput:.1f} requests/s: scale out (more instances)"
                ),
            )
        return [
            Alert(
                rule=rule,
                source="performance",
                severity=Severity.WARNING,
                summary=summary,
                key=episode.key,
                subject=target.target,
                values=values,
                action=action,
                at=now,
            )
        ]

    def _errors(self, target: TargetWindow, failing: bool, now: datetime, actions: list[str]) -> list[Alert]:
        rule = "performance.error-rate"
        if not failing:
            self._clear(rule, target.target)
            return []
        episode = self._begin(rule, target.target, now)
        if episode is None:
            return []
        rate = target.error_rate * 100
        limit = self.settings.error_rate * 100
        found = self._pool_of(target.target)
        if found is not None:
            pool, name = found
            was_usable = pool.mark_unhealthy(
                name, f"error rate {rate:.1f} % > {limit:g} % (watchtower recovery)"
            )
            done = (
                f"marked {target.target} unhealthy (out of rotation until its health checks pass)"
                if was_usable
                else f"{target.target} was already out of rotation"
            )
        else:
            done = "nothing to take out of rotation: the API's own errors; see its log"
        actions.append(done)
        return [
            Alert(
                rule=rule,
                source="performance",
                severity=Severity.HIGH,
                summary=(
                    f"{target.target} failed {target.errors} of {target.requests} requests ({rate:.1f} %) in "
                    f"the last window, above {limit:g} %: recovery: {done}"
                ),
                key=episode.key,
                subject=target.target,
                values={
                    "target": target.target,
                    "errors": target.errors,
                    "requests": target.requests,
                    "error_rate": round(target.error_rate, 6),
                    "threshold": self.settings.error_rate,
                    "done": done,
                },
                action="recovery",
                at=now,
            )
        ]

    def _capacity(
        self, users: int, in_flight: int, targets: Sequence[TargetWindow], now: datetime
    ) -> list[Alert]:
        rule, limit = "performance.capacity", self.settings.concurrent_users
        if users <= limit:
            self._clear(rule, "protocol")
            return []
        episode = self._begin(rule, "protocol", now)
        if episode is None:
            return []
        throughput = sum(t.throughput for t in targets if t.target != "api")
        return [
            Alert(
                rule=rule,
                source="performance",
                severity=Severity.WARNING,
                summary=(
                    f"{users:,} addresses active in the last {self.settings.users_window_s} s, above "
                    f"{limit:,}: scale out (more RPC capacity and API instances); now {in_flight} requests "
                    f"in flight, {throughput:.1f} RPC requests/s"
                ),
                key=episode.key,
                subject="protocol",
                values={
                    "active_users": users,
                    "threshold": limit,
                    "window_s": self.settings.users_window_s,
                    "in_flight": in_flight,
                    "rpc_throughput_per_s": round(throughput, 3),
                },
                action="scale-out",
                at=now,
            )
        ]

    def _tasks(self, now: datetime, actions: list[str]) -> list[Alert]:
        if self.tasks is None:
            return []
        alerts = []
        for task in self.tasks():
            failures = task.failures_in_a_row
            if failures < self.settings.task_failures:
                continue
            done = task.restart()
            actions.append(done)
            alerts.append(
                Alert(
                    rule="performance.task-restarted",
                    source="performance",
                    severity=Severity.HIGH,
                    summary=f"the watch's task {task.name} failed {failures} times in a row; {done}",
                    key=f"performance.task-restarted:{task.name}:{now.strftime('%Y-%m-%dT%H:%M:%SZ')}",
                    subject=task.name,
                    values={"task": task.name, "failures_in_a_row": failures, "done": done},
                    action="recovery",
                    at=now,
                )
            )
        return alerts
