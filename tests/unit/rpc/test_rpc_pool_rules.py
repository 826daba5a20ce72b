"""The pool's rules against scripted loopback nodes: choosing, failing over, answers that are not retried,
health, lag, wrong chains, sends, sticky routing and pinning (sync and async)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable

import pytest
from _fake_node import Drop, Error, Garbage, Result, Stall, Status, WrongId
from eth_account import Account
from eth_utils import to_checksum_address
from eth_utils.crypto import keccak
from prometheus_client import CollectorRegistry

from link_ops.exceptions import (
    AmbiguousSendError,
    NoHealthyUpstreamError,
    PinnedUpstreamError,
    RpcConfigurationError,
    RpcError,
    RpcUnavailableError,
    TransactionNotSentError,
)
from link_ops.fork import free_port
from link_ops.rpc import HealthState, PoolSettings, RpcPool

ALICE = Account.from_key("0x" + "11" * 32)
BALANCE = ["0x" + "ab" * 20, "latest"]


def signed_transfer(nonce: int = 0) -> str:
    tx = {
        "to": to_checksum_address("0x" + "cd" * 20),
        "value": 1,
        "gas": 21_000,
        "gasPrice": 10**9,
        "nonce": nonce,
        "chainId": 137,
    }
    return "0x" + Account.sign_transaction(tx, ALICE.key).raw_transaction.hex()


def state(pool: RpcPool, index: int) -> HealthState:
    return pool.status()[index].state


def in_thread(target: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=lambda: _swallow(target), daemon=True)
    thread.start()
    return thread


def _swallow(target: Callable[[], object]) -> None:
    with contextlib.suppress(Exception):  # the held request's own outcome is not what these tests look at
        target()


# -- choosing ------------------------------------------------------------------------------------------------


def test_pool__upstream_with_a_request_in_flight__next_request_goes_to_the_idle_one(nodes, pool_of):
    a, b = nodes(2)
    a.script["eth_call"] = Stall()
    pool = pool_of([a.url, b.url])
    pool.check_now()
    held = in_thread(lambda: pool.request("eth_call", [{"to": "0x" + "00" * 20}, "latest"]))
    assert a.holding.wait(60)
    assert pool.status()[0].in_flight == 1

    assert pool.request("eth_getBalance", BALANCE) == "0x1"

    assert len(b.calls("eth_getBalance")) == 1
    assert a.calls("eth_getBalance") == []
    a.release.set()
    held.join(60)
    assert [s.in_flight for s in pool.status()] == [0, 0]


def test_pool__filter_created_on_one_upstream__its_changes_are_asked_there(nodes, pool_of):
    a, b = nodes(2)
    a.script["eth_newFilter"] = Result("0xf1")
    pool = pool_of([a.url, b.url])
    pool.check_now()
    assert pool.request("eth_newFilter", [{}]) == "0xf1"  # both unmeasured: the first in order, a

    pool.request("eth_getFilterChanges", ["0xf1"])  # b is unmeasured now: any other read would go there
    pool.request("eth_getBalance", BALANCE)

    assert len(a.calls("eth_getFilterChanges")) == 1 and b.calls("eth_getFilterChanges") == []
    assert len(b.calls("eth_getBalance")) == 1


# -- reads fail over, answers do not -------------------------------------------------------------------------


FAILURES = {
    "HTTP 429": Status(429),
    "HTTP 500": Status(500),
    "HTTP 502": Status(502),
    "HTTP 503": Status(503),
    "HTTP 403": Status(403),
    "stall past the timeout": Stall(),
    "dropped connection": Drop(),
    "not JSON-RPC": Garbage(),
    "another request's reply": WrongId(),
    "rate limited (-32005)": Error(-32005, "rate limited"),
    "internal error (-32603)": Error(-32603, "internal error"),
    "missing state (-32000)": Error(-32000, "header not found"),
    "rate limit in a -32000": Error(-32000, "Too Many Requests: rate limit reached"),
}


@pytest.mark.parametrize("failure", FAILURES.values(), ids=FAILURES.keys())
def test_pool__read_failing_on_first_upstream__is_answered_by_the_next(nodes, pool_of, failure):
    a, b = nodes(2)
    a.script["eth_getBalance"] = failure
    b.script["eth_getBalance"] = Result("0x2a")
    pool = pool_of([a.url, b.url], request_timeout_s=1.0)

    assert pool.request("eth_getBalance", BALANCE) == "0x2a"

    assert len(a.calls("eth_getBalance")) >= 1
    assert len(b.calls("eth_getBalance")) == 1
    assert pool.status()[0].last_error


def test_pool__upstream_gone_away__read_is_answered_by_the_next(nodes, pool_of):
    a, b = nodes(2)
    b.script["eth_getBalance"] = Result("0x2a")
    pool = pool_of([a.url, b.url])
    pool.check_now()
    a.stop()  # connections to it are refused from now on

    assert pool.request("eth_getBalance", BALANCE) == "0x2a"
    assert "connection failed (connection refused)" in (pool.status()[0].last_error or "")


def test_pool__upstream_never_reached__is_not_used(nodes, pool_of):
    (b,) = nodes(1)
    pool = pool_of([f"http://127.0.0.1:{free_port()}", b.url])

    assert pool.request("eth_getBalance", BALANCE) == "0x1"
    assert state(pool, 0) is HealthState.UNKNOWN  # no check verified its chain: never chosen
    assert (
        pool.registry.get_sample_value(
            "link_ops_rpc_requests_total",
            {"chain": "polygon", "upstream": pool.names[0], "method": "eth_getBalance"},
        )
        is None
    )


ANSWERS = {
    "invalid params (-32602)": Error(-32602, "invalid argument 0: hex string without 0x prefix"),
    "revert with data (3)": Error(3, "execution reverted: custom error 0xdeadbeef", "0xdeadbeef"),
    "Hardhat revert (-32603 with data)": Error(
        -32603, "VM Exception: reverted with reason 'no'", "0x08c379a0"
    ),
    "nonce too low (-32000)": Error(-32000, "nonce too low"),
    "an unknown code": Error(-39999, "something the caller must see"),
}


@pytest.mark.parametrize("answer", ANSWERS.values(), ids=ANSWERS.keys())
def test_pool__error_that_is_the_calls_answer__is_raised_and_never_asked_of_another_upstream(
    nodes, pool_of, answer
):
    a, b = nodes(2)
    a.script["eth_call"] = answer
    pool = pool_of([a.url, b.url])

    with pytest.raises(RpcError) as raised:
        pool.request("eth_call", [{"to": "0x" + "00" * 20}, "latest"])

    assert (raised.value.code, raised.value.rpc_message, raised.value.data) == (
        answer.code,
        answer.message,
        answer.data,
    )
    assert raised.value.upstream == pool.names[0]
    assert b.calls() == []
    assert state(pool, 0) is HealthState.HEALTHY  # an answer is a success of the node


def test_pool__method_no_upstream_supports__answers_the_last_nodes_error(nodes, pool_of):
    a, b = nodes(2)
    for node in (a, b):
        node.script["debug_traceCall"] = Error(-32601, "the method debug_traceCall does not exist")

    with pytest.raises(RpcError) as raised:
        pool_of([a.url, b.url]).request("debug_traceCall", [])

    assert raised.value.code == -32601
    assert len(a.calls()) == len(b.calls()) == 1


def test_pool__every_upstream_failing_a_read__raises_unavailable_naming_each(nodes, pool_of):
    a, b = nodes(2)
    a.script["eth_call"], b.script["eth_call"] = Status(500), Status(502)
    pool = pool_of([a.url, b.url])

    with pytest.raises(RpcUnavailableError) as raised:
        pool.request("eth_call", [{}, "latest"])

    assert f"{pool.names[0]}: HTTP 500" in str(raised.value)
    assert f"{pool.names[1]}: HTTP 502" in str(raised.value)


def test_pool__max_attempts__bounds_the_upstreams_one_read_tries(nodes, pool_of):
    a, b, c = nodes(3)
    for node in (a, b):
        node.script["eth_call"] = Status(500)
    pool = pool_of([a.url, b.url, c.url], max_attempts=2)

    with pytest.raises(RpcUnavailableError):
        pool.request("eth_call", [{}, "latest"])
    assert c.calls() == []


# -- health --------------------------------------------------------------------------------------------------


def test_pool__third_failed_check__makes_upstream_unhealthy_and_two_passed_checks_bring_it_back(
    nodes, pool_of
):
    a, b = nodes(2)
    pool = pool_of([a.url, b.url])
    pool.check_now()
    a.script["eth_blockNumber"] = Status(500)

    pool.check_now()
    pool.check_now()
    assert state(pool, 0) is HealthState.HEALTHY
    pool.check_now()
    assert state(pool, 0) is HealthState.UNHEALTHY
    change = pool.status()[0].transitions[-1]
    assert (change.before, change.after, change.checks_failed_in_a_row) == (
        HealthState.HEALTHY,
        HealthState.UNHEALTHY,
        3,
    )
    for _ in range(3):
        pool.request("eth_getBalance", BALANCE)
    assert a.calls() == []  # unhealthy: no reads while b is healthy

    del a.script["eth_blockNumber"]
    pool.check_now()
    assert state(pool, 0) is HealthState.UNHEALTHY
    pool.check_now()
    assert state(pool, 0) is HealthState.HEALTHY


def test_pool__request_failures__count_toward_health(nodes, pool_of):
    a, b = nodes(2)
    for node in (a, b):
        node.script["eth_call"] = Status(500)
    pool = pool_of([a.url, b.url], last_resort=False)
    pool.check_now()

    for _ in range(3):
        with pytest.raises(RpcUnavailableError):
            pool.request("eth_call", [{}, "latest"])

    assert [len(n.calls("eth_call")) for n in (a, b)] == [3, 3]
    assert [s.state for s in pool.status()] == [HealthState.UNHEALTHY] * 2  # though their checks passed
    with pytest.raises(NoHealthyUpstreamError):
        pool.request("eth_getBalance", BALANCE)


def test_pool__upstream_that_just_failed__comes_after_equally_busy_others(nodes, pool_of):
    a, b = nodes(2)
    a.script["eth_getBalance"] = Status(500)
    pool = pool_of([a.url, b.url])

    for _ in range(5):
        pool.request("eth_getBalance", BALANCE)

    assert len(a.calls("eth_getBalance")) == 1  # once, then it weighs a whole timeout in the average
    assert len(b.calls("eth_getBalance")) == 5
    assert state(pool, 0) is HealthState.HEALTHY  # one failure is not three


def test_pool__no_healthy_upstream__reads_try_the_unhealthy_ones_as_a_last_resort(nodes, pool_of):
    a, b = nodes(2)
    for node in (a, b):
        node.script["eth_blockNumber"] = Status(500)
    pool = pool_of([a.url, b.url], unhealthy_after=1)
    pool.check_now()
    assert {s.state for s in pool.status()} == {HealthState.UNHEALTHY}

    assert pool.request("eth_getBalance", BALANCE) == "0x1"


def test_pool__no_healthy_upstream_and_no_last_resort__raises_naming_every_state(nodes, pool_of):
    a, b = nodes(2)
    a.script["eth_blockNumber"] = Status(500)
    b.chain_id = 1
    pool = pool_of([a.url, b.url], unhealthy_after=1, last_resort=False)
    pool.check_now()

    with pytest.raises(NoHealthyUpstreamError) as raised:
        pool.request("eth_getBalance", BALANCE)

    message = str(raised.value)
    assert f"{pool.names[0]} unhealthy" in message and "HTTP 500" in message
    assert f"{pool.names[1]} wrong_chain" in message
    assert a.calls() == b.calls() == []


def test_pool__upstream_of_another_chain__is_never_used_nor_checked_again(nodes, pool_of, caplog):
    a, b = nodes(2)
    b.chain_id = 1
    pool = pool_of([a.url, b.url])
    pool.check_now()
    assert state(pool, 1) is HealthState.WRONG_CHAIN
    assert any("serves chain 1 (Ethereum), not 137" in r.getMessage() for r in caplog.records)

    b.chain_id = 137  # even if it says otherwise later
    checks_before = len(b.calls("eth_chainId"))
    pool.check_now()
    a.script["eth_getBalance"] = Status(500)

    with pytest.raises(RpcUnavailableError):
        pool.request("eth_getBalance", BALANCE)
    assert state(pool, 1) is HealthState.WRONG_CHAIN
    assert len(b.calls("eth_chainId")) == checks_before
    assert b.calls() == []


# -- lag -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("heads", "lagging"),
    [
        ((100, 100, 80), [False, False, True]),  # 20 behind the second-highest (100)
        ((100, 100, 90), [False, False, False]),  # 10 behind: within N
        ((200, 100, 95), [False, False, False]),  # one node far ahead does not exclude the rest
        ((200, 100, 80), [False, False, True]),
        ((100, 80, 60), [False, False, True]),  # the highest is never behind the second-highest
    ],
)
def test_pool__head_behind_the_second_highest_by_more_than_n__is_excluded(nodes, pool_of, heads, lagging):
    upstreams = nodes(3)
    for node, head in zip(upstreams, heads, strict=True):
        node.head = head
    pool = pool_of([n.url for n in upstreams], max_head_lag_blocks=10)

    pool.check_now()

    assert [s.state is HealthState.LAGGING for s in pool.status()] == lagging
    reference = sorted(heads)[-2]
    assert [s.head_lag for s in pool.status()] == [max(0, reference - h) for h in heads]


def test_pool__lagging_upstream__serves_nothing_until_it_catches_up(nodes, pool_of):
    a, b, c = nodes(3)
    a.head = 50
    pool = pool_of([a.url, b.url, c.url], max_head_lag_blocks=10)
    pool.check_now()
    for _ in range(4):
        pool.request("eth_getBalance", BALANCE)
    assert a.calls() == []

    a.head = 95
    pool.check_now()

    assert state(pool, 0) is HealthState.HEALTHY
    pool.request("eth_getBalance", BALANCE)  # a is the only unmeasured one: it is asked first
    assert len(a.calls("eth_getBalance")) == 1


# -- writes --------------------------------------------------------------------------------------------------


def test_pool__send__goes_to_exactly_one_upstream(nodes, pool_of):
    a, b = nodes(2)
    raw = signed_transfer()
    tx_hash = "0x" + keccak(hexstr=raw).hex()
    a.script["eth_sendRawTransaction"] = Result(tx_hash)

    assert pool_of([a.url, b.url]).request("eth_sendRawTransaction", [raw]) == tx_hash
    assert a.calls("eth_sendRawTransaction") == [[raw]]
    assert b.calls() == []


@pytest.mark.parametrize("failure", [Stall(), Status(500), Drop()], ids=["timeout", "HTTP 500", "dropped"])
def test_pool__send_without_answer__is_ambiguous_names_the_hash_and_is_not_retried(nodes, pool_of, failure):
    a, b = nodes(2)
    a.script["eth_sendRawTransaction"] = failure
    raw = signed_transfer()
    pool = pool_of([a.url, b.url], request_timeout_s=1.0)

    with pytest.raises(AmbiguousSendError) as raised:
        pool.request("eth_sendRawTransaction", [raw])

    tx_hash = "0x" + keccak(hexstr=raw).hex()
    assert (raised.value.upstream, raised.value.tx_hash) == (pool.names[0], tx_hash)
    assert tx_hash in str(raised.value) and "eth_getTransactionByHash" in str(raised.value)
    assert len(a.calls("eth_sendRawTransaction")) == 1
    assert b.calls() == []


@pytest.mark.parametrize("refusal", [Status(429), Error(-32005, "rate limited")], ids=["HTTP 429", "-32005"])
def test_pool__send_refused_unread__is_not_sent_and_not_retried(nodes, pool_of, refusal):
    a, b = nodes(2)
    a.script["eth_sendRawTransaction"] = refusal
    pool = pool_of([a.url, b.url])

    with pytest.raises(TransactionNotSentError, match="was not sent; send it again"):
        pool.request("eth_sendRawTransaction", [signed_transfer()])
    assert b.calls() == []


def test_pool__send_rejected_by_the_node__is_its_answer_and_not_retried(nodes, pool_of):
    a, b = nodes(2)
    a.script["eth_sendRawTransaction"] = Error(-32000, "nonce too low")

    with pytest.raises(RpcError, match="nonce too low"):
        pool_of([a.url, b.url]).request("eth_sendRawTransaction", [signed_transfer()])
    assert b.calls() == []


def test_pool__node_state_methods__are_never_retried_elsewhere(nodes, pool_of):
    a, b = nodes(2)
    a.script["evm_mine"] = Status(500)

    with pytest.raises(AmbiguousSendError):
        pool_of([a.url, b.url]).request("evm_mine", [])
    assert b.calls() == []


def test_pool__sender_nonce_read_and_send__go_to_the_same_upstream_though_it_is_busier(nodes, pool_of):
    a, b = nodes(2)
    a.script["eth_call"] = Stall()
    pool = pool_of([a.url, b.url])
    pool.check_now()
    held = in_thread(lambda: pool.request("eth_call", [{}, "latest"]))
    assert a.holding.wait(60)
    pool.request("eth_getTransactionCount", [ALICE.address, "pending"])  # a is busy: b answers
    a.release.set()
    held.join(60)
    a.script["eth_getCode"] = Status(500)
    b.script["eth_getCode"] = Stall()
    held = in_thread(lambda: pool.request("eth_getCode", ["0x" + "00" * 20, "latest"]))
    assert b.holding.wait(60)  # now b is the busier one (a failed the read, b holds it)

    pool.request("eth_sendRawTransaction", [signed_transfer()])

    assert len(b.calls("eth_getTransactionCount")) == len(b.calls("eth_sendRawTransaction")) == 1
    assert a.calls("eth_sendRawTransaction") == []
    b.release.set()
    held.join(60)


def test_pool__pinned_operation__reads_and_sends_on_one_upstream_and_never_fails_over(nodes, pool_of):
    a, b = nodes(2)
    pool = pool_of([a.url, b.url])

    with pool.pinned(sender=ALICE.address) as node:
        pinned_to = node.upstream
        for _ in range(3):
            node.request("eth_getTransactionCount", [ALICE.address, "pending"])
        node.request("eth_sendRawTransaction", [signed_transfer()])
        used, idle = (a, b) if pinned_to == pool.names[0] else (b, a)
        used.script["eth_getBalance"] = Status(500)
        with pytest.raises(PinnedUpstreamError, match="run the whole pinned operation again"):
            node.request("eth_getBalance", BALANCE)

    assert len(used.calls("eth_getTransactionCount")) == 3
    assert len(used.calls("eth_sendRawTransaction")) == 1
    assert idle.calls() == []


def test_pool__send_with_no_usable_upstream__sends_nothing(nodes, pool_of):
    a, b = nodes(2, chain_id=1)

    with pytest.raises(NoHealthyUpstreamError, match="nothing was sent"):
        pool_of([a.url, b.url]).request("eth_sendRawTransaction", [signed_transfer()])
    assert a.calls() == b.calls() == []


# -- async ---------------------------------------------------------------------------------------------------


def test_pool__async_read__fails_over_and_async_answers_are_not_retried(nodes, pool_of):
    a, b = nodes(2)
    a.script["eth_call"] = Error(3, "execution reverted", "0x")
    b.script["eth_getBalance"] = Status(502)
    a.script["eth_getBalance"] = Result("0x2a")
    pool = pool_of([a.url, b.url])

    async def scenario() -> str:
        async with pool:
            with pytest.raises(RpcError):
                await pool.arequest("eth_call", [{}, "latest"])  # both unmeasured: a, which reverts
            return str(await pool.arequest("eth_getBalance", BALANCE))  # b (unmeasured) fails, then a

    assert asyncio.run(scenario()) == "0x2a"
    assert b.calls("eth_call") == []
    assert len(b.calls("eth_getBalance")) == len(a.calls("eth_getBalance")) == 1


def test_pool__async_checks_and_pinning__follow_the_same_rules(nodes, pool_of):
    a, b = nodes(2)
    b.chain_id = 1
    pool = pool_of([a.url, b.url])

    async def scenario() -> None:
        await pool.acheck_now()
        async with pool.apinned(sender=ALICE.address) as node:
            assert node.upstream == pool.names[0]
            await node.arequest("eth_getTransactionCount", [ALICE.address, "pending"])
        await pool.aclose()

    asyncio.run(scenario())
    assert state(pool, 1) is HealthState.WRONG_CHAIN
    assert len(a.calls("eth_getTransactionCount")) == 1


# -- metrics and bad inputs ----------------------------------------------------------------------------------


def test_pool__metrics__count_each_upstreams_requests_errors_and_state(nodes):
    a, b = nodes(2)
    a.script["eth_getBalance"] = Status(500)
    for node in (a, b):
        node.script["eth_call"] = Error(3, "execution reverted", "0x")
    registry = CollectorRegistry()
    pool = RpcPool(137, [a.url, b.url], PoolSettings(check_interval_s=3600), registry=registry)
    try:
        pool.request("eth_getBalance", BALANCE)  # a fails (HTTP 500), b answers
        with pytest.raises(RpcError):
            pool.request("eth_call", [{}, "latest"])  # a revert, from b (a just failed: it comes last)
        pool.request("eth_getCode", ["0x" + "00" * 20, "latest"])
    finally:
        pool.close()

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, {"chain": "polygon", **labels})

    a_name, b_name = pool.names
    sent = {n: len(node.calls()) for n, node in zip(pool.names, (a, b), strict=True)}
    counted = {
        n: sum(
            value("link_ops_rpc_requests_total", upstream=n, method=m) or 0
            for m in ("eth_getBalance", "eth_call", "eth_getCode", "other")
        )
        for n in pool.names
    }
    assert counted == sent
    assert value("link_ops_rpc_errors_total", upstream=a_name, kind="http_status") == 1
    assert value("link_ops_rpc_errors_total", upstream=b_name, kind="rpc_answer") == 1
    assert value("link_ops_rpc_failovers_total") == 1
    assert value("link_ops_rpc_in_flight_requests", upstream=a_name) == 0
    assert value("link_ops_rpc_upstream_state", upstream=b_name, link_ops_rpc_upstream_state="healthy") == 1
    assert value("link_ops_rpc_checks_total", upstream=b_name, result="ok") == 1
    assert value("link_ops_rpc_head_block", upstream=b_name) == 100
    assert value("link_ops_rpc_request_duration_seconds_count", upstream=b_name) == sent[b_name]


def test_pool__two_pools_in_one_process__keep_their_own_metrics(nodes):
    (a,) = nodes(1)
    first, second = RpcPool(137, a.url), RpcPool(137, a.url)
    try:
        first.request("eth_getBalance", BALANCE)
    finally:
        first.close()
        second.close()
    labels = {"chain": "polygon", "upstream": first.names[0], "method": "eth_getBalance"}
    assert first.registry.get_sample_value("link_ops_rpc_requests_total", labels) == 1
    assert second.registry.get_sample_value("link_ops_rpc_requests_total", labels) is None


@pytest.mark.parametrize(
    ("method", "params", "message"),
    [
        ("", [], "non-empty string"),
        ("eth_call", "0xabc", "params must be a list"),
        ("eth_call", [object()], "params are not JSON"),
    ],
)
def test_pool__bad_request__is_refused_before_anything_is_sent(nodes, pool_of, method, params, message):
    (a,) = nodes(1)
    with pytest.raises(RpcConfigurationError, match=message):
        pool_of([a.url]).request(method, params)
    assert a.calls() == []


@pytest.mark.parametrize(
    ("chain_id", "urls", "message"),
    [
        (0, "http://127.0.0.1:1", "positive integer"),
        (137, "", "names no URL"),
        (137, "ftp://node", "not an http:// or https:// URL"),
        (137, ["http://a:1", "http://a:1/"], "same node twice"),
    ],
)
def test_pool__bad_construction__is_one_clear_error(chain_id, urls, message):
    with pytest.raises(RpcConfigurationError, match=message):
        RpcPool(chain_id, urls)
