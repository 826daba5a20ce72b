"""OptimizedCubeManagement: the CUBE ERC-721 collection that mines LBC (see IOptimizedCubeManagement.sol).

Every amount is exact: expected rewards are rate * seconds, with the seconds read from the timestamps of
the blocks that (re)started accrual and of the block that claims.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import pytest
from _errors import reverts
from eth_utils import keccak
from hexbytes import HexBytes

from link_ops.model import layout
from link_ops.protocol.deploy import DEFAULT_TIER_RATES, deploy_protocol
from link_ops.testing import isolated

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
UNIT = 10**12
MAX_RATE = (2**23 - 1) * UNIT
MAX_CUBE_ID = 2**32 - 1
DEFAULT_ADMIN_ROLE = HexBytes(b"\x00" * 32)
MINTER_ROLE = HexBytes(keccak(text="MINTER_ROLE"))
OPERATOR_ROLE = HexBytes(keccak(text="OPERATOR_ROLE"))
PAUSER_ROLE = HexBytes(keccak(text="PAUSER_ROLE"))
R0, R1, R2, R3 = DEFAULT_TIER_RATES


# --------------------------------------------------------------------------------------------- helpers


class _Any:
    """Matches any error input; check the value afterwards through `Caught.error`."""

    def __eq__(self, other: object) -> bool:
        return True

    def __repr__(self) -> str:
        return "ANY"


ANY = _Any()


class Node(NamedTuple):
    total_mined: int
    last_claim_time: int
    cube_id: int
    active: bool


def node(cubes, cube_id: int) -> Node:
    return Node(*cubes.nodeData(cube_id))


def lbc_transfers(receipt, lbc) -> list[tuple[str, str, int]]:
    """(from, to, value) of every LBC Transfer in `receipt`."""
    return [
        (log.event_arguments["from"], log.event_arguments["to"], log.event_arguments["value"])
        for log in receipt.events
        if log.contract_address == lbc.address
    ]


def cube_events(receipt, cubes) -> list[tuple[str, dict]]:
    """(name, arguments) of every event the cube contract emitted in `receipt`."""
    return [
        (log.event_name, dict(log.event_arguments))
        for log in receipt.events
        if log.contract_address == cubes.address
    ]


def accrual(schedule: Sequence[tuple[int, int]], start: int, end: int) -> int:
    """Wei one always-active cube earns from `start` to `end` under `schedule`: (from_time, wei/s), sorted."""
    total = 0
    for i, (since, rate) in enumerate(schedule):
        until = schedule[i + 1][0] if i + 1 < len(schedule) else end
        lo, hi = max(since, start), min(until, end)
        if hi > lo:
            total += rate * (hi - lo)
    return total


def storage_word(chain, cubes, cube_id: int) -> int:
    raw = chain.provider.get_storage(cubes.address, layout.ownership_slot(cube_id))
    return int.from_bytes(bytes(raw), "big")


@pytest.fixture
def grant(cubes, admin):
    def grant(role: bytes, account) -> None:
        cubes.grantRole(role, account, sender=admin)

    return grant


# --------------------------------------------------------------------------------------------- deployment


def test_protocol__deployed__cubes_hold_lbc_minter_role_and_default_rates(lbc, cubes, default_rates):
    assert lbc.hasRole(lbc.MINTER_ROLE(), cubes.address)
    assert cubes.lbcToken() == lbc.address
    assert [cubes.tierRate(t) for t in range(4)] == list(default_rates)
    assert default_rates == (11 * UNIT, 23 * UNIT, 58 * UNIT, 116 * UNIT)


def test_constants__unit_tiers_and_roles(cubes):
    assert cubes.REWARD_UNIT() == UNIT
    assert cubes.tierCount() == 4
    assert cubes.MINTER_ROLE() == MINTER_ROLE
    assert cubes.OPERATOR_ROLE() == OPERATOR_ROLE
    assert cubes.PAUSER_ROLE() == PAUSER_ROLE
    assert cubes.DEFAULT_ADMIN_ROLE() == DEFAULT_ADMIN_ROLE


def test_name_and_symbol__are_cube(cubes):
    assert cubes.name() == "CUBE"
    assert cubes.symbol() == "CUBE"


def test_constructor__zero_admin__reverts_invalid_default_admin(project, admin, lbc, cubes, failing_deployer):
    with reverts(cubes.AccessControlInvalidDefaultAdmin, defaultAdmin=ZERO_ADDRESS):
        project.OptimizedCubeManagement.deploy(ZERO_ADDRESS, lbc, sender=failing_deployer)


def test_constructor__zero_lbc_token__reverts_zero_address(project, admin, cubes, failing_deployer):
    with reverts(cubes.ZeroAddress):
        project.OptimizedCubeManagement.deploy(admin, ZERO_ADDRESS, sender=failing_deployer)


def test_constructor__lbc_token_without_code__reverts_zero_address(
    project, admin, alice, cubes, failing_deployer
):
    # A claim must never "pay" into an address that cannot mint.
    with reverts(cubes.ZeroAddress):
        project.OptimizedCubeManagement.deploy(admin, alice.address, sender=failing_deployer)


def test_constructor__admin__holds_all_four_roles_and_the_deployer_none(project, admin, alice, lbc):
    fresh = project.OptimizedCubeManagement.deploy(alice, lbc, sender=admin)
    for role in (DEFAULT_ADMIN_ROLE, MINTER_ROLE, OPERATOR_ROLE, PAUSER_ROLE):
        assert fresh.hasRole(role, alice)
        assert not fresh.hasRole(role, admin)
        assert fresh.getRoleAdmin(role) == DEFAULT_ADMIN_ROLE


def test_constructor__fresh_collection__no_cubes_zero_rates_unpaused_royalty_to_admin(
    project, admin, alice, lbc
):
    fresh = project.OptimizedCubeManagement.deploy(alice, lbc, sender=admin)
    assert fresh.totalMinted() == 0
    assert [fresh.tierRate(t) for t in range(4)] == [0, 0, 0, 0]
    assert fresh.paused() is False
    assert fresh.lbcToken() == lbc.address
    assert tuple(fresh.royaltyInfo(1, 10_000)) == (alice.address, 500)


# --------------------------------------------------------------------------------------------- ERC-165


@pytest.mark.parametrize(
    ("interface_id", "supported"),
    [
        ("0x01ffc9a7", True),  # ERC-165
        ("0x80ac58cd", True),  # ERC-721
        ("0x5b5e139f", True),  # ERC-721 metadata
        ("0x2a55205a", True),  # ERC-2981
        ("0x7965db0b", True),  # IAccessControl
        ("0xffffffff", False),  # ERC-165 says: never
        ("0x780e9d63", False),  # ERC-721 enumerable, not implemented
    ],
)
def test_supports_interface__known_ids(cubes, interface_id, supported):
    assert cubes.supportsInterface(interface_id) is supported


# --------------------------------------------------------------------------------------------- royalties


def test_royalty_info__default__five_percent_to_admin(cubes, admin):
    assert tuple(cubes.royaltyInfo(1, 10_000)) == (admin.address, 500)
    assert tuple(cubes.royaltyInfo(7, 3 * 10**18)) == (admin.address, 15 * 10**16)


def test_set_default_royalty__by_admin__changes_receiver_and_fee(cubes, admin, bob):
    cubes.setDefaultRoyalty(bob, 250, sender=admin)
    assert tuple(cubes.royaltyInfo(1, 10**18)) == (bob.address, 25 * 10**15)


def test_set_default_royalty__by_stranger__reverts_unauthorized(cubes, admin, stranger):
    with reverts(
        cubes.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=DEFAULT_ADMIN_ROLE
    ):
        cubes.setDefaultRoyalty(stranger, 1000, sender=stranger)
    assert tuple(cubes.royaltyInfo(1, 10_000)) == (admin.address, 500)


def test_set_default_royalty__above_one_hundred_percent__reverts_royalty_overflow(cubes, admin, bob):
    with reverts(cubes.RoyaltyOverflow):
        cubes.setDefaultRoyalty(bob, 10_001, sender=admin)


def test_set_default_royalty__zero_receiver__reverts(cubes, admin):
    with reverts(cubes.RoyaltyReceiverIsZeroAddress):
        cubes.setDefaultRoyalty(ZERO_ADDRESS, 100, sender=admin)


# --------------------------------------------------------------------------------------------- metadata


def test_token_uri__no_base_uri__is_empty(cubes, alice, mint_cubes):
    (cube,) = mint_cubes(alice)
    assert cubes.tokenURI(cube) == ""


def test_set_base_uri__by_admin__token_uri_is_base_then_id_and_emits_event(cubes, admin, alice, mint_cubes):
    ids = mint_cubes(alice, 12)
    receipt = cubes.setBaseURI("ipfs://bafy/cubes/", sender=admin)
    assert cube_events(receipt, cubes) == [("BaseURISet", {"baseURI": "ipfs://bafy/cubes/"})]
    assert cubes.tokenURI(ids[0]) == "ipfs://bafy/cubes/1"
    assert cubes.tokenURI(ids[11]) == "ipfs://bafy/cubes/12"


def test_set_base_uri__back_to_empty__token_uri_is_empty_again(cubes, admin, alice, mint_cubes):
    (cube,) = mint_cubes(alice)
    cubes.setBaseURI("https://x/", sender=admin)
    cubes.setBaseURI("", sender=admin)
    assert cubes.tokenURI(cube) == ""


def test_set_base_uri__by_stranger__reverts_unauthorized(cubes, alice, stranger, mint_cubes):
    (cube,) = mint_cubes(alice)
    with reverts(
        cubes.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=DEFAULT_ADMIN_ROLE
    ):
        cubes.setBaseURI("https://evil/", sender=stranger)
    assert cubes.tokenURI(cube) == ""


@pytest.mark.parametrize("offset", [0, 1, 1000])
def test_token_uri__unknown_id__reverts_nonexistent_cube(cubes, admin, alice, mint_cubes, offset):
    mint_cubes(alice, 2)
    cubes.setBaseURI("https://x/", sender=admin)
    unknown = 0 if offset == 0 else 2 + offset
    with reverts(cubes.NonexistentCube, cubeId=unknown):
        cubes.tokenURI(unknown)


# --------------------------------------------------------------------------------------------- mint


def test_mint__ids_start_at_one_and_increase_by_one(cubes, admin, alice, bob):
    assert cubes.totalMinted() == 0
    assert cubes.mint.call(alice, 0, sender=admin) == 1
    first = cubes.mint(alice, 0, sender=admin)
    second = cubes.mint(bob, 3, sender=admin)
    assert [log.event_arguments["id"] for log in first.events if log.event_name == "Transfer"] == [1]
    assert [log.event_arguments["id"] for log in second.events if log.event_name == "Transfer"] == [2]
    assert cubes.totalMinted() == 2
    assert cubes.ownerOf(1) == alice.address
    assert cubes.ownerOf(2) == bob.address
    assert cubes.mint.call(alice, 0, sender=admin) == 3


def test_mint__emits_erc721_transfer_then_cubes_minted(cubes, admin, alice):
    receipt = cubes.mint(alice, 2, sender=admin)
    assert cube_events(receipt, cubes) == [
        ("Transfer", {"from": ZERO_ADDRESS, "to": alice.address, "id": 1}),
        ("CubesMinted", {"to": alice.address, "tier": 2, "firstCubeId": 1, "quantity": 1}),
    ]


def test_mint__new_cube__active_since_mint_block_with_nothing_mined(cubes, admin, alice, chain):
    receipt = cubes.mint(alice, 1, sender=admin)
    assert node(cubes, 1) == Node(0, receipt.timestamp, 1, True)
    assert cubes.tierOf(1) == 1
    assert cubes.pendingReward(1) == R1 * (chain.blocks.head.timestamp - receipt.timestamp)
    assert cubes.balanceOf(alice) == 1


@pytest.mark.parametrize("tier", [0, 1, 2, 3])
def test_tier_of__each_tier__is_the_minted_tier(cubes, admin, alice, tier):
    cubes.mint(alice, tier, sender=admin)
    assert cubes.tierOf(1) == tier


@pytest.mark.parametrize("tier", [4, 255])
def test_mint__tier_out_of_range__reverts_invalid_tier(cubes, admin, alice, tier):
    with reverts(cubes.InvalidTier, tier=tier, tierCount=4):
        cubes.mint(alice, tier, sender=admin)
    with reverts(cubes.InvalidTier, tier=tier, tierCount=4):
        cubes.mintBatch(alice, tier, 2, sender=admin)
    assert cubes.totalMinted() == 0


def test_mint__to_zero_address__reverts_zero_address(cubes, admin):
    with reverts(cubes.ZeroAddress):
        cubes.mint(ZERO_ADDRESS, 0, sender=admin)
    with reverts(cubes.ZeroAddress):
        cubes.mintBatch(ZERO_ADDRESS, 0, 3, sender=admin)
    assert cubes.totalMinted() == 0


def test_mint__without_minter_role__reverts_unauthorized(cubes, alice, stranger):
    with reverts(cubes.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=MINTER_ROLE):
        cubes.mint(stranger, 0, sender=stranger)
    with reverts(cubes.AccessControlUnauthorizedAccount, account=alice.address, neededRole=MINTER_ROLE):
        cubes.mintBatch(alice, 0, 5, sender=alice)
    assert cubes.totalMinted() == 0


def test_mint__granted_minter__can_mint(cubes, grant, operator, alice):
    grant(MINTER_ROLE, operator)
    cubes.mint(alice, 0, sender=operator)
    assert cubes.ownerOf(1) == alice.address


def test_mint_batch__consecutive_ids_and_one_cubes_minted_event(cubes, admin, alice, bob):
    assert cubes.mintBatch.call(alice, 2, 3, sender=admin) == 1
    receipt = cubes.mintBatch(alice, 2, 3, sender=admin)
    assert cube_events(receipt, cubes) == [
        ("Transfer", {"from": ZERO_ADDRESS, "to": alice.address, "id": 1}),
        ("Transfer", {"from": ZERO_ADDRESS, "to": alice.address, "id": 2}),
        ("Transfer", {"from": ZERO_ADDRESS, "to": alice.address, "id": 3}),
        ("CubesMinted", {"to": alice.address, "tier": 2, "firstCubeId": 1, "quantity": 3}),
    ]
    second = cubes.mintBatch(bob, 0, 2, sender=admin)
    assert cube_events(second, cubes)[-1] == (
        "CubesMinted",
        {"to": bob.address, "tier": 0, "firstCubeId": 4, "quantity": 2},
    )
    assert cubes.totalMinted() == 5
    assert [cubes.ownerOf(i) for i in range(1, 6)] == [alice.address] * 3 + [bob.address] * 2
    assert [cubes.tierOf(i) for i in range(1, 6)] == [2, 2, 2, 0, 0]
    assert [node(cubes, i) for i in (1, 3)] == [Node(0, receipt.timestamp, i, True) for i in (1, 3)]
    assert node(cubes, 5) == Node(0, second.timestamp, 5, True)
    assert cubes.balanceOf(alice) == 3


def test_mint_batch__zero_quantity__reverts_zero_quantity(cubes, admin, alice):
    with reverts(cubes.ZeroQuantity):
        cubes.mintBatch(alice, 0, 0, sender=admin)
    assert cubes.totalMinted() == 0


@pytest.mark.parametrize("quantity", [2**32 - 1, 2**32, 2**256 - 1])
def test_mint_batch__past_the_largest_id__reverts_cube_ids_exhausted(cubes, admin, alice, quantity):
    cubes.mint(alice, 0, sender=admin)  # one id used: 2**32 - 2 remain
    with reverts(cubes.CubeIdsExhausted, quantity=quantity, maxCubeId=MAX_CUBE_ID):
        cubes.mintBatch(alice, 0, quantity, sender=admin)
    assert cubes.totalMinted() == 1


# --------------------------------------------------------------------------------------------- views


def test_pending_reward__each_tier__is_rate_times_seconds_since_mint(cubes, alice, advance, mint_cubes):
    ids = [mint_cubes(alice, 1, tier)[0] for tier in range(4)]
    starts = [node(cubes, i).last_claim_time for i in ids]
    now = advance(1000)
    assert [cubes.pendingReward(i) for i in ids] == [
        rate * (now - start) for rate, start in zip(DEFAULT_TIER_RATES, starts, strict=True)
    ]
    assert now - starts[3] >= 1000


def test_node_data__reports_the_id_itself(cubes, alice, mint_cubes):
    ids = mint_cubes(alice, 3)
    assert [node(cubes, i).cube_id for i in ids] == [1, 2, 3]


@pytest.mark.parametrize("view", ["pendingReward", "nodeData", "tierOf"])
@pytest.mark.parametrize("unknown", [0, 3, 2**32, 2**256 - 1])
def test_views__unknown_id__revert_nonexistent_cube(cubes, alice, mint_cubes, view, unknown):
    mint_cubes(alice, 2)
    with reverts(cubes.NonexistentCube, cubeId=unknown):
        getattr(cubes, view)(unknown)


@pytest.mark.parametrize("tier", [4, 255])
def test_tier_rate__unknown_tier__reverts_invalid_tier(cubes, tier):
    with reverts(cubes.InvalidTier, tier=tier, tierCount=4):
        cubes.tierRate(tier)


# --------------------------------------------------------------------------------------------- claims


def test_batch_claim__pays_rate_times_elapsed_and_mints_the_total_once(
    cubes, lbc, alice, advance, mint_cubes
):
    ids = [mint_cubes(alice, 1, tier)[0] for tier in range(4)]
    starts = [node(cubes, i).last_claim_time for i in ids]
    advance(1000)
    receipt = cubes.batchClaimRewards(ids, sender=alice)
    now = receipt.timestamp
    shares = [rate * (now - start) for rate, start in zip(DEFAULT_TIER_RATES, starts, strict=True)]
    assert min(shares) >= R0 * 1000
    assert lbc.balanceOf(alice) == sum(shares)
    assert lbc.totalSupply() == sum(shares)
    assert lbc_transfers(receipt, lbc) == [(ZERO_ADDRESS, alice.address, sum(shares))]
    assert cube_events(receipt, cubes) == [], "a claim emits no event of its own"
    assert [node(cubes, i) for i in ids] == [Node(s, now, i, True) for i, s in zip(ids, shares, strict=True)]
    assert [cubes.pendingReward(i) for i in ids] == [0, 0, 0, 0]


def test_batch_claim__return_value__is_the_total_paid(cubes, alice, advance, mint_cubes):
    ids = mint_cubes(alice, 2, tier=3)
    advance(100)
    expected = sum(cubes.pendingReward(i) for i in ids)
    assert expected >= 2 * R3 * 100
    assert cubes.batchClaimRewards.call(ids, sender=alice) == expected


def test_batch_claim__second_claim__pays_only_time_since_the_first(cubes, lbc, alice, advance, mint_cubes):
    (cube,) = mint_cubes(alice, 1, tier=2)
    advance(300)
    first = cubes.batchClaimRewards([cube], sender=alice)
    paid_first = lbc.balanceOf(alice)
    advance(200)
    second = cubes.batchClaimRewards([cube], sender=alice)
    assert lbc_transfers(second, lbc) == [
        (ZERO_ADDRESS, alice.address, R2 * (second.timestamp - first.timestamp))
    ]
    assert node(cubes, cube) == Node(lbc.balanceOf(alice), second.timestamp, cube, True)
    assert lbc.balanceOf(alice) == paid_first + R2 * (second.timestamp - first.timestamp)


def test_batch_claim__total_mined_equals_lbc_paid_over_many_claims(cubes, lbc, alice, advance, mint_cubes):
    ids = mint_cubes(alice, 3, tier=1)
    for seconds in (10, 250, 3):
        advance(seconds)
        cubes.batchClaimRewards(ids, sender=alice)
    assert sum(node(cubes, i).total_mined for i in ids) == lbc.balanceOf(alice) == lbc.totalSupply()


def test_batch_claim__one_foreign_cube__reverts_not_cube_owner_and_changes_nothing(
    cubes, lbc, alice, bob, advance, mint_cubes
):
    a1, a2 = mint_cubes(alice, 2)
    (b1,) = mint_cubes(bob, 1)
    advance(100)
    before = [node(cubes, i) for i in (a1, a2, b1)]
    with reverts(cubes.NotCubeOwner, cubeId=b1, caller=alice.address):
        cubes.batchClaimRewards([a1, b1, a2], sender=alice)
    assert [node(cubes, i) for i in (a1, a2, b1)] == before
    assert lbc.balanceOf(alice) == lbc.balanceOf(bob) == lbc.totalSupply() == 0


def test_batch_claim__stranger_claims_someone_elses_cube__reverts_not_cube_owner(
    cubes, alice, stranger, mint_cubes
):
    (cube,) = mint_cubes(alice)
    with reverts(cubes.NotCubeOwner, cubeId=cube, caller=stranger.address):
        cubes.batchClaimRewards([cube], sender=stranger)


@pytest.mark.parametrize("unknown", [0, 3, 1000, 2**32 - 1, 2**32, 2**32 + 1, 2**256 - 1])
def test_batch_claim__unknown_id__reverts_nonexistent_cube_and_changes_nothing(
    cubes, lbc, alice, advance, mint_cubes, unknown
):
    ids = mint_cubes(alice, 2)
    advance(50)
    before = [node(cubes, i) for i in ids]
    with reverts(cubes.NonexistentCube, cubeId=unknown):
        cubes.batchClaimRewards([*ids, unknown], sender=alice)
    assert [node(cubes, i) for i in ids] == before
    assert lbc.totalSupply() == 0


def test_batch_claim__fast_and_slow_cubes_interleaved__each_paid_exactly(
    cubes, lbc, admin, alice, advance, mint_cubes
):
    # The claim loop runs steady-state cubes in a tight loop and leaves it for a cube with carried
    # rewards, an inactive cube or a rate change; it must resume at the right place and pay each once.
    fast1, carried, fast2, inactive = mint_cubes(alice, 4, tier=1)
    (rate_changed,) = mint_cubes(alice, 1, tier=2)
    starts = {i: node(cubes, i).last_claim_time for i in (fast1, carried, fast2, inactive, rate_changed)}
    advance(100)
    off1 = cubes.setActive(carried, False, sender=admin)
    on1 = cubes.setActive(carried, True, sender=admin)
    off2 = cubes.setActive(inactive, False, sender=admin)
    change = cubes.setTierRate(2, 2 * R2, sender=admin)
    advance(50)
    batch = [fast1, carried, fast2, inactive, rate_changed, carried, fast1]
    receipt = cubes.batchClaimRewards(batch, sender=alice)
    now = receipt.timestamp
    expected = {
        fast1: R1 * (now - starts[fast1]),
        carried: R1 * (off1.timestamp - starts[carried]) + R1 * (now - on1.timestamp),
        fast2: R1 * (now - starts[fast2]),
        inactive: R1 * (off2.timestamp - starts[inactive]),
        rate_changed: R2 * (change.timestamp - starts[rate_changed]) + 2 * R2 * (now - change.timestamp),
    }
    assert lbc_transfers(receipt, lbc) == [(ZERO_ADDRESS, alice.address, sum(expected.values()))]
    assert {i: node(cubes, i).total_mined for i in expected} == expected
    assert [cubes.pendingReward(i) for i in expected] == [0] * len(expected)
    assert node(cubes, inactive).last_claim_time == starts[inactive]  # an inactive cube does not restart


def test_batch_claim__foreign_cube_after_fast_ones__reverts_and_changes_nothing(
    cubes, lbc, alice, bob, advance, mint_cubes
):
    mine = mint_cubes(alice, 5)
    (theirs,) = mint_cubes(bob, 1)
    advance(100)
    before = [node(cubes, i) for i in mine]
    with reverts(cubes.NotCubeOwner, cubeId=theirs, caller=alice.address):
        cubes.batchClaimRewards([*mine, theirs], sender=alice)
    assert [node(cubes, i) for i in mine] == before
    assert lbc.totalSupply() == 0


def test_batch_claim__repeated_id__pays_once(cubes, lbc, alice, advance, mint_cubes):
    (cube,) = mint_cubes(alice, 1, tier=3)
    start = node(cubes, cube).last_claim_time
    advance(400)
    receipt = cubes.batchClaimRewards([cube, cube, cube], sender=alice)
    paid = R3 * (receipt.timestamp - start)
    assert lbc_transfers(receipt, lbc) == [(ZERO_ADDRESS, alice.address, paid)]
    assert node(cubes, cube) == Node(paid, receipt.timestamp, cube, True)


def test_batch_claim__empty_list__pays_nothing_and_mints_nothing(cubes, lbc, alice, advance, mint_cubes):
    mint_cubes(alice)
    advance(100)
    assert cubes.batchClaimRewards.call([], sender=alice) == 0
    receipt = cubes.batchClaimRewards([], sender=alice)
    assert list(receipt.events) == []
    assert lbc.totalSupply() == 0


def test_batch_claim__nothing_accrued__mints_nothing(cubes, lbc, admin, alice, advance, mint_cubes):
    cubes.setTierRate(0, 0, sender=admin)
    (cube,) = mint_cubes(alice, 1, tier=0)
    advance(100)
    receipt = cubes.batchClaimRewards([cube], sender=alice)
    assert lbc_transfers(receipt, lbc) == []
    assert node(cubes, cube) == Node(0, receipt.timestamp, cube, True)


def test_batch_claim__while_paused__reverts_enforced_pause_and_accrual_continues(
    cubes, lbc, admin, alice, advance, mint_cubes
):
    (cube,) = mint_cubes(alice, 1, tier=1)
    start = node(cubes, cube).last_claim_time
    cubes.pause(sender=admin)
    advance(500)
    with reverts(cubes.EnforcedPause):
        cubes.batchClaimRewards([cube], sender=alice)
    with reverts(cubes.EnforcedPause):
        cubes.batchClaimRewards([], sender=alice)
    now = advance(500)
    assert cubes.pendingReward(cube) == R1 * (now - start)
    assert node(cubes, cube) == Node(0, start, cube, True)

    cubes.unpause(sender=admin)
    receipt = cubes.batchClaimRewards([cube], sender=alice)
    assert lbc.balanceOf(alice) == R1 * (receipt.timestamp - start) >= R1 * 1000


def test_batch_claim__past_lbc_cap__reverts_exceeded_cap_and_changes_nothing(admin, alice, advance):
    cap = R0 * 1000
    small = deploy_protocol(admin, lbc_cap=cap, record=False)
    small.cubes.mintBatch(alice, 0, 2, sender=admin)
    start = node(small.cubes, 1).last_claim_time
    advance(100)
    first = small.cubes.batchClaimRewards([1], sender=alice)  # within the cap
    paid = R0 * (first.timestamp - start)
    assert small.lbc.balanceOf(alice) == paid < cap

    advance(1000)
    before = [node(small.cubes, i) for i in (1, 2)]
    with reverts(small.lbc.ERC20ExceededCap, increasedSupply=ANY, cap=cap) as caught:
        small.cubes.batchClaimRewards([1, 2], sender=alice)
    increased = caught.error.inputs["increasedSupply"]
    assert increased > cap
    assert (increased - paid) % R0 == 0, "the supply it would reach is what was paid plus whole seconds"
    assert small.lbc.totalSupply() == small.lbc.balanceOf(alice) == paid
    assert [node(small.cubes, i) for i in (1, 2)] == before


def test_batch_claim__max_rate_for_17_years__reverts_total_mined_overflow(
    cubes, admin, alice, advance, mint_cubes
):
    cubes.setTierRate(0, MAX_RATE, sender=admin)
    (cube,) = mint_cubes(alice, 1, tier=0)
    start = node(cubes, cube).last_claim_time
    now = advance(2**29 + 2**10)  # (2**23 - 1) units/s * this many seconds > 2**52 - 1 units
    assert cubes.pendingReward(cube) == MAX_RATE * (now - start) > (2**52 - 1) * UNIT
    with reverts(cubes.TotalMinedOverflow, cubeId=cube):
        cubes.batchClaimRewards([cube], sender=alice)
    assert node(cubes, cube) == Node(0, start, cube, True)


# totalMined holds 2**52 - 1 units: exactly 6,511,845 units/s (the largest rate below 2**23 that divides
# it) for 691,601,171 s (about 22 years).
MINED_MAX_UNITS = 2**52 - 1
EXACT_RATE = 6_511_845 * UNIT
EXACT_SECONDS = 691_601_171


@pytest.fixture
def roomy(admin):
    """Cubes of tier 0 mining EXACT_RATE, behind an LBC cap that lets one cube fill its totalMined."""
    assert EXACT_RATE // UNIT * EXACT_SECONDS == MINED_MAX_UNITS
    return deploy_protocol(
        admin, lbc_cap=2 * MINED_MAX_UNITS * UNIT, tier_rates=(EXACT_RATE, 0, 0, 0), record=False
    )


def test_batch_claim__total_mined_exactly_at_its_maximum__pays_and_one_second_more_reverts(
    roomy, admin, alice, chain
):
    cubes, lbc = roomy.cubes, roomy.lbc
    cube = cubes.mint(alice, 0, sender=admin).return_value
    start = node(cubes, cube).last_claim_time
    with isolated(chain):
        chain.pending_timestamp = start + EXACT_SECONDS + 1
        with reverts(cubes.TotalMinedOverflow, cubeId=cube):
            cubes.batchClaimRewards([cube], sender=alice)
    chain.pending_timestamp = start + EXACT_SECONDS
    claim = cubes.batchClaimRewards([cube], sender=alice)  # the fast path: no rate change, nothing carried
    assert claim.timestamp == start + EXACT_SECONDS
    assert lbc.balanceOf(alice) == node(cubes, cube).total_mined == MINED_MAX_UNITS * UNIT
    chain.pending_timestamp = claim.timestamp + 1
    with reverts(cubes.TotalMinedOverflow, cubeId=cube):
        cubes.batchClaimRewards([cube], sender=alice)


def test_batch_claim__across_a_rate_change_to_exactly_the_maximum__pays_and_one_unit_more_reverts(
    roomy, admin, alice, chain
):
    """The slow path (accrual crosses a rate checkpoint) has its own bound check."""
    cubes, lbc = roomy.cubes, roomy.lbc
    cube = cubes.mint(alice, 0, sender=admin).return_value
    start = node(cubes, cube).last_claim_time
    change_at, claim_at = start + EXACT_SECONDS - 1, start + EXACT_SECONDS
    with isolated(chain):
        # The last second at one unit/s more: 2**52 - 1 + 1 units.
        chain.pending_timestamp = change_at
        cubes.setTierRate(0, EXACT_RATE + UNIT, sender=admin)
        chain.pending_timestamp = claim_at
        with reverts(cubes.TotalMinedOverflow, cubeId=cube):
            cubes.batchClaimRewards([cube], sender=alice)
        assert node(cubes, cube).total_mined == 0
    # The same rate again: nothing accrues differently, but the claim crosses a checkpoint (slow path).
    chain.pending_timestamp = change_at
    cubes.setTierRate(0, EXACT_RATE, sender=admin)
    chain.pending_timestamp = claim_at
    claim = cubes.batchClaimRewards([cube], sender=alice)
    assert claim.timestamp == claim_at
    assert lbc.balanceOf(alice) == node(cubes, cube).total_mined == MINED_MAX_UNITS * UNIT


# --------------------------------------------------------------------------------------------- transfers


def test_transfer__rewards_follow_the_cube__new_owner_claims_all_pending(
    cubes, lbc, alice, bob, advance, mint_cubes
):
    (cube,) = mint_cubes(alice, 1, tier=2)
    start = node(cubes, cube).last_claim_time
    advance(300)
    cubes.transferFrom(alice, bob, cube, sender=alice)
    assert node(cubes, cube) == Node(0, start, cube, True), "a transfer leaves the node data alone"
    advance(200)
    with reverts(cubes.NotCubeOwner, cubeId=cube, caller=alice.address):
        cubes.batchClaimRewards([cube], sender=alice)
    receipt = cubes.batchClaimRewards([cube], sender=bob)
    assert lbc.balanceOf(bob) == R2 * (receipt.timestamp - start) >= R2 * 500
    assert lbc.balanceOf(alice) == 0


def test_transfer__approved_operator__moves_cube_and_its_rewards(
    cubes, lbc, alice, bob, stranger, mint_cubes
):
    (cube,) = mint_cubes(alice)
    cubes.approve(stranger, cube, sender=alice)
    cubes.transferFrom(alice, bob, cube, sender=stranger)
    assert cubes.ownerOf(cube) == bob.address
    assert cubes.balanceOf(alice) == 0
    assert cubes.balanceOf(bob) == 1


def test_transfer__by_stranger__reverts_not_owner_nor_approved(cubes, alice, bob, stranger, mint_cubes):
    (cube,) = mint_cubes(alice)
    with reverts(cubes.NotOwnerNorApproved):
        cubes.transferFrom(alice, bob, cube, sender=stranger)
    assert cubes.ownerOf(cube) == alice.address


# --------------------------------------------------------------------------------------------- tier rates


def test_set_tier_rate__by_admin__sets_rate_and_emits_previous_and_new(cubes, admin):
    receipt = cubes.setTierRate(2, 70 * UNIT, sender=admin)
    assert cube_events(receipt, cubes) == [
        ("TierRateSet", {"tier": 2, "previousWeiPerSecond": R2, "weiPerSecond": 70 * UNIT})
    ]
    assert [cubes.tierRate(t) for t in range(4)] == [R0, R1, 70 * UNIT, R3]


def test_set_tier_rate__by_stranger__reverts_unauthorized(cubes, stranger):
    with reverts(
        cubes.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=DEFAULT_ADMIN_ROLE
    ):
        cubes.setTierRate(0, 1 * UNIT, sender=stranger)
    assert cubes.tierRate(0) == R0


@pytest.mark.parametrize("wei", [1, UNIT - 1, UNIT + 1, 11 * UNIT + 5 * 10**11])
def test_set_tier_rate__not_a_multiple_of_unit__reverts(cubes, admin, wei):
    with reverts(cubes.RateNotMultipleOfUnit, weiPerSecond=wei, unit=UNIT):
        cubes.setTierRate(0, wei, sender=admin)
    assert cubes.tierRate(0) == R0


@pytest.mark.parametrize("wei", [MAX_RATE + UNIT, 2**23 * UNIT * 2, 2**255 // UNIT * UNIT])
def test_set_tier_rate__above_the_packed_maximum__reverts_rate_too_high(cubes, admin, wei):
    with reverts(cubes.RateTooHigh, weiPerSecond=wei, maxWeiPerSecond=MAX_RATE):
        cubes.setTierRate(1, wei, sender=admin)
    assert cubes.tierRate(1) == R1


def test_set_tier_rate__exactly_the_maximum_and_zero__are_accepted(cubes, admin):
    cubes.setTierRate(3, MAX_RATE, sender=admin)
    assert cubes.tierRate(3) == MAX_RATE == 8_388_607 * UNIT
    cubes.setTierRate(3, 0, sender=admin)
    assert cubes.tierRate(3) == 0


@pytest.mark.parametrize("tier", [4, 255])
def test_set_tier_rate__unknown_tier__reverts_invalid_tier(cubes, admin, tier):
    with reverts(cubes.InvalidTier, tier=tier, tierCount=4):
        cubes.setTierRate(tier, UNIT, sender=admin)


def test_set_tier_rate__one_change__earlier_seconds_keep_the_old_rate(
    cubes, lbc, admin, alice, advance, mint_cubes
):
    (cube,) = mint_cubes(alice, 1, tier=0)
    start = node(cubes, cube).last_claim_time
    advance(100)
    changed = cubes.setTierRate(0, 40 * UNIT, sender=admin).timestamp
    head = advance(50)
    assert cubes.pendingReward(cube) == R0 * (changed - start) + 40 * UNIT * (head - changed)
    receipt = cubes.batchClaimRewards([cube], sender=alice)
    paid = R0 * (changed - start) + 40 * UNIT * (receipt.timestamp - changed)
    assert lbc_transfers(receipt, lbc) == [(ZERO_ADDRESS, alice.address, paid)]
    assert node(cubes, cube) == Node(paid, receipt.timestamp, cube, True)
    assert changed - start >= 100 and receipt.timestamp - changed >= 50


def test_set_tier_rate__lowered_to_zero__stops_accrual_but_keeps_what_was_earned(
    cubes, lbc, admin, alice, advance, mint_cubes
):
    (cube,) = mint_cubes(alice, 1, tier=3)
    start = node(cubes, cube).last_claim_time
    advance(100)
    changed = cubes.setTierRate(3, 0, sender=admin).timestamp
    advance(1000)
    cubes.batchClaimRewards([cube], sender=alice)
    assert lbc.balanceOf(alice) == R3 * (changed - start)


def test_set_tier_rate__several_changes_in_two_tiers__each_second_paid_at_its_rate(
    cubes, lbc, admin, alice, advance, mint_cubes
):
    (a,) = mint_cubes(alice, 1, tier=1)
    (b,) = mint_cubes(alice, 1, tier=2)
    (untouched,) = mint_cubes(alice, 1, tier=0)
    t_a, t_b, t_u = (node(cubes, i).last_claim_time for i in (a, b, untouched))
    advance(100)
    t1 = cubes.setTierRate(1, 5 * UNIT, sender=admin).timestamp
    advance(70)
    (c,) = mint_cubes(alice, 1, tier=1)  # minted between two changes of its tier
    t_c = node(cubes, c).last_claim_time
    advance(30)
    t2 = cubes.setTierRate(1, 300 * UNIT, sender=admin).timestamp  # second change in tier 1, no claim between
    advance(40)
    t3 = cubes.setTierRate(2, 1 * UNIT, sender=admin).timestamp
    advance(60)

    receipt = cubes.batchClaimRewards([a, b, c, untouched], sender=alice)
    now = receipt.timestamp
    expected_a = R1 * (t1 - t_a) + 5 * UNIT * (t2 - t1) + 300 * UNIT * (now - t2)
    expected_b = R2 * (t3 - t_b) + 1 * UNIT * (now - t3)
    expected_c = 5 * UNIT * (t2 - t_c) + 300 * UNIT * (now - t2)
    expected_u = R0 * (now - t_u)
    assert [node(cubes, i).total_mined for i in (a, b, c, untouched)] == [
        expected_a,
        expected_b,
        expected_c,
        expected_u,
    ]
    assert lbc_transfers(receipt, lbc) == [
        (ZERO_ADDRESS, alice.address, expected_a + expected_b + expected_c + expected_u)
    ]


def test_set_tier_rate__change_after_a_claim__next_claim_splits_at_the_change(
    cubes, lbc, admin, alice, advance, mint_cubes
):
    (cube,) = mint_cubes(alice, 1, tier=3)
    advance(10)
    t1 = cubes.setTierRate(3, 200 * UNIT, sender=admin).timestamp
    advance(10)
    claimed = cubes.batchClaimRewards([cube], sender=alice).timestamp
    paid_first = lbc.balanceOf(alice)
    advance(20)
    t2 = cubes.setTierRate(3, 7 * UNIT, sender=admin).timestamp
    advance(20)
    receipt = cubes.batchClaimRewards([cube], sender=alice)
    second = 200 * UNIT * (t2 - claimed) + 7 * UNIT * (receipt.timestamp - t2)
    assert lbc_transfers(receipt, lbc) == [(ZERO_ADDRESS, alice.address, second)]
    assert node(cubes, cube).total_mined == paid_first + second
    assert claimed > t1


def test_set_tier_rate__long_history__claims_starting_between_checkpoints_are_exact(
    cubes, lbc, admin, alice, bob, advance, mint_cubes
):
    """Five changes of one tier; cubes whose accrual starts before, between and on the checkpoints."""
    (old,) = mint_cubes(alice, 1, tier=3)
    schedule = [(node(cubes, old).last_claim_time, R3)]
    cubes_by_start = {old: schedule[0][0]}
    for step, rate in enumerate((1, 90, 0, 4000, 33)):
        advance(17 + step)
        schedule.append((cubes.setTierRate(3, rate * UNIT, sender=admin).timestamp, rate * UNIT))
        if step in (0, 2):
            (new,) = mint_cubes(alice, 1, tier=3)
            cubes_by_start[new] = node(cubes, new).last_claim_time
        if step == 1:
            cubes_by_start[old] = cubes.batchClaimRewards([old], sender=alice).timestamp
    paid_before = lbc.balanceOf(alice)
    advance(25)
    receipt = cubes.batchClaimRewards(list(cubes_by_start), sender=alice)
    now = receipt.timestamp
    expected = {i: accrual(schedule, start, now) for i, start in cubes_by_start.items()}
    assert lbc.balanceOf(alice) - paid_before == sum(expected.values())
    assert node(cubes, old).total_mined == paid_before + expected[old]
    for i in list(cubes_by_start)[1:]:
        assert node(cubes, i).total_mined == expected[i]
    assert len({t for t, _ in schedule}) == len(schedule), "every change in its own second"


def test_set_tier_rate__twice_in_the_same_second__only_the_last_rate_ever_pays(
    cubes, lbc, admin, alice, advance, chain, mint_cubes
):
    (cube,) = mint_cubes(alice, 1, tier=0)
    start = node(cubes, cube).last_claim_time
    moment = advance(100) + 10
    chain.pending_timestamp = moment
    cubes.setTierRate(0, 1000 * UNIT, sender=admin)
    chain.pending_timestamp = moment
    second = cubes.setTierRate(0, 2 * UNIT, sender=admin)
    assert second.timestamp == moment
    assert cube_events(second, cubes) == [
        ("TierRateSet", {"tier": 0, "previousWeiPerSecond": 1000 * UNIT, "weiPerSecond": 2 * UNIT})
    ]
    advance(100)
    receipt = cubes.batchClaimRewards([cube], sender=alice)
    assert lbc.balanceOf(alice) == R0 * (moment - start) + 2 * UNIT * (receipt.timestamp - moment)


def test_set_tier_rate__cube_minted_after_the_change__earns_only_the_new_rate(
    cubes, lbc, admin, alice, advance, mint_cubes
):
    cubes.setTierRate(1, 9 * UNIT, sender=admin)
    advance(10)
    (cube,) = mint_cubes(alice, 1, tier=1)
    start = node(cubes, cube).last_claim_time
    advance(100)
    receipt = cubes.batchClaimRewards([cube], sender=alice)
    assert lbc.balanceOf(alice) == 9 * UNIT * (receipt.timestamp - start)


# --------------------------------------------------------------------------------------------- activity


def test_set_active__deactivate__freezes_earnings_and_emits_carried(cubes, admin, alice, advance, mint_cubes):
    (cube,) = mint_cubes(alice, 1, tier=1)
    start = node(cubes, cube).last_claim_time
    advance(100)
    receipt = cubes.setActive(cube, False, sender=admin)
    carried = R1 * (receipt.timestamp - start)
    assert carried >= R1 * 100
    assert cube_events(receipt, cubes) == [
        ("CubeActivitySet", {"cubeId": cube, "active": False, "carriedReward": carried})
    ]
    assert node(cubes, cube) == Node(0, start, cube, False)
    advance(1000)
    assert cubes.pendingReward(cube) == carried


def test_set_active__deactivated_with_nothing_earned__accrues_nothing_until_reactivated(
    cubes, lbc, admin, alice, advance, mint_cubes
):
    cubes.setTierRate(2, 0, sender=admin)  # nothing accrues between mint and deactivation
    (cube,) = mint_cubes(alice, 1, tier=2)
    start = node(cubes, cube).last_claim_time
    advance(10)
    receipt = cubes.setActive(cube, False, sender=admin)
    assert cube_events(receipt, cubes) == [
        ("CubeActivitySet", {"cubeId": cube, "active": False, "carriedReward": 0})
    ]
    cubes.setTierRate(2, R2, sender=admin)
    advance(500)
    assert cubes.pendingReward(cube) == 0
    assert node(cubes, cube) == Node(0, start, cube, False)
    claim = cubes.batchClaimRewards([cube], sender=alice)
    assert lbc_transfers(claim, lbc) == []

    restarted = cubes.setActive(cube, True, sender=admin).timestamp
    advance(100)
    receipt = cubes.batchClaimRewards([cube], sender=alice)
    assert lbc.balanceOf(alice) == R2 * (receipt.timestamp - restarted)


def test_set_active__claim_while_inactive__pays_carried_once_and_keeps_last_claim_time(
    cubes, lbc, admin, alice, advance, mint_cubes
):
    (cube,) = mint_cubes(alice, 1, tier=0)
    start = node(cubes, cube).last_claim_time
    advance(100)
    carried = R0 * (cubes.setActive(cube, False, sender=admin).timestamp - start)
    advance(300)
    receipt = cubes.batchClaimRewards([cube], sender=alice)
    assert lbc_transfers(receipt, lbc) == [(ZERO_ADDRESS, alice.address, carried)]
    assert node(cubes, cube) == Node(carried, start, cube, False)
    assert cubes.pendingReward(cube) == 0
    advance(100)
    again = cubes.batchClaimRewards([cube, cube], sender=alice)
    assert lbc_transfers(again, lbc) == []
    assert lbc.balanceOf(alice) == carried


def test_set_active__reactivate__restarts_accrual_from_that_block_and_keeps_carried(
    cubes, lbc, admin, alice, advance, mint_cubes
):
    (cube,) = mint_cubes(alice, 1, tier=3)
    start = node(cubes, cube).last_claim_time
    advance(100)
    carried = R3 * (cubes.setActive(cube, False, sender=admin).timestamp - start)
    advance(400)
    reactivation = cubes.setActive(cube, True, sender=admin)
    restarted = reactivation.timestamp
    assert cube_events(reactivation, cubes) == [
        ("CubeActivitySet", {"cubeId": cube, "active": True, "carriedReward": carried})
    ]
    assert node(cubes, cube) == Node(0, restarted, cube, True)
    head = advance(200)
    assert cubes.pendingReward(cube) == carried + R3 * (head - restarted)

    receipt = cubes.batchClaimRewards([cube], sender=alice)
    paid = carried + R3 * (receipt.timestamp - restarted)
    assert lbc_transfers(receipt, lbc) == [(ZERO_ADDRESS, alice.address, paid)]
    assert node(cubes, cube) == Node(paid, receipt.timestamp, cube, True)
    assert cubes.pendingReward(cube) == 0


def test_set_active__claimed_while_inactive_then_reactivated__carried_is_not_paid_twice(
    cubes, lbc, admin, alice, advance, mint_cubes
):
    (cube,) = mint_cubes(alice, 1, tier=1)
    advance(100)
    cubes.setActive(cube, False, sender=admin)
    cubes.batchClaimRewards([cube], sender=alice)
    carried = lbc.balanceOf(alice)
    advance(100)
    reactivation = cubes.setActive(cube, True, sender=admin)
    assert cube_events(reactivation, cubes)[0][1]["carriedReward"] == 0
    advance(100)
    receipt = cubes.batchClaimRewards([cube], sender=alice)
    assert lbc_transfers(receipt, lbc) == [
        (ZERO_ADDRESS, alice.address, R1 * (receipt.timestamp - reactivation.timestamp))
    ]
    assert node(cubes, cube).total_mined == lbc.balanceOf(alice) > carried


def test_set_active__two_deactivations__carried_rewards_add_up(cubes, lbc, admin, alice, advance, mint_cubes):
    (cube,) = mint_cubes(alice, 1, tier=2)
    start = node(cubes, cube).last_claim_time
    advance(50)
    first_off = cubes.setActive(cube, False, sender=admin).timestamp
    advance(50)
    back_on = cubes.setActive(cube, True, sender=admin).timestamp
    advance(50)
    second_off = cubes.setActive(cube, False, sender=admin)
    carried = R2 * (first_off - start) + R2 * (second_off.timestamp - back_on)
    assert cube_events(second_off, cubes)[0][1]["carriedReward"] == carried
    advance(50)
    cubes.batchClaimRewards([cube], sender=alice)
    assert lbc.balanceOf(alice) == carried


def test_set_active__rate_changed_while_inactive__reactivation_earns_the_new_rate(
    cubes, lbc, admin, alice, advance, mint_cubes
):
    (cube,) = mint_cubes(alice, 1, tier=0)
    start = node(cubes, cube).last_claim_time
    advance(30)
    t1 = cubes.setTierRate(0, 3 * UNIT, sender=admin).timestamp
    advance(30)
    off = cubes.setActive(cube, False, sender=admin).timestamp
    carried = R0 * (t1 - start) + 3 * UNIT * (off - t1)
    advance(30)
    cubes.setTierRate(0, 50 * UNIT, sender=admin)
    advance(30)
    on = cubes.setActive(cube, True, sender=admin).timestamp
    advance(30)
    receipt = cubes.batchClaimRewards([cube], sender=alice)
    assert lbc.balanceOf(alice) == carried + 50 * UNIT * (receipt.timestamp - on)


def test_set_active__same_state__is_a_no_op_without_event(cubes, admin, alice, advance, mint_cubes):
    (cube,) = mint_cubes(alice, 1, tier=0)
    start = node(cubes, cube).last_claim_time
    advance(100)
    receipt = cubes.setActive(cube, True, sender=admin)
    assert list(receipt.events) == []
    assert node(cubes, cube) == Node(0, start, cube, True), "re-activating must not restart accrual"

    off = cubes.setActive(cube, False, sender=admin).timestamp
    carried = R0 * (off - start)
    advance(100)
    again = cubes.setActive(cube, False, sender=admin)
    assert list(again.events) == []
    assert node(cubes, cube) == Node(0, start, cube, False)
    assert cubes.pendingReward(cube) == carried


def test_set_active__by_stranger__reverts_unauthorized(cubes, alice, stranger, mint_cubes):
    (cube,) = mint_cubes(alice)
    with reverts(cubes.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=OPERATOR_ROLE):
        cubes.setActive(cube, False, sender=stranger)
    assert node(cubes, cube).active is True


def test_set_active__granted_operator__can_deactivate_and_reactivate(
    cubes, grant, alice, operator, mint_cubes
):
    (cube,) = mint_cubes(alice)
    grant(OPERATOR_ROLE, operator)
    cubes.setActive(cube, False, sender=operator)
    assert node(cubes, cube).active is False
    cubes.setActive(cube, True, sender=operator)
    assert node(cubes, cube).active is True


@pytest.mark.parametrize("unknown", [0, 2, 2**32])
@pytest.mark.parametrize("active", [True, False])
def test_set_active__unknown_id__reverts_nonexistent_cube(cubes, admin, alice, mint_cubes, unknown, active):
    mint_cubes(alice)
    with reverts(cubes.NonexistentCube, cubeId=unknown):
        cubes.setActive(unknown, active, sender=admin)


# --------------------------------------------------------------------------------------------- pause


def test_pause_and_unpause__by_pauser__flip_the_flag_and_emit_events(cubes, admin):
    paused = cubes.pause(sender=admin)
    assert cubes.paused() is True
    assert cube_events(paused, cubes) == [("Paused", {"account": admin.address})]
    unpaused = cubes.unpause(sender=admin)
    assert cubes.paused() is False
    assert cube_events(unpaused, cubes) == [("Unpaused", {"account": admin.address})]


def test_pause__granted_pauser__can_pause(cubes, grant, operator):
    grant(PAUSER_ROLE, operator)
    receipt = cubes.pause(sender=operator)
    assert cube_events(receipt, cubes) == [("Paused", {"account": operator.address})]


def test_pause__by_stranger__reverts_unauthorized(cubes, stranger):
    with reverts(cubes.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=PAUSER_ROLE):
        cubes.pause(sender=stranger)
    assert cubes.paused() is False


def test_unpause__by_stranger__reverts_unauthorized(cubes, admin, stranger):
    cubes.pause(sender=admin)
    with reverts(
        cubes.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=DEFAULT_ADMIN_ROLE
    ):
        cubes.unpause(sender=stranger)
    assert cubes.paused() is True


def test_unpause__by_a_guardian_with_only_the_pauser_role__reverts_unauthorized(cubes, admin, stranger):
    cubes.grantRole(PAUSER_ROLE, stranger, sender=admin)
    cubes.pause(sender=stranger)
    with reverts(
        cubes.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=DEFAULT_ADMIN_ROLE
    ):
        cubes.unpause(sender=stranger)
    assert cubes.paused() is True
    cubes.unpause(sender=admin)
    assert cubes.paused() is False


def test_pause__twice__reverts_enforced_pause(cubes, admin):
    cubes.pause(sender=admin)
    with reverts(cubes.EnforcedPause):
        cubes.pause(sender=admin)
    assert cubes.paused() is True


def test_unpause__when_not_paused__reverts_expected_pause(cubes, admin):
    with reverts(cubes.ExpectedPause):
        cubes.unpause(sender=admin)


def test_pause__keeps_tier_rates(cubes, admin, default_rates):
    cubes.pause(sender=admin)
    assert [cubes.tierRate(t) for t in range(4)] == list(default_rates)
    cubes.unpause(sender=admin)
    assert [cubes.tierRate(t) for t in range(4)] == list(default_rates)


# --------------------------------------------------------------------------------------------- storage layout


def test_storage__raw_word__matches_node_data_through_the_cube_lifecycle(
    cubes, lbc, admin, alice, bob, advance, chain
):
    def check(cube_id, owner, active, carried, tier):
        word = layout.NodeWord.decode(storage_word(chain, cubes, cube_id))
        reported = node(cubes, cube_id)
        assert word == layout.NodeWord(
            owner=owner.address,
            active=active,
            carried=carried,
            tier=tier,
            last_claim_time=reported.last_claim_time,
            total_mined_units=reported.total_mined // UNIT,
        )
        assert word.total_mined_units * UNIT == reported.total_mined
        assert reported.active is active
        return word

    mint = cubes.mint(alice, 2, sender=admin)
    cube = 1
    minted = check(cube, alice, active=True, carried=False, tier=2)
    assert (minted.last_claim_time, minted.total_mined_units) == (mint.timestamp, 0)

    advance(100)
    claimed_at = cubes.batchClaimRewards([cube], sender=alice).timestamp
    claimed = check(cube, alice, active=True, carried=False, tier=2)
    assert claimed.last_claim_time == claimed_at
    assert claimed.total_mined_units * UNIT == lbc.balanceOf(alice) == R2 * (claimed_at - mint.timestamp)

    advance(100)
    cubes.setActive(cube, False, sender=admin)
    check(cube, alice, active=False, carried=True, tier=2)

    cubes.transferFrom(alice, bob, cube, sender=alice)
    check(cube, bob, active=False, carried=True, tier=2)

    cubes.setActive(cube, True, sender=admin)
    check(cube, bob, active=True, carried=True, tier=2)

    advance(10)
    cubes.batchClaimRewards([cube], sender=bob)
    check(cube, bob, active=True, carried=False, tier=2)


def test_storage__neighbouring_cubes__occupy_their_own_slots(cubes, alice, bob, chain, mint_cubes):
    mint_cubes(alice, 1, tier=1)
    mint_cubes(bob, 1, tier=3)
    first = layout.NodeWord.decode(storage_word(chain, cubes, 1))
    second = layout.NodeWord.decode(storage_word(chain, cubes, 2))
    assert (first.owner, first.tier) == (alice.address.lower(), 1)
    assert (second.owner, second.tier) == (bob.address.lower(), 3)
    assert storage_word(chain, cubes, 3) == 0
