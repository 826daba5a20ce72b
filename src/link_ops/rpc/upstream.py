"""One upstream node of an RPC pool: its health, its head, its load and its latency.

Pure: no network access. The pool owns each :class:`Upstream` and changes it under its lock; readers get a
frozen :class:`UpstreamStatus`.

An upstream is *usable* when its chain id was verified, it is healthy and it is not lagging. Its
:class:`HealthState` is the first that applies of:

- ``wrong_chain``: a check found another chain id. Permanent: it is never used or checked again.
- ``unknown``: no check has verified its chain id yet (it is down since the pool started, say).
- ``unhealthy``: :attr:`PoolSettings.unhealthy_after` consecutive failures (checks and requests alike);
  healthy again after :attr:`PoolSettings.healthy_after` consecutive successes.
- ``lagging``: its head is more than :attr:`PoolSettings.max_head_lag_blocks` behind the reference head
  (the second-highest head among the upstreams whose last check succeeded, the highest when only two
  did; see :func:`reference_head`).
- ``healthy``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum


class HealthState(str, Enum):
    """Where an upstream stands (the ``state`` of ``link_ops_rpc_upstream_state``)."""

    HEALTHY = "healthy"
    LAGGING = "lagging"
    UNHEALTHY = "unhealthy"
    UNKNOWN = "unknown"
    WRONG_CHAIN = "wrong_chain"


@dataclass
class HealthCounter:
    """The consecutive-failures / consecutive-successes state machine of one upstream.

    Starts healthy. A failure resets the successes, a success resets the failures; a healthy counter turns
    unhealthy at `unhealthy_after` failures in a row, an unhealthy one healthy at `healthy_after` successes
    in a row.
    """

    unhealthy_after: int
    healthy_after: int
    healthy: bool = True
    failures: int = 0
    successes: int = 0

    def record(self, ok: bool) -> bool:
        """Counts one outcome; returns whether :attr:`healthy` changed."""
        if ok:
            self.successes, self.failures = self.successes + 1, 0
            if not self.healthy and self.successes >= self.healthy_after:
                self.healthy = True
                return True
        else:
            self.failures, self.successes = self.failures + 1, 0
            if self.healthy and self.failures >= self.unhealthy_after:
                self.healthy = False
                return True
        return False


@dataclass(frozen=True)
class Transition:
    """A change of an upstream's state, with the consecutive failed checks it had at that moment."""

    before: HealthState
    after: HealthState
    #: Checks run on the upstream so far, and how many of the latest failed in a row.
    checks: int
    checks_failed_in_a_row: int
    reason: str


@dataclass(eq=False)  # each upstream is itself: compared by identity
class Upstream:
    """One node of the pool (mutable; the pool's lock guards it)."""

    index: int
    url: str
    #: The redacted ``host:port`` shown in logs, tables and metric labels.
    name: str
    health: HealthCounter
    chain_verified: bool = False
    wrong_chain_id: int | None = None
    lagging: bool = False
    in_flight: int = 0
    #: Latency moving average in seconds (None until a first success).
    latency_ewma_s: float | None = None
    head: int | None = None
    #: Whether the latest check succeeded (only those heads make the lag reference).
    last_check_ok: bool = False
    head_lag: int | None = None
    checks: int = 0
    checks_failed_in_a_row: int = 0
    requests: int = 0
    last_error: str | None = None
    transitions: list[Transition] = field(default_factory=list)
    #: Share of the traffic it takes relative to the others (1.0 = an equal share; see :func:`choose`),
    #: lowered by the watchtower's performance monitor while the upstream is slow.
    weight: float = 1.0
    weight_reason: str | None = None

    @property
    def state(self) -> HealthState:
        if self.wrong_chain_id is not None:
            return HealthState.WRONG_CHAIN
        if not self.chain_verified:
            return HealthState.UNKNOWN
        if not self.health.healthy:
            return HealthState.UNHEALTHY
        if self.lagging:
            return HealthState.LAGGING
        return HealthState.HEALTHY

    @property
    def usable(self) -> bool:
        return self.state is HealthState.HEALTHY

    @property
    def half_open(self) -> bool:
        """Unhealthy but of the right chain: a read may still try it when no upstream is healthy."""
        return self.state is HealthState.UNHEALTHY

    def observe_latency(self, seconds: float, alpha: float) -> None:
        previous = self.latency_ewma_s
        self.latency_ewma_s = seconds if previous is None else alpha * seconds + (1 - alpha) * previous

    def status(self) -> UpstreamStatus:
        return UpstreamStatus(
            name=self.name,
            state=self.state,
            head=self.head,
            head_lag=self.head_lag,
            in_flight=self.in_flight,
            latency_ewma_s=self.latency_ewma_s,
            consecutive_failures=self.health.failures,
            consecutive_successes=self.health.successes,
            checks=self.checks,
            checks_failed_in_a_row=self.checks_failed_in_a_row,
            requests=self.requests,
            last_error=self.last_error,
            wrong_chain_id=self.wrong_chain_id,
            transitions=tuple(self.transitions),
            weight=self.weight,
            weight_reason=self.weight_reason,
        )


@dataclass(frozen=True)
class UpstreamStatus:
    """A snapshot of one upstream, for tables, ``/health`` and tests."""

    name: str
    state: HealthState
    head: int | None
    head_lag: int | None
    in_flight: int
    latency_ewma_s: float | None
    consecutive_failures: int
    consecutive_successes: int
    checks: int
    checks_failed_in_a_row: int
    requests: int
    last_error: str | None
    wrong_chain_id: int | None
    transitions: tuple[Transition, ...]
    weight: float = 1.0
    weight_reason: str | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "state": self.state.value,
            "head": self.head,
            "head_lag": self.head_lag,
            "in_flight": self.in_flight,
            "latency_ewma_ms": None if self.latency_ewma_s is None else round(self.latency_ewma_s * 1000, 3),
            "consecutive_failures": self.consecutive_failures,
            "checks": self.checks,
            "checks_failed_in_a_row": self.checks_failed_in_a_row,
            "requests": self.requests,
            "last_error": self.last_error,
            "wrong_chain_id": self.wrong_chain_id,
            "weight": self.weight,
            "weight_reason": self.weight_reason,
        }


def reference_head(heads: Sequence[int]) -> int | None:
    """The head lag is measured against: the second-highest of `heads` when there are three or more, else
    the highest.

    Not the highest of three or more: one node ahead of the rest (or reporting a wrong, high number) would
    make every other node look behind and exclude them all. With two, the second-highest would be the
    lower head itself and no node could ever lag; the one behind is far likelier wrong (nodes fall
    behind, they seldom run ahead), so the higher head is the reference.
    """
    if not heads:
        return None
    ordered = sorted(heads, reverse=True)
    return ordered[1] if len(ordered) >= 3 else ordered[0]


def choose(candidates: Sequence[Upstream]) -> Upstream | None:
    """The least busy of `candidates`: fewest requests in flight for its weight (``(in_flight + 1) /
    weight``: at weight 1 that is plain least-connections; an upstream at weight 0.25 gets a request only
    when the others have four times its load), ties broken by the lower latency moving average (an
    upstream not measured yet counts as fastest, so it gets measured), then by list order."""
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda u: (
            (u.in_flight + 1) / u.weight,
            -1.0 if u.latency_ewma_s is None else u.latency_ewma_s,
            u.index,
        ),
    )
