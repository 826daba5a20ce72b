"""Prometheus metrics of the long-running commands (``rpc_proxy``, ``index``, ``relayer``), and their
``/metrics`` endpoint.

Every metric is named ``link_ops_<component>_<what>_<unit>`` in base units (seconds, blocks), with labels
from small fixed sets (a chain's key, an event's name, an upstream's short name): never an address, a
message id or a URL. Each component registers its metrics on the :class:`~prometheus_client.CollectorRegistry`
it is given (a private one by default), so two components in one process, or two tests, never clash.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from threading import Thread
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.metrics_core import Metric

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


class MergedRegistries:
    """Several registries read as one: families of the same name (the RPC pools of two chains, each on a
    registry of its own) become one family holding every sample, as Prometheus' text format requires."""

    def __init__(self, registries: Sequence[CollectorRegistry]) -> None:
        self.registries = tuple(registries)

    def collect(self) -> Iterator[Metric]:
        merged: dict[str, Metric] = {}
        for registry in self.registries:
            for family in registry.collect():
                into = merged.get(family.name)
                if into is None:
                    into = merged[family.name] = Metric(
                        family.name, family.documentation, family.type, family.unit
                    )
                elif into.type != family.type:
                    raise ConfigurationError(
                        f"metric {family.name} is a {into.type} in one registry and a {family.type} in "
                        "another: give one of them another name"
                    )
                into.samples.extend(family.samples)
        yield from merged.values()


def serve_metrics(
    registry: CollectorRegistry | Sequence[CollectorRegistry], port: int, host: str = DEFAULT_METRICS_HOST
) -> MetricsServer:
    """Serves `registry` (or several, merged) on ``http://<host>:<port>/metrics`` from a background thread
    (port 0: a free one).

    Raises :class:`~link_ops.exceptions.ConfigurationError` when the port is taken or out of range.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65_535:
        raise ConfigurationError(f"the metrics port must be a whole number from 0 to 65535, got {port!r}")
    served: Any = MergedRegistries(registry) if isinstance(registry, Sequence) else registry
    try:
        server, thread = start_http_server(port, addr=host, registry=served)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot serve /metrics on {host}:{port} ({exc.strerror or exc}): choose another --metrics-port"
        ) from exc
    return MetricsServer(host, int(server.server_port), server, thread)
