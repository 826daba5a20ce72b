"""Specs of link_ops.watch.sla: partner SLIs, error budgets, multi-window burn-rate alerts and standing, on a
simulated clock (a callable the test moves; nothing reads the wall clock)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from link_ops.exceptions import ConfigurationError
from link_ops.store.partner_tables import DEFAULT_SLA
from link_ops.watch.alerts import Alert, Severity
from link_ops.watch.sla import (
    BurnRule,
    PartnerSla,
    SlaEvaluator,
    SlaSettings,
    SlaTargets,
    Standing,
    Term,
    term_state,
)

UTC = timezone.utc
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
TARGETS = SlaTargets.from_sla(DEFAULT_SLA)


@dataclass(frozen=True)
class Probe:
    at: datetime
    ok: bool
    status_code: int | None = 200
    latency_s: float | None = 0.1


def ok(at: datetime, latency: float = 0.1) -> Probe:
    return Probe(at, True, 200, latency)


def error(at: datetime) -> Probe:
    return Probe(at, False, 500, 0.05)


def timeout(at: datetime) -> Probe:
    return Probe(at, False, None, None)


def every(start: datetime, end: datetime, step: timedelta = MIN) -> list[datetime]:
    """start, start + step, … before end."""
    out = []
    at = start
    while at < end:
        out.append(at)
        at += step
    return out


class Clock:
    """A simulated clock: returns `now` until moved."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def evaluate(probes, at: datetime, benefits=(), tickets=(), **settings_values) -> PartnerSla:
    evaluator = SlaEvaluator(SlaSettings.build(**settings_values), clock=Clock(at))
    return evaluator.evaluate("cafe-seoul", 137, TARGETS, probes, benefits, tickets)


def burn(report: PartnerSla, rule: str, sli: str = "availability"):
    return next(b for b in report.burn_rates if b.rule.name == rule and b.sli == sli)


def outage(start: datetime, end: datetime, *, healthy_before: timedelta = timedelta(days=3)) -> list[Probe]:
    """A probe a minute: healthy for `healthy_before`, failing (500) from `start` to `end`, healthy after,
    up to a day after `end`."""
    return [
        error(at) if start <= at < end else ok(at)
        for at in every(start - healthy_before, end + timedelta(days=1))
    ]


# -- targets and settings ---------------------------------------------------------------------------------


def test_targets__default_sla__shares_and_deadlines():
    assert SlaTargets(0.995, 2.0, 0.005, timedelta(hours=24), timedelta(hours=4)) == TARGETS


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"availability": 100}, "availability 100 % (must be above 0 and below 100)"),
        ({"error_rate": 0}, "error_rate 0 (must be above 0 and below 1)"),
        ({"response_time_s": 0}, "response_time_s 0 (must be above 0)"),
        ({"support_response_hours": 0}, "a deadline of 0 hours"),
    ],
)
def test_targets__unmeasurable_sla__one_error_naming_the_field(change, message):
    with pytest.raises(ConfigurationError, match="the SLA cannot be measured") as info:
        SlaTargets.from_sla({**DEFAULT_SLA, **change})
    assert message in str(info.value)


def test_targets__sla_missing_a_field__says_which():
    sla = dict(DEFAULT_SLA)
    del sla["support_response_hours"]
    with pytest.raises(ConfigurationError, match="lacks 'support_response_hours'"):
        SlaTargets.from_sla(sla)


def test_settings__several_bad_values__all_reported_at_once():
    with pytest.raises(ConfigurationError) as info:
        SlaSettings.build(benefits_target=1.5, at_risk_budget_spent=0, window="soon")
    text = str(info.value)
    assert "benefits_target" in text and "at_risk_budget_spent" in text and "window" in text


def test_settings__rule_whose_short_window_is_not_shorter__refused():
    with pytest.raises(ConfigurationError, match="must be shorter than the long one"):
        SlaSettings.build(
            burn_rules=[
                {"name": "odd", "long": 300, "short": 3600, "factor": 2, "severity": "high", "action": "page"}
            ]
        )


