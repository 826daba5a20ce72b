"""PartnerBenefits clones: terms read back from code, per-tier benefits, the one-time welcome grant and the
partner's withdrawal of what is left (see IPartnerBenefits.sol).

The module's world: alice holds cubes of tiers 0, 0 and 2, bob of tiers 1 and 3, all minted before the
partner "cafe-seoul" was onboarded with a welcome grant of AMOUNT per cube, funded in a mock ERC-20.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from _errors import reverts
from hexbytes import HexBytes

from link_ops.testing import isolated

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
AMOUNT = 7 * 10**18
WINDOW = 30 * 86_400
DISCOUNTS = (0, 1_234, 5_000, 10_000)
LONG_NAME = "a-service-name-of-32-bytes-long!"
UINT256_MAX = 2**256 - 1


def name(text: str | bytes) -> bytes:
    """A partner id or service name: UTF-8, left-aligned, zero-padded to 32 bytes."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    assert 0 < len(raw) <= 32
    return raw.ljust(32, b"\x00")


SERVICES = (name(LONG_NAME), name("x"), name("coffee"), name("카페"), name(b"a\x00b"))


@dataclass
class World:
    clone: object
    receipt: object
    partner_id: bytes
    alice_ids: list[int]
    bob_ids: list[int]
    tiers: dict[int, int]
    snapshot: int
    deadline: int
    funded: int


# --------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def onboard(project, factory, token, admin, partner, cubes):
    """Funds the admin and creates a partner; returns (clone, receipt)."""

    def onboard(
        partner_id: bytes,
        amount: int = AMOUNT,
        window: int = WINDOW,
        discounts=DISCOUNTS,
        services=SERVICES,
        welcome_token=None,
    ):
        welcome = token if welcome_token is None else welcome_token
        funded = amount * cubes.totalMinted()
        if funded:
            welcome.mint(admin, funded, sender=admin)
            welcome.approve(factory, funded, sender=admin)
        terms = (
            partner.address,
            getattr(welcome, "address", welcome),
            amount,
            window,
            list(discounts),
            list(services),
        )
        receipt = factory.createPartner(partner_id, terms, sender=admin)
        return project.PartnerBenefits.at(factory.partnerOf(partner_id)), receipt

    return onboard


@pytest.fixture(scope="module")
def world(onboard, cubes, admin, alice, bob, token) -> World:
    tiers: dict[int, int] = {}

    def mint(to, tier: int, quantity: int = 1) -> list[int]:
        first = cubes.totalMinted() + 1
        cubes.mintBatch(to, tier, quantity, sender=admin)
        ids = list(range(first, first + quantity))
        tiers.update(dict.fromkeys(ids, tier))
        return ids

    alice_ids = mint(alice, 0, 2) + mint(alice, 2)
    bob_ids = mint(bob, 1) + mint(bob, 3)
    snapshot = cubes.totalMinted()
    clone, receipt = onboard(name("cafe-seoul"))
    return World(
        clone=clone,
        receipt=receipt,
        partner_id=name("cafe-seoul"),
        alice_ids=alice_ids,
        bob_ids=bob_ids,
        tiers=tiers,
        snapshot=snapshot,
        deadline=receipt.timestamp + WINDOW,
        funded=AMOUNT * snapshot,
    )


@pytest.fixture(scope="module", autouse=True)
def _wider_fixtures_first(admin, alice, bob, operator, stranger, cubes, factory, token, partner, world):
    """Resolves every session/module fixture before the first test's snapshot (ape's isolation wants
    wider scopes set up first)."""


@pytest.fixture
def clone(world):
    return world.clone


@pytest.fixture
def implementation(project, factory):
    return project.PartnerBenefits.at(factory.implementation())


def welcome_events(receipt, clone) -> list[tuple[str, int, int]]:
    return [
        (log.event_arguments["holder"], log.event_arguments["cubeCount"], log.event_arguments["amount"])
        for log in receipt.decode_logs(clone.WelcomeClaimed)
        if log.contract_address == clone.address
    ]


def withdraw_events(receipt, clone) -> list[tuple[str, int]]:
    return [
        (log.event_arguments["partner"], log.event_arguments["amount"])
        for log in receipt.decode_logs(clone.UnclaimedWithdrawn)
        if log.contract_address == clone.address
    ]


