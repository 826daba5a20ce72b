"""CubeBridge, RemoteCubeBridge, RemoteCube: cubes locked at home travel as remote copies (see IBridge.sol).

Home and remote live on the one local chain (tests/unit/_bridge_world.py). A cube leaving home is locked in
the home bridge (still accruing LBC) and a RemoteCube with its id, tier and total mined is minted abroad;
coming home, the remote cube is burnt and the original released. So a cube is held (unlocked) on at most
one side at any time, and on exactly one once every message has arrived.
"""

from __future__ import annotations

import pytest
from _bridge_world import (
    BASE_URI,
    CHAIN_ID,
    DEFAULT_ADMIN_ROLE,
    OTHER_CHAIN,
    PAUSER_ROLE,
    SENDER_ROLE,
    ZERO_ADDRESS,
    cubes_home_payload,
    cubes_out_payload,
    events,
)
from _errors import reverts

MINED_LIMIT = 2**94  # RemoteCube stores totalMined in 94 bits


@pytest.fixture
def home(world):
    return world.cube_bridge


@pytest.fixture
def remote(world):
    return world.remote_cube_bridge


@pytest.fixture
def remote_cubes(world):
    return world.remote_cubes


@pytest.fixture
def mined_cube(cubes, alice, mint_cubes, advance) -> int:
    """A tier-2 cube of Alice's that has mined (claimed) some LBC already."""
    (cube_id,) = mint_cubes(alice, 1, tier=2)
    advance(1_000)
    cubes.batchClaimRewards([cube_id], sender=alice)
    assert cubes.nodeData(cube_id)[0] > 0
    return cube_id


@pytest.fixture
def abroad(world, mined_cube, alice, bob) -> int:
    """Alice's mined cube, sent to Bob on the remote side and delivered."""
    world.move_cubes_out(alice, [mined_cube], to=bob)
    return mined_cube


def total_mined(cubes, cube_id: int) -> int:
    return int(cubes.nodeData(cube_id)[0])


# --------------------------------------------------------------------------------------------- deployment


def test_constructor__home_bridge__exposes_its_wiring(world, home, remote, cubes, admin):
    assert home.cubes() == cubes.address
    assert home.messenger() == world.home_messenger.address
    assert home.homeChainId() == CHAIN_ID  # the chain it is deployed on
    assert home.isHome()
    assert home.peer(CHAIN_ID) == remote.address
    assert home.hasRole(DEFAULT_ADMIN_ROLE, admin)
    assert home.hasRole(PAUSER_ROLE, admin)


def test_constructor__remote_bridge__creates_its_remote_cube_collection(world, home, remote, remote_cubes):
    assert not remote.isHome()
    assert remote.homeChainId() == CHAIN_ID
    assert remote.messenger() == world.remote_messenger.address
    assert remote.peer(CHAIN_ID) == home.address
    assert remote.cubes() == remote_cubes.address
    assert remote_cubes.bridge() == remote.address
    assert remote_cubes.name() == "L.I.N.K CUBE (bridged)"
    assert remote_cubes.symbol() == "CUBE"


@pytest.mark.parametrize("which", ["zero", "account without code"])
def test_constructor__home_cubes_without_code__reverts_invalid_address(
    project, world, home, admin, alice, which, failing_deployer
):
    cubes = ZERO_ADDRESS if which == "zero" else alice.address
    with reverts(home.InvalidAddress):
        project.CubeBridge.deploy(admin, cubes, world.home_messenger, sender=failing_deployer)


@pytest.mark.parametrize("contract", ["CubeBridge", "RemoteCubeBridge"])
def test_constructor__messenger_without_code__reverts_invalid_address(
    project, home, admin, alice, cubes, contract, failing_deployer
):
    with reverts(home.InvalidAddress):
        if contract == "CubeBridge":
            project.CubeBridge.deploy(admin, cubes, alice, sender=failing_deployer)
        else:
            project.RemoteCubeBridge.deploy(admin, alice, CHAIN_ID, BASE_URI, sender=failing_deployer)


def test_set_peer__remote_for_a_chain_other_than_home__reverts_unsupported_route(remote, home, admin):
    with reverts(remote.UnsupportedRoute, chainId=OTHER_CHAIN):
        remote.setPeer(OTHER_CHAIN, home, sender=admin)
    assert remote.peer(OTHER_CHAIN) == ZERO_ADDRESS


