"""Governed (IGoverned.sol): what every administered contract shares, tested on each of them.

Every administered contract (LBCToken, OptimizedCubeManagement, PartnerFactory, AttestedMessenger, the LBC
bridges at home and remote, CubeBridge, RemoteCubeBridge) has one default admin under OpenZeppelin's
AccessControlDefaultAdminRules (handed over in two steps, 2 days apart; never granted directly) and lets that
admin rescue what was sent to it by mistake: native coin, ERC-20s and NFTs that no accounting of the
contract owns. The home LBC bridge owns the LBC locked for other chains, the home cube bridge the cubes it
locked: neither can be rescued. A guardian holding only PAUSER_ROLE stops the bridges and the cube
contract, and only the admin restarts them.

The contracts are deployed once for this module, each with `admin` as its default admin; the bridges are
wired just enough to lock LBC and cubes (nothing is delivered).
"""

from __future__ import annotations

from typing import Any

import pytest
from _errors import reverts
from eth_utils import keccak
from hexbytes import HexBytes

CHAIN_ID = 31337
OTHER_CHAIN = 137
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
DEFAULT_ADMIN_ROLE = HexBytes(b"\x00" * 32)
SENDER_ROLE = HexBytes(keccak(text="SENDER_ROLE"))
PAUSER_ROLE = HexBytes(keccak(text="PAUSER_ROLE"))
MINTER_ROLE = HexBytes(keccak(text="MINTER_ROLE"))
DAYS_2 = 2 * 86_400
ETHER = 10**18
LBC = 10**18

GOVERNED = (
    "LBCToken",
    "OptimizedCubeManagement",
    "PartnerFactory",
    "AttestedMessenger",
    "LBCBridge (home)",
    "LBCBridge (remote)",
    "CubeBridge",
    "RemoteCubeBridge",
)


@pytest.fixture(scope="module")
def governed(project, admin, lbc, cubes, factory) -> dict[str, Any]:
    """Each Governed contract by name, `admin` its default admin."""
    signers = [admin.address]
    home_messenger = project.AttestedMessenger.deploy(admin, signers, 1, sender=admin)
    remote_messenger = project.AttestedMessenger.deploy(admin, signers, 1, sender=admin)
    remote_lbc = project.LBCToken.deploy(admin, lbc.cap(), sender=admin)
    home_lbc_bridge = project.LBCBridge.deploy(admin, lbc, home_messenger, CHAIN_ID, True, sender=admin)
    remote_lbc_bridge = project.LBCBridge.deploy(
        admin, remote_lbc, remote_messenger, CHAIN_ID, False, sender=admin
    )
    cube_bridge = project.CubeBridge.deploy(admin, cubes, home_messenger, sender=admin)
    remote_cube_bridge = project.RemoteCubeBridge.deploy(admin, remote_messenger, CHAIN_ID, "", sender=admin)

    # Enough wiring to lock LBC for two chains and cubes for one.
    for chain_id in (CHAIN_ID, OTHER_CHAIN):
        home_messenger.setRemoteMessenger(chain_id, remote_messenger, sender=admin)
        home_lbc_bridge.setPeer(chain_id, remote_lbc_bridge, sender=admin)
        home_lbc_bridge.setLimits(chain_id, 1_000 * LBC, 1_000 * LBC, sender=admin)
    cube_bridge.setPeer(CHAIN_ID, remote_cube_bridge, sender=admin)
    for bridge in (home_lbc_bridge, cube_bridge):
        home_messenger.grantRole(SENDER_ROLE, bridge, sender=admin)
    lbc.grantRole(MINTER_ROLE, admin, sender=admin)

    return {
        "LBCToken": lbc,
        "OptimizedCubeManagement": cubes,
        "PartnerFactory": factory,
        "AttestedMessenger": home_messenger,
        "LBCBridge (home)": home_lbc_bridge,
        "LBCBridge (remote)": remote_lbc_bridge,
        "CubeBridge": cube_bridge,
        "RemoteCubeBridge": remote_cube_bridge,
    }


@pytest.fixture(scope="module", autouse=True)
def _wider_fixtures_first(
    admin, alice, bob, operator, stranger, lbc, cubes, factory, token, governed, failing_deployer
):
    """Resolves every session/module fixture before the first test's snapshot (ape's isolation wants
    wider scopes set up first)."""


