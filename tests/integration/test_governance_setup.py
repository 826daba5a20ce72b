"""The setup phase: a deployment wires contracts administered by the timelock without the deployer ever
holding a role on them, then hands the timelock to the Safe; interrupted anywhere, it converges when run
again. Also: deploy_governance's records, and the role check that finds keys."""

from __future__ import annotations

import pytest
from _governance import MIN_DELAY, THRESHOLD, deploy_cubes_governed_by

from link_ops.exceptions import (
    ConfigurationError,
    DeploymentRecordError,
    GovernanceError,
    RoleError,
    SafeError,
)
from link_ops.governance import (
    SAFE,
    SETUP_SALT,
    TIMELOCK,
    Call,
    check_no_eoa_roles,
    deploy_governance,
    deploy_safe,
    deploy_timelock,
    finish_setup,
    load_governance,
    role_holders,
    run_through_timelock,
)
from link_ops.governance.timelock import CANCELLER_ROLE, DEFAULT_ADMIN_ROLE, EXECUTOR_ROLE, PROPOSER_ROLE
from link_ops.model.governance import ZERO_ADDRESS, encode_call, update_delay_calldata
from link_ops.protocol import deploy_protocol, load_record

SETUP_STEPS = 8  # 3 grants, the delay, 4 renounces


@pytest.fixture(scope="session")
def owners(accounts):
    return [accounts[6], accounts[7], accounts[8]]


@pytest.fixture(scope="module")
def safe(admin, owners):
    return deploy_safe(admin, owners, THRESHOLD)


@pytest.fixture(scope="module", autouse=True)
def _wider_fixtures_first(admin, alice, bob, stranger, owners, safe):
    """Resolves every session/module fixture before the first test's snapshot."""


@pytest.fixture
def in_setup(admin):
    """A timelock in setup mode and cubes it administers (the deployer holds no role on them)."""
    timelock = deploy_timelock(admin, setup=True)
    _lbc, cubes = deploy_cubes_governed_by(timelock.address, admin)
    return timelock, cubes


def rate_calls(cubes, rates=(11, 23, 58, 116)):
    data = [encode_call("setTierRate(uint8,uint256)", [str(t), f"{r}e12"]) for t, r in enumerate(rates)]
    return [Call(str(cubes.address), d) for d in data]


def assert_handed_over(timelock, safe, deployer):
    assert int(timelock.getMinDelay()) == MIN_DELAY
    assert timelock.hasRole(PROPOSER_ROLE, safe.address) and timelock.hasRole(CANCELLER_ROLE, safe.address)
    assert timelock.hasRole(EXECUTOR_ROLE, ZERO_ADDRESS)
    for role in (PROPOSER_ROLE, CANCELLER_ROLE, EXECUTOR_ROLE, DEFAULT_ADMIN_ROLE):
        assert not timelock.hasRole(role, deployer.address)
    assert check_no_eoa_roles(timelock) == []


# ---------------------------------------------------------------------------------------- the phase


def test_setup_phase__wires_through_the_timelock_then_hands_it_to_the_safe__no_key_holds_a_role(
    in_setup, safe, admin
):
    timelock, cubes = in_setup
    receipt = run_through_timelock(timelock, admin, rate_calls(cubes))
    assert receipt is not None
    assert [int(cubes.tierRate(t)) for t in range(4)] == [11 * 10**12, 23 * 10**12, 58 * 10**12, 116 * 10**12]

    result = finish_setup(timelock, admin, safe=safe.address, min_delay=MIN_DELAY)
    assert len(result.steps) == SETUP_STEPS and not result.already_finished
    assert_handed_over(timelock, safe, admin)
    # The deployer never held a role on the cubes; the timelock holds them all.
    holders = role_holders(cubes)
    assert {h.account for h in holders} == {timelock.address}
    assert {h.role_name for h in holders} == {
        "DEFAULT_ADMIN_ROLE",
        "MINTER_ROLE",
        "OPERATOR_ROLE",
        "PAUSER_ROLE",
    }
    assert check_no_eoa_roles(timelock, cubes) == []


