"""The demo and the gas benchmark through the library, on the local chain, and `ape run gas_bench --check`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _ape import error_lines, output_of, run_ape_here

from link_ops.gas.bench import run_benchmark
from link_ops.gas.bridge import BRIDGE_CUBE_BATCHES, BRIDGE_SIGNER_KEYS, BRIDGE_THRESHOLD
from link_ops.gas.models import (
    BRIDGE_DELIVERIES,
    BRIDGE_LEGS,
    GOAL_MARGINAL_PER_CUBE,
    GOAL_ONE_CUBE_CLAIM,
    GOAL_PARTNER_CREATE,
    GOAL_WELCOME_PER_CUBE,
    REPLAY_GUARD_GAS,
    SIGNATURE_FLOOR_GAS,
    Prices,
)
from link_ops.gas.render import render_markdown, write_reports
from link_ops.gas.report import GasReport
from link_ops.gas.snapshot import Snapshot, write_snapshot
from link_ops.model.partner_config import EXAMPLE_CONFIG
from link_ops.testing.demo import DEMO_HOLDINGS, run_demo, run_partner_demo

#: Small enough for two cores; three sizes still show the fit.
SMALL_SIZES = (1, 5, 20)


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


@pytest.fixture(scope="module")
def small_report(accounts) -> GasReport:
    """The whole benchmark (partners and bridge included) at small batch sizes, measured once for this
    module."""
    return run_benchmark(accounts[0], accounts[1], sizes=SMALL_SIZES)


def test_gas_benchmark__small_batches__optimized_beats_reference_and_meets_goals(small_report):
    o, r = small_report.optimized.claim, small_report.reference.claim
    assert sorted(o.gas_by_batch) == list(SMALL_SIZES)
    assert o.marginal <= GOAL_MARGINAL_PER_CUBE < r.marginal
    assert o.smallest <= GOAL_ONE_CUBE_CLAIM < r.smallest
    assert small_report.ratio < 0.6
    assert [met for *_, met in small_report.goals()][:2] == [True, True]
    assert small_report.network == "polygon:local:foundry"


def test_gas_benchmark__mint_and_transfer__measured_beside_the_reference(small_report):
    o, r = small_report.optimized, small_report.reference
    assert o.mint_one_call == "mint(to, tier)" and r.mint_one_call == "mintBatch(to, 1)"
    assert 21_000 < o.mint_one < r.mint_one
    assert sorted(o.mint.gas_by_batch) == [1, 10, 100]
    assert 0 < o.mint.marginal < r.mint.marginal
    assert 21_000 < o.transfer <= r.transfer
    ops = {op.name: op for op in small_report.operations()}
    assert ops["transfer a cube to a new holder"].reference == r.transfer
    assert ops["claim 20 cubes"].optimized == o.claim.gas_by_batch[20]


def test_gas_benchmark__partners__constant_onboarding_and_cheap_welcome_claims(small_report):
    pg = small_report.partner
    assert pg is not None
    assert sorted(pg.create_by_cubes) == [10, 1_000]
    assert pg.create <= GOAL_PARTNER_CREATE
    # Constant in the number of cubes: only the snapshot's few code bytes differ.
    assert abs(pg.create_by_cubes[1_000] - pg.create_by_cubes[10]) < 1_000
    assert pg.welcome_marginal <= GOAL_WELCOME_PER_CUBE < pg.plain_welcome_marginal
    assert pg.plain_create > 3 * pg.create
    assert [met for *_, met in small_report.goals()][3:] == [True, True]


def test_gas_benchmark__bridge__every_leg_measured_with_2_of_3_signatures(small_report):
    b = small_report.bridge
    assert b is not None
    assert (b.signers, b.threshold) == (len(BRIDGE_SIGNER_KEYS), BRIDGE_THRESHOLD) == (3, 2)
    assert sorted(b.cubes) == list(BRIDGE_CUBE_BATCHES) == [1, 10]
    bridge_figures = {k: v for k, v in small_report.figures().items() if k.startswith("bridge.")}
    assert len(bridge_figures) == 4 + 4 * 3 + 2
    transactions = [*b.lbc.values(), *(gas for by_leg in b.cubes.values() for gas in by_leg.values())]
    assert all(gas > 21_000 for gas in transactions)
    # Every delivery pays for its signatures and the replay guard on top of what its receiver does.
    for leg in BRIDGE_DELIVERIES:
        assert b.lbc[leg] > 21_000 + REPLAY_GUARD_GAS + BRIDGE_THRESHOLD * SIGNATURE_FLOOR_GAS
    md = render_markdown(small_report)
    assert all(f"| bridge LBC: {what} |" in md and f"| {what} |" in md for what in BRIDGE_LEGS.values())


def test_gas_benchmark__bridge__messenger_checks_signatures_and_guards_replays(small_report):
    """What the messenger adds to a delivery beyond its receiver's receiveMessage (traced) covers the base
    cost, the calldata, the replay guard and each signature's ecrecover and signer check: it falls below
    that floor if the executed-id write or the signature checks go. One more signature costs at least one
    more ecrecover and signer read."""
    b = small_report.bridge
    assert b is not None
    assert b.messenger_floor <= b.messenger_overhead < b.lbc["deliver_in"]
    assert SIGNATURE_FLOOR_GAS < b.extra_signature < 2 * SIGNATURE_FLOOR_GAS


def test_gas_benchmark__bridge__cubes_locked_at_home_and_batches_amortise_the_message(small_report):
    b = small_report.bridge
    assert b is not None
    # Each cube sent out records the chain it is locked for (lockedFor[id], a cold slot set from zero:
    # 22,100) and moves into the bridge (its ownership slot read cold and rewritten: 5,000); without that
    # record a cube could be released to a chain it was never sent to.
    assert b.cube_curve("send_out").marginal > 22_100 + 5_000
    for leg in BRIDGE_LEGS:
        curve = b.cube_curve(leg)
        assert 0 < curve.marginal < b.cubes[1][leg], leg  # a further cube costs less than a trip of one
        assert b.cubes[10][leg] < 10 * b.cubes[1][leg], leg


def test_gas_reports__written__json_markdown_and_png(small_report, tmp_path):
    files = write_reports(small_report, tmp_path / "reports", Prices.from_options(None, 0.5))
    data = json.loads(files.json.read_text())
    assert data["figures"] == small_report.figures()
    assert data["optimized"]["claim"]["gas_by_batch"]["20"] == small_report.optimized.claim.gas_by_batch[20]
    assert data["prices"]["gas_price_assumed"] is True and data["prices"]["pol_usd_assumed"] is False
    claim_1 = next(op for op in data["operations"] if op["operation"] == "claim 1 cube")
    assert claim_1["optimized"]["usd"] == pytest.approx(claim_1["optimized"]["gas"] * 30e-9 * 0.5)
    md = files.markdown.read_text()
    assert md.count("| --- |") >= 3 and "| claim 20 cubes |" in md and "--gas-price-gwei" in md
    assert "## Bridge" in md and "2 of the 3 signers (threshold 2)" in md
    assert data["bridge"]["lbc"]["deliver_in"] == small_report.figures()["bridge.lbc.deliver_in"]
    png = files.plot.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


def test_gas_bench_check__doctored_snapshot__exits_1_naming_each_failing_figure(small_report, tmp_path):
    """The script's --check against this module's measurement, one figure made 10% cheaper and one added."""
    figures = small_report.figures()
    doctored = {**figures, "claim.optimized.batch_1": round(figures["claim.optimized.batch_1"] * 0.9)}
    doctored["claim.optimized.batch_7"] = 60_000  # a size the run does not measure
    snapshot = write_snapshot(Snapshot(doctored, small_report.network), tmp_path / "doctored.json")
    sizes = ",".join(map(str, SMALL_SIZES))
    args = [
        "--network",
        "polygon:local:foundry",
        "--sizes",
        sizes,
        "--check",
        "--snapshot-file",
        str(snapshot),
        "--out-dir",
        str(tmp_path),
    ]
    result = run_ape_here("run", "gas_bench", *args)  # on this session's chain, in this process
    output = output_of(result)
    assert result.returncode == 1, output
    [error] = error_lines(result)
    assert "2 figure(s)" in error, error
    assert "claim.optimized.batch_1" in error and "claim.optimized.batch_7" in error
    assert "Traceback" not in output
    assert (tmp_path / "gas.md").exists()  # the reports are written before the check judges
