"""The gas report without a chain: curve fits, prices, figures, markdown, and the snapshot check."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from link_ops.exceptions import ConfigurationError
from link_ops.gas_report import (
    FLOOR_GAS_PER_CUBE,
    BatchCurve,
    Change,
    DesignGas,
    GasReport,
    PartnerGas,
    Prices,
    Snapshot,
    compare_snapshot,
    read_snapshot,
    render_markdown,
    write_snapshot,
)

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


@given(st.dictionaries(names, st.tuples(gas, st.integers(min_value=0, max_value=10_000_000)), min_size=1))
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


def _report(partner: bool = True) -> GasReport:
    pg = PartnerGas(
        {10: 142_000, 1_000: 142_400},
        {10: 80_000, 110: 380_000},
        684_000,
        51_000,
        {10: 300_000, 110: 2_900_000},
    )
    return GasReport(
        _design("Opt", 5_448), _design("Ref", 10_324), pg if partner else None, "polygon:local:foundry", 31337
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
