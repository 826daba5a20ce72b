"""The Safe and the timelock one function at a time: the Python hashes equal the contracts' own, the roles a
deployment leaves, and every refusal of a bad Safe or timelock before anything is sent."""

from __future__ import annotations

import pytest
from _governance import MIN_DELAY, THRESHOLD
from eip712.messages import calculate_hash
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import link_ops.governance.safe as safe_module
from link_ops.contracts.errors import decode_error
from link_ops.exceptions import ConfigurationError, GovernanceError, SafeError
from link_ops.governance import (
    build_safe_tx,
    deploy_safe,
    deploy_timelock,
    load_safe,
    load_timelock,
    safe_info,
)
from link_ops.governance.roles import role_holders
from link_ops.governance.safe import eip712_message
from link_ops.governance.timelock import CANCELLER_ROLE, DEFAULT_ADMIN_ROLE, EXECUTOR_ROLE, PROPOSER_ROLE
from link_ops.model.governance import (
    ZERO_ADDRESS,
    Call,
    OperationState,
    SafeTx,
    TimelockOperation,
    state_bitmap,
)

CHAIN_ID = 31337
HASH_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
words = st.binary(min_size=32, max_size=32)
calldata = st.binary(max_size=200)
amounts = st.integers(min_value=0, max_value=2**256 - 1)
calls = st.builds(Call, target=addresses, data=calldata, value=amounts)


# ------------------------------------------------------------------------------------------- hashes


@HASH_SETTINGS
@given(to=addresses, value=amounts, data=calldata, nonce=st.integers(min_value=0, max_value=2**64))
def test_safe_tx_hash__equals_the_safes_getTransactionHash(world, to, value, data, nonce):
    tx = SafeTx(safe=str(world.safe.address), chain_id=CHAIN_ID, to=to, data=data, value=value, nonce=nonce)
    on_chain = world.safe.getTransactionHash(to, value, data, 0, 0, 0, 0, ZERO_ADDRESS, ZERO_ADDRESS, nonce)
    assert bytes(on_chain) == tx.hash()


def test_eip712_message__what_signers_sign__hashes_to_the_safes_transaction_hash(world):
    """Signers get the eip712 package's typed SafeTx (a keystore shows it field by field); it must be the
    very hash the Safe checks."""
    tx = build_safe_tx(world.safe, str(world.timelock.address), bytes.fromhex("f27a0c92"), value=5)
    assert calculate_hash(eip712_message(tx).signable_message) == tx.hash()


@HASH_SETTINGS
@given(call=calls, predecessor=words, salt=words)
def test_operation_id__one_call__equals_hashOperation(world, call, predecessor, salt):
    operation = TimelockOperation((call,), predecessor, salt, batch=False)
    on_chain = world.timelock.hashOperation(call.target, call.value, call.data, predecessor, salt)
    assert bytes(on_chain) == operation.id


@HASH_SETTINGS
@given(batch=st.lists(calls, min_size=1, max_size=4), predecessor=words, salt=words)
def test_operation_id__a_batch__equals_hashOperationBatch(world, batch, predecessor, salt):
    operation = TimelockOperation(tuple(batch), predecessor, salt, batch=True)
    on_chain = world.timelock.hashOperationBatch(
        [c.target for c in batch], [c.value for c in batch], [c.data for c in batch], predecessor, salt
    )
    assert bytes(on_chain) == operation.id


def test_timelock_errors__are_named_by_the_packaged_error_table(world):
    """The shipped LinkTimelock ABI carries the timelock's errors, so every script names them."""
    operation_id = b"\x11" * 32
    data = bytes.fromhex("5ead8eb5") + operation_id + state_bitmap(OperationState.READY)
    decoded = decode_error(data)
    assert decoded is not None and decoded.name == "TimelockUnexpectedOperationState"
    assert dict(decoded.args) == {
        "operationId": operation_id,
        "expectedStates": state_bitmap(OperationState.READY),
    }


# ---------------------------------------------------------------------------------------------- Safe


def test_deploy_safe__two_of_three__has_those_owners_and_threshold(world, owners):
    info = safe_info(world.safe)
    assert set(info.owners) == {o.address for o in owners}
    assert info.threshold == THRESHOLD and info.nonce == 0 and info.version == "1.4.1"


def test_deploy_safe__again_with_the_same_owners__reuses_the_same_safe(world, admin, owners, chain):
    height = chain.blocks.height
    again = deploy_safe(admin, owners, THRESHOLD)
    assert again.address == world.safe.address
    assert chain.blocks.height == height


