"""The watchtower's loop: index every chain to its head, run the intrusion rules on what was just indexed,
measure performance once a window, run the partner SLA jobs when they are due, and hand every alert to the
alert pipeline (store, incidents, sinks).

One :meth:`Watchtower.step`:

1. each chain's index task reads up to the head (:class:`IndexTask`, through the chain's RPC pool); a
   reorganisation's rolled-back blocks have their alerts retracted, and the rules then run on every block
   read again or anew, so an alert fires in the round that indexes its block: within one block of the
   event when the watch keeps up with the chain;
2. the :class:`~link_ops.watch.monitor.PerformanceMonitor` ticks when its window has passed;
3. each periodic job (the partner probes, the SLA evaluation) runs when due;
4. every alert goes to the :class:`~link_ops.watch.dispatch.AlertDispatcher` at once, which stores each
   key once (an alert raised again, after a restart or a re-read, is the same alert), correlates it into
   an incident and delivers it in the background: the loop never waits on a sink.

A chain whose node fails a round is tried again next round; a task failing round after round is restarted
by the monitor (a fresh indexer and a fresh check of the pool's nodes), and that restart is an alert.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from link_ops.exceptions import ConfigurationError
from link_ops.index import ChainIndexer, IndexRpcError, RoundReport
from link_ops.rpc import RpcPool
from link_ops.rpc.upstream import HealthState
from link_ops.store import OpsStore
from link_ops.watch.alerts import Alert, Severity
from link_ops.watch.dispatch import AlertDispatcher
from link_ops.watch.monitor import PerformanceMonitor
from link_ops.watch.partner_sla import PartnerSlas
from link_ops.watch.probes import PartnerProber

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class Detector(Protocol):
    """The intrusion rules: alerts about the blocks `first_block` .. `last_block` of `chain_id` that the
    index has just written."""

    def after_round(self, chain_id: int, first_block: int, last_block: int) -> Sequence[Alert]: ...


class PeriodicJob(Protocol):
    """A job the loop runs when it is due (the partner probes, the SLA evaluation)."""

    @property
    def name(self) -> str: ...

    def due(self, now: datetime) -> bool: ...

    def run(self, now: datetime) -> Sequence[Alert]: ...


class ProbeJob:
    """The partner probes as a job of the loop: due when the prober says so; its results are stored (the
    SLA job turns them into alerts), and probes older than the SLA needs (`keep`) are deleted."""

    name = "partner-probes"

    def __init__(self, prober: PartnerProber, keep: timedelta | None = None) -> None:
        self.prober = prober
        self.keep = keep
        self.last_count = 0
        self.pruned = 0

    def due(self, now: datetime) -> bool:
        return self.prober.due()

    def run(self, now: datetime) -> Sequence[Alert]:
        self.last_count = len(self.prober.probe_once())
        if self.keep is not None:
            self.pruned += self.prober.store.sla.prune_probes(now - self.keep)
        return []


class SlaJob:
    """The partner SLAs evaluated every `interval_s` seconds: their burn-rate alerts."""

    name = "partner-slas"

    def __init__(self, slas: PartnerSlas, interval_s: float = 60.0) -> None:
        if not interval_s > 0:
            raise ConfigurationError(f"the SLA evaluation interval must be above 0 s, got {interval_s!r}")
        self.slas = slas
        self.interval = timedelta(seconds=interval_s)
        self._next: datetime | None = None

    def due(self, now: datetime) -> bool:
        return self._next is None or now >= self._next

    def run(self, now: datetime) -> Sequence[Alert]:
        self._next = now + self.interval
        return self.slas.alerts()


class WatchSettings(BaseModel):
    """How the loop runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Seconds between rounds while every chain is at its head.
    interval_s: float = Field(default=2.0, ge=0)
    #: Batches each chain may read per round, so a long backfill of one chain does not starve the others.
    batches_per_round: int = Field(default=20, ge=1)
    #: Alerts kept in memory for the console and the status page (the store keeps them all).
    recent_alerts: int = Field(default=50, ge=1)
    #: Judge a new index's history too (every block from the contracts' deployment). Off: a watch begun on
    #: an empty store reads the history but judges only blocks after the head it first saw; a watch
    #: restarted on its store judges every block indexed since it stopped.
    judge_history: bool = False


