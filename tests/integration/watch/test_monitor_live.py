"""The PerformanceMonitor on real upstreams: an anvil behind fault-injecting proxies on loopback (one slow,
then one failing a share of its requests), a bounded load of concurrent reads through the pool, and the
monitor's alerts and actions. Nothing here depends on how fast the machine is: the slow proxy holds each
request 300 ms, the threshold is 200 ms, and the fast path is loopback."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from link_ops.rpc import PoolSettings, RpcPool
from link_ops.rpc.upstream import HealthState
from link_ops.testing.faults import FaultProxy, Mode
from link_ops.testing.standin import LocalUpstream
from link_ops.watch.monitor import MonitorSettings, PerformanceMonitor

#: Reads per load burst, and how many in flight at once (bounded: loopback only, a few seconds).
READS, CONCURRENCY = 160, 8


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self) -> None:
        self.now += timedelta(seconds=60)


@pytest.fixture(scope="module")
def node():
    with LocalUpstream(137) as upstream:
        yield upstream


@pytest.fixture
def world(node):
    with FaultProxy(node.url) as first, FaultProxy(node.url) as second:
        settings = PoolSettings(check_interval_s=3600, max_attempts=1)  # checks by hand; no retries
        with RpcPool(137, [first.url, second.url], settings) as pool:
            pool.check_now()
            yield pool, first, second


def load(pool: RpcPool, reads: int = READS) -> int:
    """`reads` eth_blockNumber calls through the pool, CONCURRENCY at a time; returns how many failed."""

    def read(_: int) -> bool:
        try:
            pool.request("eth_blockNumber", [])
            return True
        except Exception:
            return False

    with ThreadPoolExecutor(CONCURRENCY) as workers:
        return sum(not ok for ok in workers.map(read, range(reads)))


def test_a_slow_upstream_under_load__alerted_and_its_weight_lowered(world):
    pool, first, _second = world
    a, b = pool.names
    clock = Clock()
    # Least-connections already sends the slow one few requests (it holds them longer): judge from 3.
    monitor = PerformanceMonitor([pool], MonitorSettings(min_requests=3), clock=clock)
    monitor.tick()
    first.set_mode(Mode.SLOW, delay_s=0.3)

    assert load(pool) == 0
    clock.advance()
    report = monitor.tick()

    [alert] = report.alerts
    assert alert.action == "shift-weight" and alert.subject == f"polygon/{a}"
    assert alert.values["p95_ms"] > 200
    [slow, fast] = report.targets
    assert slow.target == f"polygon/{a}" and slow.quantile_s is not None and slow.quantile_s > 0.2
    assert fast.quantile_s is not None and fast.quantile_s < 0.2
    assert slow.requests + fast.requests == READS and slow.errors == fast.errors == 0
    assert {s.name: s.weight for s in pool.status()} == {a: 0.25, b: 1.0}


def test_an_upstream_failing_a_share_of_requests__taken_out_of_rotation(world):
    pool, _first, second = world
    _a, b = pool.names
    clock = Clock()
    monitor = PerformanceMonitor([pool], MonitorSettings(min_requests=3), clock=clock)
    monitor.tick()
    second.set_mode(Mode.FLAKY, every=5, status=503)  # a fifth of its requests fail

    failed = load(pool)
    clock.advance()
    report = monitor.tick()

    assert failed > 0  # no retries in this pool: the failures reached the callers
    [alert] = [x for x in report.alerts if x.rule == "performance.error-rate"]
    assert alert.subject == f"polygon/{b}" and alert.action == "recovery"
    assert alert.values["error_rate"] > 0.01
    assert {s.name: s.state for s in pool.status()}[b] is HealthState.UNHEALTHY

    # Out of rotation: the next burst goes to the healthy one only, and nothing fails.
    before = second.count("eth_blockNumber")
    assert load(pool, 40) == 0
    assert second.count("eth_blockNumber") == before
