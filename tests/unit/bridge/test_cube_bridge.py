"""CubeBridge, RemoteCubeBridge, RemoteCube: cubes locked at home travel as remote copies (see IBridge.sol).

Home and remote live on the one local chain (tests/unit/bridge/_bridge_world.py). A cube leaving home is
locked in the home bridge (still accruing LBC) and a RemoteCube with its id, tier and total mined is minted
abroad; coming home, the remote cube is burnt and the original released. A transfer that cannot execute on
arrival is held, and its refund gives every cube back to its sender where it left from, with its data. So a
cube is held (unlocked) on at most one side at any time, and on exactly one once every message has
arrived; `World.unlocked_sides` says where.

A message carries at most 400 cubes (MAX_CUBES_PER_MESSAGE) so that its worst delivery fits in half of
Polygon's 30M block gas limit: the 400-cube tests measure it.
"""

from __future__ import annotations

import pytest
from _bridge_world import (
    BASE_URI,
    CHAIN_ID,
    DEFAULT_ADMIN_ROLE,
    MAX_CUBES,
    OTHER_CHAIN,
    PAUSER_ROLE,
    REFUND,
    SENDER_ROLE,
    ZERO_ADDRESS,
    World,
    as_refund,
    commitment,
    cubes_payload,
    decode_cubes_payload,
    error_data,
    events,
    payload_nonce,
    transfer_id,
)
from _errors import reverts
from eth_utils import keccak
from hexbytes import HexBytes

from link_ops.model.attest import Message

MINED_LIMIT = 2**94  # RemoteCube stores totalMined in 94 bits
NOTHING = HexBytes(b"\x00" * 32)
HALF_A_BLOCK = 15_000_000  # the most gas a delivery of MAX_CUBES may use: half of Polygon's 30M block
TOKEN_ALREADY_EXISTS = error_data("TokenAlreadyExists()")


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
    """Alice's mined cube, sent to Bob on the remote side and delivered (the home bridge's transfer 0)."""
    world.move_cubes_out(alice, [mined_cube], to=bob)
    return mined_cube


@pytest.fixture
def newcomer(accounts):
    """An account that holds no cube on either side."""
    return accounts[7]


def total_mined(cubes, cube_id: int) -> int:
    return int(cubes.nodeData(cube_id)[0])


def forge_remote_copy(world: World, cube_id: int, holder, tier: int, mined: int = 0) -> None:
    """Colluding signers mint a remote copy of home cube `cube_id` for `holder`, which never left home."""
    forged = world.forge(
        src=world.home_messenger,
        sender=world.cube_bridge,
        receiver=world.remote_cube_bridge,
        payload=cubes_payload(10**6 + cube_id, holder, holder, [cube_id], [tier], [mined]),
    )
    world.deliver(forged)
    assert world.remote_owner(cube_id) == holder.address


def assert_held(receipt, bridge, message: Message, reason: bytes) -> None:
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
    assert events(receipt, bridge, "CubesReceived") == []
    assert bridge.held(transfer_id(CHAIN_ID, message.sender, payload_nonce(message.payload))) == keccak(
        message.payload
    )


# --------------------------------------------------------------------------------------------- deployment


def test_constructor__home_bridge__exposes_its_wiring(world, home, remote, cubes, admin):
    assert home.cubes() == cubes.address
    assert home.messenger() == world.home_messenger.address
    assert home.homeChainId() == CHAIN_ID  # the chain it is deployed on
    assert home.isHome()
    assert home.peer(CHAIN_ID) == remote.address
    assert home.routes() == [CHAIN_ID]
    assert home.hasRole(DEFAULT_ADMIN_ROLE, admin)
    assert home.defaultAdmin() == admin.address
    assert home.hasRole(PAUSER_ROLE, admin)
    assert home.MAX_CUBES_PER_MESSAGE() == MAX_CUBES
    assert home.outboundNonce() == 0


