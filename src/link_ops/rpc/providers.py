"""web3.py providers whose every request goes through an :class:`~link_ops.rpc.pool.RpcPool`.

::

    w3 = Web3(PoolProvider(pool))                  # sync
    w3 = AsyncWeb3(AsyncPoolProvider(pool))        # in an event loop

A JSON-RPC error that is the call's answer (a revert, invalid params) comes back to web3 as the node's
error object, so web3 raises what it always raises (``ContractLogicError`` with the revert data, …).
When the pool itself cannot answer (no healthy upstream, every upstream failed, an ambiguous send), its
:class:`~link_ops.exceptions.RpcPoolError` propagates unchanged: it names the upstreams and what to do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, cast

from web3.exceptions import ProviderConnectionError
from web3.providers.async_base import AsyncJSONBaseProvider
from web3.providers.base import JSONBaseProvider
from web3.types import RPCEndpoint, RPCResponse

from link_ops.exceptions import RpcError
from link_ops.rpc.pool import RpcPool


def _reply(request_id: int, result: Any = None, error: RpcError | None = None) -> RPCResponse:
    reply: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id}
    if error is None:
        reply["result"] = result
    else:
        reply["error"] = error.as_error_object()
    return cast(RPCResponse, reply)


class PoolProvider(JSONBaseProvider):
    """A sync web3 provider over `pool` (start the pool, or let its first request check the upstreams)."""

    def __init__(self, pool: RpcPool) -> None:
        super().__init__()
        self.pool = pool

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        request_id = next(self.request_counter)
        try:
            return _reply(request_id, self.pool.request(str(method), params))
        except RpcError as exc:
            return _reply(request_id, error=exc)

    def make_batch_request(self, requests: Sequence[tuple[RPCEndpoint, Any]]) -> list[RPCResponse]:
        """Each request of the batch through the pool, in order (each may go to another upstream)."""
        return [self.make_request(method, params) for method, params in requests]

    def is_connected(self, show_traceback: bool = False) -> bool:
        connected = self.pool.is_connected()
        if not connected and show_traceback:
            raise ProviderConnectionError(f"no usable upstream in {self.pool!r}: {self.pool.health()}")
        return connected

    def __str__(self) -> str:
        return f"PoolProvider({self.pool!r})"


class AsyncPoolProvider(AsyncJSONBaseProvider):
    """An async web3 provider over `pool` (``AsyncWeb3(AsyncPoolProvider(pool))``)."""

    def __init__(self, pool: RpcPool) -> None:
        super().__init__()
        self.pool = pool

    async def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        request_id = next(self.request_counter)
        try:
            return _reply(request_id, await self.pool.arequest(str(method), params))
        except RpcError as exc:
            return _reply(request_id, error=exc)

    async def make_batch_request(self, requests: Sequence[tuple[RPCEndpoint, Any]]) -> list[RPCResponse]:
        """The requests of the batch at once through the pool; replies in the batch's order."""
        return list(await asyncio.gather(*(self.make_request(m, p) for m, p in requests)))

    async def is_connected(self, show_traceback: bool = False) -> bool:
        if not await self.pool.ais_connected():
            if show_traceback:
                raise ProviderConnectionError(f"no usable upstream in {self.pool!r}: {self.pool.health()}")
            return False
        return True

    def __str__(self) -> str:
        return f"AsyncPoolProvider({self.pool!r})"
