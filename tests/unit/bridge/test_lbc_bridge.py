"""LBCBridge: a lockbox at home, burn and mint on a remote chain, daily limits both ways (see IBridge.sol).

Home and remote live on the one local chain (tests/unit/_bridge_world.py): the protocol's LBC is the home
token, a second LBCToken the remote one, and every message is relayed by hand, signed by 2 of the 3
signers. Both bridges start with LIMIT (1,000 LBC) a day each way.
"""

from __future__ import annotations

import dataclasses

import pytest
from _bridge_world import (
    CHAIN_ID,
    DAY,
    DEFAULT_ADMIN_ROLE,
    LBC,
    LIMIT,
    OTHER_CHAIN,
    PAUSER_ROLE,
    SENDER_ROLE,
    ZERO_ADDRESS,
    World,
    events,
    lbc_payload,
)
from _errors import reverts, reverts_with_selector
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from link_ops.model.attest import Message
from link_ops.testing import isolated

UINT104_MAX = 2**104 - 1
FUNDS = 100 * LBC


@pytest.fixture
def home(world):
    return world.home_lbc_bridge


@pytest.fixture
def remote(world):
    return world.remote_lbc_bridge


@pytest.fixture
def funded(world, alice):
    """Alice holds FUNDS home LBC."""
    world.fund(alice, FUNDS)
    return alice


@pytest.fixture
def abroad(world, funded, bob):
    """Bob holds 40 LBC on the remote side (sent there by Alice and delivered)."""
    world.move_lbc_out(funded, 40 * LBC, to=bob)
    return bob


def at(chain, timestamp: int) -> None:
    """The next transaction is mined at `timestamp`."""
    chain.pending_timestamp = timestamp


def refill(max_: int, seconds: int) -> int:
    return seconds * max_ // DAY


# --------------------------------------------------------------------------------------------- deployment


def test_constructor__home_bridge__exposes_its_wiring_and_roles(world, home, remote, admin, lbc):
    assert home.token() == lbc.address
    assert home.messenger() == world.home_messenger.address
    assert home.homeChainId() == CHAIN_ID
    assert home.isHome()
    assert home.PAUSER_ROLE() == PAUSER_ROLE
    assert home.hasRole(DEFAULT_ADMIN_ROLE, admin)
    assert home.hasRole(PAUSER_ROLE, admin)
    assert not home.paused()
    assert home.peer(CHAIN_ID) == remote.address
    assert home.outstanding(CHAIN_ID) == 0


def test_constructor__remote_bridge__is_not_home_and_may_name_any_home_chain(project, world, remote, admin):
    assert not remote.isHome()
    assert remote.token() == world.remote_lbc.address
    assert remote.homeChainId() == CHAIN_ID
    elsewhere = project.LBCBridge.deploy(
        admin, world.remote_lbc, world.remote_messenger, OTHER_CHAIN, False, sender=admin
    )
    assert elsewhere.homeChainId() == OTHER_CHAIN
    assert not elsewhere.isHome()


def test_constructor__limits_start_at_zero__nothing_moves_until_the_admin_sets_them(
    project, world, admin, funded, lbc
):
    fresh = project.LBCBridge.deploy(admin, lbc, world.home_messenger, CHAIN_ID, True, sender=admin)
    assert fresh.sendLimit() == (0, 0)
    assert fresh.receiveLimit() == (0, 0)
    fresh.setPeer(CHAIN_ID, world.remote_lbc_bridge, sender=admin)
    lbc.approve(fresh, LBC, sender=funded)
    with reverts(fresh.LimitExceeded, amount=LBC, available=0):
        fresh.send(CHAIN_ID, funded, LBC, sender=funded)


def test_constructor__home_bridge_for_another_home_chain__reverts_wrong_home_chain(
    project, world, home, admin, lbc, failing_deployer
):
    with reverts(home.WrongHomeChain, homeChainId=OTHER_CHAIN, thisChainId=CHAIN_ID):
        project.LBCBridge.deploy(admin, lbc, world.home_messenger, OTHER_CHAIN, True, sender=failing_deployer)