def test_constructor__remote_bridge__creates_its_remote_cube_collection(world, home, remote, remote_cubes):
    assert not remote.isHome()
    assert remote.homeChainId() == CHAIN_ID
    assert remote.messenger() == world.remote_messenger.address
    assert remote.peer(CHAIN_ID) == home.address
    assert remote.cubes() == remote_cubes.address
    assert remote.MAX_CUBES_PER_MESSAGE() == MAX_CUBES
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


@pytest.mark.parametrize("contract", ["CubeBridge", "RemoteCubeBridge"])
def test_constructor__zero_admin__reverts_invalid_default_admin(
    project, world, home, cubes, contract, failing_deployer
):
    with reverts(home.AccessControlInvalidDefaultAdmin, defaultAdmin=ZERO_ADDRESS):
        if contract == "CubeBridge":
            project.CubeBridge.deploy(ZERO_ADDRESS, cubes, world.home_messenger, sender=failing_deployer)
        else:
            project.RemoteCubeBridge.deploy(
                ZERO_ADDRESS, world.remote_messenger, CHAIN_ID, BASE_URI, sender=failing_deployer
            )


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


def test_send__home__locks_the_cubes_commits_to_them_and_sends_their_tier_and_total_mined(
    world, home, remote, cubes, alice, bob, mined_cube, mint_cubes
):
    fresh = mint_cubes(alice, 2, tier=3)
    ids = [mined_cube, *fresh]
    for cube_id in ids:
        cubes.approve(home, cube_id, sender=alice)
    receipt = home.send(CHAIN_ID, bob, ids, sender=alice)

    message = world.sent(receipt)
    assert (message.sender, message.receiver) == (home.address, remote.address)
    assert message.payload == cubes_payload(
        0, alice, bob, ids, [2, 3, 3], [total_mined(cubes, mined_cube), 0, 0]
    )
    assert events(receipt, home, "CubesSent") == [
        {
            "transferId": transfer_id(CHAIN_ID, home, 0),
            "dstChainId": CHAIN_ID,
            "from": alice.address,
            "to": bob.address,
            "cubeIds": ids,
            "messageId": message.message_id,
        }
    ]
    assert home.outbox(0) == commitment(CHAIN_ID, message.payload)
    assert home.outboundNonce() == 1
    for cube_id in ids:
        assert cubes.ownerOf(cube_id) == home.address
        assert home.lockedFor(cube_id) == CHAIN_ID
        assert world.unlocked_sides(cube_id) == []  # in flight


def test_receive__remote__mints_copies_with_the_home_id_tier_and_total_mined(
    world, home, remote, remote_cubes, cubes, alice, bob, mined_cube, mint_cubes
):
    (fresh,) = mint_cubes(alice, 1, tier=0)
    ids = [mined_cube, fresh]
    message = world.send_cubes_out(alice, ids, to=bob)
    receipt = world.deliver(message)

    assert events(receipt, remote, "CubesReceived") == [
        {
            "transferId": transfer_id(CHAIN_ID, home, 0),
            "srcChainId": CHAIN_ID,
            "to": bob.address,
            "cubeIds": ids,
        }
    ]
    assert remote.received(CHAIN_ID, home, 0)
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
def test_send__401_cubes__reverts_too_many_cubes(request, side, alice):
    bridge = request.getfixturevalue(side)
    with reverts(bridge.TooManyCubes, count=MAX_CUBES + 1, max=MAX_CUBES):
        bridge.send(CHAIN_ID, alice, list(range(1, MAX_CUBES + 2)), sender=alice)
    assert bridge.outboundNonce() == 0


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