def test_settings__rule_looking_back_past_the_window__refused():
    with pytest.raises(ConfigurationError, match="look back further than the window"):
        SlaSettings.build(window=timedelta(days=1))


def test_settings__rules_from_plain_data__durations_and_severity_names_parsed():
    built = SlaSettings.build(
        window="P7D",
        burn_rules=[
            {
                "name": "quick",
                "long": "PT1H",
                "short": 300,
                "factor": 10,
                "severity": "high",
                "action": "page",
            }
        ],
    )
    rule = built.burn_rules[0]
    assert (built.window, rule.long, rule.short, rule.severity) == (
        timedelta(days=7),
        timedelta(hours=1),
        timedelta(minutes=5),
        Severity.HIGH,
    )
    assert built.lookback == timedelta(days=7, hours=1)


def test_evaluate__naive_clock__refused():
    evaluator = SlaEvaluator(clock=lambda: datetime(2026, 1, 1))
    with pytest.raises(ConfigurationError, match="timezone-aware"):
        evaluator.evaluate("cafe-seoul", 137, TARGETS, [])


# -- SLIs and budgets -------------------------------------------------------------------------------------


def test_budget__ten_failures_in_thirty_days__spent_exactly_their_share():
    now = T0
    times = every(now - timedelta(days=30) + timedelta(minutes=10), now + MIN, timedelta(minutes=10))
    assert len(times) == 4320
    probes = [error(at) if i % 400 == 7 else ok(at) for i, at in enumerate(times)]
    report = evaluate(probes, now)
    availability = report.slis["availability"]
    assert (availability.events, availability.good) == (4320, 4309)
    budget = availability.budget
    assert budget is not None
    assert budget.bad_events == 11
    assert budget.total == pytest.approx(0.005)
    assert budget.spent == pytest.approx(11 / 4320)
    assert budget.remaining == pytest.approx(0.005 - 11 / 4320)
    assert budget.allowed_bad_events == pytest.approx(21.6)
    assert budget.spent_fraction == pytest.approx(11 / 21.6)
    assert availability.value == pytest.approx(4309 / 4320) and availability.met is True


def test_window__probes_older_than_thirty_days_or_in_the_future__not_counted():
    probes = [error(T0 - timedelta(days=30)), ok(T0 - timedelta(days=30) + MIN), error(T0 + MIN), ok(T0)]
    report = evaluate(probes, T0)
    assert (report.slis["availability"].events, report.slis["availability"].good) == (2, 2)


def test_error_rate__counts_error_answers_among_answers__timeouts_only_hurt_availability():
    probes = [ok(T0 - i * MIN) for i in range(1, 8)] + [
        error(T0),
        timeout(T0 - 9 * MIN),
        timeout(T0 - 10 * MIN),
    ]
    report = evaluate(probes, T0)
    assert report.slis["availability"].value == pytest.approx(7 / 10)
    assert report.slis["error_rate"].value == pytest.approx(1 / 8)
    assert report.slis["error_rate"].events == 8


def test_response_time__average_of_ok_answers__failed_ones_left_out():
    probes = [ok(T0 - MIN, 1.0), ok(T0 - 2 * MIN, 3.0), error(T0), timeout(T0 - 3 * MIN)]
    response = evaluate(probes, T0).slis["response_time"]
    assert response.value == pytest.approx(2.0) and response.met is True
    assert (response.events, response.good) == (2, 1)


# -- burn-rate alerts -------------------------------------------------------------------------------------


def test_fast_burn__outage_from_t0__fires_at_the_fifth_failed_minute_and_not_before():
    t0 = T0
    probes = outage(t0, t0 + timedelta(minutes=20))
    # 1 h window: 60 probes, k failed; 14.4 x 0.5 % = 7.2 % needs 5 failures (4 are 6.7 %).
    before = burn(evaluate(probes, t0 + 4 * MIN - timedelta(microseconds=1)), "fast")
    assert not before.firing and before.long_rate == pytest.approx((4 / 60) / 0.005)
    at = burn(evaluate(probes, t0 + 4 * MIN), "fast")
    assert at.firing and at.began_at == t0 + 4 * MIN
    assert at.long_rate == pytest.approx((5 / 60) / 0.005) and at.short_rate == pytest.approx(200)