class IndexTask:
    """One chain's index, as a task of the watch: a round at a time, its failures counted, restartable.

    `make_indexer` builds the chain's :class:`~link_ops.index.ChainIndexer` (again on :meth:`restart`).
    """

    def __init__(self, pool: RpcPool, make_indexer: Callable[[], ChainIndexer]) -> None:
        self.pool = pool
        self._make = make_indexer
        self.indexer = make_indexer()
        self.failures_in_a_row = 0
        self.restarts = 0
        self.last_error: str | None = None
        self.last_report: RoundReport | None = None
        #: The last block the intrusion rules have judged, and the first (None until the first step).
        self.judged: int | None = None
        self.judged_from = 0
        self.judged_saved: tuple[int, int] | None = None

    @property
    def name(self) -> str:
        return f"index:{self.indexer.chain.key}"

    @property
    def chain_id(self) -> int:
        return self.indexer.chain.chain_id

    def round(self, max_batches: int) -> RoundReport | None:
        """One round (None when the chain's nodes failed it: counted, tried again next round). A
        reorganisation deeper than the index keeps is raised: the watch must not go on blind."""
        try:
            report = self.indexer.round(max_batches=max_batches)
        except IndexRpcError as exc:
            self.failures_in_a_row += 1
            self.last_error = str(exc)
            log.warning("%s: %s (failure %d in a row)", self.name, exc, self.failures_in_a_row)
            return None
        self.failures_in_a_row = 0
        self.last_report = report
        return report

    def restart(self) -> str:
        """A fresh indexer (its block range and retries from scratch) after the pool checked its nodes."""
        self.pool.check_now()
        self.indexer = self._make()
        self.restarts += 1
        self.failures_in_a_row = 0
        usable = sum(s.state is HealthState.HEALTHY for s in self.pool.status())
        return f"restarted {self.name} ({usable} of {len(self.pool.names)} node(s) usable after a check)"


@dataclass
class StepReport:
    """What one :meth:`Watchtower.step` did."""

    at: datetime
    rounds: dict[str, RoundReport | None] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)
    new_alerts: list[Alert] = field(default_factory=list)
    retracted: int = 0
    monitored: bool = False
    jobs: list[str] = field(default_factory=list)

    @property
    def behind(self) -> bool:
        return any(r is not None and r.behind for r in self.rounds.values())