def test_send__remote__burns_the_copy_and_sends_the_ids_with_their_data_home(
    world, home, remote, remote_cubes, cubes, alice, bob, abroad
):
    mined = remote_cubes.totalMinedOf(abroad)
    receipt = remote.send(CHAIN_ID, alice, [abroad], sender=bob)

    message = world.sent(receipt)
    assert (message.sender, message.receiver) == (remote.address, home.address)
    assert message.payload == cubes_payload(0, bob, alice, [abroad], [2], [mined])
    assert events(receipt, remote, "CubesSent") == [
        {
            "transferId": transfer_id(CHAIN_ID, remote, 0),
            "dstChainId": CHAIN_ID,
            "from": bob.address,
            "to": alice.address,
            "cubeIds": [abroad],
            "messageId": message.message_id,
        }
    ]
    assert remote.outbox(0) == commitment(CHAIN_ID, message.payload)
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


def test_receive__home__releases_to_the_recipient_and_unlocks(
    world, home, remote, cubes, bob, stranger, abroad
):
    message = world.send_cubes_home(bob, [abroad], to=stranger)
    receipt = world.deliver(message)
    assert events(receipt, home, "CubesReceived") == [
        {
            "transferId": transfer_id(CHAIN_ID, remote, 0),
            "srcChainId": CHAIN_ID,
            "to": stranger.address,
            "cubeIds": [abroad],
        }
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


def test_receive__home_for_a_cube_never_sent__is_held_not_locked_for_and_releases_nothing(
    world, home, cubes, alice, stranger, mined_cube
):
    # Colluding signers forge a transfer from the wired remote bridge for Alice's cube, which never left.
    forged = world.forge(
        src=world.remote_messenger,
        sender=world.remote_cube_bridge,
        receiver=home,
        payload=cubes_payload(10**6, stranger, stranger, [mined_cube], [2], [0]),
    )
    receipt = world.deliver(forged)
    assert_held(receipt, home, forged, error_data("NotLockedFor(uint256,uint256)", mined_cube, CHAIN_ID))
    assert cubes.ownerOf(mined_cube) == alice.address
    with reverts(home.NotLockedFor, cubeId=mined_cube, chainId=CHAIN_ID):
        world.retry(forged)


def test_receive__home_for_a_cube_locked_for_another_chain__is_held_not_locked_for(
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
        payload=cubes_payload(10**6, stranger, stranger, [mined_cube], [2], [0]),
    )
    receipt = world.deliver(forged)
    assert_held(receipt, home, forged, error_data("NotLockedFor(uint256,uint256)", mined_cube, CHAIN_ID))
    assert cubes.ownerOf(mined_cube) == home.address
    assert home.lockedFor(mined_cube) == OTHER_CHAIN


def test_receive__home_a_second_release_of_a_returned_cube__is_refused(world, home, cubes, bob, abroad):
    back = world.send_cubes_home(bob, [abroad])
    world.deliver(back)
    # The same transfer again (re-attested): the bridge's record refuses it.
    again = world.forge(
        src=world.remote_messenger, sender=world.remote_cube_bridge, receiver=home, payload=back.payload
    )
    with reverts(home.AlreadyReceived, transferId=world.transfer_id(back)):
        world.deliver(again)
    # A forged new transfer of the same cube: held, the cube is no longer locked for that chain.
    _, _, from_, to, ids, tiers, mined = decode_cubes_payload(back.payload)
    forged = world.forge(
        src=world.remote_messenger,
        sender=world.remote_cube_bridge,
        receiver=home,
        payload=cubes_payload(10**6, from_, to, ids, tiers, mined),
    )
    receipt = world.deliver(forged)
    assert_held(receipt, home, forged, error_data("NotLockedFor(uint256,uint256)", abroad, CHAIN_ID))
    assert cubes.ownerOf(abroad) == bob.address


# --------------------------------------------------------------------------------------------- origin checks


@pytest.mark.parametrize("side", ["home", "remote"])
def test_receive__called_directly__reverts_not_messenger(request, side, stranger):
    bridge = request.getfixturevalue(side)
    with reverts(bridge.NotMessenger, caller=stranger.address):
        bridge.receiveMessage(b"\x01" * 32, CHAIN_ID, bridge.peer(CHAIN_ID), b"", sender=stranger)


@pytest.mark.parametrize("side", ["home", "remote"])
def test_execute_transfer__called_by_anyone_but_the_bridge__reverts_only_self(request, side, stranger):
    bridge = request.getfixturevalue(side)
    payload = cubes_payload(0, stranger, stranger, [1], [0], [0])
    with reverts(bridge.OnlySelf):
        bridge.executeTransfer(
            CHAIN_ID, transfer_id(CHAIN_ID, bridge.peer(CHAIN_ID), 0), payload, sender=stranger
        )


def test_receive__remote_from_a_sender_that_is_not_the_peer__reverts_unknown_peer(
    world, remote, remote_cubes, stranger
):
    # The home LBC bridge is a sender on H, but not the cube bridge's peer.
    forged = world.forge(
        src=world.home_messenger,
        sender=world.home_lbc_bridge,
        receiver=remote,
        payload=cubes_payload(0, stranger, stranger, [1], [0], [0]),
    )
    with reverts(remote.UnknownPeer, srcChainId=CHAIN_ID, sender=world.home_lbc_bridge.address):
        world.deliver(forged)
    assert world.remote_owner(1) is None


def test_receive__home_from_a_sender_that_is_not_the_peer__reverts_unknown_peer(
    world, home, admin, stranger, abroad
):
    world.remote_messenger.grantRole(SENDER_ROLE, stranger, sender=admin)
    receipt = world.remote_messenger.sendMessage(
        CHAIN_ID, home, cubes_payload(0, stranger, stranger, [abroad], [2], [0]), sender=stranger
    )
    with reverts(home.UnknownPeer, srcChainId=CHAIN_ID, sender=stranger.address):
        world.deliver(world.sent(receipt))
    assert home.lockedFor(abroad) == CHAIN_ID


# --------------------------------------------------------------------------------------------- replay record


@pytest.mark.parametrize("direction", ["out", "home"])
def test_replay__cubes_reattested_through_a_new_messenger_pair_after_a_swap__revert_already_received(
    world, cubes, remote_cubes, alice, bob, stranger, mined_cube, direction
):
    # Out, a second copy would be minted; home, the cube would be released twice (to another holder, had
    # it come home since). The bridge's own record refuses the transfer before either.
    message = world.move_cubes_out(alice, [mined_cube], to=bob)
    if direction == "home":
        message = world.send_cubes_home(bob, [mined_cube], to=stranger)
        world.deliver(message)
    bridge = world.bridge_at(message.receiver)
    fresh = world.swap_messengers()
    again = world.reattest(message, fresh)
    with reverts(bridge.AlreadyReceived, transferId=world.transfer_id(message)):
        world.deliver(again, to=fresh.home if direction == "home" else fresh.remote)
    if direction == "home":
        assert cubes.ownerOf(mined_cube) == stranger.address
        assert world.unlocked_sides(mined_cube) == ["home"]
    else:
        assert remote_cubes.ownerOf(mined_cube) == bob.address
        assert remote_cubes.balanceOf(bob) == 1
        assert world.unlocked_sides(mined_cube) == ["remote"]


def test_swap__cubes_in_flight__are_delivered_once_through_the_new_messenger_trusting_the_old_source(
    world, remote, remote_cubes, alice, bob, mined_cube
):
    message = world.send_cubes_out(alice, [mined_cube], to=bob)
    fresh = world.swap_messengers(trust_old=True)
    with reverts(remote.NotMessenger, caller=world.remote_messenger.address):
        world.deliver(message)
    assert world.unlocked_sides(mined_cube) == []
    world.deliver(message, to=fresh.remote)
    assert remote_cubes.ownerOf(mined_cube) == bob.address
    with reverts(fresh.remote.AlreadyExecuted, messageId=message.message_id):
        world.deliver(message, to=fresh.remote)
    again = world.forge(
        src=message.src_messenger, sender=message.sender, receiver=message.receiver, payload=message.payload
    )
    with reverts(remote.AlreadyReceived, transferId=world.transfer_id(message)):
        world.deliver(again, to=fresh.remote)
    assert world.unlocked_sides(mined_cube) == ["remote"]


# ----------------------------------------------------------------------------------- held transfers, refunds


@pytest.fixture
def held_out(world, remote, cubes, alice, bob, stranger, mined_cube, mint_cubes) -> tuple[Message, int, int]:
    """Alice sends her mined cube and a fresh tier-1 cube W to Bob; W already exists on the remote side
    (colluding signers minted a copy for the stranger), so the whole transfer is held there. Returns the
    message, the mined cube and W."""
    (w,) = mint_cubes(alice, 1, tier=1)
    forge_remote_copy(world, w, stranger, tier=1)
    message = world.send_cubes_out(alice, [mined_cube, w], to=bob)
    receipt = world.deliver(message)
    assert_held(receipt, remote, message, TOKEN_ALREADY_EXISTS)
    return message, mined_cube, w


@pytest.mark.parametrize("by", ["sender", "recipient"])
def test_refund__held_out_cubes__are_released_to_their_sender_at_home_with_their_data(
    world, home, remote, cubes, alice, bob, stranger, held_out, by
):
    message, cube, w = held_out
    data = {i: tuple(cubes.nodeData(i)) for i in (cube, w)}
    assert world.unlocked_sides(cube) == []  # held: on neither side
    assert world.remote_owner(cube) is None

    receipt, back = world.refund(message, alice if by == "sender" else bob)
    assert events(receipt, remote, "TransferRefundSent") == [
        {"transferId": world.transfer_id(message), "srcChainId": CHAIN_ID, "messageId": back.message_id}
    ]
    assert back.payload == as_refund(message.payload)
    assert world.unlocked_sides(cube) == []  # on its way back

    receipt = world.deliver(back)
    assert events(receipt, home, "TransferRefunded") == [
        {
            "transferId": transfer_id(CHAIN_ID, home, payload_nonce(message.payload)),
            "dstChainId": CHAIN_ID,
            "to": alice.address,
        }
    ]
    for cube_id in (cube, w):
        assert cubes.ownerOf(cube_id) == alice.address
        assert home.lockedFor(cube_id) == 0
        assert tuple(cubes.nodeData(cube_id)) == data[cube_id]
    assert (cubes.tierOf(cube), cubes.tierOf(w)) == (2, 1)
    assert world.unlocked_sides(cube) == ["home"]
    assert world.remote_owner(w) == stranger.address  # the forged copy is untouched
    assert home.outbox(payload_nonce(message.payload)) == NOTHING


def test_retry__held_out_cubes_while_one_still_exists_remotely__reverts_and_stays_held(
    world, remote, held_out
):
    message, cube, _ = held_out
    with reverts(world.remote_cubes.TokenAlreadyExists):
        world.retry(message)
    assert world.held(message)
    assert world.remote_owner(cube) is None


def test_refund__by_neither_sender_nor_recipient__reverts_not_sender_or_recipient(
    world, remote, stranger, held_out
):
    message, cube, _ = held_out
    with reverts(remote.NotSenderOrRecipient, caller=stranger.address):
        world.refund(message, stranger)
    assert world.held(message)
    assert world.unlocked_sides(cube) == []


def test_refund__then_retry__reverts_not_held_and_delivered_twice_releases_once(
    world, home, remote, cubes, alice, held_out
):
    message, cube, _ = held_out
    _, back = world.refund(message, alice)
    with reverts(remote.NotHeld, transferId=world.transfer_id(message)):
        world.retry(message)
    world.deliver(back)
    with reverts(world.home_messenger.AlreadyExecuted, messageId=back.message_id):
        world.deliver(back)
    again = world.forge(
        src=back.src_messenger, sender=back.sender, receiver=back.receiver, payload=back.payload
    )
    with reverts(home.NotRefundable, dstChainId=CHAIN_ID, nonce=payload_nonce(back.payload)):
        world.deliver(again)
    assert cubes.ownerOf(cube) == alice.address
    assert world.unlocked_sides(cube) == ["home"]


@pytest.mark.parametrize("by", ["sender", "recipient"])
def test_refund__held_home_cubes__are_re_minted_to_their_sender_with_their_tier_and_total_mined(
    world, home, remote, remote_cubes, cubes, alice, bob, stranger, abroad, mint_cubes, by
):
    # Bob holds `abroad` remotely, and a forged copy of Z (which never left Alice at home). He sends both
    # home to the stranger: Z is not locked for this chain, so the whole transfer is held at home.
    (z,) = mint_cubes(alice, 1, tier=3)
    forge_remote_copy(world, z, bob, tier=3, mined=5)
    mined = remote_cubes.totalMinedOf(abroad)
    assert mined == total_mined(cubes, abroad) > 0
    message = world.send_cubes_home(bob, [abroad, z], to=stranger)
    assert message.payload == cubes_payload(0, bob, stranger, [abroad, z], [2, 3], [mined, 5])
    assert world.unlocked_sides(abroad) == []
    receipt = world.deliver(message)
    assert_held(receipt, home, message, error_data("NotLockedFor(uint256,uint256)", z, CHAIN_ID))
    assert world.unlocked_sides(abroad) == []  # the release of both was undone: held
    assert home.lockedFor(abroad) == CHAIN_ID

    receipt, back = world.refund(message, bob if by == "sender" else stranger)
    assert events(receipt, home, "TransferRefundSent") == [
        {"transferId": world.transfer_id(message), "srcChainId": CHAIN_ID, "messageId": back.message_id}
    ]
    assert world.unlocked_sides(abroad) == []

    receipt = world.deliver(back)
    assert events(receipt, remote, "TransferRefunded") == [
        {"transferId": transfer_id(CHAIN_ID, remote, 0), "dstChainId": CHAIN_ID, "to": bob.address}
    ]
    assert (remote_cubes.ownerOf(abroad), remote_cubes.ownerOf(z)) == (bob.address, bob.address)
    assert (remote_cubes.tierOf(abroad), remote_cubes.totalMinedOf(abroad)) == (2, mined)
    assert (remote_cubes.tierOf(z), remote_cubes.totalMinedOf(z)) == (3, 5)
    assert world.unlocked_sides(abroad) == ["remote"]
    assert home.lockedFor(abroad) == CHAIN_ID
    assert cubes.ownerOf(z) == alice.address  # the original never moved
    assert remote.outbox(0) == NOTHING


def test_refund__of_cubes_never_sent__reverts_not_refundable_and_moves_nothing(
    world, home, remote, cubes, bob, stranger, abroad
):
    # Colluding signers forge refunds: at home, of the cube that is away (its transfer 0 was delivered,
    # but to Bob, not the stranger); remotely, of a transfer the remote bridge never sent.
    forged = world.forge(
        src=world.remote_messenger,
        sender=remote,
        receiver=home,
        payload=cubes_payload(0, stranger, stranger, [abroad], [2], [0], kind=REFUND),
    )
    with reverts(home.NotRefundable, dstChainId=CHAIN_ID, nonce=0):
        world.deliver(forged)
    forged = world.forge(
        src=world.home_messenger,
        sender=home,
        receiver=remote,
        payload=cubes_payload(9, stranger, stranger, [abroad + 1], [0], [0], kind=REFUND),
    )
    with reverts(remote.NotRefundable, dstChainId=CHAIN_ID, nonce=9):
        world.deliver(forged)
    assert cubes.ownerOf(abroad) == home.address
    assert world.remote_owner(abroad + 1) is None
    assert world.unlocked_sides(abroad) == ["remote"]


# ----------------------------------------------------------------------------------------- the largest batch


@pytest.fixture
def batch(cubes, alice, mint_cubes, advance, world) -> list[int]:
    """MAX_CUBES cold cubes of Alice's, 100 of each tier, each with some LBC mined (claimed), the home
    bridge approved for all of them."""
    ids = [cube_id for tier in range(4) for cube_id in mint_cubes(alice, MAX_CUBES // 4, tier=tier)]
    advance(1_000)
    cubes.batchClaimRewards(ids, sender=alice)
    cubes.setApprovalForAll(world.cube_bridge, True, sender=alice)
    return ids


def test_max_batch__400_cubes_out_and_back__each_delivery_within_half_a_block(
    world, cubes, remote_cubes, alice, bob, newcomer, batch, record_property
):
    data = {i: (cubes.tierOf(i), total_mined(cubes, i)) for i in batch}
    out = world.send_cubes_out(alice, batch, to=bob, approve=False)
    delivered = world.deliver(out)
    assert delivered.gas_used <= HALF_A_BLOCK
    record_property("gas: deliver 400 cubes at the remote (mint)", delivered.gas_used)
    assert remote_cubes.balanceOf(bob) == MAX_CUBES
    for cube_id in (batch[0], batch[150], batch[-1]):
        assert (remote_cubes.tierOf(cube_id), remote_cubes.totalMinedOf(cube_id)) == data[cube_id]
        assert world.unlocked_sides(cube_id) == ["remote"]

    back = world.send_cubes_home(bob, batch, to=newcomer)
    assert back.payload == cubes_payload(
        0, bob, newcomer, batch, [data[i][0] for i in batch], [data[i][1] for i in batch]
    )
    delivered = world.deliver(back)
    assert delivered.gas_used <= HALF_A_BLOCK
    record_property("gas: deliver 400 cubes at home (release)", delivered.gas_used)
    assert cubes.balanceOf(newcomer) == MAX_CUBES
    assert cubes.ownersOf(batch) == [newcomer.address] * MAX_CUBES


def test_max_batch__400_cubes_held_both_ways__each_refund_delivered_within_half_a_block(
    world, cubes, remote_cubes, alice, bob, newcomer, batch, record_property
):
    # The last cube of the batch has a remote copy already (Bob's, minted by colluding signers): out, the
    # whole batch is held at the remote side; home, that cube is not locked for the route and the whole
    # batch is held at home. Each time the sender refunds, and the refund moves all 400 cubes.
    last = batch[-1]
    forge_remote_copy(world, last, bob, tier=3)
    out = world.send_cubes_out(alice, batch, to=bob, approve=False)
    receipt = world.deliver(out)
    assert_held(receipt, world.remote_cube_bridge, out, TOKEN_ALREADY_EXISTS)
    receipt, back = world.refund(out, alice)
    record_property("gas: refund 400 cubes at the remote (send)", receipt.gas_used)
    delivered = world.deliver(back)
    assert delivered.gas_used <= HALF_A_BLOCK
    record_property("gas: deliver the refund of 400 cubes at home (release)", delivered.gas_used)
    assert cubes.ownersOf(batch) == [alice.address] * MAX_CUBES

    world.deliver(world.send_cubes_out(alice, batch[:-1], to=bob, approve=False))
    assert remote_cubes.balanceOf(bob) == MAX_CUBES  # 399 and the forged copy
    home_bound = world.send_cubes_home(bob, batch, to=newcomer)
    receipt = world.deliver(home_bound)
    assert_held(
        receipt, world.cube_bridge, home_bound, error_data("NotLockedFor(uint256,uint256)", last, CHAIN_ID)
    )
    receipt, back = world.refund(home_bound, bob)
    record_property("gas: refund 400 cubes at home (send)", receipt.gas_used)
    delivered = world.deliver(back)
    assert delivered.gas_used <= HALF_A_BLOCK
    record_property("gas: deliver the refund of 400 cubes at the remote (mint)", delivered.gas_used)
    assert remote_cubes.balanceOf(bob) == MAX_CUBES
    assert cubes.balanceOf(newcomer) == 0
    assert [world.unlocked_sides(i) for i in (batch[0], batch[200], batch[-2])] == [["remote"]] * 3


# The project's own gas setting for Polygon (ape-config.yaml: gas_limit auto, multiplier 1.2), which the
# relayer (link_ops.bridge.relayer) uses for every delivery.
LIVE_GAS_MULTIPLIER = 1.2


def test_deliver__a_large_batch_with_the_gas_eth_estimate_gas_names__executes_it_instead_of_holding_it(
    world, remote, remote_cubes, alice, bob, cubes, mint_cubes
):
    ids = mint_cubes(alice, 100, tier=1)
    cubes.setApprovalForAll(world.cube_bridge, True, sender=alice)
    out = world.send_cubes_out(alice, ids, to=bob, approve=False)
    messenger = world.destination(out)
    signatures = world.signatures(out)
    estimate = messenger.deliver.estimate_gas_cost(out.as_tuple(), signatures, sender=world.relayer)
    receipt = world.deliver(out, signatures, gas_limit=int(estimate * LIVE_GAS_MULTIPLIER))
    assert events(receipt, remote, "TransferHeld") == []
    assert remote_cubes.balanceOf(bob) == 100


def test_deliver__too_little_gas_for_the_transfer__reverts_not_enough_gas_and_holds_nothing(
    world, remote, remote_cubes, alice, bob, cubes, mint_cubes
):
    # Enough for the messenger and the hold, not for minting 100 cubes: a relayer cannot force a hold.
    ids = mint_cubes(alice, 100, tier=1)
    cubes.setApprovalForAll(world.cube_bridge, True, sender=alice)
    out = world.send_cubes_out(alice, ids, to=bob, approve=False)
    with reverts(remote.NotEnoughGas):
        world.deliver(out, gas_limit=1_000_000)
    assert remote_cubes.balanceOf(bob) == 0
    assert not world.executed(out)
    world.deliver(out)  # with the gas it needs, it executes
    assert remote_cubes.balanceOf(bob) == 100


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


@pytest.mark.parametrize("side", ["home", "remote"])
def test_pause__a_guardian_with_only_the_pauser_role__pauses_and_cannot_unpause(
    request, side, admin, operator
):
    bridge = request.getfixturevalue(side)
    bridge.grantRole(PAUSER_ROLE, operator, sender=admin)
    bridge.pause(sender=operator)
    with reverts(
        bridge.AccessControlUnauthorizedAccount, account=operator.address, neededRole=DEFAULT_ADMIN_ROLE
    ):
        bridge.unpause(sender=operator)
    assert bridge.paused()


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
def test_remote_cube__tier_above_3_or_total_mined_from_2_pow_94__is_held_invalid_cube_data(
    world, remote, remote_cubes, home, stranger, tier, mined
):
    # Only a forged message can carry such data: the home cubes have 4 tiers and mine far less.
    forged = world.forge(
        src=world.home_messenger,
        sender=home,
        receiver=remote,
        payload=cubes_payload(10**6, stranger, stranger, [77], [tier], [mined]),
    )
    receipt = world.deliver(forged)
    assert_held(receipt, remote, forged, error_data("InvalidCubeData(uint8,uint256)", tier, mined))
    assert world.remote_owner(77) is None
    with reverts(remote_cubes.InvalidCubeData, tier=tier, totalMined=mined):
        world.retry(forged)


def test_remote_cube__the_largest_data__is_stored_exactly(world, remote, remote_cubes, home, stranger):
    forged = world.forge(
        src=world.home_messenger,
        sender=home,
        receiver=remote,
        payload=cubes_payload(10**6, stranger, stranger, [77, 78], [3, 0], [MINED_LIMIT - 1, 1]),
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
        payload=cubes_payload(10**6, stranger, stranger, [5], [1], [0]),
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