def test_deploy_safe__another_salt_nonce__is_another_safe(world, admin, owners):
    other = deploy_safe(admin, owners, THRESHOLD, salt_nonce=1)
    assert other.address != world.safe.address and safe_info(other).threshold == THRESHOLD


@pytest.mark.parametrize(
    ("owner_indexes", "threshold", "message"),
    [
        ([], 1, "at least one owner"),
        ([6, 6, 7], 2, "each Safe owner may appear once"),
        ([6, 7, 8], 0, "from 1 to the number of owners"),
        ([6, 7, 8], 4, "from 1 to the number of owners"),
    ],
)
def test_deploy_safe__bad_owners_or_threshold__refused_before_sending(
    admin, accounts, chain, owner_indexes, threshold, message
):
    height = chain.blocks.height
    with pytest.raises(ConfigurationError, match=message):
        deploy_safe(admin, [accounts[i] for i in owner_indexes], threshold)
    assert chain.blocks.height == height


def test_deploy_safe__the_zero_address_as_owner__refused(admin, owners):
    with pytest.raises(ConfigurationError, match="cannot own a Safe"):
        deploy_safe(admin, [owners[0].address, ZERO_ADDRESS], 1)


def test_load_safe__an_account_without_code__refused(stranger):
    with pytest.raises(SafeError, match=f"there is no contract at {stranger.address}"):
        load_safe(stranger.address)


def test_load_safe__a_contract_that_is_not_a_safe__refused(world):
    with pytest.raises(SafeError, match="is not a Safe that was set up"):
        load_safe(str(world.cubes.address))


def test_safe_singletons__on_a_live_chain_without_safes_canonical_deployment__refused(
    monkeypatch, admin, owners
):
    """On a live chain the canonical deployment is used or nothing: the local copies are for test chains."""
    monkeypatch.setattr(safe_module, "is_local_or_fork", lambda: False)
    with pytest.raises(SafeError, match=r"has no Safe 1\.4\.1 at its canonical addresses"):
        deploy_safe(admin, owners, THRESHOLD, salt_nonce=7)


# ------------------------------------------------------------------------------------------ timelock


def test_deploy_timelock__final__the_safe_proposes_and_cancels_anyone_executes_nobody_administers(
    world, admin
):
    timelock = world.timelock
    assert int(timelock.getMinDelay()) == MIN_DELAY
    holders = {(h.role_name, h.account) for h in role_holders(timelock)}
    assert holders == {
        ("PROPOSER_ROLE", world.safe.address),
        ("CANCELLER_ROLE", world.safe.address),
        ("EXECUTOR_ROLE", ZERO_ADDRESS),
        ("DEFAULT_ADMIN_ROLE", timelock.address),
    }
    assert not timelock.hasRole(DEFAULT_ADMIN_ROLE, admin.address)


def test_deploy_timelock__setup_mode__delay_0_and_the_deployer_holds_every_role(admin):
    timelock = deploy_timelock(admin, setup=True)
    assert int(timelock.getMinDelay()) == 0
    for role in (PROPOSER_ROLE, CANCELLER_ROLE, EXECUTOR_ROLE, DEFAULT_ADMIN_ROLE):
        assert timelock.hasRole(role, admin.address)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"setup": True, "proposers": ["0x" + "11" * 20]}, "pass the Safe and the executors to finish_setup"),
        ({"setup": True, "executors": []}, "pass the Safe and the executors to finish_setup"),
        ({"proposers": []}, "needs a proposer"),
        ({"proposers": ["0x" + "11" * 20], "executors": []}, "executors cannot be empty"),
        ({"proposers": ["0x" + "11" * 20], "min_delay": -1}, "whole seconds, 0 or more"),
        ({"proposers": ["Safe"]}, "a proposer must be an account or a 0x address"),
    ],
)
def test_deploy_timelock__bad_roles_or_delay__refused_before_sending(admin, chain, kwargs, message):
    height = chain.blocks.height
    with pytest.raises(ConfigurationError, match=message):
        deploy_timelock(admin, **kwargs)
    assert chain.blocks.height == height


def test_load_timelock__not_a_timelock__refused(world, stranger):
    with pytest.raises(GovernanceError, match="there is no contract at"):
        load_timelock(stranger.address)
    with pytest.raises(GovernanceError, match="is not a timelock"):
        load_timelock(str(world.safe.address))
    with pytest.raises(ConfigurationError, match="0x and 40 hex digits"):
        load_timelock("LinkTimelock")
