"""Prometheus metrics of the long-running commands (``rpc_proxy``, ``index``, ``relayer``), and their
``/metrics`` endpoint.

Every metric is named ``link_ops_<component>_<what>_<unit>`` in base units (seconds, blocks), with labels
from small fixed sets (a chain's key, an event's name, an upstream's short name): never an address, a
message id or a URL. Each component registers its metrics on the :class:`~prometheus_client.CollectorRegistry`
it is given (a private one by default), so two components in one process, or two tests, never clash.
"""

from __future__ import annotations

from dataclasses import dataclass
from threading import Thread
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server

from link_ops.exceptions import ConfigurationError

#: Where ``/metrics`` listens unless told otherwise: loopback only (expose it through a reverse proxy).
DEFAULT_METRICS_HOST = "127.0.0.1"


@dataclass
class MetricsServer:
    """A running ``/metrics`` endpoint (Prometheus text format) over one registry."""

    host: str
    port: int
    _server: Any
    _thread: Thread

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    def close(self) -> None:
        """Stops serving and frees the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def serve_metrics(registry: CollectorRegistry, port: int, host: str = DEFAULT_METRICS_HOST) -> MetricsServer:
    """Serves `registry` on ``http://<host>:<port>/metrics`` from a background thread (port 0: a free one).

    Raises :class:`~link_ops.exceptions.ConfigurationError` when the port is taken or out of range.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65_535:
        raise ConfigurationError(f"the metrics port must be a whole number from 0 to 65535, got {port!r}")
    try:
        server, thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot serve /metrics on {host}:{port} ({exc.strerror or exc}): choose another --metrics-port"
        ) from exc
    return MetricsServer(host, int(server.server_port), server, thread)
