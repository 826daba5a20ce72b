"""Moving LBC and cubes between Polygon (home), Ethereum and BSC.

:mod:`~link_ops.bridge.deploy` deploys, records and wires a chain's side; :mod:`~link_ops.bridge.client`
sends (:class:`CrossChainBridge`); :mod:`~link_ops.bridge.relayer` delivers; the chains are reached
through :mod:`~link_ops.bridge.connections`.
"""

from link_ops.bridge.client import (
    ASSET_TYPES,
    BridgeReceipt,
    CrossChainBridge,
    UnsupportedAssetError,
    message_from_event,
    message_from_receipt,
)
from link_ops.bridge.connections import (
    Connections,
    LiveConnections,
    UnsupportedRouteError,
    connections_from_env,
)
from link_ops.bridge.deploy import (
    DEFAULT_DAILY_LIMIT,
    DEFAULT_REMOTE_CAP,
    BridgeSide,
    deploy_bridge_side,
    deploy_bridges,
    load_bridge_side,
    record_bridge_side,
    wire,
)
from link_ops.bridge.relayer import Relayer, RoundReport

__all__ = [
    "ASSET_TYPES",
    "DEFAULT_DAILY_LIMIT",
    "DEFAULT_REMOTE_CAP",
    "BridgeReceipt",
    "BridgeSide",
    "Connections",
    "CrossChainBridge",
    "LiveConnections",
    "Relayer",
    "RoundReport",
    "UnsupportedAssetError",
    "UnsupportedRouteError",
    "connections_from_env",
    "deploy_bridge_side",
    "deploy_bridges",
    "load_bridge_side",
    "message_from_event",
    "message_from_receipt",
    "record_bridge_side",
    "wire",
]