@pytest.mark.parametrize("which", ["zero", "account without code"])
def test_constructor__token_without_code__reverts_invalid_address(
    project, world, home, admin, alice, which, failing_deployer
):
    token = ZERO_ADDRESS if which == "zero" else alice.address
    with reverts(home.InvalidAddress):
        project.LBCBridge.deploy(admin, token, world.home_messenger, CHAIN_ID, True, sender=failing_deployer)


@pytest.mark.parametrize("which", ["zero", "account without code"])
def test_constructor__messenger_without_code__reverts_invalid_address(
    project, home, admin, alice, lbc, which, failing_deployer
):
    messenger = ZERO_ADDRESS if which == "zero" else alice.address
    with reverts(home.InvalidAddress):
        project.LBCBridge.deploy(admin, lbc, messenger, CHAIN_ID, True, sender=failing_deployer)


def test_constructor__zero_admin__reverts_invalid_address(project, world, home, lbc, failing_deployer):
    with reverts(home.InvalidAddress):
        project.LBCBridge.deploy(
            ZERO_ADDRESS, lbc, world.home_messenger, CHAIN_ID, True, sender=failing_deployer
        )


# --------------------------------------------------------------------------------------------- wiring


def test_set_peer__not_admin__reverts(home, stranger):
    with reverts(
        home.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=DEFAULT_ADMIN_ROLE
    ):
        home.setPeer(OTHER_CHAIN, stranger, sender=stranger)


def test_set_peer__home__wires_any_chain_and_emits(home, admin, remote):
    receipt = home.setPeer(OTHER_CHAIN, remote, sender=admin)
    assert events(receipt, home, "PeerSet") == [{"chainId": OTHER_CHAIN, "peer": remote.address}]
    assert home.peer(OTHER_CHAIN) == remote.address


def test_set_peer__remote_for_a_chain_other_than_home__reverts_unsupported_route(remote, home, admin):
    with reverts(remote.UnsupportedRoute, chainId=OTHER_CHAIN):
        remote.setPeer(OTHER_CHAIN, home, sender=admin)
    assert remote.peer(OTHER_CHAIN) == ZERO_ADDRESS


def test_set_peer__zero__unwires_the_route(home, admin, funded, world):
    home.setPeer(CHAIN_ID, ZERO_ADDRESS, sender=admin)
    world.home_lbc.approve(home, LBC, sender=funded)
    with reverts(home.UnsupportedRoute, chainId=CHAIN_ID):
        home.send(CHAIN_ID, funded, LBC, sender=funded)


def test_set_messenger__not_admin__reverts(home, stranger, world):
    with reverts(
        home.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=DEFAULT_ADMIN_ROLE
    ):
        home.setMessenger(world.remote_messenger, sender=stranger)
    assert home.messenger() == world.home_messenger.address


@pytest.mark.parametrize("which", ["zero", "account without code"])
def test_set_messenger__without_code__reverts_invalid_address(home, admin, alice, which):
    with reverts(home.InvalidAddress):
        home.setMessenger(ZERO_ADDRESS if which == "zero" else alice.address, sender=admin)


def test_set_messenger__swaps_and_the_old_messenger_is_no_longer_heard(project, world, remote, admin, funded):
    message = world.send_lbc_out(funded, 5 * LBC)
    replacement = project.AttestedMessenger.deploy(admin, [admin.address], 1, sender=admin)
    receipt = remote.setMessenger(replacement, sender=admin)
    assert events(receipt, remote, "MessengerSet") == [{"messenger": replacement.address}]
    assert remote.messenger() == replacement.address

    with reverts(remote.NotMessenger, caller=world.remote_messenger.address):
        world.deliver(message)
    assert world.remote_lbc.totalSupply() == 0


# ----------------------------------------------------------------------------------------- out: lock and mint