def token_transfers(receipt, token) -> list[tuple[str, str, int]]:
    return [
        (log.event_arguments["from"], log.event_arguments["to"], log.event_arguments["value"])
        for log in receipt.decode_logs(token.Transfer)
        if log.contract_address == token.address
    ]


def claimed(clone, ids) -> list[bool]:
    return [clone.welcomeClaimed(i) for i in ids]


# --------------------------------------------------------------------------------------------- terms


def test_views__return_the_terms_exactly(clone, world, partner, token):
    assert bytes(clone.partnerId()) == name("cafe-seoul")
    assert clone.partner() == partner.address
    assert clone.welcomeToken() == token.address
    assert clone.welcomeAmountPerCube() == AMOUNT
    assert clone.snapshotCubeId() == world.snapshot
    assert clone.claimDeadline() == world.deadline
    assert [clone.discountBps(t) for t in range(4)] == list(DISCOUNTS)


def test_services__in_order_with_32_byte_1_byte_and_multibyte_names_exact(clone):
    assert len(LONG_NAME.encode()) == 32
    services = [bytes(s) for s in clone.services()]
    assert services == list(SERVICES)
    assert services[0] == LONG_NAME.encode()
    assert services[1] == b"x" + b"\x00" * 31


def test_views__terms_match_the_partner_created_event(clone, world, factory):
    (event,) = [
        log.event_arguments
        for log in world.receipt.decode_logs(factory.PartnerCreated)
        if log.contract_address == factory.address
    ]
    assert event["partnerAddress"] == clone.address
    assert event["partnerId"] == HexBytes(clone.partnerId())
    assert event["partner"] == clone.partner()
    assert event["welcomeToken"] == clone.welcomeToken()
    assert event["welcomeAmountPerCube"] == clone.welcomeAmountPerCube()
    assert event["snapshotCubeId"] == clone.snapshotCubeId()
    assert event["claimDeadline"] == clone.claimDeadline()
    assert event["funded"] == world.funded


def test_views__longest_partner_id_and_single_service__read_back_exactly(onboard):
    partner_id = name("p" * 31 + "!")
    clone, _ = onboard(partner_id, services=[name("z")], discounts=(1, 2, 3, 4))
    assert bytes(clone.partnerId()) == partner_id
    assert [bytes(s) for s in clone.services()] == [name("z")]
    assert [clone.discountBps(t) for t in range(4)] == [1, 2, 3, 4]


def test_views__two_partners__keep_their_own_terms(onboard, clone, world, alice):
    other, _ = onboard(name("cafe-busan"), amount=3, window=5, discounts=(9, 8, 7, 6), services=[name("tea")])
    assert bytes(other.partnerId()) == name("cafe-busan")
    assert [bytes(s) for s in other.services()] == [name("tea")]
    assert [other.discountBps(t) for t in range(4)] == [9, 8, 7, 6]
    assert other.welcomeAmountPerCube() == 3
    # Claiming on one partner leaves the other's bitmap alone.
    other.claimWelcome(world.alice_ids, sender=alice)
    assert claimed(clone, world.alice_ids) == [False] * 3
    assert claimed(other, world.alice_ids) == [True] * 3
    assert bytes(clone.partnerId()) == name("cafe-seoul")


def test_clone__is_an_erc1167_proxy_to_the_implementation_followed_by_the_terms(clone, factory, chain):
    code = bytes(chain.provider.get_code(clone.address))
    implementation = bytes.fromhex(factory.implementation()[2:])
    proxy = (
        bytes.fromhex("363d3d373d3d3d363d73")
        + implementation
        + bytes.fromhex("5af43d82803e903d91602b57fd5bf3")
    )
    assert code[:45] == proxy
    assert code[45:65] == bytes.fromhex(clone.partner()[2:])


@pytest.mark.parametrize("tier", [4, 5, 255])
def test_discount_bps__tier_above_3__reverts_invalid_tier(clone, tier):
    with reverts(clone.InvalidTier, tier=tier):
        clone.discountBps(tier)


# --------------------------------------------------------------------------------------------- benefitOf


