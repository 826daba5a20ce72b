"""`deploy_protocol(..., governance=...)`: the timelock of a 2-of-3 Safe administers every contract from its
constructor on, a guardian Safe pauses, and the deployer ends up with no role on anything.

Roles are enumerated from every contract's RoleGranted/RoleRevoked events (link_ops.governance.role_holders),
so a grant the deployment forgot to hand over, to any account, would show.
"""

from __future__ import annotations

import pytest
from _errors import reverts

from link_ops.exceptions import ConfigurationError, GovernanceError, OperationNotReadyError, SimulationError
from link_ops.governance import (
    GovernanceSettings,
    build_call,
    build_safe_tx,
    collect_signatures,
    deploy_safe,
    exec_safe_tx,
    execute,
    propose,
    role_holders,
    simulate_call,
)
from link_ops.protocol.deploy import deploy_protocol

DELAY = 3_600
NEW_RATE = 29 * 10**12


@pytest.fixture(scope="module")
def owners(accounts):
    return [accounts[6], accounts[7], accounts[8]]


@pytest.fixture(scope="module")
def governed(admin, owners, accounts):
    """The governed protocol, its Safe (2 of 3) and its guardian (a 1-of-1 Safe of account 9)."""
    safe = deploy_safe(admin, owners, 2)
    guardian = deploy_safe(admin, [accounts[9]], 1, salt_nonce=1)
    protocol = deploy_protocol(
        admin, governance=GovernanceSettings(str(safe.address), str(guardian.address), DELAY), record=False
    )
    return protocol, safe, guardian


@pytest.fixture(scope="module", autouse=True)
def _wider_fixtures_first(admin, alice, owners, governed):
    """Resolves every session/module fixture before the first test's snapshot."""


def test_after_a_governed_deployment_no_key_holds_any_role_on_any_contract(governed, admin):
    protocol, safe, guardian = governed
    gov = protocol.governance
    assert gov is not None
    timelock = gov.timelock
    holders = [
        h
        for contract in (protocol.lbc, protocol.cubes, protocol.partner_factory, timelock)
        for h in role_holders(contract, from_block=gov.from_block)
    ]
    assert [str(h) for h in holders if h.kind == "eoa"] == []
    for contract in (protocol.lbc, protocol.cubes, protocol.partner_factory):
        assert contract.defaultAdmin() == timelock.address
        assert contract.pendingDefaultAdmin()[0] == "0x" + "00" * 20
        assert not any(
            contract.hasRole(r.role, admin.address) for r in holders if r.contract == contract.address
        )
    roles = {(h.contract, h.role_name, h.account) for h in holders}
    cubes, factory = str(protocol.cubes.address), str(protocol.partner_factory.address)
    assert (str(protocol.lbc.address), "MINTER_ROLE", cubes) in roles
    assert (cubes, "MINTER_ROLE", str(safe.address)) in roles
    assert (cubes, "OPERATOR_ROLE", str(safe.address)) in roles
    assert (cubes, "PAUSER_ROLE", str(guardian.address)) in roles
    assert (factory, "ONBOARDER_ROLE", str(safe.address)) in roles
    assert (str(timelock.address), "PROPOSER_ROLE", str(safe.address)) in roles
    assert (str(timelock.address), "CANCELLER_ROLE", str(guardian.address)) in roles
    assert int(timelock.getMinDelay()) == DELAY
    assert tuple(int(protocol.cubes.tierRate(t)) for t in range(4)) == (
        11 * 10**12,
        23 * 10**12,
        58 * 10**12,
        116 * 10**12,
    )


def test_the_safe_changes_a_rate_only_after_the_delay(governed, owners, admin, alice, chain):
    protocol, _safe, _guardian = governed
    gov = protocol.governance
    call = build_call(gov, str(protocol.cubes.address), "setTierRate(uint8,uint256)", ["1", str(NEW_RATE)])
    proposed = propose(gov, [call], owners[:2], sender=admin)
    with pytest.raises(OperationNotReadyError):
        execute(gov, proposed.operation_id, sender=alice)
    ready_only = 1 << 2  # OpenZeppelin's bitmap of the expected states: Ready
    with reverts(
        gov.timelock.TimelockUnexpectedOperationState,
        operationId=proposed.operation_id,
        expectedStates=ready_only.to_bytes(32, "big"),
    ):
        gov.timelock.execute(call.target, 0, call.data, b"\x00" * 32, proposed.operation.salt, sender=alice)
    assert int(protocol.cubes.tierRate(1)) == 23 * 10**12
    chain.mine(1, timestamp=int(chain.pending_timestamp) + DELAY + 1)
    execute(gov, proposed.operation_id, sender=alice)
    assert int(protocol.cubes.tierRate(1)) == NEW_RATE


def test_the_guardian_pauses_in_one_transaction_and_cannot_unpause(governed, accounts, admin, chain):
    protocol, _safe, guardian = governed
    cubes = protocol.cubes
    pause = build_safe_tx(guardian, str(cubes.address), bytes(cubes.pause.encode_input()))
    receipt = exec_safe_tx(guardian, pause, collect_signatures(guardian, pause, [accounts[9]]), admin)
    assert cubes.paused() is True
    assert [log.account for log in cubes.Paused.from_receipt(receipt)] == [guardian.address]
    data = bytes(cubes.unpause.encode_input())
    attempt = simulate_call(str(guardian.address), str(cubes.address), data)
    assert not attempt.ok and attempt.revert is not None
    assert attempt.revert == (
        f"AccessControlUnauthorizedAccount(account={str(guardian.address).lower()}, neededRole=0x{'00' * 32})"
    )
    unpause = build_safe_tx(guardian, str(cubes.address), data)
    with pytest.raises(SimulationError, match="GS013"):
        exec_safe_tx(guardian, unpause, collect_signatures(guardian, unpause, [accounts[9]]), admin)
    assert cubes.paused() is True


def test_governance_and_admin_together__refused_before_anything_is_sent(admin, alice, owners, chain):
    height = chain.blocks.height
    with pytest.raises(ConfigurationError, match="not both"):
        deploy_protocol(admin, admin=alice, governance=GovernanceSettings(alice.address, alice.address))
    assert chain.blocks.height == height


def test_a_governed_deployment_run_again__reuses_everything_and_sends_nothing(
    admin, owners, accounts, tmp_path
):
    safe = deploy_safe(admin, owners, 2, salt_nonce=7)
    guardian = deploy_safe(admin, [accounts[9]], 1, salt_nonce=8)
    settings = GovernanceSettings(str(safe.address), str(guardian.address), DELAY)
    first = deploy_protocol(admin, governance=settings, deployments_dir=tmp_path)
    again = deploy_protocol(admin, governance=settings, deployments_dir=tmp_path)
    assert (again.lbc.address, again.cubes.address, again.admin) == (
        first.lbc.address,
        first.cubes.address,
        first.admin,
    )
    assert again.transactions == [] and again.reused


def test_a_governed_deployment_asked_to_change_rates_after_the_hand_over__says_to_propose_it(
    admin, owners, accounts, tmp_path
):
    safe = deploy_safe(admin, owners, 2, salt_nonce=9)
    guardian = deploy_safe(admin, [accounts[9]], 1, salt_nonce=10)
    settings = GovernanceSettings(str(safe.address), str(guardian.address), DELAY)
    deploy_protocol(admin, governance=settings, deployments_dir=tmp_path)
    with pytest.raises(GovernanceError, match=r"its setup phase is over, so calls go through the Safe now"):
        deploy_protocol(admin, governance=settings, deployments_dir=tmp_path, tier_rates=(0, 0, 0, 10**12))
