"""The reorg-safe event index: the protocol's events on each chain, kept in the operations store.

::

    from link_ops.index import ChainIndexer, HttpJsonRpc, targets_from_records
    from link_ops.store import OpsStore

    with OpsStore() as store:
        rpc = HttpJsonRpc(url)
        indexer = ChainIndexer(rpc, targets_from_records(info, deployments_dir, rpc), store.index)
        indexer.check()
        indexer.round()  # up to the head; call again to follow the chain
        store.index.holders()

:mod:`~link_ops.index.indexer` says how a round reads, checks for reorganisations and writes;
:mod:`~link_ops.index.catalog` which events are kept; :mod:`~link_ops.index.ranges` how ``eth_getLogs``
ranges adapt; :mod:`~link_ops.index.metrics` what is measured; :mod:`~link_ops.index.bench` the backfill
benchmark. The queries are on :class:`link_ops.store.IndexStore` (``OpsStore().index``).
"""

from link_ops.index.catalog import INDEXED_EVENTS, Catalog
from link_ops.index.indexer import (
    KILL_POINTS,
    BatchReport,
    ChainIndexer,
    Indexer,
    IndexMismatchError,
    ReorgTooDeepError,
    Rollback,
    RoundReport,
    Timings,
)
from link_ops.index.metrics import IndexMetrics
from link_ops.index.ranges import AdaptiveRange, Refusal, classify_logs_error
from link_ops.index.rpc import (
    HttpJsonRpc,
    IndexRpcError,
    JsonRpc,
    JsonRpcError,
    PooledJsonRpc,
    RpcTimeoutError,
    RpcTransportError,
)
from link_ops.index.settings import (
    DEFAULT_CONFIRMATIONS,
    IndexSettings,
    IndexSettingsError,
    parse_confirmations,
)
from link_ops.index.targets import IndexTargetError, IndexTargets, targets_from_records

__all__ = [
    "DEFAULT_CONFIRMATIONS",
    "INDEXED_EVENTS",
    "KILL_POINTS",
    "AdaptiveRange",
    "BatchReport",
    "Catalog",
    "ChainIndexer",
    "HttpJsonRpc",
    "IndexMetrics",
    "IndexMismatchError",
    "IndexRpcError",
    "IndexSettings",
    "IndexSettingsError",
    "IndexTargetError",
    "IndexTargets",
    "Indexer",
    "JsonRpc",
    "JsonRpcError",
    "PooledJsonRpc",
    "Refusal",
    "ReorgTooDeepError",
    "Rollback",
    "RoundReport",
    "RpcTimeoutError",
    "RpcTransportError",
    "Timings",
    "classify_logs_error",
    "parse_confirmations",
    "targets_from_records",
]
