"""Partner SLAs: the service level indicators of a partner over a rolling window, its error budgets, the
multi-window burn-rate alerts and its standing.

A partner promises (its monitoring record's SLA, :data:`link_ops.store.partner_tables.DEFAULT_SLA`)
availability 99.5 %, responses within 2 s on average, errors below 0.5 %, granted benefits applied within
24 h and a first answer to a support ticket within 4 h. Over the last 30 days (:attr:`SlaSettings.window`):

- **availability**: the share of probes answered OK (2xx within the probe's timeout);
- **response time**: the average latency of the probes answered OK (a slow partner that answers);
- **error rate**: the share of *answered* probes whose answer was an error (non-2xx). An unreachable
  partner is unavailable; a reachable one that answers errors is erring: each SLI says one thing;
- **benefits** and **support**: the share of process terms kept. A term (a granted benefit, an opened
  ticket) is *kept* when done within its deadline, *missed* when its deadline passed first (done late, or
  still open); one still open within its deadline is not counted yet. A term counts in the window in which
  it was decided: when it was done, or at its deadline.

Each ratio SLI has an **error budget**: a 99.5 % target allows 0.5 % bad events. The **burn rate** over a
window is the share of bad events there divided by that allowance: 1 spends the budget exactly over the
SLO window, 14.4 spends 2 % of a 30-day budget in one hour. As in the Google SRE workbook (chapter 5,
"Alerting on SLOs"), a rule fires only when both a long and a short window burn at or above its factor:
the long one proves the burn is significant, the short one that it is still going on (so the alert stops
soon after the partner recovers). Each firing is an :class:`~link_ops.watch.alerts.Alert` whose key names
the rule, the SLI, the chain, the partner and the moment the burn began, so a burn that goes on for many
ticks is one alert.

Pure: no ape, web3, network or database. Time comes from an injected clock; arithmetic on times is done in
whole microseconds, so window edges are exact.
"""

from __future__ import annotations

import bisect
import enum
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from link_ops.exceptions import ConfigurationError, validation_problems
from link_ops.watch.alerts import Alert, Severity

#: A clock: returns the current time, timezone-aware (UTC).
Clock = Callable[[], datetime]

#: The SLIs, in report order.
SLIS: tuple[str, ...] = ("availability", "response_time", "error_rate", "benefits", "support")

#: The SLIs measured from probes, which burn-rate rules may watch.
PROBE_SLIS: tuple[str, ...] = ("availability", "error_rate")

SLI_LABELS: Mapping[str, str] = {
    "availability": "availability",
    "response_time": "average response time",
    "error_rate": "error rate",
    "benefits": "benefits applied within the deadline",
    "support": "first support responses within the deadline",
}

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_US = timedelta(microseconds=1)


def utc_clock() -> datetime:
    """The wall clock, in UTC: the default clock of the library's callers (never read by the arithmetic)."""
    return datetime.now(timezone.utc)


def _us(when: datetime) -> int:
    return (when - _EPOCH) // _US


