"""Onboarding a partner end to end through link_ops.partners: chain, HTTP endpoints and the ops store."""

from __future__ import annotations

import pytest

from link_ops.exceptions import ConfigurationError
from link_ops.model.partner_config import PartnerConfig
from link_ops.partners.onboarding import OnboardingResult, PartnerConflictError, onboard_new_partner
from link_ops.partners.validation import PartnerValidationError
from link_ops.store import OpsStore
from link_ops.testing import isolated
from link_ops.testing.health import serve_health

AMOUNT = 5 * 10**18


@pytest.fixture(scope="module")
def health_url():
    with serve_health() as url:
        yield url


@pytest.fixture
def make_config(health_url):
    def make(partner_id: str = "cafe-seoul", **changes) -> PartnerConfig:
        data = {
            "partner_id": partner_id,
            "name": "Hangang Roasters Seoul",
            "api_endpoints": [f"{health_url}/health", f"{health_url}/api/v1/status"],
            "auth_method": "api_key",
            "services": ["coffee", "bakery"],
            "benefit_structure": {"discount_bps": {0: 500, 1: 1000, 2: 1500, 3: 2500}},
            "initial_benefits": {"token": "LBC", "amount_per_cube": AMOUNT},
            "claim_window_days": 30,
            **changes,
        }
        return PartnerConfig.from_mapping(data)

    return make


@pytest.fixture
def store(ops_store):
    """A new operations store, on SQLite and on PostgreSQL (``db_url``): each test runs on both."""
    return ops_store


@pytest.fixture
def funded_admin(protocol, admin, mint_cubes, alice, bob, stranger):
    """Three cubes exist; the admin holds LBC to fund welcome grants."""
    mint_cubes(alice, 2, tier=1)
    mint_cubes(bob, 1, tier=3)
    lbc = protocol.lbc
    lbc.grantRole(lbc.MINTER_ROLE(), admin, sender=admin)
    lbc.mint(admin, 1_000 * 10**18, sender=admin)
    return admin


def test_onboard__new_partner__deploys_funds_and_registers_it_active(
    protocol, funded_admin, make_config, store
):
    config = make_config()
    predicted = protocol.partner_factory.predictPartnerAddress(config.partner_id_bytes32())
    result = onboard_new_partner(config, protocol, funded_admin, store=store)
    assert isinstance(result, OnboardingResult)
    assert (result.partner_id, result.status, result.already_onboarded) == ("cafe-seoul", "active", False)
    assert result.contract_address == predicted
    assert result.gas_used > 0 and result.integration_time.tzinfo is not None
    assert protocol.lbc.balanceOf(predicted) == 3 * AMOUNT
    record = store.partners.get_partner("cafe-seoul", protocol.chain_id)
    assert record is not None and record.status == "active" and record.contract_address == predicted
    assert set(store.partners.completed_steps("cafe-seoul", protocol.chain_id)) == {
        "validate",
        "deploy",
        "fund",
        "monitor",
    }


def test_onboard__run_again__returns_the_existing_partner_without_a_transaction(
    protocol, funded_admin, make_config, store
):
    first = onboard_new_partner(make_config(), protocol, funded_admin, store=store)
    nonce = funded_admin.nonce
    again = onboard_new_partner(make_config(), protocol, funded_admin, store=store)
    assert again.already_onboarded and again.contract_address == first.contract_address
    assert again.gas_used == 0 and funded_admin.nonce == nonce


def test_onboard__endpoint_down__lists_every_problem_and_deploys_nothing(
    protocol, funded_admin, make_config, store, health_url
):
    config = make_config(api_endpoints=[f"{health_url}/missing", "http://127.0.0.1:9/health"])
    nonce = funded_admin.nonce
    with pytest.raises(PartnerValidationError) as caught:
        onboard_new_partner(config, protocol, funded_admin, store=store, health_timeout=2.0)
    message = str(caught.value)
    assert f"{health_url}/missing" in message and "http://127.0.0.1:9/health" in message
    assert funded_admin.nonce == nonce
    assert protocol.partner_factory.partnerOf(config.partner_id_bytes32()) == "0x" + "00" * 20
    record = store.partners.get_partner("cafe-seoul", protocol.chain_id)
    assert record is not None and record.status != "active"