@pytest.fixture(params=GOVERNED)
def contract(request, governed):
    return governed[request.param]


@pytest.fixture
def home_lbc_bridge(governed):
    return governed["LBCBridge (home)"]


@pytest.fixture
def cube_bridge(governed):
    return governed["CubeBridge"]


def events(receipt, contract, event_name: str) -> list[dict[str, Any]]:
    """The arguments of every `event_name` that `contract` emitted in `receipt`."""
    return [
        dict(log.event_arguments)
        for log in receipt.decode_logs(getattr(contract, event_name))
        if log.contract_address == contract.address
    ]


def mint_cube(cubes, admin, to) -> int:
    """A new tier-0 cube minted straight to `to` (a contract receives it as a stray NFT)."""
    cube_id = cubes.totalMinted() + 1
    cubes.mintBatch(to, 0, 1, sender=admin)
    return cube_id


# --------------------------------------------------------------------------------------------- the admin


def test_default_admin__the_one_given_to_the_constructor_with_a_2_day_delay(contract, admin):
    assert contract.defaultAdmin() == admin.address
    assert contract.hasRole(DEFAULT_ADMIN_ROLE, admin)
    assert contract.INITIAL_ADMIN_DELAY() == DAYS_2
    assert contract.defaultAdminDelay() == DAYS_2
    assert tuple(contract.pendingDefaultAdmin()) == (ZERO_ADDRESS, 0)


def test_admin_transfer__accepted_after_2_days__and_the_old_admin_loses_the_role(
    contract, chain, admin, alice, stranger
):
    receipt = contract.beginDefaultAdminTransfer(alice, sender=admin)
    schedule = receipt.timestamp + DAYS_2
    assert events(receipt, contract, "DefaultAdminTransferScheduled") == [
        {"newAdmin": alice.address, "acceptSchedule": schedule}
    ]
    assert tuple(contract.pendingDefaultAdmin()) == (alice.address, schedule)

    chain.pending_timestamp = schedule  # the delay has not passed until after `schedule`
    with reverts(contract.AccessControlEnforcedDefaultAdminDelay, schedule=schedule):
        contract.acceptDefaultAdminTransfer(sender=alice)
    with reverts(contract.AccessControlInvalidDefaultAdmin, defaultAdmin=stranger.address):
        contract.acceptDefaultAdminTransfer(sender=stranger)
    assert contract.defaultAdmin() == admin.address

    chain.pending_timestamp = schedule + 1
    contract.acceptDefaultAdminTransfer(sender=alice)
    assert contract.defaultAdmin() == alice.address
    assert contract.hasRole(DEFAULT_ADMIN_ROLE, alice)
    assert not contract.hasRole(DEFAULT_ADMIN_ROLE, admin)
    assert tuple(contract.pendingDefaultAdmin()) == (ZERO_ADDRESS, 0)
    with reverts(
        contract.AccessControlUnauthorizedAccount, account=admin.address, neededRole=DEFAULT_ADMIN_ROLE
    ):
        contract.rescue(ZERO_ADDRESS, admin, 0, sender=admin)
    contract.rescue(ZERO_ADDRESS, alice, 0, sender=alice)


def test_grant_role__of_the_default_admin_role__reverts_enforced_default_admin_rules(contract, admin, alice):
    with reverts(contract.AccessControlEnforcedDefaultAdminRules):
        contract.grantRole(DEFAULT_ADMIN_ROLE, alice, sender=admin)
    assert not contract.hasRole(DEFAULT_ADMIN_ROLE, alice)


def test_begin_admin_transfer__not_admin__reverts(contract, stranger):
    with reverts(
        contract.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=DEFAULT_ADMIN_ROLE
    ):
        contract.beginDefaultAdminTransfer(stranger, sender=stranger)