def _at(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def now_from(clock: Clock) -> datetime:
    """The time `clock` says, checked to be timezone-aware, in UTC."""
    now = clock()
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise ConfigurationError(
            f"the clock returned {now!r}: a clock must return a timezone-aware datetime (UTC)"
        )
    return now.astimezone(timezone.utc)


# -- settings -------------------------------------------------------------------------------------------


class Standing(str, enum.Enum):
    """Where a partner stands against its SLA over the window."""

    MEETING = "meeting"
    AT_RISK = "at-risk"
    BREACHED = "breached"
    #: No probe and no decided process term in the window: nothing to judge yet.
    NO_DATA = "no-data"


class BurnRule(BaseModel):
    """One multi-window burn-rate rule: fires when the burn rate over `long` AND over `short` are both at
    least `factor`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: A short stable name; the alert's rule is ``sla.burn-rate.<name>``.
    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    long: timedelta
    short: timedelta
    factor: float = Field(gt=0)
    severity: Severity
    #: What the alert asks for: ``page`` someone now, or open a ``ticket``.
    action: Literal["page", "ticket"]

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, value: Any) -> Any:
        return Severity.parse(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _windows(self) -> BurnRule:
        if self.short <= timedelta(0) or self.long <= timedelta(0):
            raise ValueError("both windows must be longer than zero")
        if self.short >= self.long:
            raise ValueError(
                f"the short window ({self.short}) must be shorter than the long one ({self.long})"
            )
        return self


#: The SRE workbook's three rules for a 30-day window: 2 % of the budget in 1 h, 5 % in 6 h (both page),
#: 10 % in 3 days (a ticket).
DEFAULT_BURN_RULES: tuple[BurnRule, ...] = (
    BurnRule(
        name="fast",
        long=timedelta(hours=1),
        short=timedelta(minutes=5),
        factor=14.4,
        severity=Severity.HIGH,
        action="page",
    ),
    BurnRule(
        name="medium",
        long=timedelta(hours=6),
        short=timedelta(minutes=30),
        factor=6.0,
        severity=Severity.HIGH,
        action="page",
    ),
    BurnRule(
        name="slow",
        long=timedelta(days=3),
        short=timedelta(hours=6),
        factor=1.0,
        severity=Severity.WARNING,
        action="ticket",
    ),
)


class SlaSettings(BaseModel):
    """How partner SLAs are measured. Build it with :meth:`build` to get every bad value reported at once
    in one :class:`~link_ops.exceptions.ConfigurationError`.

    Durations are ``timedelta`` values, seconds, or ISO 8601 durations (``"PT1H"``, ``"P30D"``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The rolling window the SLIs and budgets cover.
    window: timedelta = timedelta(days=30)
    #: The burn-rate rules; every long window must fit in :attr:`window`.
    burn_rules: tuple[BurnRule, ...] = DEFAULT_BURN_RULES
    #: The SLIs the burn-rate rules watch. Availability alone by default: every error answer is also an
    #: availability miss, so one outage raises one alert, not two.
    burn_slis: tuple[Literal["availability", "error_rate"], ...] = ("availability",)
    #: The share of benefits that must be applied within the SLA's deadline.
    benefits_target: float = Field(default=0.99, gt=0, lt=1)
    #: The share of support tickets that must get a first response within the SLA's deadline.
    support_target: float = Field(default=0.99, gt=0, lt=1)
    #: A partner is at risk once this share of any error budget is spent.
    at_risk_budget_spent: float = Field(default=0.5, gt=0, le=1)
    #: A partner is at risk once its average response time reaches this share of the target.
    at_risk_response_share: float = Field(default=0.8, gt=0, le=1)

    @model_validator(mode="after")
    def _fits(self) -> SlaSettings:
        if self.window <= timedelta(0):
            raise ValueError("the window must be longer than zero")
        too_long = [r.name for r in self.burn_rules if r.long > self.window]
        if too_long:
            raise ValueError(f"burn rule(s) {', '.join(too_long)} look back further than the window")
        names = [r.name for r in self.burn_rules]
        if len(set(names)) != len(names):
            raise ValueError(f"burn rule names must be unique, got {', '.join(names)}")
        return self

    @classmethod
    def build(cls, **values: Any) -> SlaSettings:
        """Settings from keyword values; raises :class:`ConfigurationError` naming every bad one."""
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = validation_problems(exc, with_input=True)
            raise ConfigurationError(
                "invalid SLA settings: " + "; ".join(problems) + ". Fix these values (see SlaSettings)."
            ) from None

    @property
    def lookback(self) -> timedelta:
        """How far back probes are needed: the window, plus the longest rule window (to tell when a burn at
        the window's start began)."""
        return self.window + max((r.long for r in self.burn_rules), default=timedelta(0))


@dataclass(frozen=True)
class SlaTargets:
    """A partner's SLA, as shares and durations."""

    #: Share of probes that must be answered OK (0.995).
    availability: float
    #: Seconds the average answer may take.
    response_time_s: float
    #: Share of answers that may be errors (0.005).
    error_rate: float
    benefit_deadline: timedelta
    support_deadline: timedelta

    @classmethod
    def from_sla(cls, sla: Mapping[str, float]) -> SlaTargets:
        """The targets of a monitoring record's SLA (availability in percent, hours for the deadlines);
        raises :class:`ConfigurationError` for a target that leaves no budget or is not a number."""
        try:
            availability = float(sla["availability"]) / 100
            targets = cls(
                availability=availability,
                response_time_s=float(sla["response_time_s"]),
                error_rate=float(sla["error_rate"]),
                benefit_deadline=timedelta(hours=float(sla["benefit_apply_hours"])),
                support_deadline=timedelta(hours=float(sla["support_response_hours"])),
            )
        except KeyError as exc:
            raise ConfigurationError(
                f"the SLA lacks {exc.args[0]!r}: it needs every field of DEFAULT_SLA"
            ) from None
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"the SLA holds a value that is not a number ({exc})") from None
        problems = []
        if not 0 < targets.availability < 1:
            problems.append(f"availability {availability * 100:g} % (must be above 0 and below 100)")
        if not 0 < targets.error_rate < 1:
            problems.append(f"error_rate {targets.error_rate:g} (must be above 0 and below 1)")
        if targets.response_time_s <= 0:
            problems.append(f"response_time_s {targets.response_time_s:g} (must be above 0)")
        if targets.benefit_deadline <= timedelta(0) or targets.support_deadline <= timedelta(0):
            problems.append("a deadline of 0 hours (must be above 0)")
        if problems:
            raise ConfigurationError(
                "the SLA cannot be measured: " + "; ".join(problems) + ". A 100 % target leaves no error "
                "budget: set the partner's SLA to measurable targets."
            )
        return targets


# -- inputs ---------------------------------------------------------------------------------------------


class ProbeLike(Protocol):
    """What the arithmetic reads of a probe (the store's ``ProbeRecord`` is one)."""

    @property
    def at(self) -> datetime: ...

    @property
    def ok(self) -> bool: ...

    @property
    def status_code(self) -> int | None: ...

    @property
    def latency_s(self) -> float | None: ...


@dataclass(frozen=True)
class Term:
    """A process term: something started at `started_at` (a benefit granted, a ticket opened) that must be
    done (applied, answered) within the SLA's deadline; `done_at` is None while it is not."""

    started_at: datetime
    done_at: datetime | None = None


TermState = Literal["kept", "missed", "pending"]


def term_state(term: Term, deadline: timedelta, now: datetime) -> tuple[TermState, datetime | None]:
    """Whether `term` was kept, missed or is still pending at `now`, and when that was decided (None while
    pending). Done after `now` counts as not done yet: the arithmetic never looks into the future."""
    due = term.started_at + deadline
    done = term.done_at if term.done_at is not None and term.done_at <= now else None
    if done is not None and done <= due:
        return "kept", done
    if now >= due:
        return "missed", due
    return "pending", None


# -- results --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorBudget:
    """The error budget of a ratio SLI over the window, as shares of events and as event counts.

    `total` is the share of events allowed to be bad (1 - target), `spent` the share that was; `remaining`
    is what is left (negative once overspent).
    """

    total: float
    spent: float
    events: int
    bad_events: int

    @property
    def remaining(self) -> float:
        return self.total - self.spent

    @property
    def allowed_bad_events(self) -> float:
        """How many of the window's events could have been bad."""
        return self.total * self.events

    @property
    def spent_fraction(self) -> float:
        """The share of the budget spent (1.0: all of it; above: overspent)."""
        return self.spent / self.total

    @property
    def remaining_fraction(self) -> float:
        return 1.0 - self.spent_fraction

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "spent": self.spent,
            "remaining": self.remaining,
            "spent_fraction": self.spent_fraction,
            "events": self.events,
            "bad_events": self.bad_events,
            "allowed_bad_events": self.allowed_bad_events,
        }