def test_set_peer__not_admin__reverts(home, stranger):
    with reverts(
        home.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=DEFAULT_ADMIN_ROLE
    ):
        home.setPeer(OTHER_CHAIN, stranger, sender=stranger)


# ----------------------------------------------------------------------------------------- out: lock and mint


def test_send__home__locks_the_cubes_and_sends_their_tier_and_total_mined(
    world, home, remote, cubes, alice, bob, mined_cube, mint_cubes
):
    fresh = mint_cubes(alice, 2, tier=3)
    ids = [mined_cube, *fresh]
    for cube_id in ids:
        cubes.approve(home, cube_id, sender=alice)
    receipt = home.send(CHAIN_ID, bob, ids, sender=alice)

    message = world.sent(receipt)
    assert (message.sender, message.receiver) == (home.address, remote.address)
    assert message.payload == cubes_out_payload(bob, ids, [2, 3, 3], [total_mined(cubes, mined_cube), 0, 0])
    assert events(receipt, home, "CubesSent") == [
        {
            "messageId": message.message_id,
            "dstChainId": CHAIN_ID,
            "from": alice.address,
            "to": bob.address,
            "cubeIds": ids,
        }
    ]
    for cube_id in ids:
        assert cubes.ownerOf(cube_id) == home.address
        assert home.lockedFor(cube_id) == CHAIN_ID
        assert world.unlocked_sides(cube_id) == []  # in flight


def test_receive__remote__mints_copies_with_the_home_id_tier_and_total_mined(
    world, remote, remote_cubes, cubes, alice, bob, mined_cube, mint_cubes
):
    (fresh,) = mint_cubes(alice, 1, tier=0)
    ids = [mined_cube, fresh]
    message = world.send_cubes_out(alice, ids, to=bob)
    receipt = world.deliver(message)

    assert events(receipt, remote, "CubesReceived") == [
        {"messageId": message.message_id, "srcChainId": CHAIN_ID, "to": bob.address, "cubeIds": ids}
    ]
    for cube_id in ids:
        mined, *_ = cubes.nodeData(cube_id)
        assert remote_cubes.ownerOf(cube_id) == bob.address
        assert remote_cubes.tierOf(cube_id) == cubes.tierOf(cube_id)
        assert remote_cubes.totalMinedOf(cube_id) == mined
        assert remote_cubes.tokenURI(cube_id) == f"{BASE_URI}{cube_id}"
        assert world.unlocked_sides(cube_id) == ["remote"]
    assert total_mined(cubes, mined_cube) > 0
    assert remote_cubes.balanceOf(bob) == 2


def test_send__home_without_approval__reverts_not_owner_nor_approved(home, cubes, alice, mined_cube):
    # Solady's ERC721 error, raised by the cube contract (whose ABI has it) inside the bridge's transferFrom.
    with reverts(cubes.NotOwnerNorApproved):
        home.send(CHAIN_ID, alice, [mined_cube], sender=alice)
    assert cubes.ownerOf(mined_cube) == alice.address
    assert home.lockedFor(mined_cube) == 0


def test_send__home_by_someone_else__reverts_not_holder(home, cubes, alice, bob, mined_cube):
    cubes.approve(home, mined_cube, sender=alice)
    with reverts(home.NotHolder, cubeId=mined_cube, caller=bob.address):
        home.send(CHAIN_ID, bob, [mined_cube], sender=bob)


def test_send__home_by_an_approved_operator__reverts_not_holder(home, cubes, alice, bob, mined_cube):
    # At home only the holder sends its cubes, even when it approved someone else for them.
    cubes.setApprovalForAll(bob, True, sender=alice)
    cubes.approve(home, mined_cube, sender=alice)
    with reverts(home.NotHolder, cubeId=mined_cube, caller=bob.address):
        home.send(CHAIN_ID, bob, [mined_cube], sender=bob)


def test_send__home_the_same_cube_twice__reverts_not_holder(home, cubes, alice, mined_cube):
    cubes.approve(home, mined_cube, sender=alice)
    with reverts(home.NotHolder, cubeId=mined_cube, caller=alice.address):
        home.send(CHAIN_ID, alice, [mined_cube, mined_cube], sender=alice)
    assert cubes.ownerOf(mined_cube) == alice.address


