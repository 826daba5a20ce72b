"""The /metrics endpoint of the long-running commands (link_ops.metrics)."""

from __future__ import annotations

import socket

import pytest
import requests
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.parser import text_string_to_metric_families

from link_ops.exceptions import ConfigurationError
from link_ops.metrics import MergedRegistries, serve_metrics


def test_serve_metrics__on_a_free_port__serves_the_registry_it_was_given_and_nothing_else():
    mine, other = CollectorRegistry(), CollectorRegistry()
    Counter("link_ops_test_things", "things", registry=mine).inc(3)
    Counter("link_ops_test_elsewhere", "not served", registry=other).inc()
    server = serve_metrics(mine, 0)
    try:
        assert server.host == "127.0.0.1" and server.port > 0
        text = requests.get(server.url, timeout=60).text
    finally:
        server.close()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["link_ops_test_things"].samples[0].value == 3
    assert "link_ops_test_elsewhere" not in families


def test_serve_metrics__closed__frees_its_port():
    server = serve_metrics(CollectorRegistry(), 0)
    port = server.port
    server.close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # would raise EADDRINUSE while still served


def test_serve_metrics__port_taken__is_one_error_naming_the_port():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigurationError, match=rf"127\.0\.0\.1:{port}.*another --metrics-port"):
            serve_metrics(CollectorRegistry(), port)


@pytest.mark.parametrize("port", [-1, 65_536, True, "8000"])
def test_serve_metrics__port_out_of_range_or_not_a_number__is_refused(port):
    with pytest.raises(ConfigurationError, match="metrics port must be a whole number from 0 to 65535"):
        serve_metrics(CollectorRegistry(), port)


def test_serve_metrics__several_registries__same_family_from_each_is_served_once_with_every_sample():
    polygon, ethereum, relayer = CollectorRegistry(), CollectorRegistry(), CollectorRegistry()
    Counter("link_ops_test_requests", "requests", ["chain"], registry=polygon).labels("polygon").inc(2)
    Counter("link_ops_test_requests", "requests", ["chain"], registry=ethereum).labels("ethereum").inc(5)
    Counter("link_ops_test_rounds", "rounds", registry=relayer).inc()
    server = serve_metrics([polygon, ethereum, relayer], 0)
    try:
        text = requests.get(server.url, timeout=60).text
    finally:
        server.close()
    assert text.count("# TYPE link_ops_test_requests_total counter") == 1
    families = {f.name: f for f in text_string_to_metric_families(text)}
    requests_by_chain = {
        s.labels["chain"]: s.value
        for s in families["link_ops_test_requests"].samples
        if s.name.endswith("_total")
    }
    assert requests_by_chain == {"polygon": 2, "ethereum": 5}
    assert families["link_ops_test_rounds"].samples[0].value == 1


def test_merged_registries__one_name_with_two_types__is_refused_naming_it():
    first, second = CollectorRegistry(), CollectorRegistry()
    Counter("link_ops_test_clash", "a counter", registry=first)
    Gauge("link_ops_test_clash", "a gauge", registry=second)
    with pytest.raises(ConfigurationError, match="link_ops_test_clash"):
        list(MergedRegistries([first, second]).collect())