@dataclass(frozen=True)
class SliResult:
    """One SLI over the window beside its target.

    `value` is None when the window holds nothing to measure; `met` then is None too. `good` of `events`
    were good (for the response time: `events` answered probes, `good` those within the target).
    """

    name: str
    value: float | None
    target: float
    #: True when a higher value is better (availability, shares); False for response time and errors.
    higher_is_better: bool
    events: int
    good: int
    budget: ErrorBudget | None
    #: Process terms still open within their deadline (not counted yet); 0 for probe SLIs.
    pending: int = 0

    @property
    def label(self) -> str:
        return SLI_LABELS[self.name]

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "target": self.target,
            "met": self.met,
            "events": self.events,
            "good": self.good,
            "pending": self.pending,
            "budget": None if self.budget is None else self.budget.to_json(),
        }


@dataclass(frozen=True)
class BurnRate:
    """The burn rates of one rule on one SLI at the time of the report; a rate is None when its window
    holds no probe. `began_at` is when the current firing began (None when not firing)."""

    rule: BurnRule
    sli: str
    long_rate: float | None
    short_rate: float | None
    began_at: datetime | None

    @property
    def firing(self) -> bool:
        return self.began_at is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule.name,
            "sli": self.sli,
            "long_window_s": self.rule.long.total_seconds(),
            "short_window_s": self.rule.short.total_seconds(),
            "factor": self.rule.factor,
            "long_rate": self.long_rate,
            "short_rate": self.short_rate,
            "firing": self.firing,
            "began_at": None if self.began_at is None else self.began_at.isoformat(),
        }