def test_send__home_a_cube_that_does_not_exist__reverts_token_does_not_exist(home, cubes, alice):
    with reverts(cubes.TokenDoesNotExist):
        home.send(CHAIN_ID, alice, [cubes.totalMinted() + 1], sender=alice)


@pytest.mark.parametrize("side", ["home", "remote"])
def test_send__no_cubes__reverts_no_cubes(request, side, alice):
    bridge = request.getfixturevalue(side)
    with reverts(bridge.NoCubes):
        bridge.send(CHAIN_ID, alice, [], sender=alice)


@pytest.mark.parametrize("side", ["home", "remote"])
def test_send__zero_recipient__reverts_zero_recipient(request, side, alice):
    bridge = request.getfixturevalue(side)
    with reverts(bridge.ZeroRecipient):
        bridge.send(CHAIN_ID, ZERO_ADDRESS, [1], sender=alice)


def test_send__home_to_an_unwired_chain__reverts_unsupported_route(home, cubes, alice, mined_cube):
    cubes.approve(home, mined_cube, sender=alice)
    with reverts(home.UnsupportedRoute, chainId=OTHER_CHAIN):
        home.send(OTHER_CHAIN, alice, [mined_cube], sender=alice)


def test_send__remote_to_a_chain_other_than_home__reverts_unsupported_route(remote, bob, abroad):
    with reverts(remote.UnsupportedRoute, chainId=OTHER_CHAIN):
        remote.send(OTHER_CHAIN, bob, [abroad], sender=bob)


def test_send__remote_unwired__reverts_unsupported_route(remote, admin, bob, abroad):
    remote.setPeer(CHAIN_ID, ZERO_ADDRESS, sender=admin)
    with reverts(remote.UnsupportedRoute, chainId=CHAIN_ID):
        remote.send(CHAIN_ID, bob, [abroad], sender=bob)


# ------------------------------------------------------------------------------------- home: burn and release


def test_send__remote__burns_the_copy_and_sends_the_ids_home(
    world, home, remote, remote_cubes, alice, bob, abroad
):
    receipt = remote.send(CHAIN_ID, alice, [abroad], sender=bob)

    message = world.sent(receipt)
    assert (message.sender, message.receiver) == (remote.address, home.address)
    assert message.payload == cubes_home_payload(alice, [abroad])
    assert events(receipt, remote, "CubesSent") == [
        {
            "messageId": message.message_id,
            "dstChainId": CHAIN_ID,
            "from": bob.address,
            "to": alice.address,
            "cubeIds": [abroad],
        }
    ]
    assert world.remote_owner(abroad) is None
    assert remote_cubes.balanceOf(bob) == 0
    assert home.lockedFor(abroad) == CHAIN_ID  # until it arrives
    assert world.unlocked_sides(abroad) == []


@pytest.mark.parametrize("how", ["approve", "setApprovalForAll"])
def test_send__remote_by_an_approved_operator__burns_and_sends(
    world, remote, remote_cubes, bob, operator, abroad, how
):
    if how == "approve":
        remote_cubes.approve(operator, abroad, sender=bob)
    else:
        remote_cubes.setApprovalForAll(operator, True, sender=bob)
    assert remote_cubes.isApprovedOrOwner(operator, abroad)
    world.send_cubes_home(operator, [abroad], to=operator)
    assert world.remote_owner(abroad) is None


def test_send__remote_by_someone_else__reverts_not_holder(remote, remote_cubes, bob, stranger, abroad):
    assert not remote_cubes.isApprovedOrOwner(stranger, abroad)
    with reverts(remote.NotHolder, cubeId=abroad, caller=stranger.address):
        remote.send(CHAIN_ID, stranger, [abroad], sender=stranger)
    assert remote_cubes.ownerOf(abroad) == bob.address


def test_send__remote_a_cube_not_there__reverts_not_holder(remote, remote_cubes, bob, abroad):
    assert not remote_cubes.isApprovedOrOwner(bob, abroad + 1)
    with reverts(remote.NotHolder, cubeId=abroad + 1, caller=bob.address):
        remote.send(CHAIN_ID, bob, [abroad + 1], sender=bob)
    with reverts(remote.NotHolder, cubeId=abroad, caller=bob.address):
        remote.send(CHAIN_ID, bob, [abroad, abroad], sender=bob)  # burnt by the first