def test_finish_setup__run_again__changes_nothing(in_setup, safe, admin, chain):
    timelock, _cubes = in_setup
    finish_setup(timelock, admin, safe=safe.address, min_delay=MIN_DELAY)
    height = chain.blocks.height
    again = finish_setup(timelock, admin, safe=safe.address, min_delay=MIN_DELAY)
    assert again.already_finished and chain.blocks.height == height


class Interrupted(Exception):
    pass


@pytest.mark.parametrize("completed", range(1, SETUP_STEPS))
def test_finish_setup__interrupted_after_any_step__converges_when_run_again(in_setup, safe, admin, completed):
    timelock, _cubes = in_setup
    done: list[str] = []

    def crash_after(line: str) -> None:
        done.append(line)
        if len(done) == completed:
            raise Interrupted(line)

    with pytest.raises(Interrupted):
        finish_setup(timelock, admin, safe=safe.address, min_delay=MIN_DELAY, report=crash_after)
    resumed = finish_setup(timelock, admin, safe=safe.address, min_delay=MIN_DELAY)
    assert len(resumed.steps) == SETUP_STEPS - completed
    assert_handed_over(timelock, safe, admin)


def test_finish_setup__interrupted_between_scheduling_and_executing_the_delay__executes_that_operation(
    in_setup, safe, admin
):
    timelock, _cubes = in_setup
    data = update_delay_calldata(MIN_DELAY)
    timelock.schedule(timelock.address, 0, data, b"\x00" * 32, SETUP_SALT, 0, sender=admin)
    result = finish_setup(timelock, admin, safe=safe.address, min_delay=MIN_DELAY)
    assert f"set the minimum delay to {MIN_DELAY} s through the timelock" in result.steps
    assert_handed_over(timelock, safe, admin)


def test_finish_setup__named_executors__execute_instead_of_everyone(in_setup, safe, admin, bob):
    timelock, _cubes = in_setup
    result = finish_setup(timelock, admin, safe=safe.address, min_delay=MIN_DELAY, executors=[bob.address])
    assert result.executors == (bob.address,)
    assert timelock.hasRole(EXECUTOR_ROLE, bob.address) and not timelock.hasRole(EXECUTOR_ROLE, ZERO_ADDRESS)


def test_finish_setup__a_key_given_a_role_during_setup__is_reported_and_refused(
    in_setup, safe, admin, stranger
):
    timelock, _cubes = in_setup
    timelock.grantRole(CANCELLER_ROLE, stranger.address, sender=admin)
    with pytest.raises(
        RoleError, match=f"CANCELLER_ROLE of {timelock.address}: {stranger.address} \\(eoa\\)"
    ):
        finish_setup(timelock, admin, safe=safe.address, min_delay=MIN_DELAY)
    # Allowed on purpose (a canceller bot, say), it passes.
    finish_setup(timelock, admin, safe=safe.address, min_delay=MIN_DELAY, allow=[stranger.address])


def test_finish_setup__with_a_key_as_the_safe__refused(in_setup, admin, stranger):
    timelock, _cubes = in_setup
    with pytest.raises(SafeError, match=f"the proposer {stranger.address} has no code"):
        finish_setup(timelock, admin, safe=stranger.address, min_delay=MIN_DELAY)


def test_finish_setup__by_another_account__refused(in_setup, safe, stranger):
    timelock, _cubes = in_setup
    with pytest.raises(RoleError, match=f"{stranger.address} is not an admin of the timelock"):
        finish_setup(timelock, stranger, safe=safe.address, min_delay=MIN_DELAY)


def test_finish_setup__again_with_another_delay_after_it_finished__refused(in_setup, safe, admin):
    timelock, _cubes = in_setup
    finish_setup(timelock, admin, safe=safe.address, min_delay=MIN_DELAY)
    with pytest.raises(RoleError, match="is not an admin of the timelock"):
        finish_setup(timelock, admin, safe=safe.address, min_delay=2 * MIN_DELAY)


def test_finish_setup__a_negative_delay__refused(in_setup, safe, admin):
    timelock, _cubes = in_setup
    with pytest.raises(ConfigurationError, match="whole seconds, 0 or more"):
        finish_setup(timelock, admin, safe=safe.address, min_delay=-1)


