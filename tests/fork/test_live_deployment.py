"""The recorded deployment is there on the fork, by address, and wired as the deploy script left it."""

from __future__ import annotations

from link_ops.protocol.deploy import DEFAULT_TIER_RATES


def test_every_recorded_contract_has_code_on_the_fork(live, chain):
    for contract in (live.lbc, live.cubes, live.partner_factory):
        assert len(chain.provider.get_code(contract.address)) > 0


def test_the_fork_is_polygon_and_the_record_names_an_admin(live, chain, fork_session):
    assert chain.chain_id == fork_session.target.chain_id
    assert chain.provider.network.is_fork
    assert live.admin is not None


def test_contracts_point_at_each_other(live):
    assert live.cubes.lbcToken() == live.lbc.address
    assert live.partner_factory.cubes() == live.cubes.address


def test_the_cube_contract_is_the_only_minter_of_lbc_the_deploy_script_granted(live, accounts):
    minter = live.lbc.MINTER_ROLE()
    assert live.lbc.hasRole(minter, live.cubes.address)
    assert not live.lbc.hasRole(minter, accounts[0].address)


def test_the_recorded_admin_holds_every_role_and_the_deployer_none(live, accounts):
    cubes, lbc, factory = live.cubes, live.lbc, live.partner_factory
    roles = [
        (lbc, lbc.DEFAULT_ADMIN_ROLE()),
        (cubes, cubes.DEFAULT_ADMIN_ROLE()),
        (cubes, cubes.MINTER_ROLE()),
        (cubes, cubes.OPERATOR_ROLE()),
        (cubes, cubes.PAUSER_ROLE()),
        (factory, factory.DEFAULT_ADMIN_ROLE()),
        (factory, factory.ONBOARDER_ROLE()),
    ]
    for contract, role in roles:
        assert contract.hasRole(role, live.admin)
    if live.admin != accounts[0].address:
        assert not any(contract.hasRole(role, accounts[0].address) for contract, role in roles)


def test_tier_rates_are_set(live, fork_session):
    rates = tuple(int(live.cubes.tierRate(tier)) for tier in range(4))
    assert all(rate > 0 for rate in rates)
    if fork_session.stand_in is not None:  # the stand-in was deployed with the defaults
        assert rates == DEFAULT_TIER_RATES