class Watchtower:
    """The loop over `tasks` (one per chain), the `detector`, the `monitor` and the periodic `jobs`, each
    alert handed to `pipeline` (see the module documentation)."""

    def __init__(
        self,
        store: OpsStore,
        tasks: Sequence[IndexTask],
        pipeline: AlertDispatcher,
        *,
        detector: Detector | None = None,
        monitor: PerformanceMonitor | None = None,
        jobs: Sequence[PeriodicJob] = (),
        settings: WatchSettings | None = None,
        clock: Clock | None = None,
    ) -> None:
        if not tasks:
            raise ConfigurationError("the watchtower watches at least one chain: give --chains")
        keys = [t.name for t in tasks]
        if len(set(keys)) != len(keys):
            raise ConfigurationError(f"each chain is watched once; got {', '.join(keys)}")
        self.store = store
        self.tasks = list(tasks)
        self.pipeline = pipeline
        self.detector = detector
        self.monitor = monitor
        self.jobs = list(jobs)
        self.settings = settings or WatchSettings()
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.recent: deque[Alert] = deque(maxlen=self.settings.recent_alerts)
        self.steps = 0
        self.started = self.clock()
        self._next_tick: datetime | None = None
        self.last_step: StepReport | None = None
        self._lock = threading.Lock()

    def _judging_from(self, task: IndexTask, first: RoundReport) -> tuple[int, int]:
        """Where the rules begin on `task`'s chain, as ``(last judged, first judged)``.

        A chain judged before (the store says from where to where): from the last judged block, less the
        confirmation depth (judged again, so that the cross-chain checks still waiting when the watch
        stopped, kept in memory, are taken up; what was raised then is known, not raised twice), never
        below the first judged block. A chain never judged: from the head the first round saw (its history
        is read, not judged), or from its start with ``judge_history``.
        """
        mark = self.store.watch.judged(task.chain_id)
        if mark is not None:
            first_judged, last_judged = mark
            return max(first_judged - 1, last_judged - task.indexer.depth), first_judged
        begin = task.indexer.start_block - 1 if self.settings.judge_history else first.head
        return begin, begin + 1

    def step(self) -> StepReport:
        """One pass of the loop (see the module documentation)."""
        now = self.clock()
        report = StepReport(now)
        for task in self.tasks:
            result = task.round(self.settings.batches_per_round)
            report.rounds[task.name] = result
            if result is None or result.indexed is None:
                continue
            if task.judged is None:
                task.judged, task.judged_from = self._judging_from(task, result)
            forks = [
                task.indexer.start_block - 1 if r.to_block is None else r.to_block for r in result.rollbacks
            ]
            if forks:
                task.judged = max(task.judged_from - 1, min(task.judged, *forks))
                report.retracted += len(
                    self.store.watch.retract_reorganised(task.chain_id, min(forks) + 1, now=now)
                )
            if self.detector is not None and result.indexed > task.judged:
                try:
                    report.alerts += self.detector.after_round(task.chain_id, task.judged + 1, result.indexed)
                except IndexRpcError as exc:  # judged again next step: nothing was remembered of it
                    task.failures_in_a_row += 1
                    task.last_error = f"intrusion rules: {exc}"
                    log.warning("%s: rules could not read the chain (%s); again next step", task.name, exc)
                    continue
                task.judged = result.indexed
            if (task.judged_from, task.judged) != task.judged_saved:  # written when it moved, not each step
                self.store.watch.set_judged(task.chain_id, task.judged_from, task.judged, now=now)
                task.judged_saved = (task.judged_from, task.judged)
        if self.monitor is not None and (self._next_tick is None or now >= self._next_tick):
            report.alerts += self.monitor.tick().alerts
            report.monitored = True
            self._next_tick = now + timedelta(seconds=self.monitor.settings.window_s)
        for job in self.jobs:
            if job.due(now):
                report.alerts += job.run(now)
                report.jobs.append(job.name)
        if report.alerts:
            raised = self.pipeline.raise_alerts(report.alerts)
            report.new_alerts = [r.alert.alert for r in raised if r.outcome != "known"]
        with self._lock:
            self.recent.extend(report.new_alerts)
            self.steps += 1
            self.last_step = report
        return report

    def run(
        self,
        *,
        stop: Callable[[], bool] = lambda: False,
        on_step: Callable[[StepReport], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Steps until `stop()` says so (or KeyboardInterrupt): at once while a chain is behind, else every
        ``settings.interval_s``."""
        while not stop():
            report = self.step()
            if on_step is not None:
                on_step(report)
            if not report.behind and not stop():
                sleep(self.settings.interval_s)

    def restartable(self) -> list[IndexTask]:
        """The tasks the monitor may restart."""
        return list(self.tasks)

    def snapshot(self) -> dict[str, Any]:
        """The loop's state for the console, the API and the status page (JSON-ready)."""
        with self._lock:
            recent = list(self.recent)
            steps = self.steps
        chains = []
        for task in self.tasks:
            cursor = self.store.index.cursor(task.chain_id)
            last = task.last_report
            chains.append(
                {
                    "chain": task.indexer.chain.key,
                    "chain_id": task.chain_id,
                    "indexed": None if cursor is None else cursor.last_block,
                    "head": None if last is None else last.head,
                    "failures_in_a_row": task.failures_in_a_row,
                    "restarts": task.restarts,
                    "last_error": task.last_error,
                    "upstreams": [s.as_json() for s in task.pool.status()],
                }
            )
        monitor = self.monitor.last.as_json() if self.monitor and self.monitor.last else None
        return {
            "started": self.started.isoformat(),
            "steps": steps,
            "chains": chains,
            "performance": monitor,
            "recent_alerts": [a.to_json() for a in reversed(recent)],
            "alerts_by_severity": {
                s.label: sum(a.severity is s for a in recent) for s in sorted(Severity, reverse=True)
            },
        }