def test_run_through_timelock__the_same_calls_again__do_nothing_unless_another_salt(in_setup, admin, chain):
    timelock, cubes = in_setup
    calls = rate_calls(cubes)
    run_through_timelock(timelock, admin, calls)
    height = chain.blocks.height
    assert run_through_timelock(timelock, admin, calls) is None and chain.blocks.height == height
    assert run_through_timelock(timelock, admin, calls, salt=b"\x01" * 32) is not None


def test_run_through_timelock__once_the_setup_is_over__refused(in_setup, safe, admin):
    timelock, cubes = in_setup
    finish_setup(timelock, admin, safe=safe.address, min_delay=MIN_DELAY)
    with pytest.raises(GovernanceError, match=f"has a delay of {MIN_DELAY} s: its setup phase is over"):
        run_through_timelock(timelock, admin, rate_calls(cubes))


def test_run_through_timelock__by_an_account_that_is_not_its_setup_proposer__refused(in_setup, stranger):
    timelock, cubes = in_setup
    with pytest.raises(RoleError, match=f"{stranger.address} lacks the timelock's PROPOSER_ROLE"):
        run_through_timelock(timelock, stranger, rate_calls(cubes))


# ------------------------------------------------------------------------------------------- roles


def test_check_no_eoa_roles__a_guardian_key_with_the_pause_role__reported_unless_allowed(
    in_setup, admin, alice
):
    timelock, cubes = in_setup
    grant = encode_call(
        "grantRole(bytes32,address)", ["0x" + bytes(cubes.PAUSER_ROLE()).hex(), alice.address]
    )
    run_through_timelock(timelock, admin, [Call(str(cubes.address), grant)])
    [found] = check_no_eoa_roles(cubes)
    assert (found.role_name, found.account, found.kind) == ("PAUSER_ROLE", alice.address, "eoa")
    assert check_no_eoa_roles(cubes, allow=[alice.address]) == []


def test_check_no_eoa_roles__an_eip7702_delegated_key__is_still_a_key(in_setup, admin, alice, chain):
    timelock, _cubes = in_setup
    delegation = "0xef0100" + str(timelock.address)[2:].lower()
    chain.provider.make_request("anvil_setCode", [alice.address, delegation])
    timelock.grantRole(CANCELLER_ROLE, alice.address, sender=admin)
    assert {(h.account, h.kind) for h in check_no_eoa_roles(timelock)} == {
        (admin.address, "eoa"),
        (alice.address, "eoa"),
    }


def test_check_no_eoa_roles__a_pending_default_admin_transfer_to_a_key__is_reported(
    project, in_setup, admin, alice
):
    """AccessControlDefaultAdminRules (where the protocol's contracts are heading): a key about to become the
    default admin is as much a key with a role as one that already is."""
    timelock, _cubes = in_setup
    probe = project.DefaultAdminRulesProbe.deploy(3_600, timelock.address, sender=admin)
    assert check_no_eoa_roles(probe) == []
    begin = encode_call("beginDefaultAdminTransfer(address)", [alice.address])
    run_through_timelock(timelock, admin, [Call(str(probe.address), begin)])
    [pending] = check_no_eoa_roles(probe)
    assert (pending.role_name, pending.account, pending.kind, pending.pending) == (
        "DEFAULT_ADMIN_ROLE",
        alice.address,
        "eoa",
        True,
    )
    assert "(pending transfer)" in str(pending)


def test_check_no_eoa_roles__a_revoked_role__is_no_longer_listed(in_setup, admin, alice):
    timelock, _cubes = in_setup
    timelock.grantRole(CANCELLER_ROLE, alice.address, sender=admin)
    timelock.revokeRole(CANCELLER_ROLE, alice.address, sender=admin)
    assert alice.address not in {h.account for h in check_no_eoa_roles(timelock)}


# ------------------------------------------------------------------------------------------ records


