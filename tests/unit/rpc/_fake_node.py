"""A tiny scripted JSON-RPC node on loopback, for the pool's unit tests: it answers ``eth_chainId`` and
``eth_blockNumber`` from its fields, and any method as the test scripts it (a result, a JSON-RPC error, an
HTTP status, a stall until released, a dropped connection). It records every request it receives."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHECK_METHODS = ("eth_chainId", "eth_blockNumber")


@dataclass(frozen=True)
class Result:
    value: Any


@dataclass(frozen=True)
class Error:
    code: int
    message: str
    data: Any = None


@dataclass(frozen=True)
class Status:
    code: int


@dataclass(frozen=True)
class Stall:
    """Hold the request, unanswered, until the node's `release` event is set (then drop it)."""


@dataclass(frozen=True)
class Drop:
    """Close the connection without answering."""


@dataclass(frozen=True)
class Garbage:
    """Answer HTTP 200 with a body that is not JSON-RPC."""

    body: bytes = b"<html>bad gateway</html>"


@dataclass(frozen=True)
class WrongId:
    """Answer with a result for another request id."""


Reply = Result | Error | Status | Stall | Drop | Garbage | WrongId


class FakeNode:
    """A scripted node; `script` maps a method to its :data:`Reply` (default ``Result("0x1")``)."""

    def __init__(self, chain_id: int = 137, head: int = 100) -> None:
        self.chain_id = chain_id
        self.head = head
        self.script: dict[str, Reply] = {}
        self.requests: list[tuple[str, Any]] = []
        self.release = threading.Event()
        #: Set whenever a request is being held by a Stall (cleared by the test).
        self.holding = threading.Event()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def calls(self, method: str | None = None) -> list[Any]:
        """The params of every request of `method` (every non-check request when None) received."""
        with self._lock:
            if method is None:
                return [(m, p) for m, p in self.requests if m not in CHECK_METHODS]
            return [p for m, p in self.requests if m == method]

    def reply_for(self, method: str) -> Reply:
        if method in self.script:
            return self.script[method]
        if method == "eth_chainId":
            return Result(hex(self.chain_id))
        if method == "eth_blockNumber":
            return Result(hex(self.head))
        return Result("0x1")

    def start(self) -> FakeNode:
        node = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = json.loads(body)
                method, params = request["method"], request.get("params")
                with node._lock:
                    node.requests.append((method, params))
                reply = node.reply_for(method)
                if isinstance(reply, Stall):
                    node.holding.set()
                    node.release.wait(120)
                    self.close_connection = True
                    return
                if isinstance(reply, Drop):
                    self.close_connection = True
                    return
                if isinstance(reply, Status):
                    self._send(reply.code, b'{"message":"scripted status"}')
                    return
                if isinstance(reply, Garbage):
                    self._send(200, reply.body)
                    return
                answer: dict[str, Any] = {"jsonrpc": "2.0", "id": request["id"]}
                if isinstance(reply, WrongId):
                    answer["id"] = -1
                    answer["result"] = "0x1"
                elif isinstance(reply, Error):
                    answer["error"] = {"code": reply.code, "message": reply.message}
                    if reply.data is not None:
                        answer["error"]["data"] = reply.data
                else:
                    answer["result"] = reply.value
                self._send(200, json.dumps(answer).encode())

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@contextmanager
def fake_nodes(count: int, **kwargs: Any) -> Iterator[list[FakeNode]]:
    nodes = [FakeNode(**kwargs).start() for _ in range(count)]
    try:
        yield nodes
    finally:
        for node in nodes:
            node.stop()
