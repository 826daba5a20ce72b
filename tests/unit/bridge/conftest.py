"""The bridge contracts on one chain: a home side and a remote side, each with its messenger."""

from __future__ import annotations

import pytest
from _bridge_world import World, build_world


@pytest.fixture(scope="module")
def world(project, accounts, admin, lbc, cubes) -> World:
    return build_world(project, accounts, admin, lbc, cubes)


@pytest.fixture(scope="module", autouse=True)
def _wider_fixtures_first(admin, alice, bob, operator, stranger, lbc, cubes, world, failing_deployer):
    """Resolves every session/module fixture before the first test's snapshot (ape's isolation wants
    wider scopes set up first)."""
