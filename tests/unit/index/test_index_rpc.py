"""The single-URL JSON-RPC client: answers, JSON-RPC errors, HTTP errors, timeouts and unreachable nodes,
each as the error the index acts on, the URL's secret parts left out of every message."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from link_ops.fork import free_port
from link_ops.index import HttpJsonRpc, IndexRpcError, JsonRpcError, RpcTimeoutError, RpcTransportError
from link_ops.index.ranges import classify_logs_error

ANSWERS: dict[str, tuple[int, bytes]] = {
    "eth_blockNumber": (200, b'{"jsonrpc":"2.0","id":1,"result":"0x2a"}'),
    "eth_getLogs": (
        200,
        b'{"jsonrpc":"2.0","id":1,"error":{"code":-32005,"message":"query returned more than 10 results"}}',
    ),
    "eth_call": (
        200,
        b'{"jsonrpc":"2.0","id":1,"error":{"code":3,"message":"execution reverted","data":"0x08c3"}}',
    ),
    "eth_chainId": (503, b"upstream unavailable"),
    "eth_gasPrice": (200, b"<html>not json</html>"),
}


class Node(BaseHTTPRequestHandler):
    release = threading.Event()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body["method"] == "slow":
            self.release.wait(10)
            status, payload = 200, b'{"jsonrpc":"2.0","id":1,"result":null}'
        else:
            status, payload = ANSWERS[body["method"]]
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Node)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v2/secret-key"
    Node.release.set()
    server.shutdown()
    server.server_close()


def test_result__returned(url):
    assert HttpJsonRpc(url).request("eth_blockNumber", []) == "0x2a"


def test_json_rpc_error__code_message_and_data_kept__url_secret_left_out(url):
    with pytest.raises(JsonRpcError) as raised:
        HttpJsonRpc(url).request("eth_call", [])
    error = raised.value
    assert (error.code, error.message, error.data) == (3, "execution reverted", "0x08c3")
    assert "secret-key" not in str(error) and "127.0.0.1" in str(error)


def test_json_rpc_error__a_providers_refusal_is_read_as_one(url):
    with pytest.raises(JsonRpcError) as raised:
        HttpJsonRpc(url).request("eth_getLogs", [{}])
    assert classify_logs_error(raised.value).kind == "results"


@pytest.mark.parametrize(
    ("method", "words"), [("eth_chainId", "answered HTTP 503"), ("eth_gasPrice", "not JSON")]
)
def test_http_error_or_garbage__transport_error(url, method, words):
    with pytest.raises(RpcTransportError, match=words) as raised:
        HttpJsonRpc(url).request(method, [])
    assert "secret-key" not in str(raised.value)


def test_slow_node__timeout_error_read_as_a_timeout(url):
    with pytest.raises(RpcTimeoutError, match=r"timed out after 0\.2 s") as raised:
        HttpJsonRpc(url, timeout=0.2).request("slow", [])
    assert classify_logs_error(raised.value).kind == "timeout"


def test_unreachable_node__transport_error_saying_what_to_check():
    with pytest.raises(RpcTransportError, match=r"cannot reach http://127.0.0.1:\d+/….*check the URL"):
        HttpJsonRpc(f"http://127.0.0.1:{free_port()}/key").request("eth_blockNumber", [])


def test_not_an_http_url__refused():
    with pytest.raises(IndexRpcError, match="is not an http"):
        HttpJsonRpc("ws://127.0.0.1:8546")
