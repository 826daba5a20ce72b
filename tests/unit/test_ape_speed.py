"""The suite's speed-ups of ape (tests/_ape_speed.py) still apply to the installed ape, and change nothing
but the time: a new ape version that moved one of them fails here instead of silently slowing the suite."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import _ape_speed
import pytest
import requests
from ape.api.providers import ProviderAPI
from ape.exceptions import ContractNotFoundError
from ape_ethereum.ecosystem import BaseEthereumConfig
from ape_ethereum.trace import Trace
from web3 import HTTPProvider
from web3._utils.threads import Timeout

from link_ops.fork import free_port
from link_ops.testing import isolated


def test_every_speed_up_is_installed():
    assert _ape_speed._INSTALLED == [
        "no console-log traces",
        "trace.show",
        "provider settings",
        "default transaction type",
        "network config",
        "contract code kept",
        "receipt polling",
        "no proxy scan",
        "loopback JSON-RPC over http.client",
    ]


def test_a_transaction_to_a_contract_is_not_traced_for_console_logs(lbc, alice, bob):
    receipt = lbc.approve(bob, 1, sender=alice)
    # ape's console-log lookup caches the typed logs it read from the trace on the receipt.
    assert "debug_logs_typed" not in receipt.__dict__ and "debug_logs_lines" not in receipt.__dict__
    assert receipt.show_debug_logs() is None


def test_a_reverted_transaction_prints_no_call_tree():
    assert Trace.show(object()) is None  # type: ignore[arg-type]


def test_provider_settings__kept_while_config_and_own_settings_stay__rebuilt_when_they_change(chain):
    provider = chain.provider
    first = provider.settings
    assert provider.settings is first
    original = dict(provider.provider_settings)
    try:
        provider.provider_settings = {**original, "link_ops_probe": 1}
        changed = provider.settings
        assert changed is not first
    finally:
        provider.provider_settings = original
    assert provider.settings is not changed
    assert isinstance(ProviderAPI.settings, property)


def test_default_transaction_type__kept__same_answer_as_ape(chain):
    config = chain.provider.network.ecosystem.config
    assert isinstance(config, BaseEthereumConfig)
    kept = config.default_transaction_type
    assert _ape_speed.KEPT["default transaction type"][id(config)][2] is kept
    assert kept == _ape_speed.ORIGINALS["default transaction type"](config, "default_transaction_type")


def test_requests_sessions__ignore_proxy_variables(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:1")
    assert requests.Session().trust_env is False


def test_network_config__kept__equal_to_a_fresh_build(chain):
    network = chain.provider.network
    kept = network.config
    assert network.config is kept and _ape_speed.KEPT["network config"][id(network)][2] is kept
    assert kept.model_dump() == _ape_speed.ORIGINALS["network config"](network).model_dump()


def test_contract_code__kept_while_deployed__gone_after_the_revert_that_removed_it(project, admin, chain):
    with isolated(chain):
        token = project.MockERC20.deploy("Probe", "PRB", sender=admin)
        assert token.address and chain.get_code(token.address)
        token.mint(admin, 1, sender=admin)  # a transaction to it: its code is read and kept
        assert int(token.balanceOf(admin)) == 1
    # The snapshot did not hold the contract: neither the kept code nor a call may pretend it does.
    assert len(chain.get_code(token.address)) == 0
    with pytest.raises(ContractNotFoundError):
        token.balanceOf(admin)


def test_contract_code__a_missing_contract_is_asked_again(project, admin, chain, failing_deployer):
    with isolated(chain):
        address = failing_deployer.get_deployment_address()
        assert len(chain.get_code(address)) == 0
        project.MockERC20.deploy("Probe", "PRB", sender=failing_deployer)
        assert len(chain.get_code(address)) > 0


class _Node(http.server.BaseHTTPRequestHandler):
    """Answers every POST with ``server.status`` and a JSON body, counting requests; with ``server.drop``
    it closes the connection after answering although it offered keep-alive (as a restarting node does)."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        server = self.server
        server.requests += 1  # type: ignore[attr-defined]
        body = b'{"jsonrpc":"2.0","id":0,"result":"0x89"}'
        self.send_response(server.status)  # type: ignore[attr-defined]
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = server.drop  # type: ignore[attr-defined]

    def log_message(self, *args: object) -> None:
        pass


class _NodeServer(http.server.ThreadingHTTPServer):
    def shutdown_request(self, request: object) -> None:
        super().shutdown_request(request)  # type: ignore[arg-type]
        self.closed.set()  # type: ignore[attr-defined]  (the connection's socket is closed now)


@pytest.fixture
def node() -> Iterator[http.server.ThreadingHTTPServer]:
    server = _NodeServer(("127.0.0.1", free_port()), _Node)
    server.daemon_threads, server.block_on_close = True, False
    server.status, server.requests, server.drop = 200, 0, False  # type: ignore[attr-defined]
    server.closed = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _web3_provider(server: http.server.HTTPServer) -> HTTPProvider:
    host, port = server.server_address[:2]
    return HTTPProvider(f"http://{host}:{port}", request_kwargs={"timeout": 30})


def test_loopback_json_rpc__answers_as_requests_would__once_per_call(node):
    provider = _web3_provider(node)
    assert provider.make_request("eth_chainId", [])["result"] == "0x89"
    assert provider.make_request("eth_chainId", [])["result"] == "0x89"
    assert node.requests == 2


def test_loopback_json_rpc__an_http_error_status__requests_http_error_with_the_response(node):
    node.status = 503
    with pytest.raises(requests.exceptions.HTTPError) as raised:
        _web3_provider(node).make_request("anvil_mine", [])
    assert raised.value.response is not None and raised.value.response.status_code == 503
    assert raised.value.response.json()["result"] == "0x89"
    assert node.requests == 1  # no retry of its own (web3 retries the methods on its allowlist itself)


def test_loopback_json_rpc__nothing_listening__requests_connection_error():
    provider = HTTPProvider(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(requests.exceptions.ConnectionError):
        provider.make_request("eth_chainId", [])


def test_loopback_json_rpc__the_node_dropped_the_kept_connection__the_next_call_reconnects_once(node):
    provider = _web3_provider(node)
    node.drop = True
    provider.make_request("eth_chainId", [])
    assert node.closed.wait(60)
    node.drop = False
    assert provider.make_request("eth_chainId", [])["result"] == "0x89"
    assert node.requests == 2


def test_receipt_polling__a_transaction_mined_later__waits_for_it_polling_often(
    chain, alice, bob, monkeypatch
):
    """With automine off, the receipt exists only once a block is mined: the wait still returns it."""
    web3 = chain.provider.web3
    polls: list[float] = []
    sleep = Timeout.sleep
    monkeypatch.setattr(Timeout, "sleep", lambda self, seconds: (polls.append(seconds), sleep(self, seconds)))
    chain.provider.auto_mine = False
    try:
        tx_hash = web3.eth.send_transaction({"from": alice.address, "to": bob.address, "value": 1})
        mine = threading.Timer(0.2, lambda: chain.provider.make_request("evm_mine", []))
        mine.start()
        receipt = web3.eth.wait_for_transaction_receipt(tx_hash)
        mine.join()
    finally:
        chain.provider.auto_mine = True
    assert receipt["status"] == 1
    assert polls and set(polls) == {_ape_speed.RECEIPT_POLL_SECONDS}
