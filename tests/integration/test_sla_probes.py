"""Specs of link_ops.watch.probes against partner services on loopback: one healthy, one that never answers
in time, one failing with 500s, and one that counts how many probes it holds at once. No external network."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from link_ops.exceptions import ConfigurationError
from link_ops.model.partner_config import PartnerConfig
from link_ops.store import OpsStore
from link_ops.watch.probes import PartnerProber, ProbeSettings

UTC = timezone.utc
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
CHAIN = 137
CONTRACT = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
#: Generous: a loopback answer takes milliseconds even on a loaded machine; only the stuck server hits it.
TIMEOUT_S = 2.0


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def serve(handle) -> Iterator[str]:
    """A loopback HTTP server whose GETs `handle(handler)` answers; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status = handle(self)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at the end of the test: the stuck server's requests then end (so no thread outlives the test)."""
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def services(release) -> Iterator[dict[str, str]]:
    def stuck(_handler) -> int:
        release.wait(timeout=60)
        return 200

    with serve(lambda _h: 200) as healthy, serve(stuck) as slow, serve(lambda _h: 500) as failing:
        yield {"healthy": healthy, "slow": slow, "failing": failing}


def activate(store: OpsStore, partner_id: str, endpoints: list[str]) -> None:
    config = PartnerConfig.from_mapping(
        {
            "partner_id": partner_id,
            "name": partner_id,
            "api_endpoints": endpoints,
            "auth_method": "api_key",
            "services": ["coffee"],
            "benefit_structure": {"discount_bps": {0: 500}},
            "initial_benefits": {"token": "LBC", "amount_per_cube": 10**18},
            "claim_window_days": 30,
        }
    )
    store.partners.begin_onboarding(config, CHAIN)
    store.partners.activate(partner_id, CHAIN, CONTRACT, NOW, endpoints)


@pytest.fixture
def store(sqlite_url) -> Iterator[OpsStore]:
    with OpsStore(sqlite_url) as opened:
        yield opened


def test_probe_once__healthy_slow_failing_and_closed__each_recorded_as_what_happened(store, services):
    activate(store, "healthy", [services["healthy"] + "/health"])
    activate(store, "slow", [services["slow"] + "/health"])
    activate(store, "failing", [services["failing"] + "/health", "http://127.0.0.1:1/health"])
    clock = Clock(NOW)
    prober = PartnerProber(store, ProbeSettings.build(timeout_s=TIMEOUT_S), clock=clock)
    probes = prober.probe_once()
    by_endpoint = {p.endpoint: p for p in probes}
    healthy = by_endpoint[services["healthy"] + "/health"]
    assert (healthy.ok, healthy.status_code, healthy.error, healthy.at) == (True, 200, None, NOW)
    assert 0 < healthy.latency_s < TIMEOUT_S
    slow = by_endpoint[services["slow"] + "/health"]
    assert (slow.ok, slow.status_code, slow.latency_s) == (False, None, None)
    assert slow.error == f"did not answer within {TIMEOUT_S:g} s"
    failing = by_endpoint[services["failing"] + "/health"]
    assert (failing.ok, failing.status_code, failing.error) == (
        False,
        500,
        "answered 500 Internal Server Error",
    )
    closed = by_endpoint["http://127.0.0.1:1/health"]
    assert (closed.ok, closed.status_code) == (False, None)
    assert closed.error == "connection refused (nothing listens there)"
    stored = {p.endpoint: p for pid in ("healthy", "slow", "failing") for p in store.sla.probes(pid, CHAIN)}
    assert stored == by_endpoint


def test_probe_once__only_active_partners__onboarding_ones_left_out(store, services):
    activate(store, "healthy", [services["healthy"] + "/health"])
    onboarding = PartnerConfig.from_mapping(
        {
            "partner_id": "later",
            "name": "later",
            "api_endpoints": [services["healthy"] + "/health"],
            "auth_method": "api_key",
            "services": ["coffee"],
            "benefit_structure": {"discount_bps": {0: 500}},
            "initial_benefits": {"token": "LBC", "amount_per_cube": 10**18},
            "claim_window_days": 30,
        }
    )
    store.partners.begin_onboarding(onboarding, CHAIN)
    probes = PartnerProber(store, ProbeSettings.build(timeout_s=TIMEOUT_S), clock=Clock(NOW)).probe_once()
    assert [p.partner_id for p in probes] == ["healthy"]
    assert store.sla.probes("later", CHAIN) == []


def test_probe_once__concurrency_bound__never_more_in_flight_and_really_concurrent(store):
    lock = threading.Lock()
    state = {"in_flight": 0, "most": 0}
    # Each request waits for a second one to arrive: a prober that sent them one by one would time out.
    pair = threading.Barrier(2, timeout=30)

    def held(_handler) -> int:
        with lock:
            state["in_flight"] += 1
            state["most"] = max(state["most"], state["in_flight"])
        try:
            pair.wait()
            return 200
        except threading.BrokenBarrierError:
            return 503
        finally:
            with lock:
                state["in_flight"] -= 1

    with serve(held) as base:
        activate(store, "busy", [f"{base}/e{i}" for i in range(6)])
        settings = ProbeSettings.build(timeout_s=30, concurrency=2)
        probes = PartnerProber(store, settings, clock=Clock(NOW)).probe_once()
    assert [p.ok for p in probes] == [True] * 6
    assert state["most"] == 2


def test_due__first_round_then_after_each_interval(store, services):
    activate(store, "healthy", [services["healthy"] + "/health"])
    clock = Clock(NOW)
    prober = PartnerProber(store, ProbeSettings.build(interval=30, timeout_s=TIMEOUT_S), clock=clock)
    assert prober.due() and prober.next_due is None
    prober.probe_once()
    assert not prober.due() and prober.next_due == NOW + timedelta(seconds=30)
    clock.now = NOW + timedelta(seconds=29)
    assert not prober.due()
    clock.now = NOW + timedelta(seconds=30)
    assert prober.due()


def test_probe_once__no_active_partner__nothing_recorded(store):
    assert PartnerProber(store, clock=Clock(NOW)).probe_once() == []


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"timeout_s": 0}, "timeout_s"),
        ({"concurrency": 0}, "concurrency"),
        ({"interval": -5}, "interval must be positive"),
    ],
)
def test_probe_settings__bad_value__one_clear_error(values, message):
    with pytest.raises(ConfigurationError, match=message):
        ProbeSettings.build(**values)