def test_receive__home__releases_to_the_recipient_and_unlocks(world, home, cubes, bob, stranger, abroad):
    message = world.send_cubes_home(bob, [abroad], to=stranger)
    receipt = world.deliver(message)
    assert events(receipt, home, "CubesReceived") == [
        {"messageId": message.message_id, "srcChainId": CHAIN_ID, "to": stranger.address, "cubeIds": [abroad]}
    ]
    assert cubes.ownerOf(abroad) == stranger.address
    assert home.lockedFor(abroad) == 0
    assert world.unlocked_sides(abroad) == ["home"]


def test_released_cube__rewards_accrued_while_away__are_claimed_by_its_new_holder(
    world, cubes, lbc, alice, bob, mined_cube, advance, chain
):
    mined_before, last_claim, _, active = cubes.nodeData(mined_cube)
    assert active
    rate = cubes.tierRate(cubes.tierOf(mined_cube))
    world.move_cubes_out(alice, [mined_cube], to=bob)
    advance(5_000)
    # The locked cube keeps accruing; nobody claims it meanwhile.
    assert cubes.nodeData(mined_cube)[:2] == (mined_before, last_claim)
    assert cubes.pendingReward(mined_cube) == rate * (chain.blocks.head.timestamp - last_claim)
    with reverts(cubes.NotCubeOwner, cubeId=mined_cube, caller=alice.address):
        cubes.batchClaimRewards([mined_cube], sender=alice)

    world.deliver(world.send_cubes_home(bob, [mined_cube], to=bob))
    advance(700)
    before = lbc.balanceOf(bob)
    receipt = cubes.batchClaimRewards([mined_cube], sender=bob)
    assert lbc.balanceOf(bob) - before == rate * (receipt.timestamp - last_claim)
    assert total_mined(cubes, mined_cube) == mined_before + rate * (receipt.timestamp - last_claim)


def test_receive__home_for_a_cube_never_sent__reverts_not_locked_for(
    world, home, cubes, alice, stranger, mined_cube
):
    # Colluding signers forge a message from the wired remote bridge for Alice's cube, which never left.
    forged = world.forge(
        src=world.remote_messenger,
        sender=world.remote_cube_bridge,
        receiver=home,
        payload=cubes_home_payload(stranger, [mined_cube]),
    )
    with reverts(home.NotLockedFor, cubeId=mined_cube, chainId=CHAIN_ID):
        world.deliver(forged)
    assert cubes.ownerOf(mined_cube) == alice.address


def test_receive__home_for_a_cube_locked_for_another_chain__reverts_not_locked_for(
    world, home, cubes, admin, alice, stranger, mined_cube
):
    world.home_messenger.setRemoteMessenger(OTHER_CHAIN, world.remote_messenger, sender=admin)
    home.setPeer(OTHER_CHAIN, world.remote_cube_bridge, sender=admin)
    world.send_cubes_out(alice, [mined_cube], dst=OTHER_CHAIN)
    assert home.lockedFor(mined_cube) == OTHER_CHAIN

    forged = world.forge(
        src=world.remote_messenger,
        sender=world.remote_cube_bridge,
        receiver=home,
        payload=cubes_home_payload(stranger, [mined_cube]),
    )
    with reverts(home.NotLockedFor, cubeId=mined_cube, chainId=CHAIN_ID):
        world.deliver(forged)
    assert cubes.ownerOf(mined_cube) == home.address


def test_receive__home_a_second_release_of_a_returned_cube__reverts_not_locked_for(world, home, bob, abroad):
    back = world.send_cubes_home(bob, [abroad])
    world.deliver(back)
    again = world.forge(
        src=world.remote_messenger, sender=world.remote_cube_bridge, receiver=home, payload=back.payload
    )
    with reverts(home.NotLockedFor, cubeId=abroad, chainId=CHAIN_ID):
        world.deliver(again)


# --------------------------------------------------------------------------------------------- origin checks


@pytest.mark.parametrize("side", ["home", "remote"])
def test_receive__called_directly__reverts_not_messenger(request, side, stranger):
    bridge = request.getfixturevalue(side)
    with reverts(bridge.NotMessenger, caller=stranger.address):
        bridge.receiveMessage(b"\x01" * 32, CHAIN_ID, bridge.peer(CHAIN_ID), b"", sender=stranger)


