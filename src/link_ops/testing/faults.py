"""A fault-injecting JSON-RPC proxy on loopback, in front of one node: the RPC pool's chaos tests.

Each :class:`FaultProxy` forwards HTTP JSON-RPC requests to its node, and on command
(:meth:`FaultProxy.set_mode`, from any thread, taking effect with the next request) instead:

- ``stall``: holds the request without answering until the mode changes or the proxy stops (a node that
  hangs: the client times out);
- ``http_error``: answers an HTTP status (500 by default; 429, 502, …) with a short body;
- ``drop``: closes the connection without answering;
- ``rpc_error``: answers a JSON-RPC error object (``-32005 rate limited`` by default);
- ``lag``: forwards, but reports ``eth_blockNumber`` ``lag_blocks`` lower (a node behind the chain);
- ``wrong_chain``: forwards, but reports another ``eth_chainId``;
- ``slow``: forwards after holding each request ``delay_s`` seconds (a node that answers, slowly);
- ``flaky``: answers every ``every``-th request with an HTTP ``status`` and forwards the others (a node
  that fails a share of its requests).

It counts what it received and what reached the node, per method. With `replicas`, a transaction the node
accepted (``eth_sendRawTransaction``) is also handed to those nodes, as a network's gossip would: several
anvils then hold the same transactions, each exactly once. Testing only: the library never imports this.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from link_ops.rpc.classify import Failure
from link_ops.rpc.transport import SyncHttp

#: Seconds a stalled request is held at most (a test that forgets to release it still ends).
MAX_STALL_S = 120.0


class Mode(str, Enum):
    PASS = "pass"
    STALL = "stall"
    HTTP_ERROR = "http_error"
    DROP = "drop"
    RPC_ERROR = "rpc_error"
    LAG = "lag"
    WRONG_CHAIN = "wrong_chain"
    SLOW = "slow"
    FLAKY = "flaky"


@dataclass(frozen=True)
class Fault:
    """A mode and its parameters."""

    mode: Mode = Mode.PASS
    status: int = 500
    rpc_code: int = -32005
    rpc_message: str = "rate limited"
    lag_blocks: int = 100
    chain_id: int = 1
    delay_s: float = 0.3
    every: int = 10


class FaultProxy:
    """A loopback HTTP proxy in front of the node at `target`, injecting :class:`Fault`s on command."""

    def __init__(self, target: str, *, replicas: Sequence[str] = (), timeout: float = 60.0) -> None:
        self.target = target
        self.timeout = timeout
        self._node = SyncHttp(target)
        self._replicas = [SyncHttp(url) for url in replicas]
        self._fault = Fault()
        self._release = threading.Event()
        self._lock = threading.Lock()
        self.received: Counter[str] = Counter()
        self.forwarded: Counter[str] = Counter()
        self.stalled = 0
        self._seen = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control ---------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fault proxy is not running: start() it first")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def fault(self) -> Fault:
        return self._fault

    def set_mode(self, mode: Mode | str, **parameters: Any) -> None:
        """Switches to `mode` (with :class:`Fault`'s `parameters`); releases any stalled request."""
        with self._lock:
            self._fault = Fault(Mode(mode), **parameters)
            release, self._release = self._release, threading.Event()
        release.set()

    def count(self, method: str, *, forwarded: bool = False) -> int:
        """How many `method` requests this proxy received (or, `forwarded`, passed to its node)."""
        with self._lock:
            return (self.forwarded if forwarded else self.received)[method]

    def reset_counts(self) -> None:
        with self._lock:
            self.received.clear()
            self.forwarded.clear()

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._node.close()
        for replica in self._replicas:
            replica.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- serving ---------------------------------------------------------------------------------------------

    def _methods(self, body: bytes) -> list[str]:
        try:
            request = json.loads(body)
        except ValueError:
            return ["<not json>"]
        items = request if isinstance(request, list) else [request]
        return [str(item.get("method")) if isinstance(item, dict) else "<invalid>" for item in items]

    def _handle(self, handler: _Handler, body: bytes) -> None:
        methods = self._methods(body)
        with self._lock:
            fault, release = self._fault, self._release
            self.received.update(methods)
            self._seen += 1
            nth = self._seen
        if fault.mode is Mode.SLOW:
            release.wait(fault.delay_s)  # cut short by a change of mode
        if fault.mode is Mode.FLAKY and nth % max(1, fault.every) == 0:
            handler.reply(fault.status, b'{"message":"injected failure"}')
            return
        if fault.mode is Mode.STALL:
            with self._lock:
                self.stalled += 1
            try:
                release.wait(MAX_STALL_S)
            finally:
                with self._lock:
                    self.stalled -= 1
            handler.close_connection = True
            return
        if fault.mode is Mode.DROP:
            handler.close_connection = True
            return
        if fault.mode is Mode.HTTP_ERROR:
            handler.reply(fault.status, b'{"message":"injected failure"}')
            return
        if fault.mode is Mode.RPC_ERROR:
            request_id = _first_id(body)
            error = {"code": fault.rpc_code, "message": fault.rpc_message}
            handler.reply(200, json.dumps({"jsonrpc": "2.0", "id": request_id, "error": error}).encode())
            return
        reply = self._node.post(body, self.timeout)
        if isinstance(reply, Failure):
            handler.reply(502, json.dumps({"message": reply.detail}).encode())
            return
        with self._lock:
            self.forwarded.update(methods)
        status, data = reply
        if status == 200 and fault.mode in (Mode.LAG, Mode.WRONG_CHAIN):
            data = _rewrite(data, methods, fault)
        if status == 200 and "eth_sendRawTransaction" in methods:
            self._gossip(body, data)
        handler.reply(status, data)

    def _gossip(self, body: bytes, reply: bytes) -> None:
        try:
            accepted = "result" in json.loads(reply)
        except ValueError:
            accepted = False
        if accepted:
            for replica in self._replicas:
                replica.post(body, self.timeout, idempotent=False)


class _Handler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.owner._handle(self, body)

    def reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


def _first_id(body: bytes) -> Any:
    try:
        request = json.loads(body)
    except ValueError:
        return None
    return request.get("id") if isinstance(request, dict) else None


def _rewrite(data: bytes, methods: list[str], fault: Fault) -> bytes:
    """`data` with ``eth_blockNumber`` lowered (lag) or ``eth_chainId`` replaced (wrong chain)."""
    if methods != ["eth_blockNumber"] and methods != ["eth_chainId"]:
        return data
    reply = json.loads(data)
    if "result" not in reply:
        return data
    if fault.mode is Mode.LAG and methods == ["eth_blockNumber"]:
        reply["result"] = hex(max(0, int(reply["result"], 16) - fault.lag_blocks))
    elif fault.mode is Mode.WRONG_CHAIN and methods == ["eth_chainId"]:
        reply["result"] = hex(fault.chain_id)
    return json.dumps(reply).encode()
