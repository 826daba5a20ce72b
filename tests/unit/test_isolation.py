"""`link_ops.testing.isolated`: the chain goes back, and nothing that happened inside is lost.

ape 0.8.51's own isolation context manager swallows every exception raised in its block, so the project
uses only `isolated`; the guard at the end keeps it that way.
"""

from __future__ import annotations

import ast
from contextlib import ExitStack
from pathlib import Path

import pytest
from ape.exceptions import ContractLogicError
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from link_ops.testing import isolated

ROOT = Path(__file__).resolve().parents[2]
HELPER = ROOT / "src" / "link_ops" / "testing" / "isolation.py"
# Spelled in two parts so that this file is not itself a match of the grep it enforces.
BARE_USE = "chain" + ".isolate("


@pytest.fixture(scope="module")
def coin(project, admin):
    return project.MockERC20.deploy("Isolation", "ISO", sender=admin)


@pytest.fixture(scope="module", autouse=True)
def _wider_fixtures_first(admin, alice, bob, coin):
    """Session and module fixtures before the first test's snapshot (ape's isolation wants them first)."""


def test_isolated__block_returns__chain_state_and_head_go_back(coin, alice, chain):
    height, balance = chain.blocks.height, coin.balanceOf(alice)
    with isolated(chain) as start:
        coin.mint(alice, 5, sender=alice)
        chain.mine(3)
        assert coin.balanceOf(alice) == balance + 5
    assert start == height
    assert chain.blocks.height == height
    assert coin.balanceOf(alice) == balance


def test_isolated__failed_assertion_inside__propagates_and_chain_goes_back(coin, alice, chain):
    balance = coin.balanceOf(alice)
    with pytest.raises(AssertionError, match="must fail"), isolated(chain):
        coin.mint(alice, 5, sender=alice)
        raise AssertionError("must fail")
    assert coin.balanceOf(alice) == balance


def test_isolated__revert_inside__propagates_as_contract_logic_error_and_chain_goes_back(
    coin, alice, bob, chain
):
    balance = coin.balanceOf(alice)
    with pytest.raises(ContractLogicError) as caught, isolated(chain):
        coin.mint(alice, 5, sender=alice)
        coin.transfer(bob, balance + 6, sender=alice)  # more than alice holds
    assert "ERC20InsufficientBalance" in repr(caught.value)
    assert coin.balanceOf(alice) == balance


def test_isolated__default_chain__is_apes_connected_chain(coin, alice, chain):
    balance = coin.balanceOf(alice)
    with pytest.raises(KeyError), isolated():
        coin.mint(alice, 1, sender=alice)
        raise KeyError("any exception type")
    assert coin.balanceOf(alice) == balance


def test_isolated__nested__each_level_restores_its_own_snapshot(coin, alice, chain):
    balance = coin.balanceOf(alice)
    with isolated(chain):
        coin.mint(alice, 1, sender=alice)
        with pytest.raises(AssertionError), isolated(chain):
            coin.mint(alice, 10, sender=alice)
            raise AssertionError("inner")
        assert coin.balanceOf(alice) == balance + 1
    assert coin.balanceOf(alice) == balance


def test_isolated__pending_timestamp__goes_back_to_before_the_block(chain):
    pending = chain.pending_timestamp
    with isolated(chain):
        chain.mine(timestamp=pending + 10_000)
    # The jump is gone; anvil's pending block follows the wall clock, which may have passed a second since.
    assert pending <= chain.pending_timestamp < pending + 10_000


def _machine(coin, alice, chain, starts: list[int], most: int) -> type[RuleBasedStateMachine]:
    """A state machine as the property tests build theirs: `isolated` entered in `__init__` on an
    ExitStack, closed in `teardown`. Each step mints one coin; a step fails once more than `most` were
    minted in the example."""

    class Machine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self._stack = ExitStack()
            self._stack.enter_context(isolated(chain))
            self.start = coin.balanceOf(alice)
            starts.append(self.start)

        def teardown(self) -> None:
            self._stack.close()

        @rule()
        def mint_one(self) -> None:
            coin.mint(alice, 1, sender=alice)
            assert coin.balanceOf(alice) - self.start <= most, f"minted more than {most}"

    return Machine


MACHINE_SETTINGS = settings(
    max_examples=8,
    stateful_step_count=4,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def test_isolated__state_machine__every_example_starts_from_the_same_chain_and_it_goes_back(
    coin, alice, chain
):
    balance, starts = coin.balanceOf(alice), []
    run_state_machine_as_test(_machine(coin, alice, chain, starts, most=100), settings=MACHINE_SETTINGS)
    assert len(starts) > 1
    assert set(starts) == {balance}
    assert coin.balanceOf(alice) == balance


def test_isolated__state_machine__a_failing_step_fails_the_run(coin, alice, chain):
    balance, starts = coin.balanceOf(alice), []
    with pytest.raises(AssertionError, match="minted more than 1"):
        run_state_machine_as_test(_machine(coin, alice, chain, starts, most=1), settings=MACHINE_SETTINGS)
    assert set(starts) == {balance}
    assert coin.balanceOf(alice) == balance


# ------------------------------------------------------------------------------------------------ guard


def _python_files() -> list[Path]:
    return sorted(
        path
        for folder in ("src", "tests")
        for path in (ROOT / folder).rglob("*.py")
        if path != HELPER and ".egg-info" not in path.parts
    )


def bare_isolation_uses(files: list[Path]) -> list[str]:
    """`file:line` of every call of an `isolate` method (ape's swallowing context manager), found both as
    text (what `grep -rn` would show, comments and docstrings included) and as calls in the syntax tree
    (however the chain object is named)."""
    found: set[tuple[str, int]] = set()
    for path in files:
        text = path.read_text("utf-8")
        where = str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
        found.update((where, number) for number, line in enumerate(text.splitlines(), 1) if BARE_USE in line)
        found.update(
            (where, node.lineno)
            for node in ast.walk(ast.parse(text, filename=str(path)))
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "isolate"
        )
    return [f"{where}:{number}" for where, number in sorted(found)]


def test_guard__no_module_outside_the_helper_uses_apes_isolate():
    uses = bare_isolation_uses(_python_files())
    assert not uses, (
        "ape 0.8.51's chain isolation swallows failures inside its block; "
        f"use `with link_ops.testing.isolated(chain):` instead, at: {', '.join(uses)}"
    )


@pytest.mark.parametrize(
    ("source", "line"),
    [
        (f"with {BARE_USE}):\n    pass\n", 1),
        ("from ape import chain as c\n\nwith c.isolate():\n    pass\n", 3),
        ("stack.enter_context(self.chain_manager.isolate())\n", 1),
        (f'"""Docs."""\n# the old way: {BARE_USE})\n', 2),
    ],
)
def test_guard__finds_a_bare_use_however_it_is_spelled(tmp_path, source, line):
    sample = tmp_path / "test_sample.py"
    sample.write_text(source)
    assert bare_isolation_uses([sample]) == [f"{sample}:{line}"]


def test_guard__helper_and_snapshot_calls__are_not_uses(tmp_path):
    sample = tmp_path / "test_sample.py"
    sample.write_text("with isolated(chain):\n    snapshot = chain.snapshot()\n    chain.restore(snapshot)\n")
    assert bare_isolation_uses([sample]) == []


def test_guard__scans_the_state_machines_and_the_library():
    files = {path.relative_to(ROOT).as_posix() for path in _python_files()}
    assert "tests/property/test_claims_state_machine.py" in files
    assert "src/link_ops/protocol/deploy.py" in files
    assert HELPER.relative_to(ROOT).as_posix() not in files
