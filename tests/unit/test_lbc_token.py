"""LBCToken: a capped, burnable ERC-20 with EIP-2612 permits and role-gated minting (see ILBCToken.sol)."""

from __future__ import annotations

import pytest
from _errors import reverts
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak
from hexbytes import HexBytes

from link_ops.protocol.deploy import DEFAULT_LBC_CAP

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
DEFAULT_ADMIN_ROLE = HexBytes(b"\x00" * 32)
MINTER_ROLE = HexBytes(keccak(text="MINTER_ROLE"))
LBC = 10**18
CAP = 1_000 * LBC
MAX_UINT256 = 2**256 - 1


# --------------------------------------------------------------------------------------------- helpers


def transfers(receipt, token) -> list[tuple[str, str, int]]:
    """The (from, to, value) of every ERC-20 Transfer that `token` emitted in `receipt`."""
    return [
        (log.event_arguments["from"], log.event_arguments["to"], log.event_arguments["value"])
        for log in receipt.events
        if log.contract_address == token.address and log.event_name == "Transfer"
    ]


def permit_message(token, chain, owner, spender, value: int, nonce: int, deadline: int) -> dict:
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Permit",
        "domain": {
            "name": "LBC",
            "version": "1",
            "chainId": chain.chain_id,
            "verifyingContract": token.address,
        },
        "message": {
            "owner": owner.address,
            "spender": spender.address,
            "value": value,
            "nonce": nonce,
            "deadline": deadline,
        },
    }


def sign_permit(signer, token, chain, owner, spender, value: int, nonce: int, deadline: int):
    """`signer`'s EIP-712 signature of a permit; returns (v, r, s)."""
    signed = Account.sign_message(
        encode_typed_data(full_message=permit_message(token, chain, owner, spender, value, nonce, deadline)),
        signer.private_key,
    )
    return signed.v, HexBytes(signed.r.to_bytes(32, "big")), HexBytes(signed.s.to_bytes(32, "big"))


# --------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def minter(accounts):
    return accounts[5]


@pytest.fixture(scope="module")
def token(project, admin, minter, alice, bob, stranger, lbc):
    """A fresh LBC with a 1000 LBC cap; `minter` holds MINTER_ROLE, the admin does not.

    It asks for every session fixture of this module, so that ape sets them up before this module's
    snapshot and never has to rebase it.
    """
    token = project.LBCToken.deploy(admin, CAP, sender=admin)
    token.grantRole(MINTER_ROLE, minter, sender=admin)
    return token


@pytest.fixture
def funded(token, minter, alice):
    """Alice holds 100 LBC of the fresh token."""
    token.mint(alice, 100 * LBC, sender=minter)
    return token


# --------------------------------------------------------------------------------------------- metadata


def test_metadata__name_symbol_decimals__are_lbc_lbc_18(token):
    assert token.name() == "LBC"
    assert token.symbol() == "LBC"
    assert token.decimals() == 18


def test_cap__fresh_token__is_the_constructor_argument_and_supply_is_zero(token):
    assert token.cap() == CAP
    assert token.totalSupply() == 0


def test_cap__protocol_token__is_one_billion_lbc(lbc):
    assert lbc.cap() == DEFAULT_LBC_CAP == 1_000_000_000 * LBC


def test_minter_role__is_keccak_of_its_name(token):
    assert token.MINTER_ROLE() == MINTER_ROLE
    assert token.getRoleAdmin(MINTER_ROLE) == DEFAULT_ADMIN_ROLE


# --------------------------------------------------------------------------------------------- constructor


def test_constructor__zero_admin__reverts_invalid_default_admin(project, admin, token, failing_deployer):
    with reverts(token.AccessControlInvalidDefaultAdmin, defaultAdmin=ZERO_ADDRESS):
        project.LBCToken.deploy(ZERO_ADDRESS, CAP, sender=failing_deployer)


def test_constructor__zero_cap__reverts_invalid_cap(project, admin, token, failing_deployer):
    with reverts(token.ERC20InvalidCap, cap=0):
        project.LBCToken.deploy(admin, 0, sender=failing_deployer)


def test_constructor__admin__holds_default_admin_role_but_not_minter_role(project, admin, alice):
    fresh = project.LBCToken.deploy(alice, CAP, sender=admin)
    assert fresh.hasRole(DEFAULT_ADMIN_ROLE, alice)
    assert not fresh.hasRole(MINTER_ROLE, alice)
    assert not fresh.hasRole(DEFAULT_ADMIN_ROLE, admin), "the deployer gets nothing"


# --------------------------------------------------------------------------------------------- mint