@pytest.mark.parametrize("name", GOVERNED)
def test_constructor__zero_admin__reverts_invalid_default_admin(
    project, governed, lbc, cubes, failing_deployer, name
):
    messenger = governed["AttestedMessenger"]
    deploy = {
        "LBCToken": lambda: project.LBCToken.deploy(ZERO_ADDRESS, lbc.cap(), sender=failing_deployer),
        "OptimizedCubeManagement": lambda: project.OptimizedCubeManagement.deploy(
            ZERO_ADDRESS, lbc, sender=failing_deployer
        ),
        "PartnerFactory": lambda: project.PartnerFactory.deploy(ZERO_ADDRESS, cubes, sender=failing_deployer),
        "AttestedMessenger": lambda: project.AttestedMessenger.deploy(
            ZERO_ADDRESS, [failing_deployer.address], 1, sender=failing_deployer
        ),
        "LBCBridge (home)": lambda: project.LBCBridge.deploy(
            ZERO_ADDRESS, lbc, messenger, CHAIN_ID, True, sender=failing_deployer
        ),
        "LBCBridge (remote)": lambda: project.LBCBridge.deploy(
            ZERO_ADDRESS, lbc, messenger, CHAIN_ID, False, sender=failing_deployer
        ),
        "CubeBridge": lambda: project.CubeBridge.deploy(
            ZERO_ADDRESS, cubes, messenger, sender=failing_deployer
        ),
        "RemoteCubeBridge": lambda: project.RemoteCubeBridge.deploy(
            ZERO_ADDRESS, messenger, CHAIN_ID, "", sender=failing_deployer
        ),
    }[name]
    with reverts(governed[name].AccessControlInvalidDefaultAdmin, defaultAdmin=ZERO_ADDRESS):
        deploy()


# --------------------------------------------------------------------------------------------- rescue


def test_rescue__native_coin__pays_the_recipient_and_emits(contract, chain, admin, bob):
    chain.set_balance(contract.address, 5 * ETHER)
    assert contract.rescuable(ZERO_ADDRESS) == 5 * ETHER
    before = bob.balance
    receipt = contract.rescue(ZERO_ADDRESS, bob, 2 * ETHER, sender=admin)
    assert events(receipt, contract, "Rescued") == [
        {"token": ZERO_ADDRESS, "to": bob.address, "amount": 2 * ETHER}
    ]
    assert bob.balance == before + 2 * ETHER
    assert chain.provider.get_balance(contract.address) == 3 * ETHER
    assert contract.rescuable(ZERO_ADDRESS) == 3 * ETHER


def test_rescue__native_coin_paid_into_the_cube_contracts_payable_erc721_functions(
    cubes, admin, alice, bob, chain
):
    # Solady's ERC-721 transfer and approval functions are payable: what they are sent stays in the contract.
    cube_id = mint_cube(cubes, admin, alice)
    cubes.approve(bob, cube_id, sender=alice, value=ETHER)
    cubes.transferFrom(alice, bob, cube_id, sender=alice, value=2 * ETHER)
    assert chain.provider.get_balance(cubes.address) == 3 * ETHER
    assert cubes.rescuable(ZERO_ADDRESS) == 3 * ETHER
    before = alice.balance
    cubes.rescue(ZERO_ADDRESS, alice, 3 * ETHER, sender=admin)
    assert alice.balance == before + 3 * ETHER
    assert cubes.rescuable(ZERO_ADDRESS) == 0


def test_rescue__a_stray_erc20__pays_the_recipient_and_emits(contract, token, admin, bob):
    token.mint(contract, 100, sender=admin)
    assert contract.rescuable(token) == 100
    receipt = contract.rescue(token, bob, 100, sender=admin)
    assert events(receipt, contract, "Rescued") == [
        {"token": token.address, "to": bob.address, "amount": 100}
    ]
    assert token.balanceOf(bob) == 100
    assert token.balanceOf(contract) == 0


def test_rescue_nft__a_stray_cube__goes_to_the_recipient_and_emits(contract, cubes, admin, bob):
    cube_id = mint_cube(cubes, admin, contract)
    receipt = contract.rescueNFT(cubes, bob, cube_id, sender=admin)
    assert events(receipt, contract, "NFTRescued") == [
        {"collection": cubes.address, "to": bob.address, "tokenId": cube_id}
    ]
    assert cubes.ownerOf(cube_id) == bob.address


