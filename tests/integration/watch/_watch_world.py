"""The watchtower world of the HTTP tests, its pieces named so the tests can check them (the `world`
fixture that serves it is in conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from prometheus_client import CollectorRegistry

from link_ops.store import OpsStore
from link_ops.store.index import DailyClaims, DailyMints, RouteInFlight
from link_ops.watch.http import ProtocolFigures, WatchServer

#: What a hostile contract could put in a name that ends up in an alert's sentence.
HOSTILE = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"

FIGURES = ProtocolFigures(
    holders=1234,
    cubes_held=5678,
    minted_per_day=[DailyMints(137, date(2026, 11, 1), 40, 12_345 * 10**18)],
    claims_per_day=[DailyClaims(137, date(2026, 11, 1), 38, 512, 12_000 * 10**18)],
    in_flight=[RouteInFlight(137, 1, 3, 5 * 10**18, 2)],
)


class FakePool:
    """What pool_upstreams reads of an RpcPool: its chain label and health()."""

    def __init__(self, chain_label: str, states: list[str]) -> None:
        self.chain_label = chain_label
        self.states = states

    def health(self) -> dict[str, Any]:
        return {
            "chain": self.chain_label,
            "upstreams": [
                {
                    "name": f"node-{i}.example:443",
                    "state": s,
                    "head": 100 + i,
                    "head_lag": i,
                    "latency_ewma_ms": 12.5,
                }
                for i, s in enumerate(self.states)
            ],
        }


@dataclass(frozen=True)
class Standing:
    partner: str
    standing: str
    availability: float
    budget_left: float


STANDINGS = [
    Standing("acme", "ok", 99.91, 0.82),
    Standing("<b>evil</b> partner", "breach", 97.0, -1.5),
]


@dataclass
class World:
    server: WatchServer
    store: OpsStore
    pools: list[FakePool]
    extra: CollectorRegistry

    @property
    def url(self) -> str:
        return self.server.url