def test_receive__remote_from_a_sender_that_is_not_the_peer__reverts_unknown_peer(
    world, remote, remote_cubes, stranger
):
    # The home LBC bridge is a sender on H, but not the cube bridge's peer.
    forged = world.forge(
        src=world.home_messenger,
        sender=world.home_lbc_bridge,
        receiver=remote,
        payload=cubes_out_payload(stranger, [1], [0], [0]),
    )
    with reverts(remote.UnknownPeer, srcChainId=CHAIN_ID, sender=world.home_lbc_bridge.address):
        world.deliver(forged)
    assert world.remote_owner(1) is None


def test_receive__home_from_a_sender_that_is_not_the_peer__reverts_unknown_peer(
    world, home, admin, stranger, abroad
):
    world.remote_messenger.grantRole(SENDER_ROLE, stranger, sender=admin)
    receipt = world.remote_messenger.sendMessage(
        CHAIN_ID, home, cubes_home_payload(stranger, [abroad]), sender=stranger
    )
    with reverts(home.UnknownPeer, srcChainId=CHAIN_ID, sender=stranger.address):
        world.deliver(world.sent(receipt))
    assert home.lockedFor(abroad) == CHAIN_ID


# --------------------------------------------------------------------------------------------- pausing


@pytest.mark.parametrize("side", ["home", "remote"])
def test_send__paused__reverts_enforced_pause(
    world, request, side, admin, cubes, alice, bob, abroad, mint_cubes
):
    bridge = request.getfixturevalue(side)
    (at_home,) = mint_cubes(alice, 1)
    cubes.approve(world.cube_bridge, at_home, sender=alice)
    bridge.pause(sender=admin)
    with reverts(bridge.EnforcedPause):
        if side == "home":
            bridge.send(CHAIN_ID, alice, [at_home], sender=alice)
        else:
            bridge.send(CHAIN_ID, bob, [abroad], sender=bob)


def test_receive__remote_paused__reverts_and_mints_after_unpausing(world, remote, admin, alice, mined_cube):
    message = world.send_cubes_out(alice, [mined_cube])
    remote.pause(sender=admin)
    with reverts(remote.EnforcedPause):
        world.deliver(message)
    assert world.unlocked_sides(mined_cube) == []
    remote.unpause(sender=admin)
    world.deliver(message)
    assert world.remote_owner(mined_cube) == alice.address


def test_receive__home_paused__reverts_and_releases_after_unpausing(world, home, cubes, admin, bob, abroad):
    message = world.send_cubes_home(bob, [abroad])
    home.pause(sender=admin)
    with reverts(home.EnforcedPause):
        world.deliver(message)
    assert world.unlocked_sides(abroad) == []
    home.unpause(sender=admin)
    world.deliver(message)
    assert cubes.ownerOf(abroad) == bob.address


def test_pause__not_pauser__reverts(remote, stranger):
    with reverts(remote.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=PAUSER_ROLE):
        remote.pause(sender=stranger)


# --------------------------------------------------------------------------------------------- RemoteCube


def test_remote_cube__mint_and_burn_by_anyone_but_the_bridge__revert_not_bridge(
    remote_cubes, admin, bob, abroad
):
    with reverts(remote_cubes.NotBridge, caller=admin.address):
        remote_cubes.mint(admin, 999, 0, 0, sender=admin)
    with reverts(remote_cubes.NotBridge, caller=bob.address):
        remote_cubes.burn(abroad, sender=bob)
    assert remote_cubes.ownerOf(abroad) == bob.address


@pytest.mark.parametrize(("tier", "mined"), [(4, 0), (255, 10**18), (0, MINED_LIMIT), (3, 2**256 - 1)])
def test_remote_cube__tier_above_3_or_total_mined_from_2_pow_94__reverts_invalid_cube_data(
    world, remote, remote_cubes, home, stranger, tier, mined
):
    # Only a forged message can carry such data: the home cubes have 4 tiers and mine far less.
    forged = world.forge(
        src=world.home_messenger,
        sender=home,
        receiver=remote,
        payload=cubes_out_payload(stranger, [77], [tier], [mined]),
    )
    with reverts(remote_cubes.InvalidCubeData, tier=tier, totalMined=mined):
        world.deliver(forged)
    assert world.remote_owner(77) is None


