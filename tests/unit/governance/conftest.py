"""A governed world per module: a 2-of-3 Safe proposing to a timelock that administers a cube contract."""

from __future__ import annotations

import pytest
from _governance import GovernedWorld, build_governed_world


@pytest.fixture(scope="session")
def owners(accounts):
    """The Safe's three owners (test accounts 6, 7 and 8)."""
    return [accounts[6], accounts[7], accounts[8]]


@pytest.fixture(scope="module")
def world(admin, owners) -> GovernedWorld:
    return build_governed_world(admin, owners)


@pytest.fixture(scope="module", autouse=True)
def _wider_fixtures_first(admin, alice, bob, stranger, owners, world):
    """Resolves every session/module fixture before the first test's snapshot (ape's isolation wants
    wider scopes set up first)."""