def test_send__home__locks_the_amount_counts_it_outstanding_and_sends_the_message(
    world, home, remote, funded, bob
):
    amount = 30 * LBC
    world.home_lbc.approve(home, amount, sender=funded)
    receipt = home.send(CHAIN_ID, bob, amount, sender=funded)

    message = world.sent(receipt)
    assert message.src_messenger == world.home_messenger.address
    assert (message.sender, message.receiver) == (home.address, remote.address)
    assert message.payload == lbc_payload(bob, amount)
    assert events(receipt, home, "LBCSent") == [
        {
            "messageId": message.message_id,
            "dstChainId": CHAIN_ID,
            "from": funded.address,
            "to": bob.address,
            "amount": amount,
        }
    ]
    assert world.home_lbc.balanceOf(funded) == FUNDS - amount
    assert world.home_lbc.balanceOf(home) == amount
    assert home.outstanding(CHAIN_ID) == amount
    assert home.sendLimit() == (LIMIT, LIMIT - amount)
    assert world.remote_lbc.totalSupply() == 0


def test_receive__remote__mints_to_the_recipient(world, remote, funded, bob):
    amount = 30 * LBC
    message = world.send_lbc_out(funded, amount, to=bob)
    receipt = world.deliver(message)
    assert events(receipt, remote, "LBCReceived") == [
        {"messageId": message.message_id, "srcChainId": CHAIN_ID, "to": bob.address, "amount": amount}
    ]
    assert world.remote_lbc.balanceOf(bob) == amount
    assert world.remote_lbc.totalSupply() == amount
    assert remote.receiveLimit() == (LIMIT, LIMIT - amount)
    assert remote.outstanding(CHAIN_ID) == 0  # only home counts


def test_send__home_without_allowance__reverts_transfer_from_failed(world, home, funded):
    with reverts_with_selector("TransferFromFailed()"):
        home.send(CHAIN_ID, funded, LBC, sender=funded)
    assert home.outstanding(CHAIN_ID) == 0


# ------------------------------------------------------------------------------------- home: burn and release


def test_send__remote__burns_the_amount_and_sends_the_message(world, home, remote, abroad, funded):
    amount = 15 * LBC
    world.remote_lbc.approve(remote, amount, sender=abroad)
    receipt = remote.send(CHAIN_ID, funded, amount, sender=abroad)

    message = world.sent(receipt)
    assert message.src_messenger == world.remote_messenger.address
    assert (message.sender, message.receiver) == (remote.address, home.address)
    assert message.payload == lbc_payload(funded, amount)
    assert events(receipt, remote, "LBCSent") == [
        {
            "messageId": message.message_id,
            "dstChainId": CHAIN_ID,
            "from": abroad.address,
            "to": funded.address,
            "amount": amount,
        }
    ]
    assert world.remote_lbc.balanceOf(abroad) == 25 * LBC
    assert world.remote_lbc.totalSupply() == 25 * LBC
    assert home.outstanding(CHAIN_ID) == 40 * LBC  # until it arrives


def test_send__remote_without_allowance__reverts_insufficient_allowance(world, remote, abroad):
    with reverts(
        world.remote_lbc.ERC20InsufficientAllowance, spender=remote.address, allowance=0, needed=LBC
    ):
        remote.send(CHAIN_ID, abroad, LBC, sender=abroad)


def test_receive__home__releases_to_the_recipient_and_reduces_outstanding(world, home, abroad, stranger):
    message = world.send_lbc_home(abroad, 15 * LBC, to=stranger)
    receipt = world.deliver(message)
    assert events(receipt, home, "LBCReceived") == [
        {"messageId": message.message_id, "srcChainId": CHAIN_ID, "to": stranger.address, "amount": 15 * LBC}
    ]
    assert world.home_lbc.balanceOf(stranger) == 15 * LBC
    assert world.home_lbc.balanceOf(home) == 25 * LBC
    assert home.outstanding(CHAIN_ID) == 25 * LBC


def test_round_trip__conserves_supply_and_returns_everything(world, home, funded, bob):
    home_supply = world.home_lbc.totalSupply()
    world.move_lbc_out(funded, 60 * LBC, to=bob)
    # Locked at home, minted remotely: what circulates is still the home supply.
    assert world.home_lbc.totalSupply() == home_supply
    circulating = home_supply - world.home_lbc.balanceOf(home) + world.remote_lbc.totalSupply()
    assert circulating == home_supply <= world.home_lbc.cap()

    world.deliver(world.send_lbc_home(bob, 60 * LBC, to=funded))
    assert world.home_lbc.totalSupply() == home_supply
    assert world.remote_lbc.totalSupply() == 0
    assert world.home_lbc.balanceOf(home) == 0
    assert home.outstanding(CHAIN_ID) == 0
    assert world.home_lbc.balanceOf(funded) == FUNDS


