"""The RPC pool: several nodes per chain behind one request API, health-checked, with metrics.

- :class:`RpcPool` (:mod:`link_ops.rpc.pool`): ``request``/``arequest``, ``pinned``, checks, metrics;
- :class:`PoolSettings`, :func:`urls_from_env` (:mod:`link_ops.rpc.settings`): ``POLYGON_RPC_URL=a,b,c``;
- :class:`PoolProvider`, :class:`AsyncPoolProvider` (:mod:`link_ops.rpc.providers`): web3 through the pool;
- :func:`attach_pool`, :func:`connect_pooled` (:mod:`link_ops.rpc.ape_provider`): ape's node provider too;
- :class:`RpcProxy` (:mod:`link_ops.rpc.proxy`): the loopback JSON-RPC proxy (``ape run rpc_proxy``);
- :func:`link_ops.rpc.bench.run_proxy_bench`: the proxy's overhead against direct calls.
"""

from __future__ import annotations

from link_ops.rpc.pool import PinnedPool, RpcPool
from link_ops.rpc.settings import PoolSettings, parse_urls, urls_from_env
from link_ops.rpc.upstream import HealthState, UpstreamStatus

__all__ = [
    "HealthState",
    "PinnedPool",
    "PoolSettings",
    "RpcPool",
    "UpstreamStatus",
    "parse_urls",
    "urls_from_env",
]