def test_onboard__crash_before_monitoring__next_run_resumes_without_redeploying(
    protocol, funded_admin, make_config, store, monkeypatch
):
    config = make_config()

    def crash(*args, **kwargs):
        raise RuntimeError("power cut between step 3 and step 4")

    monkeypatch.setattr(store.partners, "activate", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        onboard_new_partner(config, protocol, funded_admin, store=store)
    record = store.partners.get_partner("cafe-seoul", protocol.chain_id)
    assert record is not None and record.status == "onboarding"  # deployed, but not shown as active
    monkeypatch.undo()

    nonce = funded_admin.nonce
    resumed = onboard_new_partner(config, protocol, funded_admin, store=store)
    assert resumed.status == "active" and not resumed.already_onboarded
    assert funded_admin.nonce == nonce and resumed.gas_used == 0
    assert store.partners.get_partner("cafe-seoul", protocol.chain_id).status == "active"
    assert protocol.lbc.balanceOf(resumed.contract_address) == 3 * AMOUNT  # funded once


def test_onboard__partner_id_taken_with_other_terms__refuses(protocol, funded_admin, make_config, tmp_path):
    with OpsStore(f"sqlite:///{tmp_path / 'a.db'}") as first_store:
        onboard_new_partner(make_config(), protocol, funded_admin, store=first_store)
    other = make_config(services=["tea"])
    with (
        OpsStore(f"sqlite:///{tmp_path / 'b.db'}") as second_store,
        pytest.raises(PartnerConflictError, match="services"),
    ):
        onboard_new_partner(other, protocol, funded_admin, store=second_store)


def test_onboard__sender_without_onboarder_role__fails_before_deploying(
    protocol, funded_admin, make_config, store, stranger
):
    with pytest.raises(ConfigurationError, match="lacks ONBOARDER_ROLE"):
        onboard_new_partner(make_config(), protocol, stranger, store=store)
    assert protocol.partner_factory.partnerOf(make_config().partner_id_bytes32()) == "0x" + "00" * 20


def test_onboard__sender_cannot_fund_the_grant__says_how_much_is_missing(protocol, admin, make_config, store):
    protocol.cubes.mint(admin, 0, sender=admin)
    with pytest.raises(ConfigurationError, match="needs 5000000000000000000"):
        onboard_new_partner(make_config(), protocol, admin, store=store)


def test_onboard__store_shows_active_but_chain_has_no_contract__refuses(
    protocol, funded_admin, make_config, store, chain
):
    with isolated(chain):
        onboard_new_partner(make_config(), protocol, funded_admin, store=store)
    # The chain went back to before the partner existed; the store did not.
    with pytest.raises(PartnerConflictError, match="belongs to another deployment"):
        onboard_new_partner(make_config(), protocol, funded_admin, store=store)


def test_onboard__failure_after_validation__next_run_resumes_and_keeps_the_done_step(
    protocol, admin, make_config, store, mint_cubes, alice
):
    mint_cubes(alice, 2)
    with pytest.raises(ConfigurationError, match="top the account up"):
        onboard_new_partner(make_config(), protocol, admin, store=store)  # no LBC to fund the grant
    first_steps = store.partners.completed_steps("cafe-seoul", protocol.chain_id)
    assert set(first_steps) == {"validate"}
    assert store.partners.get_partner("cafe-seoul", protocol.chain_id).status == "onboarding"

    lbc = protocol.lbc
    lbc.grantRole(lbc.MINTER_ROLE(), admin, sender=admin)
    lbc.mint(admin, 2 * AMOUNT, sender=admin)
    result = onboard_new_partner(make_config(), protocol, admin, store=store)
    assert result.status == "active" and lbc.balanceOf(result.contract_address) == 2 * AMOUNT
    steps = store.partners.completed_steps("cafe-seoul", protocol.chain_id)
    assert set(steps) == {"validate", "deploy", "fund", "monitor"}
    assert steps["validate"].at == first_steps["validate"].at  # recorded once, by the first run


def test_onboard__other_erc20_welcome_token__approves_and_funds_in_it(
    project, protocol, funded_admin, make_config, store
):
    token = project.MockERC20.deploy("Cafe Point", "CAFE", sender=funded_admin)
    token.mint(funded_admin, 10 * 10**18, sender=funded_admin)
    config = make_config(initial_benefits={"token": token.address, "amount_per_cube": 2 * 10**18})
    result = onboard_new_partner(config, protocol, funded_admin, store=store)
    assert token.balanceOf(result.contract_address) == 3 * 2 * 10**18
    assert token.balanceOf(funded_admin) == 4 * 10**18
    assert protocol.lbc.balanceOf(result.contract_address) == 0
