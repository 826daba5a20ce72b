"""The gas report without a chain: curve fits, prices, figures, markdown, and the snapshot check."""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from link_ops.exceptions import ConfigurationError
from link_ops.gas.models import (
    BRIDGE_LEGS,
    FLOOR_GAS_PER_CUBE,
    BatchCurve,
    BridgeGas,
    DesignGas,
    PartnerGas,
    Prices,
    calldata_gas,
    messenger_floor,
)
from link_ops.gas.render import render_markdown
from link_ops.gas.report import GasReport
from link_ops.gas.snapshot import Change, Snapshot, compare_snapshot, read_snapshot, write_snapshot

names = st.text(alphabet="abcdefghij._0123456789", min_size=1, max_size=12)
gas = st.integers(min_value=1, max_value=50_000_000)
figure_sets = st.dictionaries(names, gas | st.floats(min_value=0.1, max_value=5e7), min_size=1, max_size=20)


def changes(old: dict[str, float], new: dict[str, float], **kwargs: float) -> dict[str, Change]:
    return {f.name: f.change for f in compare_snapshot(old, new, **kwargs)}


# ------------------------------------------------------------------------------------------ snapshot check
def test_compare__figure_more_than_1pct_dearer__fails():
    [finding] = compare_snapshot({"claim.optimized.batch_1": 100_000}, {"claim.optimized.batch_1": 101_001})
    assert finding.change is Change.WORSE and finding.failed
    assert finding.relative == pytest.approx(0.01001)
    assert "claim.optimized.batch_1" in finding.describe() and "+1.00%" in finding.describe()


def test_compare__exactly_1pct_dearer__passes_within_tolerance():
    # Exactly 1% more in decimal; plain float arithmetic calls both worse: 5496.925 - 5442.5 > 0.01 * 5442.5,
    # and 5050.707 > 5000.7 * 1.01.
    found = changes(
        {"a": 100_000, "m": 5_442.5, "n": 5_000.7}, {"a": 101_000, "m": 5_496.925, "n": 5_050.707}
    )
    assert set(found.values()) == {Change.WITHIN_TOLERANCE}
    assert not any(f.failed for f in compare_snapshot({"a": 100_000}, {"a": 101_000}))


def test_compare__cheaper_and_equal__pass_as_improved_and_unchanged():
    findings = compare_snapshot({"a": 5_448.0, "b": 47_782}, {"a": 5_300.5, "b": 47_782})
    assert [(f.name, f.change, f.failed) for f in findings] == [
        ("a", Change.IMPROVED, False),
        ("b", Change.UNCHANGED, False),
    ]


def test_compare__figure_no_longer_measured__fails_and_new_figure__is_a_note():
    findings = {f.name: f for f in compare_snapshot({"gone": 10, "kept": 5}, {"kept": 5, "fresh": 7})}
    assert findings["gone"].change is Change.MISSING and findings["gone"].failed
    assert "not measured" in findings["gone"].describe()
    assert findings["fresh"].change is Change.NEW and not findings["fresh"].failed
    assert findings["kept"].change is Change.UNCHANGED


def test_compare__zero_in_the_snapshot__any_gas_is_worse():
    assert changes({"z": 0}, {"z": 1}) == {"z": Change.WORSE}


def test_compare__custom_tolerance__and_negative_tolerance_refused():
    assert changes({"a": 100}, {"a": 104}, tolerance=0.05) == {"a": Change.WITHIN_TOLERANCE}
    with pytest.raises(ValueError, match="must not be negative"):
        compare_snapshot({}, {}, tolerance=-0.01)


@given(figure_sets, st.floats(min_value=0.0, max_value=1.0))
def test_compare__every_figure_scaled_down__never_fails(old, factor):
    findings = compare_snapshot(old, {name: value * factor for name, value in old.items()})
    assert not any(f.failed for f in findings)
    assert {f.name for f in findings} == set(old)


