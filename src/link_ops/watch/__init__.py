"""The watchtower: intrusion rules over the event index, the performance monitor of the RPC pool, partner
SLAs, alert sinks and the HTTP side (``/metrics``, a JSON API, a status page). ``ape run watch`` runs it.
"""

from link_ops.watch.alerts import SOURCES, Alert, Severity, onchain_key

__all__ = ["SOURCES", "Alert", "Severity", "onchain_key"]
