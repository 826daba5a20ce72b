"""The loopback JSON-RPC proxy in front of an RPC pool: single and batch requests, malformed input, its own
errors, web3 talking through it, ``/metrics`` scraped and parsed, ``/health``, and ``ape run rpc_proxy`` as
a process stopped by a signal.

The upstreams are two fault proxies in front of one anvil (chain 137): each counts what reached it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from _ape import APE, ROOT, error_lines, output_of, run_ape_here
from eth_account import Account
from prometheus_client.parser import text_string_to_metric_families
from web3 import Web3

from link_ops.exceptions import RpcConfigurationError
from link_ops.fork import _rpc, free_port
from link_ops.rpc import PoolSettings, RpcPool
from link_ops.rpc.bench import run_proxy_bench
from link_ops.rpc.proxy import RpcProxy, serve_in_thread
from link_ops.testing.faults import FaultProxy, Mode
from link_ops.testing.standin import LocalUpstream

SETTINGS = PoolSettings(check_interval_s=3600, request_timeout_s=60)
#: anvil's third account (its default mnemonic).
PAYER = Account.from_key("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a")
PATIENCE = 120.0


@dataclass
class Upstreams:
    node: LocalUpstream
    proxies: tuple[FaultProxy, FaultProxy]

    @property
    def urls(self) -> list[str]:
        return [p.url for p in self.proxies]

    def fresh(self) -> None:
        for proxy in self.proxies:
            proxy.reset_counts()
            proxy.set_mode(Mode.PASS)


@pytest.fixture(scope="module")
def upstreams() -> Iterator[Upstreams]:
    with LocalUpstream(137) as node, FaultProxy(node.url) as first, FaultProxy(node.url) as second:
        yield Upstreams(node, (first, second))


@pytest.fixture
def proxy(upstreams) -> Iterator[RpcProxy]:
    upstreams.fresh()
    with serve_in_thread(make_pool(upstreams.urls)) as serving:
        yield serving


def make_pool(urls: list[str], settings: PoolSettings = SETTINGS) -> RpcPool:
    return RpcPool(137, urls, settings)


def post(proxy: RpcProxy, payload: object) -> requests.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return requests.post(proxy.url, data=body, headers={"Content-Type": "application/json"}, timeout=PATIENCE)


def call(method: str, params: list[object] | None = None, request_id: object = 1) -> dict[str, object]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params or []}


# -- JSON-RPC ------------------------------------------------------------------------------------------------


def test_proxy__single_request__is_answered_with_its_own_id(proxy):
    reply = post(proxy, call("eth_chainId", request_id="abc-7"))
    assert reply.status_code == 200
    assert reply.json() == {"jsonrpc": "2.0", "id": "abc-7", "result": "0x89"}


def test_proxy__batch__is_answered_in_order_each_with_its_id_and_its_own_outcome(proxy, upstreams):
    head = _rpc(upstreams.node.url, "eth_blockNumber", [])
    batch = [
        call("eth_chainId", request_id=3),
        call("eth_blockNumber", request_id="b"),
        call("eth_getBalance", ["0xnot-an-address", "latest"], request_id=5),
        {"jsonrpc": "2.0", "id": 6},
        call("eth_chainId", request_id=None),
    ]

    replies = post(proxy, batch).json()

    assert [r["id"] for r in replies] == [3, "b", 5, 6, None]
    assert replies[0]["result"] == "0x89" and replies[1]["result"] == head
    assert replies[2]["error"]["code"] == -32602  # anvil's own answer, unchanged
    assert replies[3]["error"]["code"] == -32600
    assert replies[4]["result"] == "0x89"


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        (b"{not json", -32700, "not JSON"),
        (b"[]", -32600, "batch is empty"),
        (b'"eth_chainId"', -32600, "must be a JSON object"),
        (json.dumps({"jsonrpc": "2.0", "id": 1}).encode(), -32600, "method must be a non-empty string"),
        (
            json.dumps({"jsonrpc": "1.0", "id": 1, "method": "eth_chainId"}).encode(),
            -32600,
            'jsonrpc must be "2.0"',
        ),
        (json.dumps({"jsonrpc": "2.0", "id": [1], "method": "eth_chainId"}).encode(), -32600, "id must be"),
        (json.dumps(call("eth_getBalance", "0xab")).encode(), -32602, "params must be a list or an object"),  # type: ignore[arg-type]
    ],
)
def test_proxy__malformed_request__is_one_clear_json_rpc_error_and_reaches_no_node(
    proxy, upstreams, body, code, words
):
    before = [dict(p.received) for p in upstreams.proxies]  # the pool's first checks

    reply = post(proxy, body)

    assert reply.status_code == 200
    error = reply.json()["error"]
    assert error["code"] == code and words in error["message"]
    assert [dict(p.received) for p in upstreams.proxies] == before


def test_proxy__oversized_batch__is_refused_whole(upstreams):
    upstreams.fresh()
    pool = make_pool(upstreams.urls)
    with serve_in_thread(pool) as serving:
        serving.max_batch = 3
        reply = post(serving, [call("eth_chainId", request_id=i) for i in range(4)]).json()
    assert reply["error"]["code"] == -32600 and "at most 3" in reply["error"]["message"]


def test_proxy__notification__is_forwarded_and_not_answered(proxy, upstreams):
    reply = post(proxy, {"jsonrpc": "2.0", "method": "eth_getBalance", "params": [PAYER.address, "latest"]})
    assert reply.status_code == 204 and reply.content == b""
    assert sum(p.count("eth_getBalance", forwarded=True) for p in upstreams.proxies) == 1


def test_proxy__no_healthy_upstream__answers_its_own_error_with_each_state(upstreams):
    upstreams.fresh()
    for proxy in upstreams.proxies:
        proxy.set_mode(Mode.WRONG_CHAIN, chain_id=1)
    with serve_in_thread(make_pool(upstreams.urls)) as serving:
        error = post(serving, call("eth_blockNumber")).json()["error"]
        health = requests.get(serving.url + "/health", timeout=PATIENCE)
    upstreams.fresh()

    assert error["code"] == -32050 and "no healthy upstream" in error["message"]
    assert [u["state"] for u in error["data"]["upstreams"]] == ["wrong_chain", "wrong_chain"]
    assert health.status_code == 503 and health.json()["usable"] == 0


def test_proxy__send_without_answer__is_ambiguous_and_sent_nowhere_else(upstreams):
    upstreams.fresh()
    nonce = int(_rpc(upstreams.node.url, "eth_getTransactionCount", [PAYER.address, "pending"]), 16)
    raw = sign_transfer(nonce)
    settings = PoolSettings(check_interval_s=3600, request_timeout_s=1.0)
    with serve_in_thread(make_pool(upstreams.urls, settings)) as serving:
        for proxy in upstreams.proxies:
            proxy.set_mode(Mode.STALL)
        error = post(serving, call("eth_sendRawTransaction", [raw])).json()["error"]
        received = sum(p.count("eth_sendRawTransaction") for p in upstreams.proxies)
    upstreams.fresh()

    assert error["code"] == -32051
    assert error["data"]["txHash"] == Web3.keccak(hexstr=raw).to_0x_hex()
    assert error["data"]["upstream"] in error["message"]
    assert received == 1


def sign_transfer(nonce: int) -> str:
    tx = {"to": PAYER.address, "value": 1, "gas": 21_000, "gasPrice": 10**11, "nonce": nonce, "chainId": 137}
    return "0x" + PAYER.sign_transaction(tx).raw_transaction.hex()


def test_web3__through_the_proxy__reads_and_sends_a_transaction_once(proxy, upstreams):
    w3 = Web3(Web3.HTTPProvider(proxy.url))
    nonce = w3.eth.get_transaction_count(PAYER.address, "pending")

    tx_hash = w3.eth.send_raw_transaction(sign_transfer(nonce))
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=PATIENCE)

    assert receipt["status"] == 1 and w3.eth.chain_id == 137
    sends = [p.count("eth_sendRawTransaction", forwarded=True) for p in upstreams.proxies]
    nonce_reads = [p.count("eth_getTransactionCount", forwarded=True) for p in upstreams.proxies]
    assert sorted(sends) == [0, 1]
    assert nonce_reads == sends  # the nonce was read where the transaction went (sticky per sender)


# -- /metrics and /health ------------------------------------------------------------------------------------


def scrape(proxy: RpcProxy) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = requests.get(proxy.url + "/metrics", timeout=PATIENCE).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics__scraped_and_parsed__count_what_each_upstream_was_sent(proxy, upstreams):
    upstreams.proxies[0].set_mode(Mode.HTTP_ERROR, status=503)
    for i in range(10):
        assert post(proxy, call("eth_getBalance", [PAYER.address, "latest"], request_id=i)).json()["result"]

    samples = scrape(proxy)

    names = proxy.pool.names
    for name, fault_proxy in zip(names, upstreams.proxies, strict=True):
        key = (
            "link_ops_rpc_requests_total",
            (("chain", "polygon"), ("method", "eth_getBalance"), ("upstream", name)),
        )
        assert samples.get(key, 0.0) == fault_proxy.count("eth_getBalance")
    failed = samples[
        ("link_ops_rpc_errors_total", (("chain", "polygon"), ("kind", "http_status"), ("upstream", names[0])))
    ]
    assert failed == upstreams.proxies[0].count("eth_getBalance") >= 1
    assert samples[("link_ops_rpc_in_flight_requests", (("chain", "polygon"), ("upstream", names[1])))] == 0
    ok_state = (("chain", "polygon"), ("link_ops_rpc_upstream_state", "healthy"), ("upstream", names[1]))
    assert samples[("link_ops_rpc_upstream_state", ok_state)] == 1
    count = samples[
        ("link_ops_rpc_request_duration_seconds_count", (("chain", "polygon"), ("upstream", names[1])))
    ]
    assert count == 10


def test_health__lists_each_upstream_with_state_head_and_load(proxy, upstreams):
    head = int(_rpc(upstreams.node.url, "eth_blockNumber", []), 16)
    health = requests.get(proxy.url + "/health", timeout=PATIENCE)

    assert health.status_code == 200
    body = health.json()
    assert (body["chain_id"], body["usable"]) == (137, 2)
    assert [u["name"] for u in body["upstreams"]] == list(proxy.pool.names)
    assert all(
        u["state"] == "healthy" and u["head"] == head and u["in_flight"] == 0 for u in body["upstreams"]
    )


def test_proxy__port_already_taken__is_one_clear_error(upstreams):
    with serve_in_thread(make_pool(upstreams.urls)) as first:
        port = int(first.url.rsplit(":", 1)[1])
        with (
            pytest.raises(RpcConfigurationError, match=f"cannot listen on 127.0.0.1:{port} .*choose another"),
            serve_in_thread(make_pool(upstreams.urls), port=port),
        ):
            pass


# -- ape run rpc_proxy ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def rpc_proxy_process(urls: list[str], port: int) -> Iterator[subprocess.Popen[str]]:
    env = {**os.environ, "POLYGON_RPC_URL": ",".join(urls), "NO_COLOR": "1", "COLUMNS": "160"}
    command = [
        str(APE),
        "run",
        "rpc_proxy",
        "--chain",
        "polygon",
        "--port",
        str(port),
        "--check-interval",
        "0.5",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=60)


def wait_for_health(url: str, process: subprocess.Popen[str]) -> dict[str, object]:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        with contextlib.suppress(requests.RequestException):
            reply = requests.get(url + "/health", timeout=5)
            if reply.status_code == 200:
                return dict(reply.json())
        time.sleep(0.2)
    raise AssertionError(f"ape run rpc_proxy did not answer on {url} within {PATIENCE:.0f} s")


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_rpc_proxy_script__started_as_a_process__serves_and_stops_cleanly_on_a_signal(upstreams, stop):
    upstreams.fresh()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with rpc_proxy_process(upstreams.urls, port) as process:
        health = wait_for_health(url, process)
        reply = requests.post(url, json=call("eth_chainId", request_id=9), timeout=PATIENCE).json()
        process.send_signal(stop)
        output, _ = process.communicate(timeout=PATIENCE)

    assert health["usable"] == 2
    assert reply == {"jsonrpc": "2.0", "id": 9, "result": "0x89"}
    assert process.returncode == 0, output
    assert f"JSON-RPC on {url} through 2 upstreams" in output
    assert output.rstrip().endswith("stopped")


def test_rpc_proxy_script__bad_url_list__is_one_line_error():
    done = run_ape_here("run", "rpc_proxy", "--urls", "http://127.0.0.1:1,http://127.0.0.1:1/")
    assert done.returncode != 0
    assert error_lines(done) == ["Error: --urls names the same node twice (127.0.0.1:1): list each URL once"]


# -- the benchmark ----------------------------------------------------------------------------------------


def test_proxy_bench__tiny_count__measures_both_ways_with_consistent_figures(upstreams):
    bench = run_proxy_bench(upstreams.node.url, calls=40, concurrency=4)

    assert (bench.calls, bench.concurrency) == (40, 4)
    assert bench.direct.calls == bench.proxied.calls == 40
    for latency in (bench.direct, bench.proxied):
        assert 0 < latency.p50_ms <= latency.p99_ms
    assert bench.added_p50_ms == pytest.approx(bench.proxied.p50_ms - bench.direct.p50_ms)
    assert bench.meets_goal is (bench.added_p50_ms <= 1.0)
    assert bench.direct_reads_per_second > 0 and bench.proxied_reads_per_second > 0


def test_proxy_bench__no_calls__is_refused():
    with pytest.raises(RpcConfigurationError, match="at least 1"):
        run_proxy_bench("http://127.0.0.1:1", calls=0)


def test_ops_bench_script__proxy_section__prints_each_figure_beside_its_goal():
    done = run_ape_here("run", "ops_bench", "--calls", "30", "--concurrency", "2", "--section", "proxy")

    assert done.returncode == 0, output_of(done)
    table = done.stdout
    for figure in (
        "direct to anvil",
        "through the proxy",
        "added by the proxy at p50",
        "reads/s, 2 in flight",
    ):
        assert figure in table
    assert "≤ 1 ms" in table
    assert "index backfill" not in table
