"""The intrusion rules' unit tests: events written by hand into a SQLite store, a node faked in memory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _events import Chains, FakeNode

from link_ops.store import OpsStore
from link_ops.watch.detector import IntrusionDetector
from link_ops.watch.rules import RuleSettings


@pytest.fixture
def store(sqlite_url: str) -> Iterator[OpsStore]:
    with OpsStore(sqlite_url) as ops:
        yield ops


@pytest.fixture
def chains(store: OpsStore) -> Chains:
    return Chains(store)


@pytest.fixture
def node() -> FakeNode:
    return FakeNode()


@pytest.fixture
def detect(store, chains, node):
    """detect(chain_id, events, last_block, **settings) -> the alerts of that round, by (rule, severity)."""
    detectors: dict[str, IntrusionDetector] = {}

    def run(chain_id, events, last_block, *, time=None, **settings):
        if "d" not in detectors:
            detectors["d"] = IntrusionDetector(
                store.index, {137: node, 1: node}, settings=RuleSettings.build(**settings)
            )
        first, last = chains.write(chain_id, events, last_block, time=time)
        return detectors["d"].after_round(chain_id, first, last)

    run.detectors = detectors
    return run
