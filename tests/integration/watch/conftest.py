"""The `world` fixture: a store with incidents (one quoting a hostile string from the chain), protocol
figures, two chains' upstreams and partner standings, served on a free loopback port (see _watch_world)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _watch import T0, alert
from _watch_world import FIGURES, HOSTILE, STANDINGS, FakePool, World
from prometheus_client import CollectorRegistry, Counter

from link_ops.store import OpsStore
from link_ops.watch.alerts import Severity
from link_ops.watch.http import StatusSources, WatchServer, pool_upstreams


@pytest.fixture
def world(sqlite_url: str) -> Iterator[World]:
    with OpsStore(sqlite_url) as store:
        store.watch.raise_alerts(
            [
                alert("granted", severity=Severity.CRITICAL, summary=f"MINTER_ROLE granted to {HOSTILE}"),
                alert(
                    "slow",
                    severity=Severity.WARNING,
                    subject=None,
                    rule="performance.response-time",
                    source="performance",
                    minutes=30,
                    chain_id=None,
                    block_number=None,
                ),
                alert("old-info", severity=Severity.INFO, subject="partner-3", minutes=-600),
            ],
            (),
            now=T0,
        )
        pools = [FakePool("polygon", ["healthy", "lagging"]), FakePool("ethereum", ["healthy"])]
        extra = CollectorRegistry()
        Counter("link_ops_index_rounds", "rounds", registry=extra).inc(7)
        sources = StatusSources(
            watch=store.watch,
            figures=lambda: FIGURES,
            upstreams=pool_upstreams(pools),
            standings=lambda: STANDINGS,
        )
        with WatchServer(sources, registries=[extra], refresh_s=60) as server:
            yield World(server, store, pools, extra)