def test_deploy_governance__records_safe_timelock_and_guardian__and_a_rerun_reuses_them(
    admin, owners, alice, tmp_path, chain
):
    gov = deploy_governance(
        admin,
        owners=owners,
        threshold=THRESHOLD,
        min_delay=MIN_DELAY,
        guardian=alice,
        deployments_dir=tmp_path,
    )
    rec = load_record(tmp_path, chain.chain_id)
    assert rec is not None and not rec.complete and rec.admin is None  # the protocol's fields untouched
    assert rec.contracts[SAFE].address == gov.safe.address
    assert rec.contracts[TIMELOCK].address == gov.timelock.address
    assert rec.contracts[TIMELOCK].block_number == gov.from_block > 0
    assert rec.guardian == alice.address
    height = chain.blocks.height
    again = deploy_governance(
        admin, owners=owners, threshold=THRESHOLD, min_delay=MIN_DELAY, deployments_dir=tmp_path
    )
    assert again.timelock.address == gov.timelock.address and chain.blocks.height == height
    loaded = load_governance(deployments_dir=tmp_path)
    assert loaded.timelock.address == gov.timelock.address and loaded.safe.address == gov.safe.address
    assert loaded.guardian == alice.address and loaded.from_block == gov.from_block


def test_deploy_governance__a_recorded_safe_with_other_owners__refused(admin, owners, tmp_path):
    deploy_governance(admin, owners=owners, threshold=THRESHOLD, deployments_dir=tmp_path)
    with pytest.raises(SafeError, match=r"the recorded GovernanceSafe .* is 2 of .* not 3 of"):
        deploy_governance(admin, owners=owners, threshold=3, deployments_dir=tmp_path)


def test_deploy_governance__an_existing_safe__is_recorded_and_proposes(admin, owners, tmp_path, chain):
    existing = deploy_safe(admin, owners, 3, salt_nonce=11)
    gov = deploy_governance(admin, safe=existing.address, min_delay=MIN_DELAY, deployments_dir=tmp_path)
    assert gov.safe.address == existing.address
    assert gov.timelock.hasRole(PROPOSER_ROLE, existing.address)
    rec = load_record(tmp_path, chain.chain_id)
    assert rec is not None and rec.contracts[SAFE].address == existing.address


def test_deploy_governance__a_safe_and_owners_at_once__refused(admin, owners, safe, tmp_path):
    with pytest.raises(ConfigurationError, match="either an existing Safe"):
        deploy_governance(admin, safe=safe.address, owners=owners, threshold=2, deployments_dir=tmp_path)


def test_deploy_governance__a_recorded_timelock_of_another_safe__refused(admin, owners, tmp_path, chain):
    deploy_governance(admin, owners=owners, threshold=THRESHOLD, deployments_dir=tmp_path)
    other = deploy_safe(admin, owners, 1, salt_nonce=12)
    before = load_record(tmp_path, chain.chain_id)
    with pytest.raises(GovernanceError, match=f"does not take proposals from the Safe {other.address}"):
        deploy_governance(admin, safe=other.address, deployments_dir=tmp_path)
    assert load_record(tmp_path, chain.chain_id) == before  # the refused Safe is not recorded


def test_deploy_governance__in_setup_mode__then_finish_setup(admin, owners, tmp_path):
    gov = deploy_governance(admin, owners=owners, threshold=THRESHOLD, setup=True, deployments_dir=tmp_path)
    assert int(gov.timelock.getMinDelay()) == 0 and gov.timelock.hasRole(DEFAULT_ADMIN_ROLE, admin.address)
    finish_setup(gov.timelock, admin, safe=gov.safe, min_delay=MIN_DELAY, from_block=gov.from_block)
    assert_handed_over(gov.timelock, gov.safe, admin)


def test_deploy_protocol__reads_and_keeps_a_record_that_holds_governance(admin, owners, tmp_path, chain):
    """The records stay compatible: the core's deployment resumes from a record governance wrote first."""
    gov = deploy_governance(admin, owners=owners, threshold=THRESHOLD, deployments_dir=tmp_path)
    protocol = deploy_protocol(admin, deployments_dir=tmp_path)
    rec = load_record(tmp_path, chain.chain_id)
    assert rec is not None and rec.complete
    assert rec.contracts[TIMELOCK].address == gov.timelock.address
    assert rec.contracts["OptimizedCubeManagement"].address == protocol.cubes.address


def test_load_governance__nothing_recorded_and_no_address__says_what_to_pass(tmp_path):
    with pytest.raises(DeploymentRecordError, match=r"no timelock given, and .* records no LinkTimelock"):
        load_governance(deployments_dir=tmp_path)
