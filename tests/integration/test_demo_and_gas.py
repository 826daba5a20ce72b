"""The demo and the gas benchmark through the library, on the local chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from link_ops.demo import DEMO_HOLDINGS, run_demo, run_partner_demo
from link_ops.gas import (
    GOAL_MARGINAL_PER_CUBE,
    GOAL_ONE_CUBE_CLAIM,
    GOAL_PARTNER_CREATE,
    GOAL_WELCOME_PER_CUBE,
    ClaimCurve,
    run_benchmark,
)
from link_ops.partners_config import EXAMPLE_CONFIG


def test_demo__every_claim__equals_the_model_forecast_and_supply_equals_total_mined(accounts, tmp_path):
    holders = [accounts[i] for i in range(1, 1 + len(DEMO_HOLDINGS))]
    result = run_demo(accounts[0], holders, days=3, deployments_dir=tmp_path)
    assert [h.name for h in result.holders] == list(DEMO_HOLDINGS)
    for h in result.holders:
        assert h.claimed_wei > 0 and h.claimed_wei == h.forecast_wei
        assert 0 < h.next_day_gas_used < h.gas_used  # the steady state is cheaper than a first claim
    assert result.total_supply == result.sum_total_mined == sum(h.claimed_wei for h in result.holders)


def test_partner_demo__example_partner__onboarded_and_first_holder_paid_per_cube(accounts, tmp_path):
    holders = [accounts[i] for i in range(1, 1 + len(DEMO_HOLDINGS))]
    demo = run_demo(accounts[0], holders, days=1, deployments_dir=tmp_path)
    root = Path(__file__).resolve().parents[2]
    result = run_partner_demo(demo, accounts[0], holders, root / EXAMPLE_CONFIG)
    cubes = sum(sum(tiers.values()) for tiers in DEMO_HOLDINGS.values())
    per_cube = 5 * 10**18  # partners/example.yaml
    assert result.onboarding.status == "active" and result.onboarding.partner_id == "cafe-seoul"
    assert result.entitled_cubes == cubes and result.funded_wei == per_cube * cubes
    first = next(iter(DEMO_HOLDINGS))
    assert result.holder == first and result.holder_cubes == sum(DEMO_HOLDINGS[first].values())
    assert result.welcome_paid_wei == per_cube * result.holder_cubes
    assert result.discount_bps == 500  # tier 0 in the example


def test_demo__too_few_holders__is_refused(accounts, tmp_path):
    with pytest.raises(ValueError, match="needs 3 holder accounts"):
        run_demo(accounts[0], [accounts[1]], deployments_dir=tmp_path)


def test_gas_benchmark__small_batches__optimized_beats_reference_and_meets_goals(accounts, tmp_path):
    report = run_benchmark(accounts[0], accounts[1], sizes=(1, 5, 20), partners=False)
    o, r = report.optimized, report.reference
    assert sorted(o.gas_by_batch) == [1, 5, 20]
    assert o.marginal <= GOAL_MARGINAL_PER_CUBE < r.marginal
    assert o.one_cube_claim <= GOAL_ONE_CUBE_CLAIM < r.one_cube_claim
    assert report.ratio < 0.6
    path = report.write(tmp_path / "gas.json")
    data = json.loads(path.read_text())
    assert data["optimized"]["gas_by_batch"]["20"] == o.gas_by_batch[20]
    assert [g["met"] for g in data["goals"]][:2] == [True, True]


def test_gas_benchmark__partners__constant_onboarding_and_cheap_welcome_claims(accounts):
    report = run_benchmark(accounts[0], accounts[1], sizes=(1, 2))
    pg = report.partner
    assert pg is not None
    assert sorted(pg.create_by_cubes) == [10, 1_000]
    assert pg.create <= GOAL_PARTNER_CREATE
    # Constant in the number of cubes: only the snapshot's few code bytes differ.
    assert abs(pg.create_by_cubes[1_000] - pg.create_by_cubes[10]) < 1_000
    assert pg.welcome_marginal <= GOAL_WELCOME_PER_CUBE < pg.plain_welcome_marginal
    assert pg.plain_deploy + pg.plain_fund > 3 * pg.create
    assert [g["met"] for g in report.to_json()["goals"]][3:] == [True, True]


def test_claim_curve__fit__fixed_and_marginal_from_the_extremes():
    curve = ClaimCurve("x", {1: 10_500, 11: 20_500, 101: 110_500})
    assert curve.marginal == 1_000 and curve.fixed == 9_500
    assert curve.max_batch_in_block == (30_000_000 - 9_500) // 1_000


def test_gas_benchmark__one_size__is_refused(accounts):
    with pytest.raises(ValueError, match="at least two different batch sizes"):
        run_benchmark(accounts[0], accounts[1], sizes=(5, 5))