def test_remote_cube__the_largest_data__is_stored_exactly(world, remote, remote_cubes, home, stranger):
    forged = world.forge(
        src=world.home_messenger,
        sender=home,
        receiver=remote,
        payload=cubes_out_payload(stranger, [77, 78], [3, 0], [MINED_LIMIT - 1, 1]),
    )
    world.deliver(forged)
    assert (remote_cubes.tierOf(77), remote_cubes.totalMinedOf(77)) == (3, MINED_LIMIT - 1)
    assert (remote_cubes.tierOf(78), remote_cubes.totalMinedOf(78)) == (0, 1)
    assert remote_cubes.ownerOf(77) == stranger.address


@pytest.mark.parametrize("view", ["tierOf", "totalMinedOf", "tokenURI", "ownerOf"])
def test_remote_cube__views_of_a_cube_not_there__revert_token_does_not_exist(remote_cubes, view):
    with reverts(remote_cubes.TokenDoesNotExist):
        getattr(remote_cubes, view)(12345)
    assert not remote_cubes.isApprovedOrOwner(ZERO_ADDRESS, 12345)


def test_remote_cube__empty_base_uri__token_uri_is_empty(project, world, admin, home, stranger):
    bridge = project.RemoteCubeBridge.deploy(admin, world.remote_messenger, CHAIN_ID, "", sender=admin)
    collection = project.RemoteCube.at(bridge.cubes())
    world.remote_messenger.grantRole(SENDER_ROLE, bridge, sender=admin)
    bridge.setPeer(CHAIN_ID, home, sender=admin)
    forged = world.forge(
        src=world.home_messenger,
        sender=home,
        receiver=bridge,
        payload=cubes_out_payload(stranger, [5], [1], [0]),
    )
    world.deliver(forged)
    assert collection.tokenURI(5) == ""
    assert collection.ownerOf(5) == stranger.address


def test_remote_bridge__locked_for__is_always_zero(remote, abroad):
    assert remote.lockedFor(abroad) == 0
    assert remote.lockedFor(2**256 - 1) == 0


# --------------------------------------------------------------------------------------------- journeys


def test_journey__a_cube_is_unlocked_on_exactly_one_side_once_every_message_has_arrived(
    world, cubes, remote_cubes, alice, bob, mined_cube, mint_cubes, advance
):
    (other,) = mint_cubes(bob, 1, tier=1)
    ids = [mined_cube, other]
    assert [world.unlocked_sides(i) for i in ids] == [["home"], ["home"]]

    out = world.send_cubes_out(alice, [mined_cube], to=bob)
    assert [world.unlocked_sides(i) for i in ids] == [[], ["home"]]
    world.deliver(out)
    assert [world.unlocked_sides(i) for i in ids] == [["remote"], ["home"]]

    out = world.send_cubes_out(bob, [other], to=alice)
    assert [world.unlocked_sides(i) for i in ids] == [["remote"], []]
    world.deliver(out)
    assert [world.unlocked_sides(i) for i in ids] == [["remote"], ["remote"]]
    assert (remote_cubes.ownerOf(mined_cube), remote_cubes.ownerOf(other)) == (bob.address, alice.address)

    back = world.send_cubes_home(bob, [mined_cube], to=alice)
    back_too = world.send_cubes_home(alice, [other], to=bob)
    assert [world.unlocked_sides(i) for i in ids] == [[], []]
    world.deliver(back_too)  # arrivals in any order
    assert [world.unlocked_sides(i) for i in ids] == [[], ["home"]]
    world.deliver(back)
    assert [world.unlocked_sides(i) for i in ids] == [["home"], ["home"]]
    assert (cubes.ownerOf(mined_cube), cubes.ownerOf(other)) == (alice.address, bob.address)

    # Out again after more mining: the new copy carries the new total mined.
    advance(500)
    cubes.batchClaimRewards([mined_cube], sender=alice)
    world.move_cubes_out(alice, [mined_cube])
    assert remote_cubes.totalMinedOf(mined_cube) == total_mined(cubes, mined_cube)
    assert remote_cubes.tierOf(mined_cube) == 2
    assert world.unlocked_sides(mined_cube) == ["remote"]
