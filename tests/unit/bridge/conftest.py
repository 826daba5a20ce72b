"""The bridge contracts on one chain: a home side and a remote side, each with its messenger."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _bridge_world import World, build_world
from ape_ethereum.ecosystem import Ethereum


@pytest.fixture(scope="module")
def world(project, accounts, admin, lbc, cubes) -> World:
    return build_world(project, accounts, admin, lbc, cubes)


@pytest.fixture(scope="module", autouse=True)
def _wider_fixtures_first(admin, alice, bob, operator, stranger, lbc, cubes, world, failing_deployer):
    """Resolves every session/module fixture before the first test's snapshot (ape's isolation wants
    wider scopes set up first)."""


@pytest.fixture(scope="module", autouse=True)
def _no_trace_to_name_an_inner_error() -> Iterator[None]:
    """Most bridge reverts are raised by a bridge under the messenger's `deliver`, and the messenger's ABI
    lacks them: ape then traces the whole transaction step by step to find the contract that raised
    (1-4 s per revert here). These tests assert every revert with `_errors.reverts`, which decodes the raw
    revert data with the expected contract's ABI itself, so ape is not asked to trace: it decodes an error
    from the called contract's ABI only."""
    decode = Ethereum.decode_custom_error

    def without_trace(self: Ethereum, data: bytes, address: str, **kwargs: object) -> object:
        kwargs["txn"] = None  # ape traces only when it has the transaction
        return decode(self, data, address, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Ethereum, "decode_custom_error", without_trace)
        yield