def test_benefit_of__existing_active_cube__is_eligible_with_its_tiers_discount(clone, world):
    for cube_id, tier in world.tiers.items():
        assert tuple(clone.benefitOf(cube_id)) == (True, DISCOUNTS[tier]), cube_id


def test_benefit_of__deactivated_cube__is_not_eligible_until_reactivated(clone, world, cubes, admin):
    cube_id = world.bob_ids[1]  # tier 3: 10,000 bps while active
    cubes.setActive(cube_id, False, sender=admin)
    assert tuple(clone.benefitOf(cube_id)) == (False, 0)
    assert tuple(clone.benefitOf(world.bob_ids[0])) == (True, DISCOUNTS[1])
    cubes.setActive(cube_id, True, sender=admin)
    assert tuple(clone.benefitOf(cube_id)) == (True, DISCOUNTS[3])


def test_benefit_of__id_zero_and_unknown_ids__are_not_eligible(clone, cubes):
    for cube_id in (0, cubes.totalMinted() + 1, 2**32 - 1, 2**32, UINT256_MAX):
        assert tuple(clone.benefitOf(cube_id)) == (False, 0), cube_id


def test_benefit_of__cube_minted_after_onboarding__is_eligible_but_not_entitled_to_the_welcome(
    clone, world, cubes, admin, alice, mint_cubes
):
    (late,) = mint_cubes(alice, 1, tier=2)
    assert late > world.snapshot
    assert tuple(clone.benefitOf(late)) == (True, DISCOUNTS[2])
    with reverts(clone.NotEntitled, cubeId=late, snapshotCubeId=world.snapshot):
        clone.claimWelcome([late], sender=alice)


# --------------------------------------------------------------------------------------------- not a clone


def test_implementation__rejects_every_view_with_not_a_clone(implementation):
    for call in (
        implementation.partnerId,
        implementation.partner,
        implementation.services,
        implementation.welcomeToken,
        implementation.welcomeAmountPerCube,
        implementation.snapshotCubeId,
        implementation.claimDeadline,
        lambda: implementation.discountBps(0),
        lambda: implementation.benefitOf(1),
        lambda: implementation.welcomeClaimed(1),
    ):
        with reverts(implementation.NotAClone):
            call()


def test_implementation__rejects_claims_and_withdrawals_with_not_a_clone(
    implementation, world, alice, partner, advance
):
    with reverts(implementation.NotAClone):
        implementation.claimWelcome(world.alice_ids, sender=alice)
    advance(WINDOW + 1)
    with reverts(implementation.NotAClone):
        implementation.withdrawUnclaimed(sender=partner)


# --------------------------------------------------------------------------------------------- claimWelcome


def test_claim_welcome__pays_the_amount_per_cube_to_the_holder_and_emits_welcome_claimed(
    clone, world, alice, token
):
    receipt = clone.claimWelcome(world.alice_ids, sender=alice)
    paid = AMOUNT * len(world.alice_ids)
    assert receipt.return_value == paid
    assert welcome_events(receipt, clone) == [(alice.address, len(world.alice_ids), paid)]
    assert token_transfers(receipt, token) == [(clone.address, alice.address, paid)]
    assert token.balanceOf(alice) == paid
    assert token.balanceOf(clone) == world.funded - paid


def test_claim_welcome__flips_welcome_claimed_for_exactly_the_claimed_cubes(clone, world, alice):
    assert claimed(clone, [0, *world.alice_ids, *world.bob_ids]) == [False] * 6
    clone.claimWelcome(world.alice_ids[:2], sender=alice)
    assert claimed(clone, world.alice_ids) == [True, True, False]
    assert claimed(clone, [0, *world.bob_ids, world.snapshot + 1]) == [False] * 4


def test_claim_welcome__same_cube_again__pays_nothing_and_does_not_revert(clone, world, alice, token):
    clone.claimWelcome(world.alice_ids, sender=alice)
    balance = token.balanceOf(alice)
    receipt = clone.claimWelcome(world.alice_ids, sender=alice)
    assert receipt.return_value == 0
    assert welcome_events(receipt, clone) == [(alice.address, 0, 0)]
    assert token_transfers(receipt, token) == []
    assert token.balanceOf(alice) == balance


