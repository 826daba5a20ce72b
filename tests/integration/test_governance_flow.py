"""Governance end to end on anvil: a 2-of-3 Safe proposes to the timelock, which administers a cube contract.

The story the issue asks for is the first test; the others take each step's refusals one at a time (each
before anything is signed or sent) and the dry runs.
"""

from __future__ import annotations

import pytest
import requests
from _errors import reverts
from _governance import MIN_DELAY, NEW_RATE, GovernedWorld, build_governed_world

from link_ops.exceptions import (
    GovernanceError,
    OperationNotReadyError,
    OperationStateError,
    RoleError,
    SignatureError,
    SimulationError,
)
from link_ops.governance import (
    Governance,
    build_call,
    build_safe_tx,
    cancel,
    check_signatures,
    collect_signatures,
    deploy_timelock,
    exec_safe_tx,
    execute,
    find_operation,
    operations,
    pending_operations,
    propose,
    safe_info,
    sign_safe_tx,
)
from link_ops.model.governance import OperationState, salt_from_text, state_bitmap
from link_ops.testing import isolated


@pytest.fixture(scope="session")
def owners(accounts):
    return [accounts[6], accounts[7], accounts[8]]


@pytest.fixture(scope="module")
def world(admin, owners) -> GovernedWorld:
    return build_governed_world(admin, owners)


@pytest.fixture(scope="module", autouse=True)
def _wider_fixtures_first(admin, alice, bob, stranger, owners, world):
    """Resolves every session/module fixture before the first test's snapshot."""


@pytest.fixture
def gov(world) -> Governance:
    return world.governance


def set_tier_rate(gov: Governance, tier: int = 1, rate: int = NEW_RATE) -> object:
    return build_call(gov, "OptimizedCubeManagement", "setTierRate", [str(tier), str(rate)])


def nothing_sent(chain, world, height: int, nonce: int) -> bool:
    return chain.blocks.height == height and int(world.safe.call_view_method("nonce")) == nonce


# ---------------------------------------------------------------------------------------------- story


def test_two_of_three_propose_set_tier_rate__too_early_reverts__after_the_delay_it_executes(
    world, gov, owners, admin, bob, chain
):
    assert int(world.cubes.tierRate(1)) == 0
    proposed = propose(gov, [set_tier_rate(gov)], owners[:2], sender=admin)
    operation = proposed.operation
    assert proposed.receipt is not None and not proposed.dry_run
    assert [op.id for op in pending_operations(gov)] == [operation.id]
    assert proposed.eta == int(chain.blocks.head.timestamp) + MIN_DELAY

    # Too early: the timelock itself refuses (sent around the library's own check) ...
    (call,) = operation.calls
    with reverts(
        world.timelock.TimelockUnexpectedOperationState,
        operationId=operation.id,
        expectedStates=state_bitmap(OperationState.READY),
    ):
        world.timelock.execute(call.target, 0, call.data, operation.predecessor, operation.salt, sender=bob)
    # ... and the library says when, before sending.
    with pytest.raises(
        OperationNotReadyError, match=r"not ready: it may execute from .* UTC \(chain time\), in"
    ):
        execute(gov, operation.id, sender=bob)

    chain.mine(timestamp=proposed.eta)
    executed = execute(gov, operation.id, sender=bob)  # anyone executes
    assert executed.receipt is not None
    assert int(world.cubes.tierRate(1)) == NEW_RATE
    assert pending_operations(gov) == []
    assert find_operation(gov, operation.id).state == OperationState.DONE


# ----------------------------------------------------------------------------------------- propose


def test_propose__one_signature_of_two_of_three__refused_before_sending(world, gov, owners, admin, chain):
    height, nonce = chain.blocks.height, int(world.safe.call_view_method("nonce"))
    with pytest.raises(
        SignatureError, match=r"needs the signatures of 2 of its 3 owners, got 1: add --signer for 1"
    ):
        propose(gov, [set_tier_rate(gov)], owners[:1], sender=admin)
    assert nothing_sent(chain, world, height, nonce)


def test_propose__a_non_owners_signature__refused_before_sending(world, gov, owners, stranger, admin, chain):
    height, nonce = chain.blocks.height, int(world.safe.call_view_method("nonce"))
    with pytest.raises(SignatureError, match=f"{stranger.address} is not an owner of the Safe"):
        propose(gov, [set_tier_rate(gov)], [owners[0], stranger], sender=admin)
    assert nothing_sent(chain, world, height, nonce)


def test_propose__the_same_owner_twice__refused(gov, owners, admin):
    with pytest.raises(SignatureError, match="each owner signs once"):
        propose(gov, [set_tier_rate(gov)], [owners[0], owners[0]], sender=admin)


