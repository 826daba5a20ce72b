"""What the index reads the chains through: any object with ``request(method, params) -> result``.

:class:`JsonRpc` is that shape. ``link_ops.rpc.RpcPool`` (several upstreams, health checks, failover)
provides it; :class:`HttpJsonRpc` is the minimal single-URL client of the same shape. Either raises a
:class:`~link_ops.exceptions.LinkOpsError` subclass when the node answers a JSON-RPC error, and the index
reads the error's text to tell "ask for fewer blocks" from real failures
(:mod:`link_ops.index.ranges`). No ape and no web3 on this path.
"""

from __future__ import annotations

import itertools
from typing import Any, Protocol

import requests

from link_ops.exceptions import LinkOpsError, RpcError, RpcUnavailableError
from link_ops.fork import redact
from link_ops.rpc import RpcPool


class JsonRpc(Protocol):
    """A JSON-RPC client: ``request("eth_blockNumber", [])`` returns the answer's ``result``."""

    def request(self, method: str, params: list[Any]) -> Any: ...


class IndexRpcError(LinkOpsError):
    """A node could not answer what the index asked."""


class JsonRpcError(IndexRpcError):
    """The node answered with a JSON-RPC error: :attr:`code`, :attr:`message` and :attr:`data` as sent."""

    def __init__(
        self, method: str, code: int | None, message: str, data: Any = None, *, url: str = ""
    ) -> None:
        where = f" from {url}" if url else ""
        detail = f" ({data})" if data not in (None, "", {}) else ""
        super().__init__(f"{method} failed{where}: {message}{detail} [JSON-RPC error {code}]")
        self.method = method
        self.code = code
        self.message = message
        self.data = data


class RpcTransportError(IndexRpcError):
    """The node could not be reached, or answered something that is not JSON-RPC (HTTP 429, 5xx, …)."""


class RpcTimeoutError(RpcTransportError):
    """The node did not answer within the client's timeout."""


class HttpJsonRpc:
    """A JSON-RPC client of one node over HTTP(S), with keep-alive.

    Args:
        url: the node's URL (kept out of error messages beyond its host: it may carry an API key).
        timeout: seconds to wait for each answer.
    """

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise IndexRpcError(
                f"{redact(url)} is not an http(s) URL: give the node's JSON-RPC URL, e.g. https://polygon-rpc.com"
            )
        if timeout <= 0:
            raise IndexRpcError(f"timeout must be a positive number of seconds, got {timeout}")
        self.url = url
        self.timeout = timeout
        self._session = requests.Session()
        self._ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({redact(self.url)!r})"

    def request(self, method: str, params: list[Any]) -> Any:
        """The `result` of `method` with `params`; raises :class:`JsonRpcError`, :class:`RpcTimeoutError`
        or :class:`RpcTransportError`."""
        payload = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        where = redact(self.url)
        try:
            response = self._session.post(self.url, json=payload, timeout=self.timeout)
        except requests.Timeout as exc:
            raise RpcTimeoutError(
                f"{method} to {where} timed out after {self.timeout:g} s: the node is slow or the request "
                "too large; try again, or use another node"
            ) from exc
        except requests.RequestException as exc:
            raise RpcTransportError(
                f"cannot reach {where} ({type(exc).__name__}): check the URL and that the node is up"
            ) from exc
        if response.status_code != 200:
            raise RpcTransportError(
                f"{method} to {where} answered HTTP {response.status_code}: "
                f"{response.text.strip()[:200] or response.reason}"
            )
        try:
            body = response.json()
        except ValueError as exc:
            raise RpcTransportError(f"{method} to {where} answered something that is not JSON") from exc
        if not isinstance(body, dict):
            raise RpcTransportError(
                f"{method} to {where} answered {type(body).__name__}, not a JSON-RPC object"
            )
        error = body.get("error")
        if error is not None:
            if isinstance(error, dict):
                raise JsonRpcError(
                    method, error.get("code"), str(error.get("message", "")), error.get("data"), url=where
                )
            raise JsonRpcError(method, None, str(error), url=where)
        return body.get("result")

    def close(self) -> None:
        """Closes the kept-alive connections."""
        self._session.close()


class PooledJsonRpc:
    """The index's :class:`JsonRpc` over an :class:`~link_ops.rpc.RpcPool` (several nodes, failover), the
    pool's errors told in the index's terms: an error answer is a :class:`JsonRpcError` (its text read for
    range refusals), no node able to answer a :class:`RpcTransportError` (the round is tried again)."""

    def __init__(self, pool: RpcPool) -> None:
        self.pool = pool

    def __repr__(self) -> str:
        return f"{type(self).__name__}(chain {self.pool.chain_id}, {len(self.pool.names)} node(s))"

    def request(self, method: str, params: list[Any]) -> Any:
        try:
            return self.pool.request(method, params)
        except RpcError as exc:
            raise JsonRpcError(method, exc.code, exc.rpc_message, exc.data, url=exc.upstream) from exc
        except RpcUnavailableError as exc:
            raise RpcTransportError(f"{method}: {exc}") from exc
