"""Operating the live deployment on a fork: the admin (impersonated) mints, holders claim, a partner onboards.

Gas is measured on the forked state, where the contracts are the deployed bytecode with the deployed
storage, and compared with the goals that `ape run gas_bench` reports.
"""

from __future__ import annotations

import pytest
from _errors import reverts

from link_ops.gas.models import GOAL_MARGINAL_PER_CUBE
from link_ops.model.partner_config import PartnerConfig
from link_ops.partners.onboarding import onboard_new_partner
from link_ops.store import OpsStore
from link_ops.testing.health import serve_health

DAY = 86_400


@pytest.fixture(scope="module")
def admin(live, accounts, fork_session):
    """The recorded admin, impersonated: no key is needed on a fork."""
    if live.admin is None:
        if fork_session.deployments_dir is not None:
            pytest.fail("the session's own deployment on its stand-in recorded no admin")
        pytest.skip("the deployment record names no admin: run `ape run deploy` once more to record it")
    signer = accounts[live.admin]
    signer.balance += 10**21  # gas money, on the fork only
    return signer


@pytest.fixture(scope="module")
def holder(accounts):
    return accounts[5]


def test_the_admin_mints_cubes_to_a_holder(live, admin, holder):
    before = int(live.cubes.totalMinted())
    receipt = live.cubes.mintBatch(holder, 2, 3, sender=admin)
    assert int(live.cubes.totalMinted()) == before + 3
    assert live.cubes.ownersOf([before + 1, before + 3]) == [holder.address, holder.address]
    assert live.cubes.tierOf(before + 1) == 2
    assert receipt.gas_used > 0


def test_a_holder_claims_exactly_the_accrued_rewards_at_near_floor_gas(live, admin, holder, chain):
    first = int(live.cubes.totalMinted()) + 1
    live.cubes.mintBatch(holder, 1, 11, sender=admin)
    ids = list(range(first, first + 11))
    rate = int(live.cubes.tierRate(1))
    warm = live.cubes.batchClaimRewards(ids, sender=holder)  # steady state: LBC held, totals non-zero
    t0 = int(chain.blocks[warm.block_number].timestamp)
    balance = int(live.lbc.balanceOf(holder))

    chain.mine(timestamp=t0 + DAY)
    one = live.cubes.batchClaimRewards(ids[:1], sender=holder)
    t1 = int(chain.blocks[one.block_number].timestamp)
    chain.mine(timestamp=t1 + DAY)
    ten = live.cubes.batchClaimRewards(ids[1:], sender=holder)
    t2 = int(chain.blocks[ten.block_number].timestamp)

    assert int(live.lbc.balanceOf(holder)) - balance == rate * (t1 - t0) + 10 * rate * (t2 - t0)
    assert int(live.cubes.pendingReward(ids[0])) == rate * (t2 - t1)
    marginal = (ten.gas_used - one.gas_used) / 9
    assert marginal <= GOAL_MARGINAL_PER_CUBE, f"{marginal:,.0f} gas per extra cube on the fork"


def test_a_holder_transfers_a_cube_and_its_pending_reward_goes_with_it(live, admin, holder, accounts):
    buyer = accounts[6]
    cube = int(live.cubes.totalMinted()) + 1
    live.cubes.mintBatch(holder, 0, 1, sender=admin)
    live.cubes.transferFrom(holder, buyer, cube, sender=holder)
    assert live.cubes.ownerOf(cube) == buyer.address
    with reverts(live.cubes.NotCubeOwner, cubeId=cube, caller=holder.address):
        live.cubes.batchClaimRewards([cube], sender=holder)


def test_a_partner_onboards_against_the_live_factory(live, admin, holder, chain, tmp_path):
    lbc = live.lbc
    lbc.grantRole(lbc.MINTER_ROLE(), admin, sender=admin)  # the fork's admin funds the grant itself
    lbc.mint(admin, 10**24, sender=admin)
    with serve_health() as health, OpsStore(f"sqlite:///{tmp_path / 'ops.db'}") as store:
        config = PartnerConfig.from_mapping(
            {
                "partner_id": "fork-rehearsal-cafe",
                "name": "Fork Rehearsal Cafe",
                "api_endpoints": [f"{health}/health"],
                "auth_method": "api_key",
                "services": ["coffee"],
                "benefit_structure": {"discount_bps": {0: 500, 1: 1000, 2: 1500, 3: 2500}},
                "initial_benefits": {"token": "LBC", "amount_per_cube": 10**18},
                "claim_window_days": 30,
            }
        )
        result = onboard_new_partner(config, live, admin, store=store)
        recorded = store.partners.get_partner("fork-rehearsal-cafe", chain.chain_id)
        assert recorded is not None and recorded.status == "active"

    from ape import project

    partner = project.PartnerBenefits.at(result.contract_address)
    snapshot = int(live.cubes.totalMinted())
    assert int(lbc.balanceOf(partner.address)) == 10**18 * snapshot
    mine = [i for i in range(1, snapshot + 1) if live.cubes.ownersOf([i])[0] == holder.address][:3]
    before = int(lbc.balanceOf(holder))
    partner.claimWelcome(mine, sender=holder)
    assert int(lbc.balanceOf(holder)) - before == 10**18 * len(mine)