def test_claim_welcome__mixed_claimed_and_unclaimed__pays_only_the_unclaimed(clone, world, alice, token):
    first, second, third = world.alice_ids
    clone.claimWelcome([second], sender=alice)
    receipt = clone.claimWelcome([first, second, third], sender=alice)
    assert welcome_events(receipt, clone) == [(alice.address, 2, 2 * AMOUNT)]
    assert token.balanceOf(alice) == 3 * AMOUNT


def test_claim_welcome__after_a_transfer__new_holder_gets_nothing_for_a_claimed_cube_but_an_unclaimed_one(
    clone, world, alice, bob, cubes, token
):
    claimed_id, unclaimed_id = world.alice_ids[0], world.alice_ids[1]
    clone.claimWelcome([claimed_id], sender=alice)
    for cube_id in (claimed_id, unclaimed_id):
        cubes.transferFrom(alice, bob, cube_id, sender=alice)
    receipt = clone.claimWelcome([claimed_id], sender=bob)
    assert welcome_events(receipt, clone) == [(bob.address, 0, 0)]
    assert token.balanceOf(bob) == 0
    receipt = clone.claimWelcome([claimed_id, unclaimed_id], sender=bob)
    assert welcome_events(receipt, clone) == [(bob.address, 1, AMOUNT)]
    assert token.balanceOf(bob) == AMOUNT
    # The previous holder no longer holds it.
    with reverts(clone.NotCubeOwner, cubeId=unclaimed_id, caller=alice.address):
        clone.claimWelcome([unclaimed_id], sender=alice)


def test_claim_welcome__duplicates_in_one_list__pay_once(clone, world, alice, token):
    a, b, c = world.alice_ids
    receipt = clone.claimWelcome([a, b, a, a, c, b], sender=alice)
    assert welcome_events(receipt, clone) == [(alice.address, 3, 3 * AMOUNT)]
    assert token.balanceOf(alice) == 3 * AMOUNT


def test_claim_welcome__empty_list__pays_nothing(clone, alice, token):
    receipt = clone.claimWelcome([], sender=alice)
    assert welcome_events(receipt, clone) == [(alice.address, 0, 0)]
    assert token_transfers(receipt, token) == []


@pytest.mark.parametrize("position", ["first", "last"])
def test_claim_welcome__a_foreign_cube__reverts_not_cube_owner_and_pays_nothing(
    clone, world, alice, token, position
):
    foreign = world.bob_ids[0]
    ids = [foreign, *world.alice_ids] if position == "first" else [*world.alice_ids, foreign]
    with reverts(clone.NotCubeOwner, cubeId=foreign, caller=alice.address):
        clone.claimWelcome(ids, sender=alice)
    assert claimed(clone, [*world.alice_ids, foreign]) == [False] * 4
    assert token.balanceOf(alice) == 0
    assert token.balanceOf(clone) == world.funded


def test_claim_welcome__stranger_without_cubes__reverts_not_cube_owner(clone, world, stranger):
    with reverts(clone.NotCubeOwner, cubeId=world.alice_ids[0], caller=stranger.address):
        clone.claimWelcome([world.alice_ids[0]], sender=stranger)


def test_claim_welcome__cube_minted_after_onboarding__reverts_not_entitled_for_the_whole_batch(
    clone, world, alice, mint_cubes, token
):
    (late,) = mint_cubes(alice, 1)
    with reverts(clone.NotEntitled, cubeId=late, snapshotCubeId=world.snapshot):
        clone.claimWelcome([*world.alice_ids, late], sender=alice)
    assert claimed(clone, world.alice_ids) == [False] * 3
    assert token.balanceOf(alice) == 0


@pytest.mark.parametrize("cube_id", [0, "snapshot + 1", 2**32, UINT256_MAX])
def test_claim_welcome__id_zero_or_beyond_the_snapshot__reverts_not_entitled(clone, world, alice, cube_id):
    if cube_id == "snapshot + 1":
        cube_id = world.snapshot + 1
    with reverts(clone.NotEntitled, cubeId=cube_id, snapshotCubeId=world.snapshot):
        clone.claimWelcome([world.alice_ids[0], cube_id], sender=alice)
    assert not clone.welcomeClaimed(world.alice_ids[0])