def test_fast_burn__outage_ends__stops_when_the_five_minute_window_recovers():
    t0 = T0
    end = t0 + timedelta(minutes=20)
    probes = outage(t0, end)
    still = burn(evaluate(probes, end + 3 * MIN), "fast")  # the 5 min window holds one failure: 40x
    assert still.firing and still.short_rate == pytest.approx(40)
    stopped = burn(evaluate(probes, end + 4 * MIN), "fast")
    assert not stopped.firing and stopped.short_rate == 0
    assert stopped.long_rate == pytest.approx(
        (20 / 60) / 0.005
    )  # the hour still burns: the short one decides


def test_fast_burn__one_outage_over_many_ticks__one_alert_key():
    t0 = T0
    probes = outage(t0, t0 + timedelta(minutes=40))
    keys = set()
    for minute in range(4, 44):
        report = evaluate(probes, t0 + minute * MIN + timedelta(seconds=30))
        keys |= {a.key for a in report.alerts if a.rule == "sla.burn-rate.fast"}
    assert keys == {f"sla.burn-rate.fast:availability:137:cafe-seoul:{(t0 + 4 * MIN).isoformat()}"}


def test_fast_burn__second_outage_after_recovery__a_new_alert():
    t0 = T0
    first = outage(t0, t0 + timedelta(minutes=10), healthy_before=timedelta(hours=2))
    second_start = t0 + timedelta(hours=3)
    probes = [error(p.at) if second_start <= p.at < second_start + 10 * MIN else p for p in first]
    one = {a.key for a in evaluate(probes, t0 + 6 * MIN).alerts if a.rule.endswith(".fast")}
    two = {a.key for a in evaluate(probes, second_start + 6 * MIN).alerts if a.rule.endswith(".fast")}
    assert len(one) == len(two) == 1 and one != two


def test_medium_burn__outage__fires_at_the_eleventh_failed_minute():
    t0 = T0
    probes = outage(t0, t0 + timedelta(hours=1))
    # 6 h window: 360 probes; 6 x 0.5 % = 3 % needs 11 failures (10 are 2.8 %).
    assert not burn(evaluate(probes, t0 + 9 * MIN), "medium").firing
    fired = burn(evaluate(probes, t0 + 10 * MIN), "medium")
    assert fired.firing and fired.began_at == t0 + 10 * MIN


def test_slow_burn__steady_two_percent_failures__a_ticket_only():
    times = every(T0 - timedelta(days=4), T0 + MIN)
    probes = [error(at) if i % 50 == 0 else ok(at) for i, at in enumerate(times)]
    report = evaluate(probes, T0)
    assert {a.rule for a in report.alerts} == {"sla.burn-rate.slow"}
    (alert,) = report.alerts
    assert alert.severity == Severity.WARNING and alert.action == "ticket"
    assert burn(report, "slow").long_rate == pytest.approx(4.0, rel=0.02)


def test_alert__says_partner_sli_burn_rate_and_budget_left__and_is_json_ready():
    probes = outage(T0, T0 + timedelta(minutes=20))
    report = evaluate(probes, T0 + 10 * MIN)
    fast = next(a for a in report.alerts if a.rule == "sla.burn-rate.fast")
    assert fast.source == "sla" and fast.severity == Severity.HIGH and fast.action == "page"
    assert fast.subject == "cafe-seoul" and fast.chain_id == 137 and fast.at == T0 + 10 * MIN
    assert "partner cafe-seoul on chain 137: availability is burning its error budget 36.7x over 1 h" in (
        fast.summary
    )
    left = report.slis["availability"].budget.remaining_fraction
    assert f"{left:.0%} of its 30 d error budget left" in fast.summary
    assert Alert.from_json(json.loads(json.dumps(fast.to_json()))) == fast