# --------------------------------------------------------------------------------------------- send errors


@pytest.mark.parametrize("side", ["home", "remote"])
def test_send__zero_amount__reverts_zero_amount(request, side, abroad):
    bridge = request.getfixturevalue(side)
    with reverts(bridge.ZeroAmount):
        bridge.send(CHAIN_ID, abroad, 0, sender=abroad)


@pytest.mark.parametrize("side", ["home", "remote"])
def test_send__zero_recipient__reverts_zero_recipient(request, side, abroad):
    bridge = request.getfixturevalue(side)
    with reverts(bridge.ZeroRecipient):
        bridge.send(CHAIN_ID, ZERO_ADDRESS, LBC, sender=abroad)


@pytest.mark.parametrize("side", ["home", "remote"])
def test_send__unwired_chain__reverts_unsupported_route(request, side, abroad):
    bridge = request.getfixturevalue(side)
    with reverts(bridge.UnsupportedRoute, chainId=OTHER_CHAIN):
        bridge.send(OTHER_CHAIN, abroad, LBC, sender=abroad)


def test_send__over_the_available_limit__reverts_limit_exceeded(world, home, admin, funded, chain):
    home.setLimits(50 * LBC, LIMIT, sender=admin)
    world.home_lbc.approve(home, FUNDS, sender=funded)
    receipt = home.send(CHAIN_ID, funded, 30 * LBC, sender=funded)
    at(chain, receipt.timestamp + 10)
    with reverts(home.LimitExceeded, amount=21 * LBC, available=20 * LBC + refill(50 * LBC, 10)):
        home.send(CHAIN_ID, funded, 21 * LBC, sender=funded)
    assert home.outstanding(CHAIN_ID) == 30 * LBC


def test_send__remote_over_its_limit__reverts_limit_exceeded(world, remote, admin, abroad):
    remote.setLimits(10 * LBC, LIMIT, sender=admin)
    world.remote_lbc.approve(remote, 40 * LBC, sender=abroad)
    with reverts(remote.LimitExceeded, amount=11 * LBC, available=10 * LBC):
        remote.send(CHAIN_ID, abroad, 11 * LBC, sender=abroad)


# --------------------------------------------------------------------------------------------- limits