def test_claim_welcome__at_the_deadline__still_pays(clone, world, alice, chain, token):
    chain.pending_timestamp = world.deadline
    receipt = clone.claimWelcome(world.alice_ids, sender=alice)
    assert receipt.timestamp == world.deadline
    assert token.balanceOf(alice) == 3 * AMOUNT


def test_claim_welcome__after_the_deadline__reverts_claim_window_closed(clone, world, alice, chain, token):
    chain.pending_timestamp = world.deadline + 1
    with reverts(clone.ClaimWindowClosed, deadline=world.deadline):
        clone.claimWelcome(world.alice_ids, sender=alice)
    assert claimed(clone, world.alice_ids) == [False] * 3
    assert token.balanceOf(alice) == 0


def test_claim_welcome__ids_across_a_256_boundary__are_all_recorded(onboard, cubes, admin, alice, token):
    first = cubes.totalMinted() + 1
    if first <= 270:
        cubes.mintBatch(alice, 0, 271 - first, sender=admin)
    clone, _ = onboard(name("boundary"))
    ids = list(range(250, 261))
    receipt = clone.claimWelcome(ids, sender=alice)
    assert welcome_events(receipt, clone) == [(alice.address, 11, 11 * AMOUNT)]
    assert claimed(clone, range(248, 263)) == [False, False] + [True] * 11 + [False, False]
    # Back and forth across the boundary in one list, with repeats: each new cube pays once.
    receipt = clone.claimWelcome([255, 262, 249, 256, 261, 248, 262, 249], sender=alice)
    assert welcome_events(receipt, clone) == [(alice.address, 4, 4 * AMOUNT)]
    assert claimed(clone, range(247, 264)) == [False] + [True] * 15 + [False]
    assert token.balanceOf(alice) == 15 * AMOUNT


def test_claim_welcome__gas_per_additional_contiguous_cube__is_at_most_3500(
    onboard, cubes, admin, alice, chain
):
    first = cubes.totalMinted() + 1
    cubes.mintBatch(alice, 0, 110, sender=admin)
    ids = list(range(first, first + 110))
    assert ids[0] >> 8 == ids[-1] >> 8, "the ids should share one bitmap word"
    clone, _ = onboard(name("gas"))
    # Both claims start from the same state (fresh bitmap, holder without tokens).
    with isolated(chain):
        ten = clone.claimWelcome(ids[:10], sender=alice)
    with isolated(chain):
        hundred_ten = clone.claimWelcome(ids, sender=alice)
    assert welcome_events(ten, clone)[0][1:] == (10, 10 * AMOUNT)
    assert welcome_events(hundred_ten, clone)[0][1:] == (110, 110 * AMOUNT)
    per_cube = (hundred_ten.gas_used - ten.gas_used) / 100
    assert 0 < per_cube <= 3_500, per_cube


def test_claim_welcome__token_calls_back_into_the_claim__the_same_cubes_pay_nothing_twice(
    project, onboard, cubes, admin, alice
):
    """Any ERC-20 may be the welcome token, one that calls the recipient back (ERC-777 style) included:
    the claim marks every cube before it pays, so a claim made from inside the payment finds them all
    claimed and pays nothing."""
    holder = project.ReentrantHolder.deploy(sender=admin)
    first = cubes.totalMinted() + 1
    cubes.mintBatch(holder, 1, 3, sender=admin)
    ids = [first, first + 1, first + 2]
    callback = project.CallbackERC20.deploy(sender=admin)
    clone, _ = onboard(name("reentrant-token"), welcome_token=callback)
    funded = callback.balanceOf(clone)
    assert funded > 6 * AMOUNT  # enough to pay the cubes twice: only the contract can refuse
    callback.setNotified(holder, True, sender=admin)

    receipt = holder.claim(clone, ids, sender=alice)

    assert holder.reentries() == 1 and holder.reentrantError() == b""
    assert holder.reentrantPaid() == 0
    # The claim from inside the payment ends (and logs) first.
    assert welcome_events(receipt, clone) == [(holder.address, 0, 0), (holder.address, 3, 3 * AMOUNT)]
    assert callback.balanceOf(holder) == 3 * AMOUNT
    assert callback.balanceOf(clone) == funded - 3 * AMOUNT
    assert claimed(clone, ids) == [True] * 3


