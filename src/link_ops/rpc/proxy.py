"""A loopback JSON-RPC proxy in front of an RPC pool, so any client (ape, ethers, curl) can use the pool.

``ape run rpc_proxy --chain polygon --port 8545`` serves it; in Python, :class:`RpcProxy` in an event loop
or :func:`serve_in_thread` from sync code. It serves, on 127.0.0.1 unless told otherwise:

- ``POST /``: JSON-RPC 2.0, one request or a batch (answered in the batch's order, each with its own
  ``id``; the requests of a batch go through the pool 32 at a time, each to its own upstream). Each request is
  the pool's :meth:`~link_ops.rpc.pool.RpcPool.arequest`, so reads fail over and sends go to one upstream,
  sticky per sender. A node's JSON-RPC error that is the call's answer (a revert) comes back unchanged.
  What the pool itself cannot do is a JSON-RPC error of its own, with a message saying what to do:

  ======= ========================================================================================
  code    meaning
  ======= ========================================================================================
  -32700  the body is not JSON
  -32600  not a JSON-RPC request (no method, a bad id, an empty or too large batch)
  -32602  params neither a list nor an object
  -32050  no healthy upstream (``data.upstreams``: each one's state)
  -32051  a send may have reached its upstream without an answer (``data``: ``upstream``, ``txHash``):
          look the hash up before sending anything else
  -32052  a send was refused before it reached the node (``data.upstream``): sending it again is safe
  -32053  every upstream tried for a read failed
  ======= ========================================================================================

  A request without ``id`` is a notification: it is forwarded, and not answered (HTTP 204 when nothing is).
- ``GET /metrics``: the pool's registry in Prometheus' text format.
- ``GET /health``: JSON with each upstream's state, head, lag, load and latency; HTTP 200 while some
  upstream is usable, 503 when none is.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from link_ops.exceptions import (
    AmbiguousSendError,
    NoHealthyUpstreamError,
    RpcConfigurationError,
    RpcError,
    RpcUnavailableError,
    TransactionNotSentError,
)
from link_ops.rpc.pool import RpcPool

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
NO_HEALTHY_UPSTREAM = -32050
AMBIGUOUS_SEND = -32051
SEND_NOT_TAKEN = -32052
UPSTREAMS_FAILED = -32053

#: Requests one batch may hold.
MAX_BATCH = 1000
#: Requests of one batch in flight at once (a batch of 1,000 must not open 1,000 connections to a node).
BATCH_CONCURRENCY = 32
#: Bytes one HTTP request may hold (large ``eth_call`` data and batches fit).
MAX_BODY_BYTES = 16 * 1024 * 1024


def _error(request_id: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(payload, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
    )


class RpcProxy:
    """Serves `pool` over HTTP on `host`:`port` (0: a free port; see :attr:`url` once started).

    With `manage_pool`, :meth:`start` starts the pool's checks in the proxy's event loop and :meth:`stop`
    closes it.
    """

    def __init__(
        self,
        pool: RpcPool,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        manage_pool: bool = True,
        max_batch: int = MAX_BATCH,
    ) -> None:
        if not 0 <= port < 65536:
            raise RpcConfigurationError(f"the proxy's port must be 0 (any free port) to 65535, got {port}")
        self.pool = pool
        self.host = host
        self.port = port
        self.manage_pool = manage_pool
        self.max_batch = max_batch
        self._runner: web.AppRunner | None = None
        self._site_port: int | None = None

    @property
    def url(self) -> str:
        if self._site_port is None:
            raise RpcConfigurationError("the proxy is not serving: start() it first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._site_port}"

    def app(self) -> web.Application:
        """The aiohttp application (``POST /``, ``GET /metrics``, ``GET /health``)."""
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post("/", self._serve_rpc)
        app.router.add_get("/metrics", self._serve_metrics)
        app.router.add_get("/health", self._serve_health)
        return app

    async def start(self) -> str:
        """Starts the pool (with `manage_pool`) and serves; returns the proxy's URL."""
        if self.manage_pool:
            await self.pool.astart()
        runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            if self.manage_pool:
                await self.pool.aclose()
            raise RpcConfigurationError(
                f"the proxy cannot listen on {self.host}:{self.port} ({exc.strerror or exc}): choose another "
                "--port (or 0 for any free one)"
            ) from None
        self._runner = runner
        self._site_port = int(runner.addresses[0][1])
        return self.url

    async def stop(self) -> None:
        """Stops serving (and the pool, with `manage_pool`)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        self._site_port = None
        if self.manage_pool:
            await self.pool.aclose()

    # -- handlers --------------------------------------------------------------------------------------------

    async def _serve_rpc(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _json(_error(None, PARSE_ERROR, "Parse error: the body is not JSON"))
        if isinstance(payload, list):
            if not payload:
                return _json(_error(None, INVALID_REQUEST, "Invalid request: the batch is empty"))
            if len(payload) > self.max_batch:
                return _json(
                    _error(
                        None,
                        INVALID_REQUEST,
                        f"Invalid request: a batch holds at most {self.max_batch} requests, this one "
                        f"{len(payload)}: split it",
                    )
                )
            gate = asyncio.Semaphore(BATCH_CONCURRENCY)

            async def one(item: Any) -> dict[str, Any] | None:
                async with gate:
                    return await self._one(item)

            replies = await asyncio.gather(*(one(item) for item in payload))
            answered = [r for r in replies if r is not None]
            return _json(answered) if answered else web.Response(status=204)
        reply = await self._one(payload)
        return _json(reply) if reply is not None else web.Response(status=204)

    async def _one(self, item: Any) -> dict[str, Any] | None:
        """The reply to one request (None for a notification)."""
        if not isinstance(item, dict):
            return _error(None, INVALID_REQUEST, "Invalid request: a request must be a JSON object")
        request_id = item.get("id")
        if request_id is not None and (
            isinstance(request_id, bool) or not isinstance(request_id, (str, int, float))
        ):
            return _error(None, INVALID_REQUEST, "Invalid request: id must be a string, a number or null")
        method = item.get("method")
        if not isinstance(method, str) or not method:
            return _error(request_id, INVALID_REQUEST, "Invalid request: method must be a non-empty string")
        if item.get("jsonrpc", "2.0") != "2.0":
            return _error(request_id, INVALID_REQUEST, 'Invalid request: jsonrpc must be "2.0"')
        params = item.get("params", [])
        if not isinstance(params, (list, dict)):
            return _error(request_id, INVALID_PARAMS, "Invalid params: params must be a list or an object")
        notification = "id" not in item
        try:
            result = await self.pool.arequest(method, params)
        except RpcError as exc:
            reply: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "error": exc.as_error_object()}
        except AmbiguousSendError as exc:
            reply = _error(
                request_id, AMBIGUOUS_SEND, str(exc), {"upstream": exc.upstream, "txHash": exc.tx_hash}
            )
        except TransactionNotSentError as exc:
            reply = _error(
                request_id, SEND_NOT_TAKEN, str(exc), {"upstream": exc.upstream, "txHash": exc.tx_hash}
            )
        except NoHealthyUpstreamError as exc:
            reply = _error(
                request_id, NO_HEALTHY_UPSTREAM, str(exc), {"upstreams": self.pool.health()["upstreams"]}
            )
        except RpcUnavailableError as exc:
            reply = _error(request_id, UPSTREAMS_FAILED, str(exc))
        except RpcConfigurationError as exc:
            reply = _error(request_id, INVALID_PARAMS, str(exc))
        else:
            reply = {"jsonrpc": "2.0", "id": request_id, "result": result}
        return None if notification else reply

    async def _serve_metrics(self, request: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(self.pool.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def _serve_health(self, request: web.Request) -> web.Response:
        health = self.pool.health()
        return _json(health, status=200 if health["usable"] else 503)


@contextmanager
def serve_in_thread(
    pool: RpcPool, *, host: str = "127.0.0.1", port: int = 0, manage_pool: bool = True
) -> Iterator[RpcProxy]:
    """Serves `pool` from an event loop in a background thread for the ``with`` block (sync callers, tests);
    yields the started :class:`RpcProxy` (its :attr:`~RpcProxy.url`)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="link-ops-rpc-proxy", daemon=True)
    thread.start()
    proxy = RpcProxy(pool, host=host, port=port, manage_pool=manage_pool)
    try:
        asyncio.run_coroutine_threadsafe(proxy.start(), loop).result(timeout=300)
        yield proxy
    finally:
        try:
            asyncio.run_coroutine_threadsafe(proxy.stop(), loop).result(timeout=300)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=60)
            loop.close()
