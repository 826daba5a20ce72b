"""The watchtower's HTTP server on loopback: the JSON API, /metrics and the page's HTML (the page in a real
browser is test_status_page_browser.py)."""

from __future__ import annotations

import socket

import pytest
import requests
from _watch_world import FIGURES, HOSTILE, World
from prometheus_client.parser import text_string_to_metric_families

from link_ops.exceptions import ConfigurationError
from link_ops.store import OpsStore
from link_ops.watch.http import StatusSources, WatchServer, index_figures
from link_ops.watch.monitor import MonitorSettings, PerformanceMonitor

TIMEOUT = 60


def get(world: World, path: str) -> requests.Response:
    return requests.get(world.url + path, timeout=TIMEOUT)


def test_health__every_chain_has_a_usable_upstream__ok(world: World) -> None:
    answer = get(world, "/api/health")

    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ok",
        "chains": {"polygon": {"usable": 1, "upstreams": 2}, "ethereum": {"usable": 1, "upstreams": 1}},
    }


def test_health__a_chain_without_usable_upstreams__degraded(world: World) -> None:
    world.pools[1].states = ["unhealthy"]

    assert get(world, "/api/health").json()["status"] == "degraded"


def test_status__the_pages_data_as_json(world: World) -> None:
    status = get(world, "/api/status").json()

    assert status["figures"] == FIGURES.to_json()
    assert status["figures"]["minted_per_day"][0]["amount_wei"] == str(12_345 * 10**18)
    assert [u["state"] for u in status["upstreams"]["polygon"]] == ["healthy", "lagging"]
    assert status["partners"][1] == {
        "partner": "<b>evil</b> partner",
        "standing": "breach",
        "availability": 97.0,
        "budget_left": -1.5,
    }
    assert [i["severity"] for i in status["incidents"]] == ["critical", "warning", "info"]
    assert status["incidents"][0]["title"] == f"MINTER_ROLE granted to {HOSTILE}"


def test_alerts__since_and_severity__filter_newest_first(world: World) -> None:
    everything = get(world, "/api/alerts").json()["alerts"]
    recent_serious = get(world, "/api/alerts?since=2026-11-01T11:00:00Z&severity=warning").json()["alerts"]

    assert [a["key"] for a in everything] == ["slow", "granted", "old-info"]
    assert [a["key"] for a in recent_serious] == ["slow", "granted"]
    assert recent_serious[1]["retracted"] is False and recent_serious[1]["severity"] == "critical"
    assert [a["key"] for a in get(world, "/api/alerts?limit=1").json()["alerts"]] == ["slow"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("since=yesterday", "not an ISO 8601 time"),
        ("since=2026-11-01T11:00:00", "has no timezone"),
        ("severity=urgent", "unknown severity 'urgent'"),
        ("limit=0", "whole number from 1 to 1000"),
        ("limit=x", "whole number from 1 to 1000"),
        ("severity=high&severity=info", "given 2 times"),
    ],
)
def test_alerts__bad_query__400_saying_what_to_write(world: World, query: str, message: str) -> None:
    answer = get(world, f"/api/alerts?{query}")

    assert answer.status_code == 400
    assert message in answer.json()["error"]


def test_incidents__active_by_default_all_on_request(world: World) -> None:
    active = get(world, "/api/incidents").json()["incidents"]
    world.store.watch.resolve(active[-1]["id"], "alice")

    assert len(active) == 3
    assert len(get(world, "/api/incidents").json()["incidents"]) == 2
    assert len(get(world, "/api/incidents?status=all").json()["incidents"]) == 3
    assert get(world, "/api/incidents?status=gone").status_code == 400


def test_ack__open_incident__acknowledged_by_the_body_s_name(world: World) -> None:
    incident_id = get(world, "/api/incidents").json()["incidents"][0]["id"]

    answer = requests.post(
        f"{world.url}/api/incidents/{incident_id}/ack", json={"by": "alice"}, timeout=TIMEOUT
    )

    assert answer.status_code == 200
    assert answer.json()["incident"]["status"] == "acknowledged"
    assert world.store.watch.incident(incident_id).acknowledged_by == "alice"


def test_ack__without_a_body__acknowledged_by_api(world: World) -> None:
    incident_id = get(world, "/api/incidents").json()["incidents"][0]["id"]

    answer = requests.post(f"{world.url}/api/incidents/{incident_id}/ack", timeout=TIMEOUT)

    assert answer.json()["incident"]["acknowledged_by"] == "api"