def test_burn__error_rate_watched_when_configured__its_own_alert():
    probes = outage(T0, T0 + timedelta(minutes=20))
    report = evaluate(probes, T0 + 10 * MIN, burn_slis=["availability", "error_rate"])
    assert {(a.rule, a.values["sli"]) for a in report.alerts if a.rule.endswith("fast")} == {
        ("sla.burn-rate.fast", "availability"),
        ("sla.burn-rate.fast", "error_rate"),
    }


def test_burn__no_probes__no_rate_no_alert():
    report = evaluate([], T0)
    assert all(b.long_rate is None and not b.firing for b in report.burn_rates)
    assert report.alerts == () and report.standing == Standing.NO_DATA


# -- process terms ----------------------------------------------------------------------------------------

DAY = timedelta(hours=24)


@pytest.mark.parametrize(
    ("done_after", "now_after", "state"),
    [
        (timedelta(hours=23), timedelta(hours=30), "kept"),
        (DAY, timedelta(hours=30), "kept"),  # exactly at the deadline is within it
        (timedelta(hours=25), timedelta(hours=30), "missed"),
        (None, timedelta(hours=25), "missed"),  # still open past the deadline
        (None, timedelta(hours=23), "pending"),  # still open within it: not counted yet
        (timedelta(hours=2), timedelta(hours=1), "pending"),  # done after "now": not known yet
    ],
)
def test_term_state__benefit_deadline(done_after, now_after, state):
    term = Term(T0, None if done_after is None else T0 + done_after)
    assert term_state(term, DAY, T0 + now_after)[0] == state


def test_benefits__kept_late_open_and_pending__share_of_decided_ones():
    now = T0 + timedelta(days=2)
    benefits = [
        Term(T0, T0 + timedelta(hours=3)),  # kept
        Term(T0, T0 + timedelta(hours=30)),  # late: missed
        Term(T0, None),  # open past the deadline: missed
        Term(now - timedelta(hours=2), None),  # open within the deadline: pending
    ]
    sli = evaluate([], now, benefits=benefits).slis["benefits"]
    assert (sli.events, sli.good, sli.pending) == (3, 1, 1)
    assert sli.value == pytest.approx(1 / 3) and sli.met is False


def test_support__four_hour_deadline__late_answer_missed():
    now = T0 + timedelta(hours=10)
    tickets = [Term(T0, T0 + timedelta(hours=3, minutes=59)), Term(T0, T0 + timedelta(hours=4, minutes=1))]
    sli = evaluate([], now, tickets=tickets).slis["support"]
    assert (sli.events, sli.good) == (2, 1)


def test_process__term_decided_before_the_window__not_counted():
    now = T0 + timedelta(days=40)
    tickets = [Term(T0, None), Term(now - timedelta(hours=5), now - timedelta(hours=4, minutes=30))]
    sli = evaluate([], now, tickets=tickets).slis["support"]
    assert (sli.events, sli.good) == (1, 1)


# -- standing ---------------------------------------------------------------------------------------------


def healthy(now: datetime, latency: float = 0.1) -> list[Probe]:
    return [ok(at, latency) for at in every(now - timedelta(days=2), now + MIN, timedelta(minutes=5))]


def test_standing__healthy_partner__meeting():
    report = evaluate(healthy(T0), T0, tickets=[Term(T0 - timedelta(hours=6), T0 - timedelta(hours=5))])
    assert report.standing == Standing.MEETING and report.reasons == ()


def test_standing__availability_under_target__breached_with_the_numbers():
    probes = [error(p.at) if i % 100 == 0 else p for i, p in enumerate(healthy(T0))]
    report = evaluate(probes, T0)
    assert report.standing == Standing.BREACHED
    assert report.reasons == (
        "availability 98.96 % misses its target 99.50 %",
        "error rate 1.04 % misses its target 0.50 %",
    )