@dataclass(frozen=True)
class PartnerSla:
    """A partner's SLA on one chain at `at`: each SLI beside its target, the burn rates, the alerts that
    fire, and the standing with the reasons for it."""

    partner_id: str
    chain_id: int
    at: datetime
    window: timedelta
    targets: SlaTargets
    slis: Mapping[str, SliResult]
    burn_rates: tuple[BurnRate, ...]
    alerts: tuple[Alert, ...]
    standing: Standing
    reasons: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "partner_id": self.partner_id,
            "chain_id": self.chain_id,
            "at": self.at.isoformat(),
            "window_s": self.window.total_seconds(),
            "standing": self.standing.value,
            "reasons": list(self.reasons),
            "slis": {name: sli.to_json() for name, sli in self.slis.items()},
            "burn_rates": [b.to_json() for b in self.burn_rates],
            "alerts": [a.to_json() for a in self.alerts],
        }


# -- the arithmetic -------------------------------------------------------------------------------------


class _Series:
    """Probes as sorted times (µs) with running counts, so that any window's counts are two bisections."""

    def __init__(self, probes: Sequence[ProbeLike], until_us: int) -> None:
        rows = sorted(
            ((_us(p.at), p) for p in probes if _us(p.at) <= until_us),
            key=lambda row: row[0],
        )
        self.times = [t for t, _ in rows]
        # Running totals, one longer than the probes: [i] is the total over probes[:i].
        self.not_ok = [0]
        self.answered = [0]
        self.error_answers = [0]
        for _, probe in rows:
            answered = probe.status_code is not None
            self.not_ok.append(self.not_ok[-1] + (not probe.ok))
            self.answered.append(self.answered[-1] + answered)
            self.error_answers.append(self.error_answers[-1] + (answered and not probe.ok))

    def span(self, start_us: int, end_us: int) -> tuple[int, int]:
        """Indices of the probes in the window (start, end]."""
        return bisect.bisect_right(self.times, start_us), bisect.bisect_right(self.times, end_us)

    def bad_share(self, sli: str, start_us: int, end_us: int) -> tuple[int, int]:
        """(bad events, events) of `sli` in (start, end]."""
        lo, hi = self.span(start_us, end_us)
        if sli == "availability":
            return self.not_ok[hi] - self.not_ok[lo], hi - lo
        return self.error_answers[hi] - self.error_answers[lo], self.answered[hi] - self.answered[lo]


def burn_rate(bad: int, events: int, allowed: float) -> float | None:
    """The burn rate of `bad` of `events` against an allowed bad share; None for no events."""
    if events == 0:
        return None
    return (bad / events) / allowed