def test_ack__unknown_resolved_malformed_or_wrong_method__clear_errors(world: World) -> None:
    incident_id = get(world, "/api/incidents").json()["incidents"][0]["id"]
    world.store.watch.resolve(incident_id, "alice")

    def post(path: str, **kwargs: object) -> requests.Response:
        return requests.post(world.url + path, timeout=TIMEOUT, **kwargs)  # type: ignore[arg-type]

    assert post("/api/incidents/999/ack").status_code == 404
    assert post("/api/incidents/abc/ack").status_code == 404
    conflict = post(f"/api/incidents/{incident_id}/ack")
    assert conflict.status_code == 409 and "resolved already" in conflict.json()["error"]
    malformed = post(f"/api/incidents/{incident_id}/ack", data=b"{not json")
    assert malformed.status_code == 400 and '{"by": "alice"}' in malformed.json()["error"]
    assert get(world, f"/api/incidents/{incident_id}/ack").status_code == 405
    assert post("/api/status").status_code == 405
    assert get(world, "/nope").status_code == 404


def test_metrics__the_given_registries_and_the_servers_own_response_times(world: World) -> None:
    get(world, "/api/status")
    get(world, "/")

    families = {f.name: f for f in text_string_to_metric_families(get(world, "/metrics").text)}

    assert families["link_ops_index_rounds"].samples[0].value == 7
    counts = {
        s.labels["route"]: s.value
        for s in families["link_ops_watch_http_request_seconds"].samples
        if s.name.endswith("_count")
    }
    assert counts["/api/status"] == 1 and counts["/"] == 1


def test_page__escapes_what_came_from_the_chain_and_forbids_scripts(world: World) -> None:
    answer = get(world, "/")

    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/html")
    assert "script-src" not in answer.headers["Content-Security-Policy"]
    assert answer.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "<script>" not in answer.text and "<img" not in answer.text and "<b>evil" not in answer.text
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in answer.text
    assert "12,345.0000" in answer.text and "1,234" in answer.text


def test_page__a_failing_source__that_section_unavailable_the_rest_rendered(sqlite_url: str) -> None:
    def broken() -> list[object]:
        raise RuntimeError("SLA store unreachable")

    with OpsStore(sqlite_url) as store, WatchServer(StatusSources(store.watch, standings=broken)) as server:
        page = requests.get(server.url + "/", timeout=TIMEOUT).text
        status = requests.get(server.url + "/api/status", timeout=TIMEOUT).json()

    assert "unavailable: RuntimeError: SLA store unreachable" in page
    assert "unavailable: not configured" in page  # no figures source given
    assert "no open incidents" in page
    assert status["partners"] == {"error": "RuntimeError: SLA store unreachable"}


def test_index_figures__empty_index__zeros_and_empty_lists(sqlite_url: str) -> None:
    with OpsStore(sqlite_url) as store:
        figures = index_figures(store.index, days=3)()

    assert (figures.holders, figures.cubes_held) == (0, 0)
    assert figures.minted_per_day == figures.claims_per_day == figures.in_flight == []
    with pytest.raises(ConfigurationError, match="days must be"):
        index_figures(store.index, days=0)


def test_server__port_taken__one_error_naming_it_and_closing_frees_the_port(sqlite_url: str) -> None:
    with OpsStore(sqlite_url) as store:
        sources = StatusSources(store.watch)
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            with pytest.raises(ConfigurationError, match=rf"127\.0\.0\.1:{port}.*another --http-port"):
                WatchServer(sources, port=port).start()
        server = WatchServer(sources).start()
        port = server.port
        server.close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


@pytest.mark.parametrize("port", [-1, 65_536, True])
def test_server__bad_port__refused(sqlite_url: str, port: int) -> None:
    with OpsStore(sqlite_url) as store, pytest.raises(ConfigurationError, match="from 0 to 65535"):
        WatchServer(StatusSources(store.watch), port=port)


class BrokenWatchStore:
    """A watch store whose database has gone away."""

    def alerts(self, **_kwargs):
        raise RuntimeError("database is gone")


def test_a_failing_request__500_counted_for_the_performance_monitor() -> None:
    server = WatchServer(StatusSources(BrokenWatchStore()), port=0).start()  # type: ignore[arg-type]
    try:
        monitor = PerformanceMonitor([], MonitorSettings(min_requests=3), api_registry=server.registry)
        monitor.tick()
        answers = [requests.get(server.url + "/api/alerts", timeout=TIMEOUT) for _ in range(4)]
        report = monitor.tick()
    finally:
        server.close()

    assert {a.status_code for a in answers} == {500}
    assert "database is gone" in answers[0].json()["error"]
    [api] = report.targets
    assert api.target == "api" and api.requests == 4 and api.errors == 4
    [alert] = report.alerts
    assert alert.rule == "performance.error-rate" and alert.subject == "api"