def test_standing__most_of_the_budget_spent_but_target_met__at_risk():
    probes = healthy(T0)  # 577 probes: 2 failures are 0.35 %, 69 % of the budget
    probes = [error(p.at) if i in (10, 20) else p for i, p in enumerate(probes)]
    report = evaluate(probes, T0)
    assert report.slis["availability"].met is True
    assert report.standing == Standing.AT_RISK
    assert any("of the error budget spent" in r for r in report.reasons)


def test_standing__slow_answers_near_the_target__at_risk_then_breached():
    assert evaluate(healthy(T0, latency=1.7), T0).standing == Standing.AT_RISK
    assert evaluate(healthy(T0, latency=2.5), T0).standing == Standing.BREACHED


def test_standing__firing_burn__at_risk_even_within_budget():
    times = every(T0 - timedelta(days=2), T0 + MIN)
    probes = [timeout(at) if at > T0 - 5 * MIN else ok(at) for at in times]  # the last 5 minutes fail
    report = evaluate(probes, T0)
    assert report.slis["availability"].budget.spent_fraction < 0.5
    assert report.standing == Standing.AT_RISK
    assert report.reasons == (f"availability burning {(5 / 60) / 0.005:.1f}x over 1 h (fast burn)",)


def test_report__to_json__is_plain_json():
    report = evaluate(outage(T0, T0 + 20 * MIN), T0 + 10 * MIN)
    data = json.loads(json.dumps(report.to_json()))
    assert data["standing"] == "at-risk" and data["slis"]["availability"]["budget"]["bad_events"] == 11
    assert {b["rule"] for b in data["burn_rates"]} == {"fast", "medium", "slow"}


# -- properties -------------------------------------------------------------------------------------------

outcomes = st.lists(st.sampled_from(["ok", "error", "timeout"]), min_size=1, max_size=300)


def probes_of(kinds: list[str]) -> list[Probe]:
    make = {"ok": ok, "error": error, "timeout": timeout}
    return [make[kind](T0 - i * MIN) for i, kind in enumerate(kinds)]


@given(outcomes)
@settings(max_examples=150, deadline=None)
def test_property__budget_remaining_plus_spent_is_total__shares_in_range(kinds):
    report = evaluate(probes_of(kinds), T0)
    for name in ("availability", "error_rate"):
        sli = report.slis[name]
        if sli.budget is None:
            assert sli.value is None
            continue
        assert sli.budget.remaining + sli.budget.spent == pytest.approx(sli.budget.total)
        assert sli.budget.bad_events == sli.events - sli.good
        assert 0 <= sli.value <= 1
    availability = report.slis["availability"]
    assert availability.value == pytest.approx(kinds.count("ok") / len(kinds))


@given(outcomes)
@settings(max_examples=150, deadline=None)
def test_property__an_alert_fires_only_when_both_windows_burn_past_the_factor(kinds):
    report = evaluate(probes_of(kinds), T0)
    for rate in report.burn_rates:
        both = (
            rate.long_rate is not None
            and rate.short_rate is not None
            and min(rate.long_rate, rate.short_rate) >= rate.rule.factor
        )
        assert rate.firing == both
        assert rate.began_at is None or rate.began_at <= T0
    assert len(report.alerts) == sum(r.firing for r in report.burn_rates)


@given(outcomes, st.integers(min_value=0, max_value=299))
@settings(max_examples=100, deadline=None)
def test_property__one_more_failure_never_raises_availability(kinds, index):
    index %= len(kinds)
    worse = [*kinds]
    worse[index] = "timeout"
    before = evaluate(probes_of(kinds), T0).slis["availability"].value
    after = evaluate(probes_of(worse), T0).slis["availability"].value
    assert after <= before


def test_burn_rule__bad_name__refused():
    with pytest.raises(ValueError, match="name"):
        BurnRule(name="Fast Burn", long=3600, short=300, factor=14.4, severity=Severity.HIGH, action="page")
