"""LBCBridge: a lockbox at home, burn and mint on a remote chain, limits per route both ways, a replay
record of its own, held transfers, retries and refunds (see IBridge.sol).

Home and remote live on the one local chain (tests/unit/bridge/_bridge_world.py): the protocol's LBC is the
home token, a second LBCToken the remote one, and every message is relayed by hand, signed by 2 of the 3
signers. The route between them starts with LIMIT (1,000 LBC) each way on both bridges.

Conservation, checked after every step of the held/refund tests: the LBC locked at home is exactly what the
route owes (`outstanding`), which is the remote supply plus what is in flight (sent and not yet arrived,
held, or on its way back as a refund).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from _bridge_world import (
    CHAIN_ID,
    DAY,
    DEFAULT_ADMIN_ROLE,
    LBC,
    LIMIT,
    MINTER_ROLE,
    OTHER_CHAIN,
    PAUSER_ROLE,
    REFUND,
    SENDER_ROLE,
    TRANSFER,
    UINT64_MAX,
    ZERO_ADDRESS,
    World,
    as_refund,
    commitment,
    error_data,
    events,
    lbc_payload,
    payload_nonce,
    transfer_id,
)
from _errors import reverts, reverts_with_selector
from eth_abi.abi import encode
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from link_ops.model.attest import Message
from link_ops.testing import isolated

UINT104_MAX = 2**104 - 1
FUNDS = 100 * LBC
NOTHING = HexBytes(b"\x00" * 32)
LIMIT_EXCEEDED = "LimitExceeded(uint256,uint256)"
EXCEEDS_OUTSTANDING = "ExceedsOutstanding(uint256,uint256,uint256)"


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
    """Bob holds 40 LBC on the remote side (sent there by Alice and delivered: the home bridge's nonce 0)."""
    world.move_lbc_out(funded, 40 * LBC, to=bob)
    return bob


@pytest.fixture
def held_out(world, remote, admin, funded, bob) -> Message:
    """Alice's 8 LBC for Bob, held at the remote bridge: the route there takes at most 5 LBC at once."""
    remote.setLimits(CHAIN_ID, LIMIT, 5 * LBC, sender=admin)
    message = world.send_lbc_out(funded, 8 * LBC, to=bob)
    world.deliver(message)
    assert world.held(message)
    return message


@pytest.fixture
def held_home(world, home, admin, abroad, alice) -> Message:
    """Bob's 10 LBC for Alice, burnt on the remote side and held at home (the route takes 5 at most)."""
    home.setLimits(CHAIN_ID, LIMIT, 5 * LBC, sender=admin)
    message = world.send_lbc_home(abroad, 10 * LBC, to=alice)
    world.deliver(message)
    assert world.held(message)
    return message


def at(chain, timestamp: int) -> None:
    """The next transaction is mined at `timestamp`."""
    chain.pending_timestamp = timestamp


def refill(max_: int, seconds: int) -> int:
    return seconds * max_ // DAY


def assert_conserved(world: World, in_flight: int) -> None:
    """Home locked == outstanding towards CHAIN_ID == remote supply + `in_flight`."""
    locked = world.home_lbc.balanceOf(world.home_lbc_bridge)
    assert locked == world.home_lbc_bridge.outstanding(CHAIN_ID)
    assert locked == world.remote_lbc.totalSupply() + in_flight


def held_event(receipt, bridge, message: Message, reason: bytes) -> None:
    """`receipt` delivered `message` and `bridge` held its transfer for `reason` (revert data)."""
    assert events(receipt, bridge, "TransferHeld") == [
        {
            "transferId": transfer_id(message.src_chain_id, message.sender, payload_nonce(message.payload)),
            "srcChainId": message.src_chain_id,
            "srcBridge": message.sender,
            "messageId": message.message_id,
            "payload": message.payload,
            "reason": HexBytes(reason),
        }
    ]
    assert events(receipt, bridge, "LBCReceived") == []


# --------------------------------------------------------------------------------------------- deployment


def test_constructor__home_bridge__exposes_its_wiring_and_roles(world, home, remote, admin, lbc):
    assert home.token() == lbc.address
    assert home.messenger() == world.home_messenger.address
    assert home.homeChainId() == CHAIN_ID
    assert home.isHome()
    assert home.PAUSER_ROLE() == PAUSER_ROLE
    assert home.hasRole(DEFAULT_ADMIN_ROLE, admin)
    assert home.defaultAdmin() == admin.address
    assert home.hasRole(PAUSER_ROLE, admin)
    assert not home.paused()
    assert home.peer(CHAIN_ID) == remote.address
    assert home.routes() == [CHAIN_ID]
    assert home.outstanding(CHAIN_ID) == 0
    assert home.outboundNonce() == 0


def test_constructor__remote_bridge__is_not_home_and_may_name_any_home_chain(project, world, remote, admin):
    assert not remote.isHome()
    assert remote.token() == world.remote_lbc.address
    assert remote.homeChainId() == CHAIN_ID
    elsewhere = project.LBCBridge.deploy(
        admin, world.remote_lbc, world.remote_messenger, OTHER_CHAIN, False, sender=admin
    )
    assert elsewhere.homeChainId() == OTHER_CHAIN
    assert not elsewhere.isHome()
    assert elsewhere.routes() == []


def test_constructor__limits_start_at_zero__nothing_moves_until_the_admin_sets_them(
    project, world, admin, funded, lbc
):
    fresh = project.LBCBridge.deploy(admin, lbc, world.home_messenger, CHAIN_ID, True, sender=admin)
    assert fresh.sendLimit(CHAIN_ID) == (0, 0)
    assert fresh.receiveLimit(CHAIN_ID) == (0, 0)
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


def test_constructor__zero_admin__reverts_invalid_default_admin(project, world, home, lbc, failing_deployer):
    with reverts(home.AccessControlInvalidDefaultAdmin, defaultAdmin=ZERO_ADDRESS):
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
    assert home.routes() == [CHAIN_ID, OTHER_CHAIN]


def test_routes__each_chain_once_in_wiring_order_and_still_listed_when_unwired(home, admin, remote):
    home.setPeer(OTHER_CHAIN, remote, sender=admin)
    home.setPeer(OTHER_CHAIN, home, sender=admin)  # rewired
    home.setPeer(CHAIN_ID, ZERO_ADDRESS, sender=admin)  # unwired
    home.setPeer(5, ZERO_ADDRESS, sender=admin)  # never wired: not a route
    assert home.routes() == [CHAIN_ID, OTHER_CHAIN]


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
    assert not world.received(message)


# ----------------------------------------------------------------------------------------- out: lock and mint


def test_send__home__locks_the_amount_counts_it_outstanding_commits_to_it_and_sends_the_message(
    world, home, remote, funded, bob
):
    amount = 30 * LBC
    world.home_lbc.approve(home, amount, sender=funded)
    receipt = home.send(CHAIN_ID, bob, amount, sender=funded)

    message = world.sent(receipt)
    assert message.src_messenger == world.home_messenger.address
    assert (message.sender, message.receiver) == (home.address, remote.address)
    assert message.payload == lbc_payload(0, funded, bob, amount)
    assert events(receipt, home, "LBCSent") == [
        {
            "transferId": transfer_id(CHAIN_ID, home, 0),
            "dstChainId": CHAIN_ID,
            "from": funded.address,
            "to": bob.address,
            "amount": amount,
            "messageId": message.message_id,
        }
    ]
    assert home.outboundNonce() == 1
    assert home.outbox(0) == commitment(CHAIN_ID, message.payload)
    assert world.home_lbc.balanceOf(funded) == FUNDS - amount
    assert world.home_lbc.balanceOf(home) == amount
    assert home.outstanding(CHAIN_ID) == amount
    assert home.sendLimit(CHAIN_ID) == (LIMIT, LIMIT - amount)
    assert world.remote_lbc.totalSupply() == 0


def test_send__numbers_transfers_with_the_bridges_own_nonce_not_the_messengers(
    world, home, admin, funded, bob
):
    # Other senders on the same messenger move its nonce, not the bridge's.
    world.home_messenger.grantRole(SENDER_ROLE, admin, sender=admin)
    world.home_messenger.sendMessage(CHAIN_ID, bob, b"", sender=admin)
    first = world.send_lbc_out(funded, LBC)
    world.home_messenger.sendMessage(CHAIN_ID, bob, b"", sender=admin)
    second = world.send_lbc_out(funded, LBC)
    assert (first.nonce, second.nonce) == (1, 3)  # the messenger's
    assert (payload_nonce(first.payload), payload_nonce(second.payload)) == (0, 1)  # the bridge's
    assert home.outboundNonce() == 2


def test_receive__remote__mints_to_the_recipient_and_records_the_transfer(world, remote, home, funded, bob):
    amount = 30 * LBC
    message = world.send_lbc_out(funded, amount, to=bob)
    assert not remote.received(CHAIN_ID, home, 0)
    receipt = world.deliver(message)
    assert events(receipt, remote, "LBCReceived") == [
        {
            "transferId": transfer_id(CHAIN_ID, home, 0),
            "srcChainId": CHAIN_ID,
            "to": bob.address,
            "amount": amount,
        }
    ]
    assert events(receipt, remote, "TransferHeld") == []
    assert world.remote_lbc.balanceOf(bob) == amount
    assert world.remote_lbc.totalSupply() == amount
    assert remote.receiveLimit(CHAIN_ID) == (LIMIT, LIMIT - amount)
    assert remote.outstanding(CHAIN_ID) == 0  # only home counts
    assert remote.received(CHAIN_ID, home, 0)
    assert remote.held(transfer_id(CHAIN_ID, home, 0)) == NOTHING
    assert_conserved(world, 0)


def test_send__home_without_allowance__reverts_transfer_from_failed(world, home, funded):
    with reverts_with_selector("TransferFromFailed()"):
        home.send(CHAIN_ID, funded, LBC, sender=funded)
    assert home.outstanding(CHAIN_ID) == 0
    assert home.outboundNonce() == 0


# ------------------------------------------------------------------------------------- home: burn and release


def test_send__remote__burns_the_amount_commits_to_it_and_sends_the_message(
    world, home, remote, abroad, funded
):
    amount = 15 * LBC
    world.remote_lbc.approve(remote, amount, sender=abroad)
    receipt = remote.send(CHAIN_ID, funded, amount, sender=abroad)

    message = world.sent(receipt)
    assert message.src_messenger == world.remote_messenger.address
    assert (message.sender, message.receiver) == (remote.address, home.address)
    assert message.payload == lbc_payload(0, abroad, funded, amount)
    assert events(receipt, remote, "LBCSent") == [
        {
            "transferId": transfer_id(CHAIN_ID, remote, 0),
            "dstChainId": CHAIN_ID,
            "from": abroad.address,
            "to": funded.address,
            "amount": amount,
            "messageId": message.message_id,
        }
    ]
    assert remote.outbox(0) == commitment(CHAIN_ID, message.payload)
    assert world.remote_lbc.balanceOf(abroad) == 25 * LBC
    assert world.remote_lbc.totalSupply() == 25 * LBC
    assert home.outstanding(CHAIN_ID) == 40 * LBC  # until it arrives
    assert_conserved(world, amount)


def test_send__remote_without_allowance__reverts_insufficient_allowance(world, remote, abroad):
    with reverts(
        world.remote_lbc.ERC20InsufficientAllowance, spender=remote.address, allowance=0, needed=LBC
    ):
        remote.send(CHAIN_ID, abroad, LBC, sender=abroad)


def test_receive__home__releases_to_the_recipient_and_reduces_outstanding(
    world, home, remote, abroad, stranger
):
    message = world.send_lbc_home(abroad, 15 * LBC, to=stranger)
    receipt = world.deliver(message)
    assert events(receipt, home, "LBCReceived") == [
        {
            "transferId": transfer_id(CHAIN_ID, remote, 0),
            "srcChainId": CHAIN_ID,
            "to": stranger.address,
            "amount": 15 * LBC,
        }
    ]
    assert world.home_lbc.balanceOf(stranger) == 15 * LBC
    assert world.home_lbc.balanceOf(home) == 25 * LBC
    assert home.outstanding(CHAIN_ID) == 25 * LBC
    assert home.receiveLimit(CHAIN_ID) == (LIMIT, LIMIT - 15 * LBC)
    assert home.received(CHAIN_ID, remote, 0)
    assert_conserved(world, 0)


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
    home.setLimits(CHAIN_ID, 50 * LBC, LIMIT, sender=admin)
    world.home_lbc.approve(home, FUNDS, sender=funded)
    receipt = home.send(CHAIN_ID, funded, 30 * LBC, sender=funded)
    at(chain, receipt.timestamp + 10)
    with reverts(home.LimitExceeded, amount=21 * LBC, available=20 * LBC + refill(50 * LBC, 10)):
        home.send(CHAIN_ID, funded, 21 * LBC, sender=funded)
    assert home.outstanding(CHAIN_ID) == 30 * LBC


def test_send__remote_over_its_limit__reverts_limit_exceeded(world, remote, admin, abroad):
    remote.setLimits(CHAIN_ID, 10 * LBC, LIMIT, sender=admin)
    world.remote_lbc.approve(remote, 40 * LBC, sender=abroad)
    with reverts(remote.LimitExceeded, amount=11 * LBC, available=10 * LBC):
        remote.send(CHAIN_ID, abroad, 11 * LBC, sender=abroad)


# --------------------------------------------------------------------------------------------- limits


def test_limits__refill_linearly_over_a_day_up_to_the_max(world, home, funded, chain):
    world.home_lbc.approve(home, FUNDS, sender=funded)
    home.setLimits(CHAIN_ID, 80 * LBC, LIMIT, sender=world.admin)
    spent = home.send(CHAIN_ID, funded, 80 * LBC, sender=funded)
    assert home.sendLimit(CHAIN_ID) == (80 * LBC, 0)

    chain.mine(timestamp=spent.timestamp + DAY // 2)
    assert home.sendLimit(CHAIN_ID) == (80 * LBC, 40 * LBC)
    chain.mine(timestamp=spent.timestamp + DAY // 4 * 3)
    assert home.sendLimit(CHAIN_ID) == (80 * LBC, 60 * LBC)
    chain.mine(timestamp=spent.timestamp + 2 * DAY)
    assert home.sendLimit(CHAIN_ID) == (80 * LBC, 80 * LBC)


def test_receive__over_the_receive_limit__is_held_and_a_retry_delivers_once_the_limit_has_refilled(
    world, remote, admin, funded, stranger, chain
):
    max_ = 10 * LBC
    remote.setLimits(CHAIN_ID, LIMIT, max_, sender=admin)
    first = world.deliver(world.send_lbc_out(funded, 8 * LBC))
    message = world.send_lbc_out(funded, 8 * LBC)

    # Held, not reverted: the messenger delivered it, and nothing was minted.
    at(chain, first.timestamp + 3_600)
    receipt = world.deliver(message)
    held_event(receipt, remote, message, error_data(LIMIT_EXCEEDED, 8 * LBC, 2 * LBC + refill(max_, 3_600)))
    assert world.executed(message)
    assert world.received(message)
    assert remote.held(world.transfer_id(message)) == keccak(message.payload)
    assert world.remote_lbc.totalSupply() == 8 * LBC
    assert_conserved(world, 8 * LBC)

    # Too early a retry reverts, and the transfer stays held.
    at(chain, first.timestamp + 7_200)
    with reverts(remote.LimitExceeded, amount=8 * LBC, available=2 * LBC + refill(max_, 7_200)):
        world.retry(message, sender=stranger)  # anyone may retry
    assert world.held(message)

    at(chain, first.timestamp + DAY * 6 // 10)  # 2 + 6 LBC available
    receipt = world.retry(message, sender=stranger)
    assert events(receipt, remote, "LBCReceived") == [
        {
            "transferId": world.transfer_id(message),
            "srcChainId": CHAIN_ID,
            "to": funded.address,
            "amount": 8 * LBC,
        }
    ]
    assert not world.held(message)
    assert world.remote_lbc.balanceOf(funded) == 16 * LBC
    assert remote.receiveLimit(CHAIN_ID) == (max_, 0)
    assert_conserved(world, 0)

    with reverts(remote.NotHeld, transferId=world.transfer_id(message)):
        world.retry(message)


def test_set_limits__not_admin__reverts(home, stranger):
    with reverts(
        home.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=DEFAULT_ADMIN_ROLE
    ):
        home.setLimits(CHAIN_ID, 1, 1, sender=stranger)
    assert home.sendLimit(CHAIN_ID) == (LIMIT, LIMIT)


def test_set_limits__emits_limits_set(home, admin):
    receipt = home.setLimits(CHAIN_ID, 3 * LBC, 4 * LBC, sender=admin)
    assert events(receipt, home, "LimitsSet") == [
        {"chainId": CHAIN_ID, "sendLimit": 3 * LBC, "receiveLimit": 4 * LBC}
    ]
    assert home.sendLimit(CHAIN_ID) == (3 * LBC, 3 * LBC)
    assert home.receiveLimit(CHAIN_ID) == (4 * LBC, 4 * LBC)


def test_set_limits__raising__adds_the_difference_to_what_is_available(world, home, admin, funded, chain):
    world.home_lbc.approve(home, FUNDS, sender=funded)
    spent = home.send(CHAIN_ID, funded, 60 * LBC, sender=funded)  # 940 left of 1,000
    at(chain, spent.timestamp)  # the same second: no refill
    home.setLimits(CHAIN_ID, LIMIT + 500 * LBC, LIMIT, sender=admin)
    assert home.sendLimit(CHAIN_ID) == (LIMIT + 500 * LBC, 1_440 * LBC)


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
    home.setLimits(CHAIN_ID, new_max, LIMIT, sender=admin)
    assert home.sendLimit(CHAIN_ID) == (new_max, available)


def test_set_limits__the_largest_storable__is_accepted(home, admin):
    home.setLimits(CHAIN_ID, UINT104_MAX, UINT104_MAX, sender=admin)
    assert home.sendLimit(CHAIN_ID) == (UINT104_MAX, UINT104_MAX)
    assert home.receiveLimit(CHAIN_ID) == (UINT104_MAX, UINT104_MAX)


@pytest.mark.parametrize("which", ["send", "receive"])
def test_set_limits__above_2_pow_104_minus_1__reverts_limit_too_high(home, admin, which):
    limits = (UINT104_MAX + 1, LBC) if which == "send" else (LBC, UINT104_MAX + 1)
    with reverts(home.LimitTooHigh, limit=UINT104_MAX + 1):
        home.setLimits(CHAIN_ID, *limits, sender=admin)
    assert home.sendLimit(CHAIN_ID) == (LIMIT, LIMIT)


# ------------------------------------------------------------------------------------- limits: per route


def test_set_limits__of_one_route__leaves_every_other_route_unchanged(world, home, admin):
    world.wire_lbc_route(OTHER_CHAIN)
    receipt = home.setLimits(OTHER_CHAIN, 3 * LBC, 4 * LBC, sender=admin)
    assert events(receipt, home, "LimitsSet") == [
        {"chainId": OTHER_CHAIN, "sendLimit": 3 * LBC, "receiveLimit": 4 * LBC}
    ]
    assert (home.sendLimit(OTHER_CHAIN), home.receiveLimit(OTHER_CHAIN)) == (
        (3 * LBC, 3 * LBC),
        (4 * LBC, 4 * LBC),
    )
    assert (home.sendLimit(CHAIN_ID), home.receiveLimit(CHAIN_ID)) == ((LIMIT, LIMIT), (LIMIT, LIMIT))
    # A route never wired has limits of its own too: zero.
    assert (home.sendLimit(5), home.receiveLimit(5)) == ((0, 0), (0, 0))


def test_limits__sends_on_one_route__do_not_use_another_routes_send_limit(world, home, admin, funded, chain):
    world.wire_lbc_route(OTHER_CHAIN, send_limit=50 * LBC)
    home.setLimits(CHAIN_ID, 50 * LBC, LIMIT, sender=admin)
    world.home_lbc.approve(home, FUNDS, sender=funded)
    spent = home.send(CHAIN_ID, funded, 50 * LBC, sender=funded)

    at(chain, spent.timestamp + 1)
    with reverts(home.LimitExceeded, amount=50 * LBC, available=refill(50 * LBC, 1)):
        home.send(CHAIN_ID, funded, 50 * LBC, sender=funded)
    assert home.sendLimit(OTHER_CHAIN) == (50 * LBC, 50 * LBC)
    home.send(OTHER_CHAIN, funded, 50 * LBC, sender=funded)  # the whole of its own limit
    assert (home.outstanding(CHAIN_ID), home.outstanding(OTHER_CHAIN)) == (50 * LBC, 50 * LBC)
    assert world.home_lbc.balanceOf(home) == 100 * LBC


def test_limits__a_route_that_exhausted_its_receive_limit__does_not_hold_another_routes_arrivals(
    world, home, remote, admin, funded, abroad, stranger, chain
):
    # OTHER_CHAIN is a second wired route; 30 LBC went there. Colluding signers (a compromised route)
    # play arrivals from it until its receive limit is spent.
    world.wire_lbc_route(OTHER_CHAIN, receive_limit=20 * LBC)
    world.send_lbc_out(funded, 30 * LBC, dst=OTHER_CHAIN)

    def from_other_chain(nonce: int, amount: int) -> Message:
        forged = world.forge(
            src=world.remote_messenger,
            sender=remote,
            receiver=home,
            payload=lbc_payload(nonce, stranger, stranger, amount),
        )
        return dataclasses.replace(forged, src_chain_id=OTHER_CHAIN)

    drained = world.deliver(from_other_chain(0, 20 * LBC))
    assert home.outstanding(OTHER_CHAIN) == 10 * LBC
    at(chain, drained.timestamp + 1)
    over = from_other_chain(1, 10 * LBC)
    receipt = world.deliver(over)
    held_event(receipt, home, over, error_data(LIMIT_EXCEEDED, 10 * LBC, refill(20 * LBC, 1)))

    # CHAIN_ID's route still has its whole receive limit, and its arrivals execute.
    assert home.receiveLimit(CHAIN_ID) == (LIMIT, LIMIT)
    world.deliver(world.send_lbc_home(abroad, 40 * LBC))
    assert world.home_lbc.balanceOf(abroad) == 40 * LBC
    assert home.receiveLimit(CHAIN_ID) == (LIMIT, LIMIT - 40 * LBC)
    assert (home.outstanding(CHAIN_ID), home.outstanding(OTHER_CHAIN)) == (0, 10 * LBC)
    assert world.home_lbc.balanceOf(home) == 10 * LBC


# --------------------------------------------------------------------------------------------- receive errors


def test_receive__home_release_above_outstanding__is_held_exceeds_outstanding_and_pays_nothing(
    world, home, abroad, stranger
):
    # 40 LBC went out; colluding signers forge a transfer from the remote bridge asking for 41.
    forged = world.forge(
        src=world.remote_messenger,
        sender=world.remote_lbc_bridge,
        receiver=home,
        payload=lbc_payload(10**6, stranger, stranger, 41 * LBC),
    )
    receipt = world.deliver(forged)
    held_event(receipt, home, forged, error_data(EXCEEDS_OUTSTANDING, CHAIN_ID, 41 * LBC, 40 * LBC))
    assert world.home_lbc.balanceOf(stranger) == 0
    assert home.outstanding(CHAIN_ID) == 40 * LBC
    with reverts(home.ExceedsOutstanding, srcChainId=CHAIN_ID, amount=41 * LBC, outstanding=40 * LBC):
        world.retry(forged)
    assert_conserved(world, 0)


def test_receive__a_forged_transfer_held_and_refunded__is_refused_not_refundable_at_its_claimed_source(
    world, home, remote, abroad, stranger
):
    forged = world.forge(
        src=world.remote_messenger,
        sender=remote,
        receiver=home,
        payload=lbc_payload(10**6, stranger, stranger, 41 * LBC),
    )
    world.deliver(forged)
    _, back = world.refund(forged, stranger)
    # The remote bridge never sent transfer 10**6: its refund mints nothing.
    with reverts(remote.NotRefundable, dstChainId=CHAIN_ID, nonce=10**6):
        world.deliver(back)
    assert world.remote_lbc.totalSupply() == 40 * LBC
    assert_conserved(world, 0)


def test_receive__home_release__only_what_went_to_that_chain(world, home, funded, stranger):
    # 30 LBC went to OTHER_CHAIN (wired, never delivered); the 31337 remote has nothing out.
    world.wire_lbc_route(OTHER_CHAIN)
    world.send_lbc_out(funded, 30 * LBC, dst=OTHER_CHAIN)
    assert home.outstanding(OTHER_CHAIN) == 30 * LBC

    forged = world.forge(
        src=world.remote_messenger,
        sender=world.remote_lbc_bridge,
        receiver=home,
        payload=lbc_payload(10**6, stranger, stranger, 30 * LBC),
    )
    receipt = world.deliver(forged)
    held_event(receipt, home, forged, error_data(EXCEEDS_OUTSTANDING, CHAIN_ID, 30 * LBC, 0))
    assert world.home_lbc.balanceOf(home) == 30 * LBC
    assert world.home_lbc.balanceOf(stranger) == 0


@pytest.mark.parametrize("side", ["home", "remote"])
def test_receive__called_directly__reverts_not_messenger(request, side, stranger):
    bridge = request.getfixturevalue(side)
    peer = bridge.peer(CHAIN_ID)
    with reverts(bridge.NotMessenger, caller=stranger.address):
        bridge.receiveMessage(
            b"\x01" * 32, CHAIN_ID, peer, lbc_payload(0, stranger, stranger, LBC), sender=stranger
        )


@pytest.mark.parametrize("side", ["home", "remote"])
def test_execute_transfer__called_by_anyone_but_the_bridge__reverts_only_self(request, side, stranger):
    bridge = request.getfixturevalue(side)
    payload = lbc_payload(0, stranger, stranger, LBC)
    with reverts(bridge.OnlySelf):
        bridge.executeTransfer(
            CHAIN_ID, transfer_id(CHAIN_ID, bridge.peer(CHAIN_ID), 0), payload, sender=stranger
        )


def test_receive__from_a_sender_that_is_not_the_peer__reverts_unknown_peer(world, home, admin, stranger):
    # Anyone with SENDER_ROLE on R can send; the home bridge hears only its peer.
    world.remote_messenger.grantRole(SENDER_ROLE, stranger, sender=admin)
    payload = lbc_payload(0, stranger, stranger, LBC)
    receipt = world.remote_messenger.sendMessage(CHAIN_ID, home, payload, sender=stranger)
    message = world.sent(receipt)
    with reverts(home.UnknownPeer, srcChainId=CHAIN_ID, sender=stranger.address):
        world.deliver(message)
    assert not world.executed(message)
    assert not world.received(message)


def test_receive__remote_from_a_sender_that_is_not_the_peer__reverts_unknown_peer(
    world, remote, admin, stranger
):
    world.home_messenger.grantRole(SENDER_ROLE, stranger, sender=admin)
    payload = lbc_payload(0, stranger, stranger, LBC)
    receipt = world.home_messenger.sendMessage(CHAIN_ID, remote, payload, sender=stranger)
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
        payload=lbc_payload(0, stranger, stranger, LBC),
    )
    forged = dataclasses.replace(forged, src_chain_id=OTHER_CHAIN)
    with reverts(home.UnknownPeer, srcChainId=OTHER_CHAIN, sender=world.remote_lbc_bridge.address):
        world.deliver(forged)


@pytest.mark.parametrize("kind", [0, 3, 2**256 - 1])
def test_receive__a_payload_of_unknown_kind__reverts_unknown_kind(world, remote, stranger, kind):
    payload = encode(
        ["uint256", "uint64", "address", "address", "uint256"],
        [kind, 0, stranger.address, stranger.address, LBC],
    )
    forged = world.forge(
        src=world.home_messenger, sender=world.home_lbc_bridge, receiver=remote, payload=payload
    )
    with reverts(remote.UnknownKind, kind=kind):
        world.deliver(forged)
    assert not remote.received(CHAIN_ID, world.home_lbc_bridge, 0)
    assert world.remote_lbc.totalSupply() == 0


# --------------------------------------------------------------------------------------------- replay record


def test_replay__lbc_out_reattested_through_a_new_messenger_pair_after_a_swap__reverts_already_received(
    world, remote, funded, bob
):
    message = world.move_lbc_out(funded, 30 * LBC, to=bob)
    fresh = world.swap_messengers()
    again = world.reattest(message, fresh)
    assert again.message_id != message.message_id  # new to the new messenger
    with reverts(remote.AlreadyReceived, transferId=world.transfer_id(message)):
        world.deliver(again, to=fresh.remote)
    assert not world.executed(again, fresh.remote)
    assert world.remote_lbc.balanceOf(bob) == 30 * LBC
    assert world.remote_lbc.totalSupply() == 30 * LBC
    assert_conserved(world, 0)


def test_replay__lbc_home_reattested_through_a_new_messenger_pair_after_a_swap__reverts_already_received(
    world, home, abroad, alice, stranger
):
    # Alice's other 60 LBC stay locked at home beside Bob's 40: a replayed release would pay out hers.
    message = world.send_lbc_home(abroad, 15 * LBC, to=stranger)
    world.deliver(message)
    fresh = world.swap_messengers()
    again = world.reattest(message, fresh)
    with reverts(home.AlreadyReceived, transferId=world.transfer_id(message)):
        world.deliver(again, to=fresh.home)
    assert world.home_lbc.balanceOf(stranger) == 15 * LBC
    assert home.outstanding(CHAIN_ID) == 25 * LBC
    assert world.home_lbc.balanceOf(home) == 25 * LBC
    assert world.home_lbc.balanceOf(alice) == FUNDS - 40 * LBC
    assert_conserved(world, 0)


def test_replay__the_same_transfer_under_another_messenger_nonce__reverts_already_received(
    world, remote, funded
):
    # What colluding signers, or a messenger that lost its own record, could present.
    message = world.move_lbc_out(funded, 30 * LBC)
    again = world.forge(
        src=message.src_messenger, sender=message.sender, receiver=message.receiver, payload=message.payload
    )
    with reverts(remote.AlreadyReceived, transferId=world.transfer_id(message)):
        world.deliver(again)
    assert world.remote_lbc.totalSupply() == 30 * LBC


def test_replay__a_held_transfer_delivered_again__reverts_already_received_and_stays_held(
    world, remote, held_out
):
    again = world.forge(
        src=held_out.src_messenger,
        sender=held_out.sender,
        receiver=held_out.receiver,
        payload=held_out.payload,
    )
    with reverts(remote.AlreadyReceived, transferId=world.transfer_id(held_out)):
        world.deliver(again)
    assert world.held(held_out)
    assert world.remote_lbc.totalSupply() == 0


@pytest.mark.parametrize("direction", ["out", "home"])
def test_swap__a_transfer_in_flight__is_delivered_once_through_the_new_messenger_trusting_the_old_source(
    world, funded, abroad, stranger, direction
):
    home_out = direction == "out"
    message = (
        world.send_lbc_out(funded, 20 * LBC, to=stranger)
        if home_out
        else world.send_lbc_home(abroad, 20 * LBC, to=stranger)
    )
    bridge = world.bridge_at(message.receiver)
    old_destination = world.destination(message)
    fresh = world.swap_messengers(trust_old=True)
    new_destination = fresh.remote if home_out else fresh.home

    # The old destination messenger no longer speaks for the bridge.
    with reverts(bridge.NotMessenger, caller=old_destination.address):
        world.deliver(message)
    world.deliver(message, to=new_destination)
    token = world.remote_lbc if home_out else world.home_lbc
    assert token.balanceOf(stranger) == 20 * LBC

    with reverts(new_destination.AlreadyExecuted, messageId=message.message_id):
        world.deliver(message, to=new_destination)
    again = world.forge(
        src=message.src_messenger, sender=message.sender, receiver=message.receiver, payload=message.payload
    )
    with reverts(bridge.AlreadyReceived, transferId=world.transfer_id(message)):
        world.deliver(again, to=new_destination)
    assert token.balanceOf(stranger) == 20 * LBC
    assert_conserved(world, 0)


def test_swap__a_transfer_in_flight__is_refused_unknown_source_until_the_new_messenger_trusts_the_old_one(
    world, admin, funded, bob
):
    message = world.send_lbc_out(funded, 20 * LBC, to=bob)
    fresh = world.swap_messengers()
    with reverts(fresh.remote.UnknownSource, srcChainId=CHAIN_ID, srcMessenger=world.home_messenger.address):
        world.deliver(message, to=fresh.remote)
    assert_conserved(world, 20 * LBC)

    fresh.remote.setTrustedSource(CHAIN_ID, world.home_messenger, True, sender=admin)
    world.deliver(message, to=fresh.remote)
    assert world.remote_lbc.balanceOf(bob) == 20 * LBC
    assert_conserved(world, 0)


def test_swap__sends_after_it__go_through_the_new_messenger_and_keep_the_bridges_numbering(
    world, home, funded, bob
):
    world.move_lbc_out(funded, LBC)
    fresh = world.swap_messengers()
    message = world.send_lbc_out(funded, 2 * LBC, to=bob)
    assert message.src_messenger == fresh.home.address
    assert message.nonce == 0  # the new messenger's first
    assert payload_nonce(message.payload) == 1  # the bridge's second
    world.deliver(message, to=fresh.remote)
    assert world.remote_lbc.balanceOf(bob) == 2 * LBC
    assert home.outboundNonce() == 2


# --------------------------------------------------------------------------------------------- held transfers


def test_receive__remote_token_without_the_minter_role__is_held_and_a_retry_mints_once_the_role_is_granted(
    world, remote, admin, funded, bob
):
    # An unwired remote token: the bridge cannot mint yet.
    world.remote_lbc.revokeRole(MINTER_ROLE, remote, sender=admin)
    message = world.send_lbc_out(funded, 30 * LBC, to=bob)
    receipt = world.deliver(message)
    held_event(
        receipt,
        remote,
        message,
        error_data("AccessControlUnauthorizedAccount(address,bytes32)", remote.address, MINTER_ROLE),
    )
    assert_conserved(world, 30 * LBC)
    with reverts(
        world.remote_lbc.AccessControlUnauthorizedAccount, account=remote.address, neededRole=MINTER_ROLE
    ):
        world.retry(message)
    assert world.held(message)

    world.remote_lbc.grantRole(MINTER_ROLE, remote, sender=admin)
    world.retry(message)
    assert world.remote_lbc.balanceOf(bob) == 30 * LBC
    assert not world.held(message)
    assert_conserved(world, 0)


def test_receive__over_the_remote_receive_maximum__is_held_and_never_minted(world, remote, held_out, bob):
    # 8 LBC against a 5 LBC maximum: no refill ever makes room, until the admin raises it or it is refunded.
    assert remote.held(world.transfer_id(held_out)) == keccak(held_out.payload)
    assert world.remote_lbc.balanceOf(bob) == 0
    assert_conserved(world, 8 * LBC)


def test_receive__over_the_home_receive_limit__is_held_and_a_retry_releases_once_the_limit_was_raised(
    world, home, admin, held_home, alice, stranger
):
    with reverts(home.LimitExceeded, amount=10 * LBC, available=5 * LBC):
        world.retry(held_home, sender=stranger)
    assert_conserved(world, 10 * LBC)
    home.setLimits(CHAIN_ID, LIMIT, 15 * LBC, sender=admin)  # 5 available + 10
    receipt = world.retry(held_home, sender=stranger)
    assert events(receipt, home, "LBCReceived") == [
        {
            "transferId": world.transfer_id(held_home),
            "srcChainId": CHAIN_ID,
            "to": alice.address,
            "amount": 10 * LBC,
        }
    ]
    assert world.home_lbc.balanceOf(alice) == FUNDS - 40 * LBC + 10 * LBC
    assert_conserved(world, 0)


def test_retry__a_transfer_not_held__reverts_not_held(world, remote, funded):
    message = world.move_lbc_out(funded, LBC)  # delivered, never held
    with reverts(remote.NotHeld, transferId=world.transfer_id(message)):
        world.retry(message)
    never = world.send_lbc_out(funded, LBC)  # not even arrived
    with reverts(remote.NotHeld, transferId=world.transfer_id(never)):
        world.retry(never)


def test_retry__with_another_payload_than_the_one_held__reverts_not_held(
    world, remote, admin, held_out, stranger
):
    remote.setLimits(CHAIN_ID, LIMIT, LIMIT, sender=admin)
    # Same transfer id (same source, same nonce), another recipient and amount.
    changed = dataclasses.replace(
        held_out, payload=lbc_payload(payload_nonce(held_out.payload), stranger, stranger, 8 * LBC)
    )
    with reverts(remote.NotHeld, transferId=world.transfer_id(held_out)):
        world.retry(changed)
    assert world.held(held_out)
    assert world.remote_lbc.totalSupply() == 0


# --------------------------------------------------------------------------------------------- refunds


@pytest.mark.parametrize("by", ["sender", "recipient"])
def test_refund__held_out_transfer__returns_the_lbc_to_its_sender_at_home(
    world, home, remote, funded, bob, held_out, by
):
    nonce = payload_nonce(held_out.payload)
    before = world.home_lbc.balanceOf(funded)
    assert_conserved(world, 8 * LBC)

    receipt, back = world.refund(held_out, funded if by == "sender" else bob)
    assert events(receipt, remote, "TransferRefundSent") == [
        {"transferId": world.transfer_id(held_out), "srcChainId": CHAIN_ID, "messageId": back.message_id}
    ]
    assert (back.sender, back.receiver) == (remote.address, home.address)
    assert back.payload == as_refund(held_out.payload)
    assert not world.held(held_out)
    assert_conserved(world, 8 * LBC)  # on its way back

    receipt = world.deliver(back)
    assert events(receipt, home, "TransferRefunded") == [
        {"transferId": transfer_id(CHAIN_ID, home, nonce), "dstChainId": CHAIN_ID, "to": funded.address}
    ]
    assert events(receipt, home, "LBCReceived") == []
    assert world.home_lbc.balanceOf(funded) == before + 8 * LBC  # to the sender, whoever refunded
    assert world.remote_lbc.balanceOf(bob) == 0
    assert home.outbox(nonce) == NOTHING
    assert home.outstanding(CHAIN_ID) == 0
    assert home.receiveLimit(CHAIN_ID) == (LIMIT, LIMIT)  # refunds use no limit
    assert_conserved(world, 0)


def test_refund__held_home_transfer__re_mints_the_lbc_to_its_sender_on_the_remote_side(
    world, home, remote, held_home, abroad, alice
):
    nonce = payload_nonce(held_home.payload)
    assert world.remote_lbc.balanceOf(abroad) == 30 * LBC
    receipt, back = world.refund(held_home, abroad)
    assert events(receipt, home, "TransferRefundSent") == [
        {"transferId": world.transfer_id(held_home), "srcChainId": CHAIN_ID, "messageId": back.message_id}
    ]
    assert_conserved(world, 10 * LBC)

    receipt = world.deliver(back)
    assert events(receipt, remote, "TransferRefunded") == [
        {"transferId": transfer_id(CHAIN_ID, remote, nonce), "dstChainId": CHAIN_ID, "to": abroad.address}
    ]
    assert world.remote_lbc.balanceOf(abroad) == 40 * LBC
    assert world.home_lbc.balanceOf(alice) == FUNDS - 40 * LBC  # the recipient got nothing
    assert remote.outbox(nonce) == NOTHING
    assert_conserved(world, 0)


def test_refund__by_neither_sender_nor_recipient__reverts_not_sender_or_recipient(
    world, remote, held_out, stranger
):
    with reverts(remote.NotSenderOrRecipient, caller=stranger.address):
        world.refund(held_out, stranger)
    assert world.held(held_out)
    assert_conserved(world, 8 * LBC)


def test_refund__a_transfer_not_held__reverts_not_held(world, remote, funded):
    message = world.move_lbc_out(funded, LBC)
    with reverts(remote.NotHeld, transferId=world.transfer_id(message)):
        world.refund(message, funded)


def test_refund__then_retry_or_refund_again__reverts_not_held(world, remote, admin, funded, held_out):
    world.refund(held_out, funded)
    remote.setLimits(CHAIN_ID, LIMIT, LIMIT, sender=admin)  # room to mint, were it still held
    with reverts(remote.NotHeld, transferId=world.transfer_id(held_out)):
        world.retry(held_out)
    with reverts(remote.NotHeld, transferId=world.transfer_id(held_out)):
        world.refund(held_out, funded)
    assert world.remote_lbc.totalSupply() == 0
    assert_conserved(world, 8 * LBC)


def test_refund__delivered_twice__reverts_and_pays_once(world, home, funded, held_out):
    _, back = world.refund(held_out, funded)
    world.deliver(back)
    paid = world.home_lbc.balanceOf(funded)

    with reverts(world.home_messenger.AlreadyExecuted, messageId=back.message_id):
        world.deliver(back)
    # Re-attested under another messenger nonce: the commitment is spent.
    again = world.forge(
        src=back.src_messenger, sender=back.sender, receiver=back.receiver, payload=back.payload
    )
    with reverts(home.NotRefundable, dstChainId=CHAIN_ID, nonce=payload_nonce(back.payload)):
        world.deliver(again)
    assert world.home_lbc.balanceOf(funded) == paid
    assert_conserved(world, 0)


def test_refund__for_a_transfer_never_sent__reverts_not_refundable_and_pays_nothing(
    world, home, remote, abroad, alice, stranger
):
    # Colluding signers forge refunds: of a nonce never used, and of a real transfer with another amount.
    before = (world.home_lbc.balanceOf(stranger), world.home_lbc.balanceOf(alice), home.outstanding(CHAIN_ID))
    never = world.forge(
        src=world.remote_messenger,
        sender=remote,
        receiver=home,
        payload=lbc_payload(777, stranger, stranger, 30 * LBC, kind=REFUND),
    )
    with reverts(home.NotRefundable, dstChainId=CHAIN_ID, nonce=777):
        world.deliver(never)
    inflated = world.forge(
        src=world.remote_messenger,
        sender=remote,
        receiver=home,
        payload=lbc_payload(0, alice, abroad, 41 * LBC, kind=REFUND),  # transfer 0 was 40 LBC
    )
    with reverts(home.NotRefundable, dstChainId=CHAIN_ID, nonce=0):
        world.deliver(inflated)
    # And on the remote side, for a burn never made.
    at_remote = world.forge(
        src=world.home_messenger,
        sender=home,
        receiver=remote,
        payload=lbc_payload(0, stranger, stranger, 30 * LBC, kind=REFUND),
    )
    with reverts(remote.NotRefundable, dstChainId=CHAIN_ID, nonce=0):
        world.deliver(at_remote)
    assert (
        world.home_lbc.balanceOf(stranger),
        world.home_lbc.balanceOf(alice),
        home.outstanding(CHAIN_ID),
    ) == before
    assert world.remote_lbc.balanceOf(stranger) == 0
    assert home.outbox(0) == commitment(CHAIN_ID, lbc_payload(0, alice, abroad, 40 * LBC))
    assert_conserved(world, 0)


def test_processed__tells_a_relayer_whether_a_message_is_still_worth_delivering(
    world, home, remote, funded, held_out, stranger
):
    def processed(message: Message) -> bool:
        return bool(world.bridge_at(message.receiver).processed(CHAIN_ID, message.sender, message.payload))

    pending = world.send_lbc_out(funded, LBC)
    assert not processed(pending)
    assert processed(held_out)  # received (held): a retry or a refund, not a delivery, comes next
    _, back = world.refund(held_out, funded)
    assert not processed(back)
    world.deliver(back)
    assert processed(back)

    def payload(kind: int, nonce: int) -> bytes:
        return encode(
            ["uint256", "uint256", "address", "address", "uint256"],
            [kind, nonce, stranger.address, stranger.address, LBC],
        )

    assert home.processed(CHAIN_ID, remote, payload(REFUND, 999))  # no commitment to refund
    assert home.processed(CHAIN_ID, remote, payload(3, 999))  # no such kind
    assert home.processed(CHAIN_ID, remote, payload(TRANSFER, UINT64_MAX + 1))  # no such nonce
    assert not home.processed(CHAIN_ID, remote, payload(TRANSFER, UINT64_MAX))


# --------------------------------------------------------------------------------------------- pausing


@pytest.mark.parametrize("side", ["home", "remote"])
def test_pause__not_pauser__reverts(request, side, stranger):
    bridge = request.getfixturevalue(side)
    with reverts(bridge.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=PAUSER_ROLE):
        bridge.pause(sender=stranger)
    assert not bridge.paused()


def test_pause__a_guardian_with_only_the_pauser_role__pauses_and_cannot_unpause(home, admin, operator):
    home.grantRole(PAUSER_ROLE, operator, sender=admin)
    home.pause(sender=operator)
    assert home.paused()
    with reverts(
        home.AccessControlUnauthorizedAccount, account=operator.address, neededRole=DEFAULT_ADMIN_ROLE
    ):
        home.unpause(sender=operator)
    assert home.paused()
    home.unpause(sender=admin)
    assert not home.paused()


def test_unpause__not_admin__reverts(home, admin, stranger):
    home.pause(sender=admin)
    with reverts(
        home.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=DEFAULT_ADMIN_ROLE
    ):
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
    assert not world.received(message)
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


def test_retry_and_refund__paused__revert_enforced_pause_and_work_after_unpausing(
    world, remote, admin, funded, held_out
):
    remote.pause(sender=admin)
    with reverts(remote.EnforcedPause):
        world.retry(held_out)
    with reverts(remote.EnforcedPause):
        world.refund(held_out, funded)
    assert world.held(held_out)
    remote.unpause(sender=admin)
    world.refund(held_out, funded)
    assert not world.held(held_out)


# --------------------------------------------------------------------------------------------- properties

NONCES = st.one_of(st.integers(0, UINT64_MAX), st.integers(0, 600), st.integers(UINT64_MAX - 600, UINT64_MAX))
RECEIPTS = st.lists(
    st.tuples(st.sampled_from([CHAIN_ID, OTHER_CHAIN]), st.integers(0, 1), NONCES), min_size=1, max_size=3
)
# Any two source bridges but zero (a zero peer is an unwired route).
SOURCES = st.lists(st.binary(min_size=20, max_size=20).filter(any), min_size=2, max_size=2, unique=True)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(receipts=RECEIPTS, sources=SOURCES)
def test_replay_record__receiving_marks_exactly_that_chain_bridge_and_nonce(
    world, home, admin, stranger, chain, receipts, sources
):
    """For any nonces (0..2^64-1) from any source bridges on two chains: a transfer is recorded received
    exactly for its (chain, bridge, nonce), and only once: its neighbours in nonce (the same word of the
    record or the next), its twin on the other chain and the other bridge stay unreceived; a transfer
    received comes again only to be refused AlreadyReceived; the record outlives rewiring the peer."""
    bridges = [to_checksum_address(s) for s in sources]
    with isolated(chain):
        world.home_messenger.setRemoteMessenger(OTHER_CHAIN, world.remote_messenger, sender=admin)
        done: set[tuple[int, str, int]] = set()
        # The first transfer comes again at the end (under another messenger nonce): refused.
        for chain_id, which, nonce in [*receipts, receipts[0]]:
            src = bridges[which]
            if home.peer(chain_id) != src:
                home.setPeer(chain_id, src, sender=admin)
            forged = world.forge(
                src=world.remote_messenger,
                sender=src,
                receiver=home,
                payload=lbc_payload(nonce, stranger, stranger, 0),
            )
            forged = dataclasses.replace(forged, src_chain_id=chain_id)
            if (chain_id, src, nonce) in done:
                with reverts(home.AlreadyReceived, transferId=transfer_id(chain_id, src, nonce)):
                    world.deliver(forged)
            else:
                world.deliver(forged)
                done.add((chain_id, src, nonce))

        probes = set(done)
        for chain_id, src, nonce in done:
            other_chain = OTHER_CHAIN if chain_id == CHAIN_ID else CHAIN_ID
            other_src = bridges[1 - bridges.index(src)]
            probes |= {(other_chain, src, nonce), (chain_id, other_src, nonce)}
            for near in (nonce - 1, nonce + 1, nonce ^ 1, nonce ^ 0x80, nonce ^ 0x100, nonce + 256):
                if 0 <= near <= UINT64_MAX:
                    probes.add((chain_id, src, near))
        for chain_id, src, nonce in probes:
            assert bool(home.received(chain_id, src, nonce)) == ((chain_id, src, nonce) in done)


SENT, DELIVERED, HELD, REFUNDING, REFUNDED = "sent", "delivered", "held", "refunding", "refunded"
RECEIVE_MAX = 40 * LBC  # each way: larger transfers are held until a retry finds room, or refunded


@dataclasses.dataclass
class Transfer:
    message: Message
    amount: int
    state: str = SENT
    back: Message | None = None  # its refund, once sent


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_sends_deliveries_retries_and_refunds__conserve_supply_and_end_each_transfer_once(
    world, home, remote, admin, alice, bob, chain, data
):
    """Sends both ways, deliveries, retries, refunds and refund deliveries, each repeated or never, in any
    order and with time passing, under receive limits that hold the larger transfers: the home supply never
    changes; the lockbox holds what is outstanding, which is the remote supply plus what is in flight (sent,
    held or being refunded); a message executes once (again: AlreadyExecuted); a transfer not held cannot be
    retried or refunded (NotHeld); a retry executes exactly when the limit has room; and each transfer ends
    delivered or refunded, never both."""
    holders = [alice, bob]
    # The whole example, funding included, runs from one snapshot: every example starts from the same chain.
    with isolated(chain):
        for holder in holders:
            world.fund(holder, 100 * LBC)
            world.home_lbc.approve(home, 2**256 - 1, sender=holder)
            world.remote_lbc.approve(remote, 2**256 - 1, sender=holder)
        home.setLimits(CHAIN_ID, LIMIT, RECEIVE_MAX, sender=admin)
        remote.setLimits(CHAIN_ID, LIMIT, RECEIVE_MAX, sender=admin)
        supply = world.home_lbc.totalSupply()
        transfers: list[Transfer] = []

        def check() -> None:
            in_flight = sum(t.amount for t in transfers if t.state not in (DELIVERED, REFUNDED))
            locked = world.home_lbc.balanceOf(home)
            remote_supply = world.remote_lbc.totalSupply()
            circulating = world.home_lbc.totalSupply() - locked + remote_supply
            assert world.home_lbc.totalSupply() == supply <= world.home_lbc.cap()
            assert circulating + in_flight == supply
            assert locked == home.outstanding(CHAIN_ID) == remote_supply + in_flight
            assert remote_supply == sum(world.remote_lbc.balanceOf(h) for h in holders)
            for t in transfers:
                assert world.held(t.message) == (t.state == HELD)
                assert world.received(t.message) == (t.state != SENT)

        for _ in range(data.draw(st.integers(4, 14), label="steps")):
            step(world, chain, data, holders, transfers)
            check()


def step(
    world: World, chain: Any, data: st.DataObject, holders: list[Any], transfers: list[Transfer]
) -> None:
    """One action drawn among those that apply now, checked against the transfers' states."""

    def pick(*states: str) -> Transfer | None:
        found = [i for i, t in enumerate(transfers) if t.state in states]
        return transfers[data.draw(st.sampled_from(found), label="transfer")] if found else None

    # The actions that move a transfer on come first (hypothesis draws, and shrinks, towards the first).
    actions = ["deliver"] * any(t.state == SENT for t in transfers)
    actions += ["retry", "refund", "raise the receive limits"] * any(t.state == HELD for t in transfers)
    actions += ["deliver refund"] * any(t.state == REFUNDING for t in transfers)
    actions += ["send out", "send home"]
    actions += ["deliver again"] * any(t.state != SENT for t in transfers)
    actions += ["retry or refund, not held"] * any(t.state != HELD for t in transfers)
    actions += ["deliver refund again"] * any(t.state == REFUNDED for t in transfers)
    actions += ["wait"]
    action = data.draw(st.sampled_from(actions), label="action")

    if action == "wait":
        chain.mine(timestamp=chain.pending_timestamp + DAY // 4)
    elif action == "raise the receive limits":
        # By what the largest held transfer needs: it fits now (were the limit full).
        largest = max(t.amount for t in transfers if t.state == HELD)
        for bridge in (world.home_lbc_bridge, world.remote_lbc_bridge):
            (most, _) = bridge.receiveLimit(CHAIN_ID)
            bridge.setLimits(CHAIN_ID, LIMIT, most + largest, sender=world.admin)
    elif action in ("send out", "send home"):
        who = data.draw(st.integers(0, 1), label="holder")
        holder, to = holders[who], holders[1 - who]
        out = action == "send out"
        amount = (
            (world.home_lbc if out else world.remote_lbc).balanceOf(holder)
            * data.draw(st.integers(1, 100), label="percent")
            // 100
        )
        if amount:
            bridge = world.home_lbc_bridge if out else world.remote_lbc_bridge
            transfers.append(Transfer(world.sent(bridge.send(CHAIN_ID, to, amount, sender=holder)), amount))
    elif action == "deliver":
        t = pick(SENT)
        assert t is not None
        receipt = world.deliver(t.message)
        t.state = HELD if events(receipt, world.bridge_at(t.message.receiver), "TransferHeld") else DELIVERED
    elif action == "deliver again":
        t = pick(DELIVERED, HELD, REFUNDING, REFUNDED)
        assert t is not None
        with reverts(world.destination(t.message).AlreadyExecuted, messageId=t.message.message_id):
            world.deliver(t.message)
    elif action == "retry":
        t = pick(HELD)
        assert t is not None
        bridge = world.bridge_at(t.message.receiver)
        # Read the limit in the very second the retry is mined: it executes exactly when it fits.
        chain.pending_timestamp = chain.blocks.head.timestamp
        _, available = bridge.receiveLimit(CHAIN_ID)
        if t.amount > available:
            with reverts(bridge.LimitExceeded, amount=t.amount, available=available):
                world.retry(t.message)
        else:
            world.retry(t.message)
            t.state = DELIVERED
    elif action == "refund":
        t = pick(HELD)
        assert t is not None
        # Either holder may refund: each transfer goes from one to the other.
        _, t.back = world.refund(t.message, holders[data.draw(st.integers(0, 1), label="by")])
        t.state = REFUNDING
    elif action == "retry or refund, not held":
        t = pick(SENT, DELIVERED, REFUNDING, REFUNDED)
        assert t is not None
        bridge = world.bridge_at(t.message.receiver)
        with reverts(bridge.NotHeld, transferId=world.transfer_id(t.message)):
            if data.draw(st.booleans(), label="retry"):
                world.retry(t.message)
            else:
                world.refund(t.message, holders[0])
    elif action == "deliver refund":
        t = pick(REFUNDING)
        assert t is not None and t.back is not None
        world.deliver(t.back)
        t.state = REFUNDED
    else:  # deliver refund again
        t = pick(REFUNDED)
        assert t is not None and t.back is not None
        with reverts(world.destination(t.back).AlreadyExecuted, messageId=t.back.message_id):
            world.deliver(t.back)
