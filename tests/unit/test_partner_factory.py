"""PartnerFactory: onboards partners as CREATE2 clones whose terms live in code (see IPartnerFactory.sol).

Every partner is created, configured and funded in one transaction: the factory entitles cubes
1..totalMinted and pulls `welcomeAmountPerCube * totalMinted` of the welcome token from the onboarder.
"""

from __future__ import annotations

import pytest
from _errors import reverts, reverts_with_selector
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
DEFAULT_ADMIN_ROLE = HexBytes(b"\x00" * 32)
ONBOARDER_ROLE = HexBytes(keccak(text="ONBOARDER_ROLE"))
# The 30-byte init code every clone is created from (PartnerFactory._INIT_CODE): it returns the factory's
# `cloneRuntime()` as the clone's code.
CLONE_INIT_CODE = bytes.fromhex("63f18da9445f525f5f6004601c335afa6016575f5ffd5b3d5f5f3e3d5ff3")
AMOUNT = 7 * 10**18
WINDOW = 30 * 86_400
DISCOUNTS = (500, 1_000, 2_500, 10_000)
UINT96_MAX = 2**96 - 1
UINT40_MAX = 2**40 - 1
COFFEE = b"coffee".ljust(32, b"\x00")


def name(text: str | bytes) -> bytes:
    """A partner id or service name: UTF-8, left-aligned, zero-padded to 32 bytes."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    assert 0 < len(raw) <= 32
    return raw.ljust(32, b"\x00")


def terms(
    partner,
    token=None,
    amount: int = AMOUNT,
    window: int = WINDOW,
    discounts=DISCOUNTS,
    services=(COFFEE,),
) -> tuple:
    """An IPartnerFactory.PartnerTerms tuple."""
    token_address = ZERO_ADDRESS if token is None else getattr(token, "address", token)
    return (
        getattr(partner, "address", partner),
        token_address,
        amount,
        window,
        list(discounts),
        list(services),
    )


def create2_address(deployer: str, salt: bytes, init_code: bytes) -> str:
    digest = keccak(b"\xff" + bytes.fromhex(deployer[2:]) + salt + keccak(init_code))
    return to_checksum_address(digest[12:])


# --------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", autouse=True)
def _wider_fixtures_first(admin, alice, bob, operator, stranger, lbc, cubes, factory, token, partner):
    """Resolves every session/module fixture before the first test's snapshot (ape's isolation wants
    wider scopes set up first; otherwise it rebases snapshots and warns)."""


@pytest.fixture
def fund(token, factory):
    """Gives `sender` `amount` welcome tokens and approves the factory for `allowance` (default: all)."""

    def fund(sender, amount: int, allowance: int | None = None) -> None:
        token.mint(sender, amount, sender=sender)
        token.approve(factory, amount if allowance is None else allowance, sender=sender)

    return fund


@pytest.fixture
def benefits(project):
    """The PartnerBenefits interface of a clone (also registers its ABI with ape for error decoding)."""

    def at(address: str):
        return project.PartnerBenefits.at(address)

    return at


def created_events(receipt, factory) -> list[dict]:
    return [
        dict(log.event_arguments)
        for log in receipt.decode_logs(factory.PartnerCreated)
        if log.contract_address == factory.address
    ]


def token_transfers(receipt, token) -> list[tuple[str, str, int]]:
    return [
        (log.event_arguments["from"], log.event_arguments["to"], log.event_arguments["value"])
        for log in receipt.decode_logs(token.Transfer)
        if log.contract_address == token.address
    ]


# --------------------------------------------------------------------------------------------- constructor


def test_constructor__zero_admin__reverts_invalid_default_admin(
    project, admin, cubes, factory, failing_deployer
):
    with reverts(factory.AccessControlInvalidDefaultAdmin, defaultAdmin=ZERO_ADDRESS):
        project.PartnerFactory.deploy(ZERO_ADDRESS, cubes, sender=failing_deployer)


@pytest.mark.parametrize("which", ["zero address", "account without code"])
def test_constructor__cubes_without_code__reverts_invalid_address(
    project, admin, alice, factory, which, failing_deployer
):
    cubes_address = ZERO_ADDRESS if which == "zero address" else alice.address
    with reverts(factory.InvalidAddress):
        project.PartnerFactory.deploy(admin, cubes_address, sender=failing_deployer)


def test_constructor__admin__holds_default_admin_and_onboarder_roles_and_the_deployer_none(
    project, admin, alice, cubes
):
    fresh = project.PartnerFactory.deploy(alice, cubes, sender=admin)
    assert fresh.ONBOARDER_ROLE() == ONBOARDER_ROLE
    for role in (DEFAULT_ADMIN_ROLE, ONBOARDER_ROLE):
        assert fresh.hasRole(role, alice)
        assert not fresh.hasRole(role, admin)
    assert fresh.getRoleAdmin(ONBOARDER_ROLE) == DEFAULT_ADMIN_ROLE


def test_constructor__cubes_and_implementation__are_exposed(factory, cubes, chain, benefits):
    assert factory.cubes() == cubes.address
    implementation = factory.implementation()
    assert implementation not in (ZERO_ADDRESS, factory.address, cubes.address)
    assert len(chain.provider.get_code(implementation)) > 0
    # The implementation holds no terms: called directly it refuses everything.
    with reverts(benefits(implementation).NotAClone):
        benefits(implementation).partnerId()


def test_constructor__each_factory__deploys_its_own_implementation(project, admin, cubes, factory):
    other = project.PartnerFactory.deploy(admin, cubes, sender=admin)
    assert other.implementation() != factory.implementation()


# --------------------------------------------------------------------------------------------- access


@pytest.mark.parametrize("caller_name", ["stranger", "alice"])
def test_create_partner__without_onboarder_role__reverts_and_creates_nothing(
    factory, request, caller_name, partner, token, fund
):
    caller = request.getfixturevalue(caller_name)
    fund(caller, 10**24)
    partner_id = name("cafe-seoul")
    with reverts(factory.AccessControlUnauthorizedAccount, account=caller.address, neededRole=ONBOARDER_ROLE):
        factory.createPartner(partner_id, terms(partner, token), sender=caller)
    assert factory.partnerOf(partner_id) == ZERO_ADDRESS


def test_create_partner__granted_onboarder__creates_and_funds_from_the_onboarder_not_the_admin(
    factory, admin, operator, partner, token, fund, mint_cubes, alice, cubes
):
    mint_cubes(alice, 3)
    factory.grantRole(ONBOARDER_ROLE, operator, sender=admin)
    fund(operator, 10**24)
    fund(admin, 10**24)
    admin_before = token.balanceOf(admin)
    receipt = factory.createPartner(name("cafe-seoul"), terms(partner, token), sender=operator)
    funded = AMOUNT * cubes.totalMinted()
    assert token.balanceOf(operator) == 10**24 - funded
    assert token.balanceOf(admin) == admin_before
    clone = factory.partnerOf(name("cafe-seoul"))
    assert token_transfers(receipt, token) == [(operator.address, clone, funded)]


def test_create_partner__onboarder_role_revoked__reverts(factory, admin, operator, partner, token, fund):
    factory.grantRole(ONBOARDER_ROLE, operator, sender=admin)
    factory.revokeRole(ONBOARDER_ROLE, operator, sender=admin)
    fund(operator, 10**24)
    with reverts(
        factory.AccessControlUnauthorizedAccount, account=operator.address, neededRole=ONBOARDER_ROLE
    ):
        factory.createPartner(name("cafe-seoul"), terms(partner, token), sender=operator)


# --------------------------------------------------------------------------------------------- address


def test_create_partner__clone_is_at_the_address_predicted_before_creation(
    factory, admin, partner, token, fund, chain, mint_cubes, alice
):
    mint_cubes(alice, 2)
    partner_id = name("cafe-seoul")
    predicted = factory.predictPartnerAddress(partner_id)
    assert factory.partnerOf(partner_id) == ZERO_ADDRESS
    assert len(chain.provider.get_code(predicted)) == 0
    fund(admin, 10**24)
    receipt = factory.createPartner(partner_id, terms(partner, token), sender=admin)
    assert receipt.return_value == predicted
    assert factory.partnerOf(partner_id) == predicted
    assert len(chain.provider.get_code(predicted)) > 0
    # The prediction does not move once the partner exists.
    assert factory.predictPartnerAddress(partner_id) == predicted


def test_predict_partner_address__is_create2_of_the_factory_partner_id_and_clone_init_code(factory):
    for text in ("cafe-seoul", "x", "p" * 32):
        partner_id = name(text)
        assert factory.predictPartnerAddress(partner_id) == create2_address(
            factory.address, partner_id, CLONE_INIT_CODE
        )


def test_predict_partner_address__depends_only_on_the_partner_id_not_on_the_terms(
    factory, admin, partner, alice, token, fund
):
    # Same id, different terms: the address was fixed before the terms were known.
    partner_id = name("cafe-seoul")
    predicted = factory.predictPartnerAddress(partner_id)
    fund(admin, 10**24)
    other_terms = terms(alice, token, amount=1, window=1, discounts=(0, 0, 0, 0), services=[name("a")] * 9)
    factory.createPartner(partner_id, other_terms, sender=admin)
    assert factory.partnerOf(partner_id) == predicted


def test_predict_partner_address__differs_per_partner_id_and_per_factory(project, admin, cubes, factory):
    a, b = name("cafe-seoul"), name("cafe-busan")
    assert factory.predictPartnerAddress(a) != factory.predictPartnerAddress(b)
    other = project.PartnerFactory.deploy(admin, cubes, sender=admin)
    assert other.predictPartnerAddress(a) != factory.predictPartnerAddress(a)


def test_partner_of__other_ids__stay_zero_after_a_creation(factory, admin, partner, token, fund):
    fund(admin, 10**24)
    factory.createPartner(name("cafe-seoul"), terms(partner, token), sender=admin)
    assert factory.partnerOf(name("cafe-busan")) == ZERO_ADDRESS
    assert factory.partnerOf(name("cafe-seoul\x00x")) == ZERO_ADDRESS


# --------------------------------------------------------------------------------------------- event & funds


def test_create_partner__emits_partner_created_with_every_field(
    factory, admin, partner, token, fund, cubes, mint_cubes, alice, bob
):
    mint_cubes(alice, 2, tier=1)
    mint_cubes(bob, 3, tier=3)
    snapshot = cubes.totalMinted()
    assert snapshot >= 5
    fund(admin, 10**24)
    partner_id = name("cafe-seoul")
    receipt = factory.createPartner(partner_id, terms(partner, token), sender=admin)
    assert created_events(receipt, factory) == [
        {
            "partnerId": HexBytes(partner_id),
            "partnerAddress": factory.partnerOf(partner_id),
            "partner": partner.address,
            "welcomeToken": token.address,
            "welcomeAmountPerCube": AMOUNT,
            "snapshotCubeId": snapshot,
            "claimDeadline": receipt.timestamp + WINDOW,
            "funded": AMOUNT * snapshot,
        }
    ]


def test_create_partner__pulls_exactly_amount_times_snapshot_from_the_sender_into_the_clone(
    factory, admin, partner, token, fund, cubes, mint_cubes, alice
):
    mint_cubes(alice, 4)
    snapshot = cubes.totalMinted()
    funded = AMOUNT * snapshot
    allowance = funded + 12_345
    fund(admin, funded + 999, allowance=allowance)
    balance_before = token.balanceOf(admin)
    receipt = factory.createPartner(name("cafe-seoul"), terms(partner, token), sender=admin)
    clone = factory.partnerOf(name("cafe-seoul"))
    assert token.balanceOf(admin) == balance_before - funded
    assert token.balanceOf(clone) == funded
    assert token.allowance(admin, factory) == allowance - funded
    assert token.balanceOf(factory) == 0
    assert token_transfers(receipt, token) == [(admin.address, clone, funded)]


def test_create_partner__largest_amount_per_cube__funds_without_overflow(
    factory, admin, partner, token, fund, cubes, mint_cubes, alice
):
    mint_cubes(alice, 3)
    funded = UINT96_MAX * cubes.totalMinted()
    fund(admin, funded)
    receipt = factory.createPartner(name("whale"), terms(partner, token, amount=UINT96_MAX), sender=admin)
    assert created_events(receipt, factory)[0]["funded"] == funded
    assert token.balanceOf(factory.partnerOf(name("whale"))) == funded


def test_create_partner__lbc_as_welcome_token__funds_the_clone_in_lbc(
    factory, admin, partner, lbc, cubes, mint_cubes, alice
):
    mint_cubes(alice, 3)
    funded = AMOUNT * cubes.totalMinted()
    lbc.grantRole(lbc.MINTER_ROLE(), admin, sender=admin)
    lbc.mint(admin, funded, sender=admin)
    lbc.approve(factory, funded, sender=admin)
    before = lbc.balanceOf(admin)
    factory.createPartner(name("cafe-seoul"), terms(partner, lbc), sender=admin)
    assert lbc.balanceOf(factory.partnerOf(name("cafe-seoul"))) == funded
    assert lbc.balanceOf(admin) == before - funded


def test_create_partner__no_cubes_yet__snapshot_zero_and_pulls_nothing(project, admin, partner, lbc, token):
    empty_cubes = project.OptimizedCubeManagement.deploy(admin, lbc, sender=admin)
    assert empty_cubes.totalMinted() == 0
    fresh = project.PartnerFactory.deploy(admin, empty_cubes, sender=admin)
    token.mint(admin, 10**24, sender=admin)
    token.approve(fresh, 10**24, sender=admin)
    receipt = fresh.createPartner(name("early"), terms(partner, token), sender=admin)
    event = created_events(receipt, fresh)[0]
    assert (event["snapshotCubeId"], event["funded"]) == (0, 0)
    assert token_transfers(receipt, token) == []


# --------------------------------------------------------------------------------------------- validation


def test_create_partner__reused_partner_id__reverts_partner_exists_and_pulls_nothing(
    factory, admin, partner, alice, token, fund, mint_cubes, cubes
):
    mint_cubes(alice, 2)
    fund(admin, 10**24)
    partner_id = name("cafe-seoul")
    factory.createPartner(partner_id, terms(partner, token), sender=admin)
    existing = factory.partnerOf(partner_id)
    balance = token.balanceOf(admin)
    for again in (terms(partner, token), terms(alice, token, amount=1, services=[name("tea")])):
        with reverts(factory.PartnerExists, partnerId=HexBytes(partner_id), partnerAddress=existing):
            factory.createPartner(partner_id, again, sender=admin)
    assert token.balanceOf(admin) == balance
    assert token.balanceOf(existing) == AMOUNT * cubes.totalMinted()


def test_create_partner__zero_partner_id__reverts(factory, admin, partner, token, fund):
    fund(admin, 10**24)
    with reverts(factory.ZeroPartnerId):
        factory.createPartner(b"\x00" * 32, terms(partner, token), sender=admin)


def test_create_partner__zero_partner_account__reverts_invalid_address(factory, admin, token, fund):
    fund(admin, 10**24)
    with reverts(factory.InvalidAddress):
        factory.createPartner(name("cafe-seoul"), terms(ZERO_ADDRESS, token), sender=admin)
    assert factory.partnerOf(name("cafe-seoul")) == ZERO_ADDRESS


@pytest.mark.parametrize("which", ["zero address", "account without code"])
def test_create_partner__nonzero_amount_with_a_token_without_code__reverts_invalid_address(
    factory, admin, partner, alice, which
):
    token_address = ZERO_ADDRESS if which == "zero address" else alice.address
    with reverts(factory.InvalidAddress):
        factory.createPartner(name("cafe-seoul"), terms(partner, token_address, amount=1), sender=admin)
    assert factory.partnerOf(name("cafe-seoul")) == ZERO_ADDRESS


def test_create_partner__zero_amount_and_zero_token__creates_an_unfunded_partner(
    factory, admin, partner, benefits, mint_cubes, alice, cubes
):
    mint_cubes(alice, 2)
    receipt = factory.createPartner(name("free-wifi"), terms(partner, None, amount=0), sender=admin)
    clone = factory.partnerOf(name("free-wifi"))
    assert clone != ZERO_ADDRESS
    event = created_events(receipt, factory)[0]
    assert (event["welcomeToken"], event["welcomeAmountPerCube"], event["funded"]) == (ZERO_ADDRESS, 0, 0)
    assert event["snapshotCubeId"] == cubes.totalMinted()
    contract = benefits(clone)
    assert contract.welcomeToken() == ZERO_ADDRESS
    assert contract.welcomeAmountPerCube() == 0
    # Only the factory's own event: no token moved.
    assert [log.contract_address for log in receipt.events] == [factory.address]


def test_create_partner__zero_amount_with_a_real_token__pulls_nothing(
    factory, admin, partner, token, mint_cubes, alice
):
    mint_cubes(alice, 2)
    # No balance and no allowance: nothing may be pulled.
    receipt = factory.createPartner(name("free-wifi"), terms(partner, token, amount=0), sender=admin)
    assert token_transfers(receipt, token) == []
    assert created_events(receipt, factory)[0]["funded"] == 0


def test_create_partner__zero_claim_window__reverts(factory, admin, partner, token, fund):
    fund(admin, 10**24)
    with reverts(factory.ZeroClaimWindow):
        factory.createPartner(name("cafe-seoul"), terms(partner, token, window=0), sender=admin)


@pytest.mark.parametrize("bps", [10_001, 65_535])
@pytest.mark.parametrize("tier", [0, 1, 2, 3])
def test_create_partner__discount_above_10000__reverts_discount_too_high(
    factory, admin, partner, token, fund, tier, bps
):
    fund(admin, 10**24)
    discounts = [10_000, 10_000, 10_000, 10_000]
    discounts[tier] = bps
    with reverts(factory.DiscountTooHigh, tier=tier, bps=bps):
        factory.createPartner(name("cafe-seoul"), terms(partner, token, discounts=discounts), sender=admin)
    assert factory.partnerOf(name("cafe-seoul")) == ZERO_ADDRESS


def test_create_partner__discount_of_exactly_10000_in_every_tier__is_accepted(
    factory, admin, partner, token, fund, benefits
):
    fund(admin, 10**24)
    factory.createPartner(name("free-all"), terms(partner, token, discounts=[10_000] * 4), sender=admin)
    clone = benefits(factory.partnerOf(name("free-all")))
    assert [clone.discountBps(t) for t in range(4)] == [10_000] * 4


@pytest.mark.parametrize("count", [0, 256, 300])
def test_create_partner__service_count_outside_1_to_255__reverts_invalid_service_count(
    factory, admin, partner, token, fund, count
):
    fund(admin, 10**24)
    services = [name(f"s{i}") for i in range(count)]
    with reverts(factory.InvalidServiceCount, count=count):
        factory.createPartner(name("cafe-seoul"), terms(partner, token, services=services), sender=admin)
    assert factory.partnerOf(name("cafe-seoul")) == ZERO_ADDRESS


def test_create_partner__255_services_of_every_length__are_stored_in_order(
    factory, admin, partner, token, fund, benefits
):
    # Lengths cycle through 1..32 so every name size of the codec is written and read back.
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    services = [name((alphabet[i % 36] * 32)[: 1 + i % 32]) for i in range(255)]
    fund(admin, 10**24)
    factory.createPartner(name("mall"), terms(partner, token, services=services), sender=admin)
    clone = benefits(factory.partnerOf(name("mall")))
    assert [bytes(s) for s in clone.services()] == services
    assert bytes(clone.partnerId()) == name("mall")


def test_create_partner__insufficient_allowance__reverts_and_creates_nothing(
    factory, admin, partner, token, fund, cubes, mint_cubes, alice
):
    mint_cubes(alice, 3)
    funded = AMOUNT * cubes.totalMinted()
    fund(admin, funded, allowance=funded - 1)
    with reverts_with_selector("TransferFromFailed()"):
        factory.createPartner(name("cafe-seoul"), terms(partner, token), sender=admin)
    assert factory.partnerOf(name("cafe-seoul")) == ZERO_ADDRESS
    assert token.balanceOf(admin) == funded
    # The id is still free: with enough allowance the same partner is created.
    token.approve(factory, funded, sender=admin)
    factory.createPartner(name("cafe-seoul"), terms(partner, token), sender=admin)
    assert token.balanceOf(factory.partnerOf(name("cafe-seoul"))) == funded


def test_create_partner__insufficient_balance__reverts_and_creates_nothing(
    factory, admin, partner, token, fund, cubes, mint_cubes, alice
):
    mint_cubes(alice, 3)
    funded = AMOUNT * cubes.totalMinted()
    fund(admin, funded - 1, allowance=funded)
    with reverts_with_selector("TransferFromFailed()"):
        factory.createPartner(name("cafe-seoul"), terms(partner, token), sender=admin)
    assert factory.partnerOf(name("cafe-seoul")) == ZERO_ADDRESS


@pytest.mark.parametrize("window", ["just too long", UINT40_MAX])
def test_create_partner__deadline_past_2_40__reverts_claim_window_too_long(
    factory, admin, partner, token, fund, chain, window
):
    # The clone stores the deadline in 40 bits: a longer window must be refused, not truncated into a
    # deadline in the past (which would close claims and open the partner's withdrawal at once).
    fund(admin, 10**24)
    now = chain.pending_timestamp = int(chain.blocks.head.timestamp) + 10
    if window == "just too long":
        window = UINT40_MAX - now + 1
    with reverts(factory.ClaimWindowTooLong, claimWindow=window, maxDeadline=UINT40_MAX):
        factory.createPartner(name("forever"), terms(partner, token, window=window), sender=admin)
    assert factory.partnerOf(name("forever")) == ZERO_ADDRESS


def test_create_partner__longest_claim_window__clone_deadline_is_the_announced_one(
    factory, admin, partner, token, fund, benefits, mint_cubes, alice, chain
):
    (cube_id,) = mint_cubes(alice, 1)
    fund(admin, 10**24)
    now = chain.pending_timestamp = int(chain.blocks.head.timestamp) + 10
    receipt = factory.createPartner(
        name("forever"), terms(partner, token, window=UINT40_MAX - now), sender=admin
    )
    assert receipt.timestamp == now
    announced = created_events(receipt, factory)[0]["claimDeadline"]
    assert announced == UINT40_MAX
    clone = benefits(factory.partnerOf(name("forever")))
    assert clone.claimDeadline() == announced
    # The window is open: claims pay, the partner cannot withdraw yet.
    clone.claimWelcome([cube_id], sender=alice)
    assert token.balanceOf(alice) == AMOUNT
    with reverts(clone.ClaimWindowOpen, deadline=UINT40_MAX):
        clone.withdrawUnclaimed(sender=partner)


# --------------------------------------------------------------------------------------------- runtime


def test_clone_runtime__outside_create_partner__reverts_no_pending_clone(
    factory, admin, partner, token, fund
):
    with reverts(factory.NoPendingClone):
        factory.cloneRuntime()
    fund(admin, 10**24)
    factory.createPartner(name("cafe-seoul"), terms(partner, token), sender=admin)
    # Nothing stays parked after a creation either.
    with reverts(factory.NoPendingClone):
        factory.cloneRuntime()


# --------------------------------------------------------------------------------------------- gas


def test_create_partner__gas_does_not_grow_with_the_number_of_cubes(
    factory, admin, partner, token, fund, cubes, alice
):
    def mint_up_to(total: int) -> None:
        while (missing := total - cubes.totalMinted()) > 0:
            cubes.mintBatch(alice, 0, min(missing, 500), sender=admin)

    fund(admin, 10**27)
    mint_up_to(10)
    assert cubes.totalMinted() == 10
    few = factory.createPartner(name("gas-a"), terms(partner, token), sender=admin)
    mint_up_to(1_000)
    assert cubes.totalMinted() == 1_000
    many = factory.createPartner(name("gas-b"), terms(partner, token), sender=admin)
    assert created_events(many, factory)[0]["funded"] == AMOUNT * 1_000
    assert few.gas_used < 150_000, few.gas_used
    assert many.gas_used < 150_000, many.gas_used
    assert abs(many.gas_used - few.gas_used) < 1_000, (few.gas_used, many.gas_used)