def test_rescue__by_a_stranger__reverts(contract, cubes, token, admin, chain, stranger):
    chain.set_balance(contract.address, ETHER)
    token.mint(contract, 100, sender=admin)
    cube_id = mint_cube(cubes, admin, contract)
    needed = {"account": stranger.address, "neededRole": DEFAULT_ADMIN_ROLE}
    with reverts(contract.AccessControlUnauthorizedAccount, **needed):
        contract.rescue(ZERO_ADDRESS, stranger, ETHER, sender=stranger)
    with reverts(contract.AccessControlUnauthorizedAccount, **needed):
        contract.rescue(token, stranger, 100, sender=stranger)
    with reverts(contract.AccessControlUnauthorizedAccount, **needed):
        contract.rescueNFT(cubes, stranger, cube_id, sender=stranger)
    assert (token.balanceOf(contract), cubes.ownerOf(cube_id)) == (100, contract.address)


def test_rescue__to_zero__reverts_rescue_to_zero(contract, cubes, token, admin, chain):
    chain.set_balance(contract.address, ETHER)
    token.mint(contract, 100, sender=admin)
    cube_id = mint_cube(cubes, admin, contract)
    with reverts(contract.RescueToZero):
        contract.rescue(ZERO_ADDRESS, ZERO_ADDRESS, ETHER, sender=admin)
    with reverts(contract.RescueToZero):
        contract.rescue(token, ZERO_ADDRESS, 100, sender=admin)
    with reverts(contract.RescueToZero):
        contract.rescueNFT(cubes, ZERO_ADDRESS, cube_id, sender=admin)
    assert cubes.ownerOf(cube_id) == contract.address


def test_rescue__more_than_is_free__reverts_not_rescuable_with_the_free_amount(
    contract, token, admin, chain, bob
):
    chain.set_balance(contract.address, 5 * ETHER)
    token.mint(contract, 100, sender=admin)
    with reverts(contract.NotRescuable, token=ZERO_ADDRESS, amount=5 * ETHER + 1, free=5 * ETHER):
        contract.rescue(ZERO_ADDRESS, bob, 5 * ETHER + 1, sender=admin)
    with reverts(contract.NotRescuable, token=token.address, amount=101, free=100):
        contract.rescue(token, bob, 101, sender=admin)
    assert token.balanceOf(contract) == 100


# ------------------------------------------------------------------------------- what the accounting owns


def test_rescue__home_lbc_bridge__the_lbc_locked_for_every_chain_is_not_rescuable(
    home_lbc_bridge, lbc, admin, alice, bob
):
    bridge = home_lbc_bridge
    lbc.mint(alice, 100 * LBC, sender=admin)
    lbc.approve(bridge, 100 * LBC, sender=alice)
    bridge.send(CHAIN_ID, alice, 30 * LBC, sender=alice)
    bridge.send(OTHER_CHAIN, alice, 20 * LBC, sender=alice)
    bridge.setPeer(OTHER_CHAIN, ZERO_ADDRESS, sender=admin)  # unwired since: what it owes stays locked
    assert bridge.rescuable(lbc) == 0
    with reverts(bridge.NotRescuable, token=lbc.address, amount=1, free=0):
        bridge.rescue(lbc, bob, 1, sender=admin)

    lbc.transfer(bridge, 5 * LBC, sender=alice)  # sent by mistake, not locked for anyone
    assert bridge.rescuable(lbc) == 5 * LBC
    with reverts(bridge.NotRescuable, token=lbc.address, amount=5 * LBC + 1, free=5 * LBC):
        bridge.rescue(lbc, bob, 5 * LBC + 1, sender=admin)
    bridge.rescue(lbc, bob, 5 * LBC, sender=admin)
    assert lbc.balanceOf(bob) == 5 * LBC
    assert lbc.balanceOf(bridge) == 50 * LBC
    assert (bridge.outstanding(CHAIN_ID), bridge.outstanding(OTHER_CHAIN)) == (30 * LBC, 20 * LBC)