def test_mint__by_minter__credits_balance_and_supply_and_emits_transfer_from_zero(token, minter, alice):
    receipt = token.mint(alice, 7 * LBC, sender=minter)
    assert token.balanceOf(alice) == 7 * LBC
    assert token.totalSupply() == 7 * LBC
    assert transfers(receipt, token) == [(ZERO_ADDRESS, alice.address, 7 * LBC)]


def test_mint__by_stranger__reverts_unauthorized_with_account_and_role(token, stranger, alice):
    with reverts(token.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=MINTER_ROLE):
        token.mint(alice, 1, sender=stranger)
    assert token.totalSupply() == 0


def test_mint__by_admin_without_minter_role__reverts_unauthorized(token, admin, alice):
    with reverts(token.AccessControlUnauthorizedAccount, account=admin.address, neededRole=MINTER_ROLE):
        token.mint(alice, 1, sender=admin)


def test_mint__after_minter_role_revoked__reverts_unauthorized(token, admin, minter, alice):
    token.revokeRole(MINTER_ROLE, minter, sender=admin)
    with reverts(token.AccessControlUnauthorizedAccount, account=minter.address, neededRole=MINTER_ROLE):
        token.mint(alice, 1, sender=minter)


def test_mint__up_to_exactly_the_cap__succeeds(token, minter, alice, bob):
    token.mint(alice, CAP - 1, sender=minter)
    token.mint(bob, 1, sender=minter)
    assert token.totalSupply() == CAP
    assert token.balanceOf(bob) == 1


def test_mint__past_the_cap__reverts_exceeded_cap_and_changes_nothing(token, minter, alice, bob):
    token.mint(alice, CAP - 5, sender=minter)
    with reverts(token.ERC20ExceededCap, increasedSupply=CAP + 1, cap=CAP):
        token.mint(bob, 6, sender=minter)
    assert token.totalSupply() == CAP - 5
    assert token.balanceOf(alice) == CAP - 5
    assert token.balanceOf(bob) == 0


def test_mint__single_mint_above_cap_on_empty_supply__reverts_exceeded_cap(token, minter, alice):
    with reverts(token.ERC20ExceededCap, increasedSupply=CAP + 1, cap=CAP):
        token.mint(alice, CAP + 1, sender=minter)
    assert token.totalSupply() == 0


# --------------------------------------------------------------------------------------------- burn


def test_burn__own_tokens__lowers_balance_and_supply_and_emits_transfer_to_zero(funded, alice):
    receipt = funded.burn(30 * LBC, sender=alice)
    assert funded.balanceOf(alice) == 70 * LBC
    assert funded.totalSupply() == 70 * LBC
    assert transfers(receipt, funded) == [(alice.address, ZERO_ADDRESS, 30 * LBC)]


def test_burn__frees_room_under_the_cap_for_new_mints(token, minter, alice):
    token.mint(alice, CAP, sender=minter)
    token.burn(10, sender=alice)
    token.mint(alice, 10, sender=minter)
    assert token.totalSupply() == CAP


def test_burn__more_than_balance__reverts_insufficient_balance(funded, alice):
    with reverts(
        funded.ERC20InsufficientBalance, sender=alice.address, balance=100 * LBC, needed=100 * LBC + 1
    ):
        funded.burn(100 * LBC + 1, sender=alice)
    assert funded.balanceOf(alice) == 100 * LBC


def test_burn_from__within_allowance__burns_and_spends_allowance(funded, alice, bob):
    funded.approve(bob, 40 * LBC, sender=alice)
    receipt = funded.burnFrom(alice, 25 * LBC, sender=bob)
    assert funded.balanceOf(alice) == 75 * LBC
    assert funded.balanceOf(bob) == 0
    assert funded.totalSupply() == 75 * LBC
    assert funded.allowance(alice, bob) == 15 * LBC
    assert transfers(receipt, funded) == [(alice.address, ZERO_ADDRESS, 25 * LBC)]


def test_burn_from__infinite_allowance__is_not_spent(funded, alice, bob):
    funded.approve(bob, MAX_UINT256, sender=alice)
    funded.burnFrom(alice, 25 * LBC, sender=bob)
    assert funded.allowance(alice, bob) == MAX_UINT256
    assert funded.balanceOf(alice) == 75 * LBC


def test_burn_from__above_allowance__reverts_insufficient_allowance(funded, alice, bob):
    funded.approve(bob, 10 * LBC, sender=alice)
    with reverts(
        funded.ERC20InsufficientAllowance, spender=bob.address, allowance=10 * LBC, needed=10 * LBC + 1
    ):
        funded.burnFrom(alice, 10 * LBC + 1, sender=bob)
    assert funded.balanceOf(alice) == 100 * LBC
    assert funded.allowance(alice, bob) == 10 * LBC