def test_limits__refill_linearly_over_a_day_up_to_the_max(world, home, funded, chain):
    world.home_lbc.approve(home, FUNDS, sender=funded)
    home.setLimits(80 * LBC, LIMIT, sender=world.admin)
    spent = home.send(CHAIN_ID, funded, 80 * LBC, sender=funded)
    assert home.sendLimit() == (80 * LBC, 0)

    chain.mine(timestamp=spent.timestamp + DAY // 2)
    assert home.sendLimit() == (80 * LBC, 40 * LBC)
    chain.mine(timestamp=spent.timestamp + DAY // 4 * 3)
    assert home.sendLimit() == (80 * LBC, 60 * LBC)
    chain.mine(timestamp=spent.timestamp + 2 * DAY)
    assert home.sendLimit() == (80 * LBC, 80 * LBC)


def test_receive__over_the_receive_limit__reverts_and_delivers_once_the_limit_has_refilled(
    world, remote, admin, funded, chain
):
    max_ = 10 * LBC
    remote.setLimits(LIMIT, max_, sender=admin)
    first = world.deliver(world.send_lbc_out(funded, 8 * LBC))
    message = world.send_lbc_out(funded, 8 * LBC)

    at(chain, first.timestamp + 3_600)
    with reverts(remote.LimitExceeded, amount=8 * LBC, available=2 * LBC + refill(max_, 3_600)):
        world.deliver(message)
    assert not world.executed(message)
    assert world.remote_lbc.totalSupply() == 8 * LBC

    at(chain, first.timestamp + DAY * 6 // 10)  # 2 + 6 LBC available
    world.deliver(message)
    assert world.executed(message)
    assert world.remote_lbc.balanceOf(funded) == 16 * LBC
    assert remote.receiveLimit() == (max_, 0)


def test_set_limits__not_admin__reverts(home, stranger):
    with reverts(
        home.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=DEFAULT_ADMIN_ROLE
    ):
        home.setLimits(1, 1, sender=stranger)
    assert home.sendLimit() == (LIMIT, LIMIT)


def test_set_limits__emits_limits_set(home, admin):
    receipt = home.setLimits(3 * LBC, 4 * LBC, sender=admin)
    assert events(receipt, home, "LimitsSet") == [{"sendLimit": 3 * LBC, "receiveLimit": 4 * LBC}]
    assert home.sendLimit() == (3 * LBC, 3 * LBC)
    assert home.receiveLimit() == (4 * LBC, 4 * LBC)


def test_set_limits__raising__adds_the_difference_to_what_is_available(world, home, admin, funded, chain):
    world.home_lbc.approve(home, FUNDS, sender=funded)
    spent = home.send(CHAIN_ID, funded, 60 * LBC, sender=funded)  # 940 left of 1,000
    at(chain, spent.timestamp)  # the same second: no refill
    home.setLimits(LIMIT + 500 * LBC, LIMIT, sender=admin)
    assert home.sendLimit() == (LIMIT + 500 * LBC, 1_440 * LBC)


@pytest.mark.parametrize(
    ("new_max", "available"),
    [(900 * LBC, 840 * LBC), (60 * LBC, 0), (50 * LBC, 0), (0, 0)],
    ids=["by less than what is available", "by exactly what is available", "by more (floor 0)", "to zero"],
)
def test_set_limits__lowering__takes_the_difference_away_down_to_zero(
    world, home, admin, funded, chain, new_max, available
):
    world.home_lbc.approve(home, FUNDS, sender=funded)
    spent = home.send(CHAIN_ID, funded, 60 * LBC, sender=funded)  # 940 left of 1,000
    at(chain, spent.timestamp)
    home.setLimits(new_max, LIMIT, sender=admin)
    assert home.sendLimit() == (new_max, available)


def test_set_limits__the_largest_storable__is_accepted(home, admin):
    home.setLimits(UINT104_MAX, UINT104_MAX, sender=admin)
    assert home.sendLimit() == (UINT104_MAX, UINT104_MAX)
    assert home.receiveLimit() == (UINT104_MAX, UINT104_MAX)


@pytest.mark.parametrize("which", ["send", "receive"])
def test_set_limits__above_2_pow_104_minus_1__reverts_limit_too_high(home, admin, which):
    limits = (UINT104_MAX + 1, LBC) if which == "send" else (LBC, UINT104_MAX + 1)
    with reverts(home.LimitTooHigh, limit=UINT104_MAX + 1):
        home.setLimits(*limits, sender=admin)
    assert home.sendLimit() == (LIMIT, LIMIT)


# --------------------------------------------------------------------------------------------- receive errors


def test_receive__home_release_above_outstanding__reverts_exceeds_outstanding(world, home, abroad, stranger):
    # 40 LBC went out; colluding signers forge a message from the remote bridge asking for 41.
    forged = world.forge(
        src=world.remote_messenger,
        sender=world.remote_lbc_bridge,
        receiver=home,
        payload=lbc_payload(stranger, 41 * LBC),
    )
    with reverts(home.ExceedsOutstanding, srcChainId=CHAIN_ID, amount=41 * LBC, outstanding=40 * LBC):
        world.deliver(forged)
    assert world.home_lbc.balanceOf(stranger) == 0
    assert home.outstanding(CHAIN_ID) == 40 * LBC


def test_receive__home_release__only_what_went_to_that_chain(world, home, admin, funded, stranger):
    # 30 LBC went to OTHER_CHAIN (wired, never delivered); the 31337 remote has nothing out.
    world.home_messenger.setRemoteMessenger(OTHER_CHAIN, world.remote_messenger, sender=admin)
    home.setPeer(OTHER_CHAIN, world.remote_lbc_bridge, sender=admin)
    world.send_lbc_out(funded, 30 * LBC, dst=OTHER_CHAIN)
    assert home.outstanding(OTHER_CHAIN) == 30 * LBC

    forged = world.forge(
        src=world.remote_messenger,
        sender=world.remote_lbc_bridge,
        receiver=home,
        payload=lbc_payload(stranger, 30 * LBC),
    )
    with reverts(home.ExceedsOutstanding, srcChainId=CHAIN_ID, amount=30 * LBC, outstanding=0):
        world.deliver(forged)
    assert world.home_lbc.balanceOf(home) == 30 * LBC


@pytest.mark.parametrize("side", ["home", "remote"])
def test_receive__called_directly__reverts_not_messenger(request, side, stranger):
    bridge = request.getfixturevalue(side)
    peer = bridge.peer(CHAIN_ID)
    with reverts(bridge.NotMessenger, caller=stranger.address):
        bridge.receiveMessage(b"\x01" * 32, CHAIN_ID, peer, lbc_payload(stranger, LBC), sender=stranger)


def test_receive__from_a_sender_that_is_not_the_peer__reverts_unknown_peer(world, home, admin, stranger):
    # Anyone with SENDER_ROLE on R can send; the home bridge hears only its peer.
    world.remote_messenger.grantRole(SENDER_ROLE, stranger, sender=admin)
    receipt = world.remote_messenger.sendMessage(CHAIN_ID, home, lbc_payload(stranger, LBC), sender=stranger)
    message = world.sent(receipt)
    with reverts(home.UnknownPeer, srcChainId=CHAIN_ID, sender=stranger.address):
        world.deliver(message)
    assert not world.executed(message)


def test_receive__remote_from_a_sender_that_is_not_the_peer__reverts_unknown_peer(
    world, remote, admin, stranger
):
    world.home_messenger.grantRole(SENDER_ROLE, stranger, sender=admin)
    receipt = world.home_messenger.sendMessage(CHAIN_ID, remote, lbc_payload(stranger, LBC), sender=stranger)
    with reverts(remote.UnknownPeer, srcChainId=CHAIN_ID, sender=stranger.address):
        world.deliver(world.sent(receipt))
    assert world.remote_lbc.totalSupply() == 0


def test_receive__from_a_chain_without_peer__reverts_unknown_peer(world, home, admin, abroad, stranger):
    # The messenger trusts R for OTHER_CHAIN too, but the bridge has no peer there.
    world.home_messenger.setRemoteMessenger(OTHER_CHAIN, world.remote_messenger, sender=admin)
    forged = world.forge(
        src=world.remote_messenger,
        sender=world.remote_lbc_bridge,
        receiver=home,
        payload=lbc_payload(stranger, LBC),
    )
    forged = dataclasses.replace(forged, src_chain_id=OTHER_CHAIN)
    with reverts(home.UnknownPeer, srcChainId=OTHER_CHAIN, sender=world.remote_lbc_bridge.address):
        world.deliver(forged)


# --------------------------------------------------------------------------------------------- pausing


@pytest.mark.parametrize("side", ["home", "remote"])
def test_pause__not_pauser__reverts(request, side, stranger):
    bridge = request.getfixturevalue(side)
    with reverts(bridge.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=PAUSER_ROLE):
        bridge.pause(sender=stranger)
    assert not bridge.paused()


def test_pause__granted_pauser__pauses_and_unpauses(home, admin, operator):
    home.grantRole(PAUSER_ROLE, operator, sender=admin)
    home.pause(sender=operator)
    assert home.paused()
    home.unpause(sender=operator)
    assert not home.paused()


def test_unpause__not_pauser__reverts(home, admin, stranger):
    home.pause(sender=admin)
    with reverts(home.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=PAUSER_ROLE):
        home.unpause(sender=stranger)
    assert home.paused()


@pytest.mark.parametrize("side", ["home", "remote"])
def test_send__paused__reverts_enforced_pause(world, request, side, admin, abroad):
    bridge = request.getfixturevalue(side)
    bridge.pause(sender=admin)
    world.home_lbc.approve(world.home_lbc_bridge, LBC, sender=abroad)
    world.remote_lbc.approve(world.remote_lbc_bridge, LBC, sender=abroad)
    with reverts(bridge.EnforcedPause):
        bridge.send(CHAIN_ID, abroad, LBC, sender=abroad)


def test_receive__home_paused__reverts_and_releases_after_unpausing(world, home, admin, abroad):
    message = world.send_lbc_home(abroad, 10 * LBC)
    home.pause(sender=admin)
    with reverts(home.EnforcedPause):
        world.deliver(message)
    assert not world.executed(message)
    assert world.home_lbc.balanceOf(abroad) == 0

    home.unpause(sender=admin)
    world.deliver(message)
    assert world.home_lbc.balanceOf(abroad) == 10 * LBC
    assert home.outstanding(CHAIN_ID) == 30 * LBC


def test_receive__remote_paused__reverts_and_mints_after_unpausing(world, remote, admin, funded):
    message = world.send_lbc_out(funded, 10 * LBC)
    remote.pause(sender=admin)
    with reverts(remote.EnforcedPause):
        world.deliver(message)
    assert world.remote_lbc.totalSupply() == 0
    remote.unpause(sender=admin)
    world.deliver(message)
    assert world.remote_lbc.balanceOf(funded) == 10 * LBC


# --------------------------------------------------------------------------------------------- property

OUT, HOME, DELIVER = "out", "home", "deliver"
# (kind, holder or message index, percent of the holder's balance on the sending side)
STEPS = st.lists(
    st.one_of(
        st.tuples(st.sampled_from([OUT, HOME]), st.integers(0, 1), st.integers(1, 100)),
        st.tuples(st.just(DELIVER), st.integers(0, 15), st.just(0)),
    ),
    min_size=1,
    max_size=10,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_any_sends_and_deliveries__conserve_supply_and_execute_each_message_at_most_once(
    world, home, remote, alice, bob, chain, steps
):
    """Sends both ways and deliveries in any order, repeated or never: the home supply never changes, what
    circulates on both chains plus what is in flight is exactly it (so never above the cap), the lockbox
    holds what is outstanding, and no message executes twice."""
    holders = [alice, bob]
    # The whole example, funding included, runs from one snapshot: every example starts from the same chain.
    with isolated(chain):
        for holder in holders:
            world.fund(holder, 100 * LBC)
            world.home_lbc.approve(home, 2**256 - 1, sender=holder)
            world.remote_lbc.approve(remote, 2**256 - 1, sender=holder)
        supply = world.home_lbc.totalSupply()
        sent: list[tuple[Message, int]] = []
        done: set[bytes] = set()

        def check() -> None:
            in_flight = sum(amount for message, amount in sent if message.message_id not in done)
            locked = world.home_lbc.balanceOf(home)
            remote_supply = world.remote_lbc.totalSupply()
            circulating = world.home_lbc.totalSupply() - locked + remote_supply
            assert world.home_lbc.totalSupply() == supply <= world.home_lbc.cap()
            assert circulating + in_flight == supply
            assert locked == home.outstanding(CHAIN_ID)
            assert remote_supply == sum(world.remote_lbc.balanceOf(h) for h in holders)

        for kind, who, percent in steps:
            if kind == DELIVER:
                if sent:
                    message, _ = sent[who % len(sent)]
                    deliver_once(world, message, done)
            else:
                holder, to = holders[who], holders[1 - who]
                bridge, token = (home, world.home_lbc) if kind == OUT else (remote, world.remote_lbc)
                amount = token.balanceOf(holder) * percent // 100
                if amount:
                    receipt = bridge.send(CHAIN_ID, to, amount, sender=holder)
                    sent.append((world.sent(receipt), amount))
            check()
        for message, _ in sent:
            assert world.executed(message) == (message.message_id in done)


def deliver_once(world: World, message: Message, done: set[bytes]) -> None:
    """Delivers `message`: it executes the first time, and is refused as AlreadyExecuted after that."""
    messenger = world.destination(message)
    if message.message_id in done:
        with reverts(messenger.AlreadyExecuted, messageId=message.message_id):
            world.deliver(message)
        return
    receipt = world.deliver(message)
    assert len(events(receipt, messenger, "MessageExecuted")) == 1
    done.add(message.message_id)
