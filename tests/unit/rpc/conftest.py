"""Fixtures of the RPC pool's unit tests: scripted loopback nodes and pools over them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from _fake_node import FakeNode

from link_ops.rpc import PoolSettings, RpcPool

#: No background checks (the tests check with check_now()), a request timeout no test waits for unless a
#: node stalls on purpose.
QUIET = {"check_interval_s": 3600.0, "check_timeout_s": 30.0, "request_timeout_s": 30.0}


@pytest.fixture
def nodes() -> Iterator[Callable[..., list[FakeNode]]]:
    """Starts `count` scripted nodes (stopped after the test)."""
    started: list[FakeNode] = []

    def make(count: int, **kwargs: object) -> list[FakeNode]:
        made = [FakeNode(**kwargs).start() for _ in range(count)]  # type: ignore[arg-type]
        started.extend(made)
        return made

    yield make
    for node in started:
        node.stop()


@pytest.fixture
def pool_of() -> Iterator[Callable[..., RpcPool]]:
    """A pool (chain 137) over the given URLs with :data:`QUIET` settings overridden by keywords."""
    pools: list[RpcPool] = []

    def make(urls: list[str], **settings: object) -> RpcPool:
        pool = RpcPool(137, urls, PoolSettings.build(**{**QUIET, **settings}))
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()