def test_burn_from__without_approval__reverts_insufficient_allowance(funded, alice, bob):
    with reverts(funded.ERC20InsufficientAllowance, spender=bob.address, allowance=0, needed=1):
        funded.burnFrom(alice, 1, sender=bob)


# --------------------------------------------------------------------------------------------- permit


def test_permit__domain__is_lbc_version_1_on_this_chain(token, chain):
    domain = token.eip712Domain()
    assert domain[1:5] == ("LBC", "1", chain.chain_id, token.address)
    expected = keccak(
        keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
        + keccak(text="LBC")
        + keccak(text="1")
        + chain.chain_id.to_bytes(32, "big")
        + bytes(12)
        + HexBytes(token.address)
    )
    assert token.DOMAIN_SEPARATOR() == HexBytes(expected)


def test_permit__valid_signature__sets_allowance_bumps_nonce_and_lets_spender_transfer(
    funded, chain, alice, bob, stranger
):
    deadline = chain.pending_timestamp + 3600
    v, r, s = sign_permit(alice, funded, chain, alice, bob, 60 * LBC, 0, deadline)
    receipt = funded.permit(alice, bob, 60 * LBC, deadline, v, r, s, sender=stranger)  # anyone may relay
    assert funded.allowance(alice, bob) == 60 * LBC
    assert funded.nonces(alice) == 1
    approvals = [log for log in receipt.events if log.event_name == "Approval"]
    assert [(log.owner, log.spender, log.value) for log in approvals] == [
        (alice.address, bob.address, 60 * LBC)
    ]

    funded.transferFrom(alice, bob, 60 * LBC, sender=bob)
    assert funded.balanceOf(bob) == 60 * LBC
    assert funded.allowance(alice, bob) == 0


def test_permit__replayed__reverts_invalid_signer_because_the_nonce_was_used(funded, chain, alice, bob):
    deadline = chain.pending_timestamp + 3600
    v, r, s = sign_permit(alice, funded, chain, alice, bob, 60 * LBC, 0, deadline)
    funded.permit(alice, bob, 60 * LBC, deadline, v, r, s, sender=bob)
    funded.transferFrom(alice, bob, 60 * LBC, sender=bob)

    # Replayed, the signature is checked against nonce 1 and recovers to an unrelated address.
    replay = encode_typed_data(full_message=permit_message(funded, chain, alice, bob, 60 * LBC, 1, deadline))
    recovered = Account.recover_message(replay, vrs=(v, r, s))
    assert recovered != alice.address
    with reverts(funded.ERC2612InvalidSigner, signer=recovered, owner=alice.address):
        funded.permit(alice, bob, 60 * LBC, deadline, v, r, s, sender=bob)
    assert funded.allowance(alice, bob) == 0
    assert funded.nonces(alice) == 1


def test_permit__expired_deadline__reverts_expired_signature(funded, chain, alice, bob):
    deadline = chain.pending_timestamp - 1
    v, r, s = sign_permit(alice, funded, chain, alice, bob, 60 * LBC, 0, deadline)
    with reverts(funded.ERC2612ExpiredSignature, deadline=deadline):
        funded.permit(alice, bob, 60 * LBC, deadline, v, r, s, sender=bob)
    assert funded.allowance(alice, bob) == 0
    assert funded.nonces(alice) == 0


def test_permit__signed_by_someone_other_than_owner__reverts_invalid_signer(funded, chain, alice, bob):
    deadline = chain.pending_timestamp + 3600
    v, r, s = sign_permit(bob, funded, chain, alice, bob, 60 * LBC, 0, deadline)
    with reverts(funded.ERC2612InvalidSigner, signer=bob.address, owner=alice.address):
        funded.permit(alice, bob, 60 * LBC, deadline, v, r, s, sender=bob)
    assert funded.allowance(alice, bob) == 0


def test_permit__value_other_than_signed__reverts_invalid_signer(funded, chain, alice, bob):
    deadline = chain.pending_timestamp + 3600
    v, r, s = sign_permit(alice, funded, chain, alice, bob, 60 * LBC, 0, deadline)
    tampered = encode_typed_data(
        full_message=permit_message(funded, chain, alice, bob, 61 * LBC, 0, deadline)
    )
    recovered = Account.recover_message(tampered, vrs=(v, r, s))
    with reverts(funded.ERC2612InvalidSigner, signer=recovered, owner=alice.address):
        funded.permit(alice, bob, 61 * LBC, deadline, v, r, s, sender=bob)