@st.composite
def increases(draw) -> tuple[int, int]:
    """(snapshot figure, increase): any increase, or one within a few gas of 1% of the figure."""
    before = draw(gas)
    near_tolerance = st.integers(max(0, before // 100 - 2), before // 100 + 2)
    return before, draw(st.one_of(st.integers(min_value=0, max_value=10_000_000), near_tolerance))


@given(st.dictionaries(names, increases(), min_size=1))
@example({"exactly 1%": (100, 1), "just above 1%": (99, 1)})
def test_compare__an_increase__fails_exactly_when_above_1pct_of_the_snapshot(pairs):
    old = {name: before for name, (before, _) in pairs.items()}
    new = {name: before + more for name, (before, more) in pairs.items()}
    for finding in compare_snapshot(old, new):
        before, more = pairs[finding.name]
        assert finding.failed == (100 * more > before)  # integers: exact
        assert (finding.change is Change.UNCHANGED) == (more == 0)


@given(figure_sets, figure_sets)
def test_compare__one_finding_per_name__sorted_and_missing_iff_only_in_the_snapshot(old, new):
    findings = compare_snapshot(old, new)
    assert [f.name for f in findings] == sorted(set(old) | set(new))
    for f in findings:
        assert (f.change is Change.MISSING) == (f.name in old and f.name not in new)
        assert (f.change is Change.NEW) == (f.name in new and f.name not in old)


def test_snapshot__written_sorted_and_read_back(tmp_path):
    snap = Snapshot(
        {"transfer.optimized": 58_887, "claim.optimized.marginal": 5_447.9}, "polygon:local:foundry", 31337
    )
    path = write_snapshot(snap, tmp_path / "gas-snapshot.json")
    data = json.loads(path.read_text())
    assert list(data["figures"]) == ["claim.optimized.marginal", "transfer.optimized"]
    assert data["network"] == "polygon:local:foundry" and data["unit"] == "gas"
    assert read_snapshot(path) == snap


def test_snapshot__missing_or_malformed__says_how_to_write_one(tmp_path):
    with pytest.raises(ConfigurationError, match="ape run gas_bench --snapshot"):
        read_snapshot(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigurationError, match="not JSON"):
        read_snapshot(bad)
    bad.write_text(json.dumps({"figures": {"a": "many", "b": 1, "c": True}}))
    with pytest.raises(ConfigurationError, match="not numbers: a, c"):
        read_snapshot(bad)


# ------------------------------------------------------------------------------------------ prices and fits
def test_prices__defaults__are_said_to_be_assumptions():
    prices = Prices.from_options(None, None)
    assert prices.pol(1_000_000) == pytest.approx(0.03) and prices.usd(1_000_000) == pytest.approx(0.0075)
    assert "assumed" in prices.describe() and "--gas-price-gwei" in prices.describe()
    given_prices = Prices.from_options(50, 0.5)
    assert given_prices.usd(1_000_000) == pytest.approx(0.025)
    assert "assumed" not in given_prices.describe()
    assert "--pol-usd" in Prices.from_options(50, None).describe()


@pytest.mark.parametrize(("gwei", "usd"), [(0, None), (None, -1.0), (float("nan"), None)])
def test_prices__not_positive__refused(gwei, usd):
    with pytest.raises(ConfigurationError, match="must be a positive number"):
        Prices.from_options(gwei, usd)


def test_batch_curve__fit__fixed_and_marginal_from_the_extremes():
    curve = BatchCurve("x", {1: 10_500, 11: 20_500, 101: 110_500})
    assert curve.marginal == 1_000 and curve.fixed == 9_500
    assert curve.max_batch_in_block == (30_000_000 - 9_500) // 1_000
    with pytest.raises(ValueError, match="two batch sizes"):
        BatchCurve("x", {1: 10_500})


# ------------------------------------------------------------------------------------------ report
def _design(name: str, per_cube: int) -> DesignGas:
    return DesignGas(
        design=name,
        claim=BatchCurve(name, {1: 40_000 + per_cube, 10: 40_000 + 10 * per_cube}),
        mint=BatchCurve(name, {1: 60_000, 100: 60_000 + 99 * 4 * per_cube}),
        mint_one=59_000,
        mint_one_call="mint(to)",
        transfer=58_000,
    )


def _bridge() -> BridgeGas:
    return BridgeGas(
        lbc={"send_out": 75_000, "deliver_in": 106_000, "send_home": 70_000, "deliver_home": 109_000},
        cubes={
            1: {"send_out": 105_000, "deliver_in": 119_000, "send_home": 64_000, "deliver_home": 107_000},
            10: {"send_out": 456_000, "deliver_in": 362_000, "send_home": 145_000, "deliver_home": 212_000},
        },
        messenger_overhead=75_000,
        messenger_calldata=5_700,
        extra_signature=7_800,
        signers=3,
        threshold=2,
        lbc_amount=100 * 10**18,
    )


def _report(partner: bool = True, bridge: bool = True) -> GasReport:
    pg = PartnerGas(
        {10: 142_000, 1_000: 142_400},
        {10: 80_000, 110: 380_000},
        684_000,
        51_000,
        {10: 300_000, 110: 2_900_000},
    )
    return GasReport(
        _design("Opt", 5_448),
        _design("Ref", 10_324),
        pg if partner else None,
        "polygon:local:foundry",
        31337,
        bridge=_bridge() if bridge else None,
    )


def test_report__figures__flat_sorted_names_for_every_operation():
    figures = _report().figures()
    assert list(figures) == sorted(figures)
    assert figures["claim.optimized.batch_10"] == 40_000 + 54_480
    assert figures["claim.reference.marginal"] == 10_324.0
    assert figures["mint.optimized.one"] == 59_000 and figures["transfer.reference"] == 58_000
    assert figures["partner_create.optimized.cubes_1000"] == 142_400
    assert figures["welcome.optimized.marginal"] == 3_000.0
    assert not any(name.startswith(("partner", "welcome")) for name in _report(partner=False).figures())


def test_report__markdown__tables_with_costs_goals_and_the_price_assumption():
    md = render_markdown(_report(), Prices.from_options(100, None))
    assert md.count("| --- |") >= 3
    # one-cube claim: 45,448 gas at 100 gwei = 0.0045448 POL, x 0.25 USD
    assert "| claim 1 cube | 45,448 | 0.004545 | 0.001136 |" in md
    assert "--pol-usd" in md and "polygon:local:foundry" in md and f"{FLOOR_GAS_PER_CUBE:,}" in md
    assert "| marginal gas per cube | 5,448 | 5,600 | yes |" in md


# ------------------------------------------------------------------------------------------ bridge
def test_bridge__figures__every_leg_by_asset_and_batch_with_per_cube_marginals():
    figures = _report().figures()
    assert figures["bridge.lbc.send_out"] == 75_000 and figures["bridge.lbc.deliver_home"] == 109_000
    assert figures["bridge.cube.deliver_in.batch_1"] == 119_000
    assert figures["bridge.cube.deliver_in.batch_10"] == 362_000
    assert figures["bridge.cube.send_out.marginal"] == 39_000.0  # (456,000 - 105,000) / 9
    assert figures["bridge.messenger.overhead"] == 75_000
    assert figures["bridge.messenger.extra_signature"] == 7_800
    bridge_names = {name for name in figures if name.startswith("bridge.")}
    # 4 LBC legs, 4 cube legs x (2 batches + marginal), the messenger's 2
    assert len(bridge_names) == 4 + 4 * 3 + 2
    assert not any(name.startswith("bridge.") for name in _report(bridge=False).figures())


def test_bridge__round_trips_and_curves():
    b = _bridge()
    assert b.lbc_round_trip == 75_000 + 106_000 + 70_000 + 109_000
    assert b.cube_round_trip(10) == 456_000 + 362_000 + 145_000 + 212_000
    curve = b.cube_curve("deliver_home")
    assert curve.marginal == pytest.approx(105_000 / 9) and curve.gas_by_batch == {1: 107_000, 10: 212_000}


def test_bridge__missing_leg_or_one_batch_size__refused():
    b = _bridge()
    with pytest.raises(ValueError, match="without the legs deliver_home"):
        BridgeGas(**{**vars(b), "lbc": {k: v for k, v in b.lbc.items() if k != "deliver_home"}})
    with pytest.raises(ValueError, match="two batch sizes"):
        BridgeGas(**{**vars(b), "cubes": {1: b.cubes[1]}})


def test_calldata_gas__16_per_nonzero_byte_4_per_zero_byte():
    assert calldata_gas(b"") == 0
    assert calldata_gas(b"\x00\x01\x00\xff") == 4 + 16 + 4 + 16
    assert calldata_gas(bytes(32)) == 128


def test_messenger_floor__base_calldata_replay_guard_and_per_signature_checks():
    assert messenger_floor(2, 5_700) == 21_000 + 5_700 + 22_100 + 2 * (3_000 + 2_100)
    assert messenger_floor(3, 0) - messenger_floor(2, 0) == 5_100
    assert _bridge().messenger_floor == messenger_floor(2, 5_700)


def test_bridge__operations__no_reference_so_no_ratio():
    ops = {op.name: op for op in _report().operations()}
    lbc_out = ops["bridge LBC: send home → remote (lock)"]
    assert lbc_out.optimized == 75_000 and lbc_out.reference is None and lbc_out.ratio is None
    cube_home = ops["bridge 1 cube: deliver at home (release)"]
    assert cube_home.optimized == 107_000 and "2 of 3 signatures" in cube_home.how
    assert len([name for name in ops if name.startswith("bridge ")]) == 2 * len(BRIDGE_LEGS)
    assert not any(op.name.startswith("bridge ") for op in _report(bridge=False).operations())


def test_bridge__markdown__section_with_every_leg_the_signers_and_dashes_for_the_reference():
    md = render_markdown(_report(), Prices.from_options(100, None))
    # 75,000 gas at 100 gwei = 0.0075 POL, x 0.25 USD; no reference: four dashes
    assert "| bridge LBC: send home → remote (lock) | 75,000 | 0.007500 | 0.001875 | - | - | - | - |" in md
    bridge = md[md.index("## Bridge") : md.index("## Goals")]
    assert "2 of the 3 signers (threshold 2)" in bridge and "chain 31337" in bridge
    assert "| leg | LBC (100 LBC) | 1 cube | 10 cubes | per additional cube |" in bridge
    assert "| send home → remote (lock) | 75,000 | 105,000 | 456,000 | 39,000 |" in bridge
    assert "| round trip | 360,000 | 395,000 | 1,175,000 | 86,666.7 |" in bridge
    assert "| each signature beyond the threshold | 7,800 |" in bridge
    assert f"| {messenger_floor(2, 5_700):,} |" in bridge
    assert "## Bridge" not in render_markdown(_report(bridge=False))


def test_bridge__json__the_bridge_with_marginals_serialises():
    data = json.loads(json.dumps(_report().to_json()))
    assert data["bridge"]["lbc"]["deliver_in"] == 106_000
    assert data["bridge"]["cubes"]["10"]["send_home"] == 145_000
    assert data["bridge"]["cube_marginal"]["send_out"] == 39_000
    assert data["bridge"]["messenger_floor"] == messenger_floor(2, 5_700)
    assert _report(bridge=False).to_json()["bridge"] is None