def test_rescue__remote_lbc_bridge__owns_no_lbc_so_all_it_holds_is_rescuable(project, governed, admin, bob):
    # A remote bridge burns and mints: whatever LBC sits in it was sent there by mistake.
    bridge = governed["LBCBridge (remote)"]
    remote_lbc = project.LBCToken.at(bridge.token())
    remote_lbc.grantRole(MINTER_ROLE, admin, sender=admin)
    remote_lbc.mint(bridge, 7 * LBC, sender=admin)
    assert bridge.rescuable(remote_lbc) == 7 * LBC
    bridge.rescue(remote_lbc, bob, 7 * LBC, sender=admin)
    assert remote_lbc.balanceOf(bob) == 7 * LBC


def test_rescue_nft__home_cube_bridge__a_locked_cube_is_not_rescuable(cube_bridge, cubes, admin, alice, bob):
    locked = mint_cube(cubes, admin, alice)
    cubes.approve(cube_bridge, locked, sender=alice)
    cube_bridge.send(CHAIN_ID, alice, [locked], sender=alice)
    assert cube_bridge.lockedFor(locked) == CHAIN_ID
    with reverts(cube_bridge.NFTNotRescuable, collection=cubes.address, tokenId=locked):
        cube_bridge.rescueNFT(cubes, bob, locked, sender=admin)
    assert cubes.ownerOf(locked) == cube_bridge.address

    stray = mint_cube(cubes, admin, alice)
    cubes.transferFrom(alice, cube_bridge, stray, sender=alice)  # sent directly: not locked
    cube_bridge.rescueNFT(cubes, bob, stray, sender=admin)
    assert cubes.ownerOf(stray) == bob.address


# --------------------------------------------------------------------------------------------- the guardian


@pytest.fixture
def guardian(project, admin, operator, cubes, home_lbc_bridge, cube_bridge):
    """A guardian contract (a Safe's stand-in, owned by `operator`) holding PAUSER_ROLE on the cube contract
    and both home bridges, and nothing else."""
    batch = project.GuardianBatch.deploy(operator, sender=admin)
    for target in (cubes, home_lbc_bridge, cube_bridge):
        target.grantRole(PAUSER_ROLE, batch, sender=admin)
    return batch


def test_guardian__with_only_the_pauser_role__pauses_the_bridges_and_the_cube_contract_in_one_transaction(
    guardian, operator, cubes, home_lbc_bridge, cube_bridge
):
    targets = (home_lbc_bridge, cube_bridge, cubes)
    for target in targets:
        assert not target.hasRole(DEFAULT_ADMIN_ROLE, guardian)
    assert not cubes.hasRole(cubes.MINTER_ROLE(), guardian)
    assert not cubes.hasRole(cubes.OPERATOR_ROLE(), guardian)

    receipt = guardian.execute(
        [t.address for t in targets], [t.pause.encode_input() for t in targets], sender=operator
    )
    for target in targets:
        assert events(receipt, target, "Paused") == [{"account": guardian.address}]
        assert target.paused()


@pytest.mark.parametrize("which", ["LBC bridge", "cube bridge", "cube contract"])
def test_guardian__cannot_unpause__only_the_admin_can(
    guardian, admin, operator, cubes, home_lbc_bridge, cube_bridge, which
):
    target = {"LBC bridge": home_lbc_bridge, "cube bridge": cube_bridge, "cube contract": cubes}[which]
    guardian.execute([target.address], [target.pause.encode_input()], sender=operator)
    with reverts(
        target.AccessControlUnauthorizedAccount, account=guardian.address, neededRole=DEFAULT_ADMIN_ROLE
    ):
        guardian.execute([target.address], [target.unpause.encode_input()], sender=operator)
    assert target.paused()
    target.unpause(sender=admin)
    assert not target.paused()


def test_guardian__batch_by_anyone_but_its_owner__reverts_not_owner(guardian, cubes, stranger):
    with reverts(guardian.NotOwner, caller=stranger.address):
        guardian.execute([cubes.address], [cubes.pause.encode_input()], sender=stranger)
    assert not cubes.paused()


# --------------------------------------------------------------------------------------------- admin events


def test_set_default_royalty__emits_default_royalty_set(cubes, admin, bob):
    receipt = cubes.setDefaultRoyalty(bob, 250, sender=admin)
    assert events(receipt, cubes, "DefaultRoyaltySet") == [{"receiver": bob.address, "feeBasisPoints": 250}]
    assert tuple(cubes.royaltyInfo(1, 10_000)) == (bob.address, 250)
