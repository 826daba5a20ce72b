"""A pytest plugin for ``ape test`` that errors when a test's chain changes outlive the test.

ape isolates each test with a chain snapshot taken before it and restored after it, and goes on quietly
when that fails: a snapshot it cannot take turns isolation off for the rest of the session, a restore that
raises is only logged, and a snapshot the test itself consumed (``chain.restore()`` without an id) is
skipped. The next tests then run on a chain they did not expect, and may pass for the wrong reason. This
plugin records the chain's height right after ape's snapshot and, once the test's fixtures are torn down,
reports an error at teardown if the chain has not come back to it.

Load it with ``pytest_plugins = ["link_ops.testing.pytest_isolation"]`` in a conftest, or
``-p link_ops.testing.pytest_isolation``.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

_START = pytest.StashKey[tuple[Any, int]]()


@pytest.fixture(autouse=True)
def _chain_comes_back(request: pytest.FixtureRequest, chain: Any) -> None:
    """Records (provider, height) after every wider fixture and ape's function snapshot are in place; the
    teardown hook below compares."""
    # ape's function isolation fixture, requested by name so that its snapshot is taken first.
    request.getfixturevalue("_function_isolation")
    request.node.stash[_START] = (chain.provider, int(chain.blocks.height))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
    result = yield
    start = item.stash.get(_START, None)
    if start is None:
        return result
    from ape import chain

    provider, height = start
    # A test that left ape on another network is its own problem; this compares one chain with itself.
    if chain.provider is provider and int(chain.blocks.height) > height:
        raise AssertionError(
            f"{item.nodeid} left the chain at block {chain.blocks.height}, above the {height} it started "
            "from: ape did not restore its snapshot. Do not consume ape's snapshots in a test (use "
            "link_ops.testing.isolated), and look for an earlier snapshot or restore error in the log."
        )
    return result
