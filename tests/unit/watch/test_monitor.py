"""The PerformanceMonitor's arithmetic and actions: real RpcPool objects whose metrics are fed as the pool
feeds them (no node needed), on a simulated clock."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Histogram
from pydantic import ValidationError

from link_ops.rpc import RpcPool
from link_ops.rpc.upstream import HealthState
from link_ops.watch.alerts import Severity
from link_ops.watch.monitor import (
    HTTP_LATENCY_METRIC,
    HistogramReading,
    MonitorSettings,
    PerformanceMonitor,
    read_histograms,
)

A, B = "http://127.0.0.1:1001", "http://127.0.0.1:1002"
START = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 60) -> None:
        self.now += timedelta(seconds=seconds)


def make_pool() -> RpcPool:
    pool = RpcPool(137, [A, B])
    for upstream in pool._upstreams:  # as if checked: both healthy
        upstream.chain_verified = True
    return pool


def traffic(pool: RpcPool, name: str, *, requests: int, seconds: float, errors: int = 0) -> None:
    """What the pool records for `requests` attempts on `name` taking `seconds` each, `errors` of them
    failing at the transport."""
    for i in range(requests):
        pool.metrics.request(name, "eth_call")
        pool.metrics.observe(name, seconds)
        if i < errors:
            pool.metrics.error(name, "transport")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def pool() -> RpcPool:
    return make_pool()


def names(pool: RpcPool) -> tuple[str, str]:
    a, b = pool.names
    return a, b


# -- histogram windows ---------------------------------------------------------------------------------------


def test_quantile__interpolated_within_its_bucket_like_prometheus():
    reading = HistogramReading(((0.1, 50.0), (0.2, 90.0), (0.5, 100.0), (math.inf, 100.0)), 100.0, 12.0)

    assert reading.quantile(0.5) == pytest.approx(0.1)  # the 50th observation closes the first bucket
    assert reading.quantile(0.7) == pytest.approx(0.15)  # halfway through the (0.1, 0.2] bucket
    assert reading.quantile(0.95) == pytest.approx(0.35)
    assert reading.mean == pytest.approx(0.12)


def test_quantile__in_the_infinite_bucket__the_highest_finite_bound():
    reading = HistogramReading(((0.1, 1.0), (math.inf, 10.0)), 10.0, 100.0)
    assert reading.quantile(0.99) == 0.1


def test_quantile__without_observations__none():
    assert HistogramReading(((0.1, 0.0), (math.inf, 0.0)), 0.0, 0.0).quantile(0.95) is None


@given(
    st.lists(st.floats(min_value=0.0001, max_value=50.0), min_size=1, max_size=200),
    st.floats(min_value=0.01, max_value=1.0),
    st.floats(min_value=0.01, max_value=1.0),
)
def test_quantile__monotonic_in_q_and_within_the_bucket_bounds(observations, q1, q2):
    registry = CollectorRegistry()
    histogram = Histogram("h", "h", buckets=(0.001, 0.01, 0.1, 1.0, 10.0), registry=registry)
    for seconds in observations:
        histogram.observe(seconds)
    reading = read_histograms([registry], "h", ())[()]
    low, high = sorted((q1, q2))
    assert reading.quantile(low) <= reading.quantile(high)
    assert 0 <= reading.quantile(high) <= 10.0
    assert reading.count == len(observations)


def test_window__is_what_was_observed_since_the_last_reading():
    registry = CollectorRegistry()
    histogram = Histogram("h", "h", buckets=(0.1, 1.0), registry=registry)
    for _ in range(10):
        histogram.observe(0.05)
    first = read_histograms([registry], "h", ())[()]
    for _ in range(4):
        histogram.observe(0.5)
    window = read_histograms([registry], "h", ()).get(())
    assert window is not None
    since = window.minus(first)
    assert since.count == 4 and since.quantile(0.5) > 0.1  # the fast earlier calls are not in the window


# -- response time -------------------------------------------------------------------------------------------


def test_a_slow_upstream_with_a_fast_sibling__weight_shifted_once_per_episode_then_restored(pool, clock):
    a, b = names(pool)
    monitor = PerformanceMonitor([pool], clock=clock)
    monitor.tick()  # the baseline reading
    clock.advance()
    traffic(pool, a, requests=50, seconds=0.6)
    traffic(pool, b, requests=50, seconds=0.01)

    report = monitor.tick()

    [alert] = report.alerts
    assert alert.rule == "performance.response-time" and alert.action == "shift-weight"
    assert alert.severity is Severity.WARNING and alert.subject == f"polygon/{a}"
    assert "p95" in alert.summary and "above 200 ms" in alert.summary
    assert alert.values["threshold_ms"] == 200 and alert.values["p95_ms"] > 200
    weights = {s.name: s.weight for s in pool.status()}
    assert weights == {a: 0.25, b: 1.0}
    assert report.actions == (f"shifted traffic away from polygon/{a}: it takes 0.25 of a share",)

    clock.advance()
    traffic(pool, a, requests=50, seconds=0.6)
    assert monitor.tick().alerts == ()  # the same episode: no second alert

    for _ in range(2):  # two good windows end it
        clock.advance()
        traffic(pool, a, requests=50, seconds=0.01)
        last = monitor.tick()
    assert {s.name: s.weight for s in pool.status()}[a] == 1.0
    assert last.actions == (f"restored polygon/{a}'s full share of traffic: fast again",)

    clock.advance()
    traffic(pool, a, requests=50, seconds=0.6)
    [again] = monitor.tick().alerts
    assert again.key != alert.key  # a new episode is a new alert


def test_every_upstream_slow__scale_out_recommended_and_no_weight_moved(pool, clock):
    a, b = names(pool)
    monitor = PerformanceMonitor([pool], clock=clock)
    monitor.tick()
    clock.advance()
    traffic(pool, a, requests=30, seconds=0.9)
    traffic(pool, b, requests=30, seconds=0.9)

    alerts = monitor.tick().alerts

    assert {x.action for x in alerts} == {"scale-out"}
    assert len(alerts) == 2 and all("add upstreams (scale out)" in x.summary for x in alerts)
    assert {s.weight for s in pool.status()} == {1.0}


def test_a_slow_upstream_whose_sibling_is_out_of_rotation__nothing_to_shift_to(pool, clock):
    a, b = names(pool)
    pool.mark_unhealthy(b, "down")
    monitor = PerformanceMonitor([pool], clock=clock)
    monitor.tick()
    clock.advance()
    traffic(pool, a, requests=30, seconds=0.9)
    traffic(pool, b, requests=30, seconds=0.01)

    [alert] = monitor.tick().alerts
    assert alert.action == "scale-out"
    assert {s.weight for s in pool.status()} == {1.0}


def test_too_few_requests__neither_latency_nor_errors_judged(pool, clock):
    a, _ = names(pool)
    monitor = PerformanceMonitor([pool], MonitorSettings(min_requests=20), clock=clock)
    monitor.tick()
    clock.advance()
    traffic(pool, a, requests=19, seconds=5.0, errors=19)
    assert monitor.tick().alerts == ()


def test_the_quantile_and_threshold_are_configurable(pool, clock):
    a, b = names(pool)
    settings = MonitorSettings(response_time_s=1.0, response_quantile=0.5)
    monitor = PerformanceMonitor([pool], settings, clock=clock)
    monitor.tick()
    clock.advance()
    traffic(pool, a, requests=50, seconds=0.6)  # slow at 200 ms, fine at 1 s
    traffic(pool, b, requests=50, seconds=0.01)
    assert monitor.tick().alerts == ()


# -- errors --------------------------------------------------------------------------------------------------


def test_error_rate_above_one_percent__upstream_marked_unhealthy_and_recorded(pool, clock):
    a, b = names(pool)
    monitor = PerformanceMonitor([pool], clock=clock)
    monitor.tick()
    clock.advance()
    traffic(pool, a, requests=100, seconds=0.01, errors=2)  # 2 %
    traffic(pool, b, requests=100, seconds=0.01, errors=1)  # 1 %: not above

    [alert] = monitor.tick().alerts

    assert alert.rule == "performance.error-rate" and alert.action == "recovery"
    assert alert.severity is Severity.HIGH and alert.values["errors"] == 2
    assert f"marked polygon/{a} unhealthy" in alert.summary
    states = {s.name: s.state for s in pool.status()}
    assert states == {a: HealthState.UNHEALTHY, b: HealthState.HEALTHY}


def test_reverts_are_answers_not_errors(pool, clock):
    a, _ = names(pool)
    monitor = PerformanceMonitor([pool], clock=clock)
    monitor.tick()
    clock.advance()
    for _ in range(50):
        pool.metrics.request(a, "eth_call")
        pool.metrics.observe(a, 0.01)
        pool.metrics.error(a, "rpc_answer")
    assert monitor.tick().alerts == ()


class FlakyTask:
    def __init__(self, failures: int) -> None:
        self.name = "index:polygon"
        self.failures_in_a_row = failures
        self.restarts = 0

    def restart(self) -> str:
        self.restarts += 1
        self.failures_in_a_row = 0
        return "restarted the index of polygon"


def test_a_task_failing_three_times_in_a_row__restarted_and_recorded(pool, clock):
    task, fine = FlakyTask(3), FlakyTask(2)
    monitor = PerformanceMonitor([pool], clock=clock, tasks=lambda: [task, fine])

    [alert] = monitor.tick().alerts

    assert task.restarts == 1 and fine.restarts == 0
    assert alert.rule == "performance.task-restarted" and alert.action == "recovery"
    assert alert.values["done"] == "restarted the index of polygon"
    assert monitor.actions[-1] == (START, "restarted the index of polygon")


# -- capacity ------------------------------------------------------------------------------------------------


def test_more_active_users_than_the_threshold__scale_out_with_the_numbers(pool, clock):
    asked = []

    def users(window_s: int) -> int:
        asked.append(window_s)
        return 8_001

    monitor = PerformanceMonitor([pool], clock=clock, active_users=users)
    [alert] = monitor.tick().alerts
    assert asked == [300]
    assert alert.rule == "performance.capacity" and alert.action == "scale-out"
    assert alert.values["active_users"] == 8_001 and alert.values["threshold"] == 8_000
    assert "8,001 addresses active" in alert.summary and "scale out" in alert.summary


def test_exactly_the_threshold__no_capacity_alert(pool, clock):
    monitor = PerformanceMonitor([pool], clock=clock, active_users=lambda _w: 8_000)
    assert monitor.tick().alerts == ()


# -- the watchtower's API ------------------------------------------------------------------------------------


def test_a_slow_api__scale_out_recommended(pool, clock):
    registry = CollectorRegistry()
    api = Histogram(HTTP_LATENCY_METRIC, "api", ("route",), registry=registry)
    monitor = PerformanceMonitor([pool], clock=clock, api_registry=registry)
    monitor.tick()
    clock.advance()
    for i in range(40):
        api.labels("/api/status" if i % 2 else "/").observe(0.7)

    report = monitor.tick()

    [alert] = report.alerts
    assert alert.subject == "api" and alert.action == "scale-out"
    assert "the watchtower's API is slow" in alert.summary
    [target] = [t for t in report.targets if t.target == "api"]
    assert target.requests == 40 and target.throughput == pytest.approx(40 / 60)


# -- bad settings --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [{"error_rate": 0}, {"error_rate": 1.5}, {"response_quantile": 0}, {"slow_weight": 2}, {"typo": 1}],
)
def test_bad_settings__refused(bad):
    with pytest.raises(ValidationError):
        MonitorSettings(**bad)


def test_pool_weight_outside_zero_one__one_clear_error(pool):
    a, _ = names(pool)
    with pytest.raises(Exception, match=r"share in \(0, 1\]"):
        pool.set_weight(a, 0)
    with pytest.raises(Exception, match="no upstream called 'nope'"):
        pool.set_weight("nope", 0.5)