def test_propose__three_of_three_and_a_sender_who_is_no_owner__both_fine(world, gov, owners, stranger):
    proposed = propose(gov, [set_tier_rate(gov)], owners, sender=stranger)
    assert find_operation(gov, proposed.operation_id).state == OperationState.WAITING


def test_propose__a_delay_below_the_minimum__refused(gov, owners, admin):
    with pytest.raises(
        GovernanceError, match=r"a delay of 59 min 59 s is below the timelock's minimum of 1 h"
    ):
        propose(gov, [set_tier_rate(gov)], owners[:2], sender=admin, delay=MIN_DELAY - 1)


def test_propose__a_longer_delay__sets_a_later_eta(gov, owners, admin, chain):
    proposed = propose(gov, [set_tier_rate(gov)], owners[:2], sender=admin, delay=2 * MIN_DELAY)
    assert proposed.eta == int(chain.blocks.head.timestamp) + 2 * MIN_DELAY


def test_propose__the_same_calls_again__refused_unless_another_salt(gov, owners, admin):
    propose(gov, [set_tier_rate(gov)], owners[:2], sender=admin)
    with pytest.raises(OperationStateError, match=r"is already waiting on the timelock: .*another salt"):
        propose(gov, [set_tier_rate(gov)], owners[:2], sender=admin)
    again = propose(gov, [set_tier_rate(gov)], owners[:2], sender=admin, salt=salt_from_text("second"))
    assert len(pending_operations(gov)) == 2 and again.operation.salt == salt_from_text("second")


def test_propose__a_call_to_an_address_without_code__refused(gov, owners, admin, stranger):
    call = build_call(gov, stranger.address, "pause()")
    with pytest.raises(GovernanceError, match=f"the call's target {stranger.address} has no contract code"):
        propose(gov, [call], owners[:2], sender=admin)


def test_propose__a_safe_that_is_not_the_proposer__refused_naming_the_role(world, admin, owners):
    other = deploy_timelock(admin, min_delay=MIN_DELAY, proposers=[admin.address])
    gov = Governance(other, world.safe)
    call = build_call(gov, str(world.cubes.address), "pause()")
    with pytest.raises(RoleError, match=f"{world.safe.address} lacks the timelock's PROPOSER_ROLE"):
        propose(gov, [call], owners[:2], sender=admin)


def test_propose__without_a_safe__refused(world, owners, admin):
    gov = Governance(world.timelock, None, names=world.governance.names)
    with pytest.raises(GovernanceError, match="no Safe given for the timelock"):
        propose(gov, [set_tier_rate(gov)], owners[:2], sender=admin)


def test_propose__a_batch__executes_every_call_in_order(world, gov, owners, admin, bob, chain):
    calls = [
        set_tier_rate(gov, 0, 5 * 10**12),
        set_tier_rate(gov, 0, 7 * 10**12),
        set_tier_rate(gov, 2, 9 * 10**12),
    ]
    proposed = propose(gov, calls, owners[:2], sender=admin)
    assert proposed.operation.batch
    chain.mine(timestamp=proposed.eta)
    execute(gov, proposed.operation_id, sender=bob)
    assert int(world.cubes.tierRate(0)) == 7 * 10**12 and int(world.cubes.tierRate(2)) == 9 * 10**12


