"""Moving LBC and cubes between Polygon (home), Ethereum and BSC.

:mod:`~link_ops.bridge.deploy` deploys, records and wires a chain's side, :mod:`~link_ops.bridge.rollout`
one chain at a time (``ape run deploy_bridge``); :mod:`~link_ops.bridge.client`
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
from link_ops.bridge.relayer import Relayer, RelayerMetrics, RoundReport
from link_ops.bridge.rollout import SideDeployment, deploy_side, peers_for, route_partners, wire_side

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
    "RelayerMetrics",
    "RoundReport",
    "SideDeployment",
    "UnsupportedAssetError",
    "UnsupportedRouteError",
    "connections_from_env",
    "deploy_bridge_side",
    "deploy_bridges",
    "deploy_side",
    "load_bridge_side",
    "message_from_event",
    "message_from_receipt",
    "peers_for",
    "record_bridge_side",
    "route_partners",
    "wire",
    "wire_side",
]