class SlaEvaluator:
    """Measures partners against their SLAs; the time comes from `clock` (a callable returning an aware
    datetime), read once per evaluation."""

    def __init__(self, settings: SlaSettings | None = None, *, clock: Clock = utc_clock) -> None:
        self.settings = settings or SlaSettings()
        self.clock = clock

    def evaluate(
        self,
        partner_id: str,
        chain_id: int,
        targets: SlaTargets,
        probes: Sequence[ProbeLike],
        benefits: Sequence[Term] = (),
        tickets: Sequence[Term] = (),
    ) -> PartnerSla:
        """The partner's SLA now, from its probes (all endpoints together; those older than
        :attr:`SlaSettings.lookback` do not matter) and process terms."""
        now = now_from(self.clock)
        settings = self.settings
        now_us = _us(now)
        start_us = now_us - settings.window // _US
        since = _at(start_us)
        series = _Series(probes, now_us)
        slis = {
            "availability": self._availability(series, start_us, now_us, targets),
            "response_time": self._response_time(probes, start_us, now_us, targets),
            "error_rate": self._error_rate(series, start_us, now_us, targets),
            "benefits": _process_sli(
                "benefits", benefits, targets.benefit_deadline, settings.benefits_target, now, since
            ),
            "support": _process_sli(
                "support", tickets, targets.support_deadline, settings.support_target, now, since
            ),
        }
        allowed = {"availability": 1 - targets.availability, "error_rate": targets.error_rate}
        rates = tuple(
            self._burn(series, rule, sli, allowed[sli], now_us, start_us)
            for sli in settings.burn_slis
            for rule in settings.burn_rules
        )
        alerts = tuple(
            _alert(partner_id, chain_id, b, slis[b.sli], now, settings.window) for b in rates if b.firing
        )
        standing, reasons = self._standing(slis, rates, targets)
        return PartnerSla(
            partner_id=partner_id,
            chain_id=chain_id,
            at=now,
            window=settings.window,
            targets=targets,
            slis=slis,
            burn_rates=rates,
            alerts=alerts,
            standing=standing,
            reasons=tuple(reasons),
        )

    # -- the SLIs

    @staticmethod
    def _availability(series: _Series, start_us: int, now_us: int, targets: SlaTargets) -> SliResult:
        bad, events = series.bad_share("availability", start_us, now_us)
        return SliResult(
            name="availability",
            value=None if events == 0 else (events - bad) / events,
            target=targets.availability,
            higher_is_better=True,
            events=events,
            good=events - bad,
            budget=None if events == 0 else ErrorBudget(1 - targets.availability, bad / events, events, bad),
        )

    @staticmethod
    def _error_rate(series: _Series, start_us: int, now_us: int, targets: SlaTargets) -> SliResult:
        bad, events = series.bad_share("error_rate", start_us, now_us)
        return SliResult(
            name="error_rate",
            value=None if events == 0 else bad / events,
            target=targets.error_rate,
            higher_is_better=False,
            events=events,
            good=events - bad,
            budget=None if events == 0 else ErrorBudget(targets.error_rate, bad / events, events, bad),
        )

    @staticmethod
    def _response_time(
        probes: Sequence[ProbeLike], start_us: int, now_us: int, targets: SlaTargets
    ) -> SliResult:
        latencies = [
            p.latency_s for p in probes if p.ok and p.latency_s is not None and start_us < _us(p.at) <= now_us
        ]
        return SliResult(
            name="response_time",
            value=math.fsum(latencies) / len(latencies) if latencies else None,
            target=targets.response_time_s,
            higher_is_better=False,
            events=len(latencies),
            good=sum(latency <= targets.response_time_s for latency in latencies),
            budget=None,
        )

    # -- burn rates

    def _burn(
        self, series: _Series, rule: BurnRule, sli: str, allowed: float, now_us: int, start_us: int
    ) -> BurnRate:
        long_us, short_us = rule.long // _US, rule.short // _US

        def rates(at_us: int) -> tuple[float | None, float | None]:
            return (
                burn_rate(*series.bad_share(sli, at_us - long_us, at_us), allowed),
                burn_rate(*series.bad_share(sli, at_us - short_us, at_us), allowed),
            )

        def firing(at_us: int) -> bool:
            long_rate, short_rate = rates(at_us)
            return (
                long_rate is not None
                and short_rate is not None
                and long_rate >= rule.factor
                and short_rate >= rule.factor
            )

        long_rate, short_rate = rates(now_us)
        if not firing(now_us):
            return BurnRate(rule, sli, long_rate, short_rate, None)
        # The windows' contents change only when a probe enters them (at its time) or leaves one (its time
        # plus the window), so the condition is constant between those moments: walk them back from now to
        # the last moment it did not hold. The firing began at the moment after it.
        lo = bisect.bisect_right(series.times, start_us - long_us)
        moments = sorted(
            {m for t in series.times[lo:] for m in (t, t + short_us, t + long_us) if start_us <= m <= now_us},
            reverse=True,
        )
        began = moments[0]  # not empty: the probes that make the short window burn entered it in the window
        for moment in moments[1:]:
            if not firing(moment):
                break
            began = moment
        else:
            if firing(start_us):
                # Firing since before the window: keyed from the window's start, to the day, so a burn
                # longer than the window is still at most one alert a day.
                day = 86_400_000_000
                began = (start_us // day) * day
        return BurnRate(rule, sli, long_rate, short_rate, _at(began))

    # -- standing

    def _standing(
        self, slis: Mapping[str, SliResult], rates: Sequence[BurnRate], targets: SlaTargets
    ) -> tuple[Standing, list[str]]:
        if all(s.value is None for s in slis.values()):
            return Standing.NO_DATA, ["nothing measured in the window yet (no probe, no decided term)"]
        breached = [
            f"{s.label} {_show(s.name, s.value)} misses its target {_show(s.name, s.target)}"
            for s in slis.values()
            if s.met is False
        ]
        if breached:
            return Standing.BREACHED, breached
        risks = [
            f"{b.sli.replace('_', ' ')} burning {b.long_rate:.1f}x over {duration_text(b.rule.long)} "
            f"({b.rule.name} burn)"
            for b in rates
            if b.firing and b.long_rate is not None
        ]
        for s in slis.values():
            if s.budget is not None and s.budget.spent_fraction >= self.settings.at_risk_budget_spent:
                risks.append(f"{s.label}: {s.budget.spent_fraction:.0%} of the error budget spent")
        response = slis["response_time"]
        if (
            response.value is not None
            and response.value >= self.settings.at_risk_response_share * targets.response_time_s
        ):
            risks.append(
                f"average response time {response.value:.2f} s is close to its target "
                f"{targets.response_time_s:g} s"
            )
        if risks:
            return Standing.AT_RISK, risks
        return Standing.MEETING, []


def _process_sli(
    name: str, terms: Sequence[Term], deadline: timedelta, target: float, now: datetime, since: datetime
) -> SliResult:
    """The share of `terms` decided in (since, now] that were kept."""
    kept = missed = pending = 0
    for term in terms:
        state, decided_at = term_state(term, deadline, now)
        if state == "pending":
            pending += 1
        elif decided_at is not None and decided_at > since:
            kept += state == "kept"
            missed += state == "missed"
    decided = kept + missed
    return SliResult(
        name=name,
        value=None if decided == 0 else kept / decided,
        target=target,
        higher_is_better=True,
        events=decided,
        good=kept,
        budget=None if decided == 0 else ErrorBudget(1 - target, missed / decided, decided, missed),
        pending=pending,
    )


def duration_text(delta: timedelta) -> str:
    """`delta` in its largest whole unit, for people: ``1 h``, ``5 min``, ``30 d``."""
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def _show(name: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    if name == "response_time":
        return f"{value:.2f} s"
    return f"{value * 100:.2f} %"


def _alert(
    partner_id: str, chain_id: int, burn: BurnRate, sli: SliResult, now: datetime, window: timedelta
) -> Alert:
    rule = burn.rule
    began = burn.began_at or now
    left = None if sli.budget is None else sli.budget.remaining_fraction
    left_text = (
        "no budget figure"
        if left is None
        else f"{max(left, 0.0):.0%} of its {duration_text(window)} error budget left"
    )
    if left is not None and left < 0:
        left_text = f"its {duration_text(window)} error budget overspent ({-left:.0%} over)"
    what = "page the on-call" if rule.action == "page" else "open a ticket"
    summary = (
        f"partner {partner_id} on chain {chain_id}: {sli.label} is burning its error budget "
        f"{burn.long_rate or 0:.1f}x over {duration_text(rule.long)} and {burn.short_rate or 0:.1f}x over "
        f"{duration_text(rule.short)} (threshold {rule.factor:g}x, {rule.name} burn since "
        f"{began:%Y-%m-%d %H:%M} UTC), "
        f"{left_text}: {what} and check its endpoints (`ape run partner_sla --partner {partner_id}`)"
    )
    return Alert(
        rule=f"sla.burn-rate.{rule.name}",
        source="sla",
        severity=rule.severity,
        summary=summary,
        key=f"sla.burn-rate.{rule.name}:{burn.sli}:{chain_id}:{partner_id}:{began.isoformat()}",
        chain_id=chain_id,
        subject=partner_id,
        values={
            "partner_id": partner_id,
            "sli": burn.sli,
            "burn_rate_long": burn.long_rate,
            "burn_rate_short": burn.short_rate,
            "long_window_s": rule.long.total_seconds(),
            "short_window_s": rule.short.total_seconds(),
            "factor": rule.factor,
            "budget_remaining_fraction": left,
            "began_at": began.isoformat(),
        },
        action=rule.action,
        at=now,
    )
