"""The pool's pure parts: URL lists and settings, what a reply means, the health state machine (against a
reference model), the lag reference and the choice of an upstream."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from link_ops.exceptions import RpcConfigurationError
from link_ops.model.chains import chain_by_key
from link_ops.rpc import PoolSettings, parse_urls, urls_from_env
from link_ops.rpc.classify import (
    Answer,
    Failure,
    Success,
    classify_error,
    classify_reply,
    is_write,
    metric_method,
)
from link_ops.rpc.settings import upstream_name, upstream_names
from link_ops.rpc.upstream import HealthCounter, Upstream, choose, reference_head

POLYGON = chain_by_key("polygon")

# -- URL lists and settings ----------------------------------------------------------------------------------


def test_urls_from_env__one_url__works_as_always():
    assert urls_from_env(POLYGON, {"POLYGON_RPC_URL": " https://polygon-rpc.com "}) == (
        "https://polygon-rpc.com",
    )


def test_urls_from_env__comma_list__keeps_order_and_ignores_blanks():
    value = "https://a.example/key1, ,http://127.0.0.1:8545,,https://b.example:8443/v2/key2?x=1,"
    assert urls_from_env(POLYGON, {"POLYGON_RPC_URL": value}) == (
        "https://a.example/key1",
        "http://127.0.0.1:8545",
        "https://b.example:8443/v2/key2?x=1",
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "POLYGON_RPC_URL is not set"),
        (" , ", "names no URL"),
        ("https://a.example,polygon-rpc.com", "not an http:// or https:// URL"),
        ("https://a.example,ws://b.example", "not an http:// or https:// URL"),
        ("http://127.0.0.1:99999", "port from 1 to 65535"),
        ("https://a.example/k,https://a.example/k/", "same node twice (a.example:443)"),
    ],
)
def test_urls_from_env__bad_value__is_one_clear_error(value, message):
    with pytest.raises(RpcConfigurationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        urls_from_env(POLYGON, {"POLYGON_RPC_URL": value})


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("wss://user:pw@node.example/v3/SECRETKEY", "wss://node.example…"),
        ("https://node.example:99999/SECRETKEY", "https://node.example:99999…"),
        ("node.example/SECRETKEY?pw=1", "node.example…"),
    ],
)
def test_urls_from_env__bad_url__is_named_without_its_secrets(url, shown):
    with pytest.raises(RpcConfigurationError) as raised:
        urls_from_env(POLYGON, {"POLYGON_RPC_URL": url})
    assert f"{shown!r} is not" in str(raised.value)
    assert "SECRETKEY" not in str(raised.value) and "pw" not in str(raised.value)


def test_urls_from_env__local_chain__has_no_variable():
    with pytest.raises(RpcConfigurationError, match="local chain with no RPC variable"):
        urls_from_env(chain_by_key("local"), {})


def test_upstream_names__are_host_and_port_only_and_unique():
    urls = parse_urls("https://k:secret@node.example/v3/KEY,https://node.example/other,http://10.0.0.1")
    assert upstream_names(urls) == ("node.example:443#1", "node.example:443#2", "10.0.0.1:80")
    assert upstream_name("http://[::1]:8545/x") == "[::1]:8545"


def test_pool_settings__defaults__are_the_issues_load_balancer():
    settings = PoolSettings()
    assert (settings.check_interval_s, settings.check_timeout_s) == (30.0, 10.0)
    assert (settings.unhealthy_after, settings.healthy_after) == (3, 2)


def test_pool_settings__bad_values__are_all_reported_at_once_with_their_fields():
    with pytest.raises(RpcConfigurationError) as raised:
        PoolSettings.build(check_interval_s=0, unhealthy_after=0, ewma_alpha=1.5, surprise=1)
    message = str(raised.value)
    for field in ("check_interval_s", "unhealthy_after", "ewma_alpha", "surprise"):
        assert f"{field}:" in message


# -- replies -------------------------------------------------------------------------------------------------


def reply(request_id: int = 7, **fields: object) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": request_id, **fields}).encode()


def test_classify__result__is_a_success():
    assert classify_reply(200, reply(result="0x89"), 7) == Success("0x89")
    assert classify_reply(200, reply(request_id="7", result="0x89"), 7) == Success("0x89")  # id as a string


@pytest.mark.parametrize(
    ("status", "body", "kind", "refused"),
    [
        (429, b"", "http_status", True),
        (500, reply(result="0x1"), "http_status", False),
        (503, b"busy", "http_status", False),
        (401, reply(error={"code": -32000, "message": "bad key"}), "http_status", False),
        (200, b"<html>", "bad_response", False),
        (200, b"[]", "bad_response", False),
        (200, reply(request_id=8, result="0x1"), "bad_response", False),
        (200, reply(error={"code": "x", "message": "?"}), "bad_response", False),
    ],
)
def test_classify__not_an_answer_to_our_request__is_a_failure(status, body, kind, refused):
    outcome = classify_reply(status, body, 7)
    assert isinstance(outcome, Failure)
    assert (outcome.kind, outcome.refused) == (kind, refused)


def test_classify__http_400_with_a_json_rpc_error__is_judged_by_the_error():
    assert classify_reply(400, reply(error={"code": -32602, "message": "bad"}), 7) == Answer(-32602, "bad")


@pytest.mark.parametrize(
    ("error", "unhealthy"),
    [
        ({"code": -32005, "message": "limit exceeded"}, True),
        ({"code": -32005, "message": "daily request count exceeded, request rate limited"}, True),
        ({"code": -32603, "message": "internal error"}, True),
        ({"code": -32000, "message": "request timed out"}, True),
        ({"code": -32000, "message": "header not found"}, False),
        ({"code": -32000, "message": "missing trie node abc"}, False),
        ({"code": -32601, "message": "Method not found"}, False),
    ],
)
def test_classify__node_cannot_answer_now__is_an_upstream_failure(error, unhealthy):
    outcome = classify_error(error)
    assert isinstance(outcome, Failure) and outcome.kind == "rpc_upstream"
    assert outcome.unhealthy is unhealthy
    assert outcome.error == Answer(error["code"], error["message"])


@pytest.mark.parametrize(
    "error",
    [
        {"code": 3, "message": "execution reverted", "data": "0x"},
        {"code": -32603, "message": "Error: VM Exception", "data": "0x08c379a0"},
        {"code": -32000, "message": "execution reverted: timeout in the contract"},
        {"code": -32602, "message": "invalid params"},
        {"code": -32000, "message": "insufficient funds for gas * price + value"},
        {"code": -32000, "message": "already known"},
        # eth_getLogs over too much: the caller (the index) asks for less; not the node's failure
        {"code": -32005, "message": "query returned more than 10000 results"},
        {
            "code": -32602,
            "message": "Log response size exceeded. You can make eth_getLogs requests with up to a 2K "
            "block range",
        },
        {"code": -32614, "message": "eth_getLogs is limited to a 10,000 range"},
        {"code": -32000, "message": "block range is too wide (maximum 1024)"},
    ],
)
def test_classify__error_that_is_the_calls_answer__is_an_answer(error):
    assert classify_error(error) == Answer(error["code"], error["message"], error.get("data"))


def test_methods__writes_and_metric_labels__come_from_fixed_sets():
    assert is_write("eth_sendRawTransaction") and is_write("anvil_mine") and is_write("evm_revert")
    assert not is_write("eth_call") and not is_write("eth_getTransactionCount")
    assert metric_method("eth_call") == "eth_call"
    assert metric_method("eth_someVendorMethod_" + "x" * 50) == "other"


# -- health, lag, choice -------------------------------------------------------------------------------------


def reference_health(outcomes: list[bool], unhealthy_after: int, healthy_after: int) -> list[bool]:
    """The rule in words: healthy until `unhealthy_after` failures in a row, then unhealthy until
    `healthy_after` successes in a row."""
    healthy, run_ok, run_failed, states = True, 0, 0, []
    for ok in outcomes:
        run_ok, run_failed = (run_ok + 1, 0) if ok else (0, run_failed + 1)
        if healthy and run_failed >= unhealthy_after:
            healthy = False
        elif not healthy and run_ok >= healthy_after:
            healthy = True
        states.append(healthy)
    return states


@settings(deadline=None)  # a loaded machine must not fail a rule that holds
@given(
    outcomes=st.lists(st.booleans(), max_size=60),
    unhealthy_after=st.integers(1, 5),
    healthy_after=st.integers(1, 5),
)
def test_health_counter__any_sequence__matches_the_reference_model(outcomes, unhealthy_after, healthy_after):
    counter = HealthCounter(unhealthy_after, healthy_after)
    states = []
    for ok in outcomes:
        before = counter.healthy
        changed = counter.record(ok)
        assert changed == (counter.healthy != before)
        states.append(counter.healthy)
    assert states == reference_health(outcomes, unhealthy_after, healthy_after)


def test_health_counter__three_failures_then_two_successes():
    counter = HealthCounter(3, 2)
    assert [counter.record(False) or counter.healthy for _ in range(3)] == [True, True, True]
    assert counter.healthy is False
    assert counter.record(True) is False
    assert counter.record(True) is True and counter.healthy


@settings(deadline=None)
@given(st.lists(st.integers(0, 10**9), min_size=3, max_size=8))
def test_reference_head__of_three_or_more__is_the_second_highest(heads):
    assert reference_head(heads) == sorted(heads)[-2]
    assert sum(h > reference_head(heads) for h in heads) <= 1  # at most one node is ahead of it


def test_reference_head__of_two_or_fewer__is_the_highest():
    assert reference_head([90, 150]) == 150  # else the lower head would be its own reference
    assert reference_head([5]) == 5
    assert reference_head([]) is None


def upstream(index: int, in_flight: int, latency: float | None) -> Upstream:
    u = Upstream(index, f"http://n{index}", f"n{index}", HealthCounter(3, 2))
    u.in_flight, u.latency_ewma_s = in_flight, latency
    return u


def test_choose__fewest_in_flight_wins_whatever_the_latency():
    assert choose([upstream(0, 2, 0.001), upstream(1, 1, 0.5), upstream(2, 3, 0.0001)]).index == 1


def test_choose__equally_busy__the_lower_latency_average_wins():
    assert choose([upstream(0, 1, 0.020), upstream(1, 1, 0.005), upstream(2, 1, 0.010)]).index == 1


def test_choose__unmeasured_upstream_first_then_list_order():
    assert choose([upstream(0, 0, 0.001), upstream(1, 0, None)]).index == 1
    assert choose([upstream(0, 0, 0.002), upstream(1, 0, 0.002)]).index == 0
    assert choose([]) is None


def test_choose__a_quarter_weight__takes_a_request_only_when_the_others_carry_four_times_its_load():
    slow, fast = upstream(0, 0, 0.001), upstream(1, 0, 0.5)
    slow.weight = 0.25
    picks = []
    for _ in range(10):  # requests that stay in flight
        chosen = choose([slow, fast])
        chosen.in_flight += 1
        picks.append(chosen.index)
    assert picks.count(0) == 2 and picks.count(1) == 8  # the fast one carries four times as many


@given(st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=6))
def test_choose__at_weight_one__plain_least_connections(loads):
    ups = [upstream(i, n, 0.01) for i, n in enumerate(loads)]
    assert choose(ups).in_flight == min(loads)


def test_latency_average__moves_by_alpha():
    u = upstream(0, 0, None)
    u.observe_latency(0.010, 0.2)
    u.observe_latency(0.020, 0.2)
    assert u.latency_ewma_s == pytest.approx(0.012)