def test_claim_welcome__partner_without_a_grant__records_claims_and_pays_nothing(
    onboard, world, alice, token, chain
):
    clone, _ = onboard(name("free-wifi"), amount=0, welcome_token=ZERO_ADDRESS)
    receipt = clone.claimWelcome(world.alice_ids, sender=alice)
    assert welcome_events(receipt, clone) == [(alice.address, 3, 0)]
    assert claimed(clone, world.alice_ids) == [True] * 3


# --------------------------------------------------------------------------------------------- withdraw


@pytest.mark.parametrize("who", ["admin", "alice", "stranger"])
def test_withdraw_unclaimed__not_the_partner__reverts_not_partner(
    clone, world, partner, advance, request, who
):
    caller = request.getfixturevalue(who)
    with reverts(clone.NotPartner, caller=caller.address, partner=partner.address):
        clone.withdrawUnclaimed(sender=caller)
    advance(WINDOW + 1)
    with reverts(clone.NotPartner, caller=caller.address, partner=partner.address):
        clone.withdrawUnclaimed(sender=caller)


def test_withdraw_unclaimed__before_or_at_the_deadline__reverts_claim_window_open(
    clone, world, partner, chain, token
):
    with reverts(clone.ClaimWindowOpen, deadline=world.deadline):
        clone.withdrawUnclaimed(sender=partner)
    chain.pending_timestamp = world.deadline
    with reverts(clone.ClaimWindowOpen, deadline=world.deadline):
        clone.withdrawUnclaimed(sender=partner)
    assert token.balanceOf(clone) == world.funded
    assert token.balanceOf(partner) == 0


def test_withdraw_unclaimed__after_the_deadline__sends_the_whole_remainder_to_the_partner(
    clone, world, partner, alice, bob, chain, token
):
    clone.claimWelcome(world.alice_ids, sender=alice)
    clone.claimWelcome(world.bob_ids[:1], sender=bob)
    paid = token.balanceOf(alice) + token.balanceOf(bob)
    assert paid == 4 * AMOUNT
    chain.pending_timestamp = world.deadline + 1
    receipt = clone.withdrawUnclaimed(sender=partner)
    withdrawn = world.funded - paid
    assert receipt.return_value == withdrawn
    assert withdraw_events(receipt, clone) == [(partner.address, withdrawn)]
    assert token_transfers(receipt, token) == [(clone.address, partner.address, withdrawn)]
    assert token.balanceOf(partner) == withdrawn
    assert token.balanceOf(clone) == 0
    assert paid + withdrawn == world.funded


def test_withdraw_unclaimed__nothing_claimed__returns_everything_funded(
    clone, world, partner, advance, token
):
    advance(WINDOW + 1)
    clone.withdrawUnclaimed(sender=partner)
    assert token.balanceOf(partner) == world.funded


def test_withdraw_unclaimed__twice__second_sends_nothing(clone, world, partner, advance, token):
    advance(WINDOW + 1)
    clone.withdrawUnclaimed(sender=partner)
    receipt = clone.withdrawUnclaimed(sender=partner)
    assert withdraw_events(receipt, clone) == [(partner.address, 0)]
    assert token_transfers(receipt, token) == []
    assert token.balanceOf(partner) == world.funded


def test_withdraw_unclaimed__everything_claimed__sends_nothing(
    clone, world, partner, alice, bob, advance, token
):
    clone.claimWelcome(world.alice_ids, sender=alice)
    clone.claimWelcome(world.bob_ids, sender=bob)
    assert token.balanceOf(clone) == 0
    advance(WINDOW + 1)
    receipt = clone.withdrawUnclaimed(sender=partner)
    assert withdraw_events(receipt, clone) == [(partner.address, 0)]
    assert token.balanceOf(alice) + token.balanceOf(bob) == world.funded


def test_withdraw_unclaimed__partner_without_a_grant__withdraws_zero(onboard, partner, advance):
    clone, _ = onboard(name("free-wifi"), amount=0, welcome_token=ZERO_ADDRESS)
    advance(WINDOW + 1)
    receipt = clone.withdrawUnclaimed(sender=partner)
    assert withdraw_events(receipt, clone) == [(partner.address, 0)]