def test_propose__makes_no_http_request_but_to_the_node(gov, owners, admin, monkeypatch):
    """No Safe transaction service: ape-safe's client would go through requests; the node does not (the
    suite's JSON-RPC runs over http.client, see tests/_ape_speed.py)."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("an HTTP request through requests")

    monkeypatch.setattr(requests.Session, "send", refuse)
    proposed = propose(gov, [set_tier_rate(gov)], owners[:2], sender=admin)
    assert proposed.receipt is not None


# ------------------------------------------------------------------------------------------ execute


@pytest.fixture
def ready(world, gov, owners, admin, chain):
    """A proposal of setTierRate(1, NEW_RATE) whose delay has passed."""
    proposed = propose(gov, [set_tier_rate(gov)], owners[:2], sender=admin)
    chain.mine(timestamp=proposed.eta)
    return proposed.operation


def test_execute__twice__refused_as_done(gov, ready, bob):
    execute(gov, ready.id, sender=bob)
    with pytest.raises(OperationStateError, match="is done: only a ready operation can be executed"):
        execute(gov, ready.id, sender=bob)


def test_execute__by_a_prefix_of_the_id(world, gov, ready, bob):
    execute(gov, "0x" + ready.id.hex()[:8], sender=bob)
    assert int(world.cubes.tierRate(1)) == NEW_RATE


@pytest.mark.parametrize(
    ("given", "error", "message"),
    [
        ("0x12", "ConfigurationError", "is not an operation id"),
        ("setTierRate", "ConfigurationError", "is not an operation id"),
        ("0x" + "00" * 32, "OperationStateError", "never scheduled an operation"),
    ],
)
def test_execute__an_id_that_is_no_operation__refused(gov, ready, bob, given, error, message):
    with pytest.raises(GovernanceError if error == "OperationStateError" else ValueError, match=message):
        execute(gov, given, sender=bob)


def test_execute__a_call_that_reverts__refused_with_its_reason(world, gov, owners, admin, bob, chain):
    proposed = propose(gov, [set_tier_rate(gov, 1, 1)], owners[:2], sender=admin)  # not a multiple of 1e12
    chain.mine(timestamp=proposed.eta)
    height = chain.blocks.height
    with pytest.raises(
        SimulationError,
        match=r"would fail: it reverts with RateNotMultipleOfUnit\(weiPerSecond=1, unit=1000000000000\)",
    ):
        execute(gov, proposed.operation_id, sender=bob)
    assert chain.blocks.height == height


def test_execute__behind_a_predecessor_not_yet_executed__refused(gov, owners, admin, bob, chain):
    first = propose(gov, [set_tier_rate(gov, 0, 5 * 10**12)], owners[:2], sender=admin)
    second = propose(
        gov, [set_tier_rate(gov, 0, 6 * 10**12)], owners[:2], sender=admin, predecessor=first.operation_id
    )
    chain.mine(timestamp=second.eta)
    with pytest.raises(
        OperationStateError, match=r"must wait for its predecessor .* which is ready: execute that"
    ):
        execute(gov, second.operation_id, sender=bob)
    execute(gov, first.operation_id, sender=bob)
    execute(gov, second.operation_id, sender=bob)


def test_execute__when_execution_is_closed__only_an_executor_may(world, admin, owners, bob, chain):
    closed = deploy_timelock(
        admin, min_delay=MIN_DELAY, proposers=[world.safe.address], executors=[admin.address]
    )
    gov = Governance(closed, world.safe)
    call = build_call(gov, str(world.timelock.address), "getMinDelay()")
    proposed = propose(gov, [call], owners[:2], sender=admin)
    chain.mine(timestamp=proposed.eta)
    with pytest.raises(RoleError, match=f"{bob.address} lacks the timelock's EXECUTOR_ROLE"):
        execute(gov, proposed.operation_id, sender=bob)
    assert execute(gov, proposed.operation_id, sender=admin).receipt is not None


# ------------------------------------------------------------------------------------------- cancel


def test_cancel__removes_it_from_pending_and_it_can_no_longer_execute(world, gov, owners, admin, bob, chain):
    proposed = propose(gov, [set_tier_rate(gov)], owners[:2], sender=admin)
    cancelled = cancel(gov, proposed.operation_id, owners[1:], sender=admin)
    assert cancelled.receipt is not None
    assert pending_operations(gov) == []
    [listed] = [op for op in operations(gov) if op.id == proposed.operation_id]
    assert listed.status == "cancelled" and listed.eta is None
    chain.mine(timestamp=proposed.eta)
    with pytest.raises(OperationStateError, match=r"is cancelled: only a ready operation .*propose it again"):
        execute(gov, proposed.operation_id, sender=bob)
    assert int(world.cubes.tierRate(1)) == 0


def test_cancel__with_one_signature__refused_before_sending(world, gov, owners, admin, chain):
    proposed = propose(gov, [set_tier_rate(gov)], owners[:2], sender=admin)
    height, nonce = chain.blocks.height, int(world.safe.call_view_method("nonce"))
    with pytest.raises(SignatureError, match="got 1: add --signer for 1 more owner"):
        cancel(gov, proposed.operation_id, owners[:1], sender=admin)
    assert nothing_sent(chain, world, height, nonce)
    assert find_operation(gov, proposed.operation_id).pending


def test_cancel__an_executed_operation__refused(gov, ready, owners, admin, bob):
    execute(gov, ready.id, sender=bob)
    with pytest.raises(
        OperationStateError, match="is done: only a waiting or ready operation can be cancelled"
    ):
        cancel(gov, ready.id, owners[:2], sender=admin)


# ----------------------------------------------------------------------------------- Safe signatures


def test_signatures__for_a_stale_nonce__refused_before_sending(world, gov, owners, admin):
    """Signed, then another Safe transaction executed first: the signatures are for the old nonce."""
    timelock = str(world.timelock.address)
    stale = build_safe_tx(world.safe, timelock, bytes.fromhex("f27a0c92"))
    signatures = collect_signatures(world.safe, stale, owners[:2])
    propose(gov, [set_tier_rate(gov)], owners[:2], sender=admin)
    with pytest.raises(SignatureError, match="signed for the Safe's nonce 0, but the Safe is at nonce 1"):
        exec_safe_tx(world.safe, stale, signatures, admin)


def test_signatures__filed_under_another_owner__refused(world, owners):
    tx = build_safe_tx(world.safe, str(world.timelock.address), b"")
    forged = {owners[0].address: sign_safe_tx(tx, owners[1]), owners[1].address: sign_safe_tx(tx, owners[1])}
    with pytest.raises(
        SignatureError, match=f"filed under {owners[0].address} was made by {owners[1].address}"
    ):
        check_signatures(safe_info(world.safe), tx, forged)


def test_exec_safe_tx__a_call_the_target_refuses__named_before_sending(world, owners, admin, chain):
    """The Safe reverts the whole transaction when its call fails (GS013); the simulation says so first."""
    # The timelock's schedule(...) sent to the cube contract, which has no such function.
    data = bytes.fromhex("01d5062a") + b"\x00" * 32 * 6
    tx = build_safe_tx(world.safe, str(world.cubes.address), data)
    signatures = collect_signatures(world.safe, tx, owners[:2])
    height = chain.blocks.height
    with pytest.raises(SimulationError, match=r"would refuse the transaction: it reverts with GS013"):
        exec_safe_tx(world.safe, tx, signatures, admin)
    assert chain.blocks.height == height


# ------------------------------------------------------------------------------------------- dry runs


def test_dry_run_propose__sends_nothing_and_lists_the_events_it_would_emit(world, gov, owners, admin, chain):
    height, nonce = chain.blocks.height, int(world.safe.call_view_method("nonce"))
    dry = propose(gov, [set_tier_rate(gov)], owners[:2], sender=admin, dry_run=True)
    assert dry.dry_run and dry.simulation is not None and dry.simulation.previewed
    assert nothing_sent(chain, world, height, nonce) and pending_operations(gov) == []
    events = "\n".join(dry.simulation.events)
    assert f"LinkTimelock.CallScheduled(id=0x{dry.operation_id.hex()}, index=0" in events
    assert "GovernanceSafe.ExecutionSuccess(" in events
    assert any(line.startswith("schedule operation") for line in dry.changes)
    assert "  OptimizedCubeManagement.setTierRate(1, 23000000000000)" in dry.changes


def test_dry_run_execute__reports_the_rate_change_and_changes_nothing(world, gov, ready, bob, chain):
    height = chain.blocks.height
    dry = execute(gov, ready.id, sender=bob, dry_run=True)
    assert chain.blocks.height == height and int(world.cubes.tierRate(1)) == 0
    assert dry.simulation is not None
    assert (
        "OptimizedCubeManagement.TierRateSet(tier=1, previousWeiPerSecond=0, weiPerSecond=23000000000000)"
        in (dry.simulation.events)
    )
    assert find_operation(gov, ready.id).state == OperationState.READY


def test_dry_run_execute__of_a_call_that_reverts__gives_the_reason(gov, owners, admin, bob, chain):
    proposed = propose(gov, [set_tier_rate(gov, 9)], owners[:2], sender=admin)  # tier 9 does not exist
    chain.mine(timestamp=proposed.eta)
    with pytest.raises(SimulationError, match=r"it reverts with InvalidTier\(tier=9, tierCount=4\)"):
        execute(gov, proposed.operation_id, sender=bob, dry_run=True)


def test_dry_run_cancel__leaves_the_operation_pending(world, gov, owners, admin):
    proposed = propose(gov, [set_tier_rate(gov)], owners[:2], sender=admin)
    dry = cancel(gov, proposed.operation_id, owners[:2], sender=admin, dry_run=True)
    assert dry.simulation is not None and any(".Cancelled(id=" in e for e in dry.simulation.events)
    assert find_operation(gov, proposed.operation_id).pending


def test_dry_run_execute_too_early__is_refused_like_the_real_one(gov, owners, admin, bob):
    proposed = propose(gov, [set_tier_rate(gov)], owners[:2], sender=admin)
    with pytest.raises(OperationNotReadyError) as refused:
        execute(gov, proposed.operation_id, sender=bob, dry_run=True)
    assert refused.value.eta == proposed.eta and 0 < refused.value.wait_seconds <= MIN_DELAY


def test_isolated_blocks_see_the_world_as_the_fixture_left_it(world, gov):
    """The module's world is shared: each test starts from it (ape's snapshot per test)."""
    with isolated():
        assert int(world.cubes.tierRate(1)) == 0 and pending_operations(gov) == []
