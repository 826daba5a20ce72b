"""Specs of link_ops.model.rewards: the exact model of OptimizedCubeManagement's reward accounting."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from link_ops.model.layout import MAX_CUBE_ID, MINED_MAX, RATE_MASK, TIERS, UNIT, NodeWord, RatesWord
from link_ops.model.reward_errors import (
    ClaimsNotPaused,
    ClaimsPaused,
    ClockWentBackwards,
    CubeIdsExhausted,
    InvalidRate,
    InvalidTier,
    NotCubeOwner,
    RewardModelError,
    TotalMinedOverflow,
    UnknownCube,
    ZeroAddress,
    ZeroQuantity,
)
from link_ops.model.rewards import Cube, RateCheckpoint, RewardModel, TierSchedule, forecast_units

T0 = 1_700_000_000
ALICE = "0x" + "a1" * 20
BOB = "0x" + "b0" * 20
CAROL = "0x" + "c4" * 20
ZERO = "0x" + "00" * 20


def _model(*rates_units: int) -> RewardModel:
    """A model deployed at T0 whose tiers pay ``rates_units`` units per second from T0."""
    model = RewardModel(T0)
    for tier, rate in enumerate(rates_units):
        model.set_tier_rate(tier, rate * UNIT, T0)
    return model


def _state(model: RewardModel) -> tuple[object, ...]:
    """Everything a failed call must leave unchanged."""
    cubes = tuple(model.cube(i) for i in range(1, model.total_minted + 1))
    history = tuple(model.rate_history(t) for t in range(TIERS))
    return cubes, history, model.total_supply_units, model.paused, model.clock


# -------------------------------------------------------------------------------------------------------
# TierSchedule
# -------------------------------------------------------------------------------------------------------


def test_tier_schedule__starts_with_a_zero_checkpoint_at_deployment() -> None:
    schedule = TierSchedule(T0)
    assert schedule.checkpoints == (RateCheckpoint(T0, 0, 0),)
    assert schedule.current() == (0, T0)
    assert schedule.acc_at(T0 + 1000) == 0


def test_tier_schedule__set_rate__appends_checkpoint_carrying_the_accumulator() -> None:
    schedule = TierSchedule(T0)
    schedule.set_rate(T0 + 10, 5 * UNIT)
    schedule.set_rate(T0 + 30, 7 * UNIT)
    assert schedule.checkpoints == (
        RateCheckpoint(T0, 0, 0),
        RateCheckpoint(T0 + 10, 5, 0),
        RateCheckpoint(T0 + 30, 7, 100),
    )
    assert schedule.current() == (7, T0 + 30)
    assert [schedule.acc_at(T0 + dt) for dt in (0, 10, 11, 29, 30, 31, 40)] == [0, 0, 5, 95, 100, 107, 170]


def test_tier_schedule__same_second_rate_change__replaces_the_rate() -> None:
    schedule = TierSchedule(T0)
    schedule.set_rate(T0 + 10, 5 * UNIT)
    schedule.set_rate(T0 + 10, 9 * UNIT)
    assert schedule.checkpoints == (RateCheckpoint(T0, 0, 0), RateCheckpoint(T0 + 10, 9, 0))
    assert schedule.acc_at(T0 + 20) == 90


def test_tier_schedule__set_rate_at_deployment_second__replaces_the_zero_rate() -> None:
    schedule = TierSchedule(T0)
    schedule.set_rate(T0, 3 * UNIT)
    assert schedule.checkpoints == (RateCheckpoint(T0, 3, 0),)


@pytest.mark.parametrize(
    ("wei", "message"),
    [
        (UNIT + 1, rf"rate {UNIT + 1} wei/s is invalid: it must be a multiple of {UNIT} wei.*use {UNIT} or"),
        (UNIT // 2, r"must be a multiple of"),
        ((RATE_MASK + 1) * UNIT, rf"above the largest storable rate, {RATE_MASK * UNIT} wei/s"),
        (-UNIT, r"must not be negative"),
        (1.0e12, r"must be an int"),
    ],
)
def test_tier_schedule__set_rate__unstorable_rate__raises_invalid_rate(wei: int, message: str) -> None:
    schedule = TierSchedule(T0)
    with pytest.raises(InvalidRate, match=message):
        schedule.set_rate(T0 + 1, wei)
    assert schedule.checkpoints == (RateCheckpoint(T0, 0, 0),)


def test_tier_schedule__set_rate__largest_storable_rate__is_accepted() -> None:
    schedule = TierSchedule(T0)
    schedule.set_rate(T0, RATE_MASK * UNIT)
    assert schedule.current() == (RATE_MASK, T0)


def test_tier_schedule__set_rate__before_latest_checkpoint__raises() -> None:
    schedule = TierSchedule(T0)
    schedule.set_rate(T0 + 10, UNIT)
    with pytest.raises(ClockWentBackwards, match=rf"time {T0 + 9} is before .* \({T0 + 10}\)"):
        schedule.set_rate(T0 + 9, UNIT)


def test_tier_schedule__acc_at__before_deployment__raises() -> None:
    with pytest.raises(ClockWentBackwards):
        TierSchedule(T0).acc_at(T0 - 1)


rate_changes = st.lists(st.tuples(st.integers(0, 500), st.integers(0, 1000)), max_size=12)


@given(rate_changes, st.lists(st.integers(0, 7000), max_size=10))
def test_tier_schedule__rate_change__never_alters_the_accumulator_before_it(
    changes: list[tuple[int, int]], probes: list[int]
) -> None:
    schedule = TierSchedule(T0)
    now = T0
    for gap, rate in changes:
        now += gap
        # The probes, and always the second of the change itself (up to which everything has accrued).
        before = {t: schedule.acc_at(T0 + t) for t in [*probes, now - T0] if T0 + t <= now}
        schedule.set_rate(now, rate * UNIT)
        assert {t: schedule.acc_at(T0 + t) for t in before} == before


@given(rate_changes, st.integers(0, 7000))
def test_tier_schedule__accumulator__equals_second_by_second_sum(
    changes: list[tuple[int, int]], end: int
) -> None:
    schedule = TierSchedule(T0)
    rate_from: dict[int, int] = {}  # second -> rate set at it (the last write of that second wins)
    now = T0
    for gap, rate in changes:
        now += gap
        schedule.set_rate(now, rate * UNIT)
        rate_from[now] = rate
    total, rate = 0, 0
    for second in range(T0, T0 + end):
        rate = rate_from.get(second, rate)
        total += rate
    assert schedule.acc_at(T0 + end) == total


# -------------------------------------------------------------------------------------------------------
# Minting and rates
# -------------------------------------------------------------------------------------------------------


def test_mint__ids_start_at_one_and_increase_by_one() -> None:
    model = _model()
    assert [model.mint(ALICE, 0, T0), model.mint(BOB, 3, T0 + 5)] == [1, 2]
    assert model.cube(2) == Cube(2, BOB, 3, True, T0 + 5, 0, 0)
    assert model.total_minted == 2


def test_mint_batch__returns_the_first_id_and_mints_consecutive_ids() -> None:
    model = _model()
    model.mint(ALICE, 0, T0)
    assert model.mint_batch(BOB, 1, 3, T0 + 1) == 2
    assert [model.owner_of(i) for i in (1, 2, 3, 4)] == [ALICE, BOB, BOB, BOB]
    assert [model.tier_of(i) for i in (1, 2, 3, 4)] == [0, 1, 1, 1]


def test_mint_batch__quantity_zero__raises_zero_quantity_like_the_contract() -> None:
    model = _model()
    model.mint(ALICE, 0, T0)
    with pytest.raises(ZeroQuantity, match="at least one"):
        model.mint_batch(ALICE, 0, 0, T0)
    assert model.total_minted == 1


def test_mint__owner_is_stored_lowercase() -> None:
    model = _model()
    model.mint("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", 0, T0)
    assert model.owner_of(1) == "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"


@pytest.mark.parametrize("tier", [4, -1, 255, True])
def test_mint__invalid_tier__raises(tier: int) -> None:
    with pytest.raises(InvalidTier, match=r"tier .* does not exist; use a tier from 0 to 3"):
        _model().mint(ALICE, tier, T0)


def test_mint__zero_address__raises() -> None:
    with pytest.raises(ZeroAddress, match="owner is the zero address"):
        _model().mint(ZERO, 0, T0)


def test_mint_batch__past_the_largest_cube_id__raises_and_mints_nothing() -> None:
    model = _model()
    model.mint(ALICE, 0, T0)
    with pytest.raises(CubeIdsExhausted, match=rf"mint at most {MAX_CUBE_ID - 1}"):
        model.mint_batch(ALICE, 0, MAX_CUBE_ID, T0)
    assert model.total_minted == 1


def test_set_tier_rate__tier_rate_returns_wei_per_second() -> None:
    model = _model()
    model.set_tier_rate(2, 42 * UNIT, T0 + 1)
    assert [model.tier_rate(t) for t in range(TIERS)] == [0, 0, 42 * UNIT, 0]
    with pytest.raises(InvalidTier):
        model.tier_rate(4)
    with pytest.raises(InvalidTier):
        model.set_tier_rate(4, UNIT, T0)


def test_set_tier_rate__invalid_rate__raises_and_changes_nothing() -> None:
    model = _model(1)
    before = _state(model)
    with pytest.raises(InvalidRate):
        model.set_tier_rate(0, UNIT + 1, T0 + 5)
    assert _state(model) == before


# -------------------------------------------------------------------------------------------------------
# Accrual
# -------------------------------------------------------------------------------------------------------


@given(st.integers(0, RATE_MASK), st.integers(0, 10**6), st.integers(0, 10**8))
def test_accrued__fast_path__equals_rate_times_time_since_last_claim(
    rate: int, wait: int, elapsed: int
) -> None:
    model = _model(rate)
    cube = model.mint(ALICE, 0, T0 + wait)
    assert model.accrued_units(cube, T0 + wait + elapsed) == rate * elapsed
    assert model.pending(cube, T0 + wait + elapsed) == rate * elapsed * UNIT


def test_accrued__across_rate_changes__adds_each_rate_over_its_own_span() -> None:
    model = _model(3)
    cube = model.mint(ALICE, 0, T0 + 50)
    model.set_tier_rate(0, 5 * UNIT, T0 + 100)
    model.set_tier_rate(0, 0, T0 + 120)
    assert model.accrued_units(cube, T0 + 200) == 3 * 50 + 5 * 20


def test_rate_change__only_other_tiers__leaves_a_cube_untouched() -> None:
    model = _model(2, 7)
    cube = model.mint(ALICE, 0, T0)
    model.set_tier_rate(1, 1000 * UNIT, T0 + 10)
    assert model.pending(cube, T0 + 20) == 40 * UNIT


@given(rate_changes, st.integers(0, 3), st.integers(0, 500))
def test_rate_change__is_prospective__pending_before_it_never_changes(
    changes: list[tuple[int, int]], tier: int, tail: int
) -> None:
    model = _model()
    cube = model.mint(ALICE, tier, T0)
    now, earned_units, rate = T0, 0, 0
    for gap, new_rate in changes:
        now += gap
        earned_units += rate * gap
        before = model.pending(cube, now)
        model.set_tier_rate(tier, new_rate * UNIT, now)
        assert model.pending(cube, now) == before == earned_units * UNIT
        rate = new_rate
    assert model.pending(cube, now + tail) == (earned_units + rate * tail) * UNIT


def test_same_second_rate_change__replaces__only_the_last_rate_pays() -> None:
    model = _model(3)
    cube = model.mint(ALICE, 0, T0)
    model.set_tier_rate(0, 8 * UNIT, T0 + 10)
    model.set_tier_rate(0, 1 * UNIT, T0 + 10)
    assert len(model.rate_history(0)) == 2
    assert model.pending(cube, T0 + 20) == (30 + 10) * UNIT


def test_rate_set_in_the_mint_second__pays_from_the_mint() -> None:
    model = _model(3)
    cube = model.mint(ALICE, 0, T0 + 10)
    model.set_tier_rate(0, 6 * UNIT, T0 + 10)
    assert model.pending(cube, T0 + 20) == 60 * UNIT


# -------------------------------------------------------------------------------------------------------
# Activation
# -------------------------------------------------------------------------------------------------------


def test_set_active__deactivation__freezes_what_accrued_and_carries_it() -> None:
    model = _model(4)
    cube = model.mint(ALICE, 0, T0)
    model.set_active(cube, False, T0 + 25)
    assert model.cube(cube) == Cube(cube, ALICE, 0, False, T0, 0, 100)
    assert model.pending(cube, T0 + 25) == 100 * UNIT
    assert model.pending(cube, T0 + 10_000) == 100 * UNIT
    assert model.accrued_units(cube, T0 + 10_000) == 0
    assert model.node_word(cube).carried is True
    assert model.node_data(cube) == (0, T0, cube, False)


def test_set_active__deactivation_with_nothing_accrued__sets_no_carried_flag() -> None:
    model = _model(0)
    cube = model.mint(ALICE, 0, T0)
    model.set_active(cube, False, T0 + 25)
    assert model.cube(cube).carried_units == 0
    assert model.node_word(cube).carried is False


def test_set_active__reactivation__restarts_accrual_from_now_and_keeps_carried() -> None:
    model = _model(4)
    cube = model.mint(ALICE, 0, T0)
    model.set_active(cube, False, T0 + 25)
    model.set_active(cube, True, T0 + 1000)
    assert model.cube(cube) == Cube(cube, ALICE, 0, True, T0 + 1000, 0, 100)
    assert model.pending(cube, T0 + 1010) == (100 + 40) * UNIT


def test_set_active__second_deactivation__adds_to_carried() -> None:
    model = _model(4)
    cube = model.mint(ALICE, 0, T0)
    model.set_active(cube, False, T0 + 25)
    model.set_active(cube, True, T0 + 1000)
    model.set_active(cube, False, T0 + 1005)
    assert model.cube(cube).carried_units == 100 + 20
    assert model.pending(cube, T0 + 5000) == 120 * UNIT


def test_set_active__to_the_current_state__is_a_no_op() -> None:
    model = _model(4)
    cube = model.mint(ALICE, 0, T0)
    model.set_active(cube, True, T0 + 50)
    assert model.cube(cube) == Cube(cube, ALICE, 0, True, T0, 0, 0)
    model.set_active(cube, False, T0 + 60)
    model.set_active(cube, False, T0 + 70)
    assert model.cube(cube) == Cube(cube, ALICE, 0, False, T0, 0, 240)


def test_set_active__unknown_cube__raises() -> None:
    with pytest.raises(UnknownCube, match=r"cube 3 does not exist \(no cube has been minted yet\)"):
        _model().set_active(3, False, T0)


# -------------------------------------------------------------------------------------------------------
# Claims
# -------------------------------------------------------------------------------------------------------


def test_claim__pays_pending_and_restarts_accrual() -> None:
    model = _model(2, 5)
    a = model.mint(ALICE, 0, T0)
    b = model.mint(ALICE, 1, T0 + 10)
    assert model.claim(ALICE, [a, b], T0 + 100) == (2 * 100 + 5 * 90) * UNIT
    assert model.node_data(a) == (200 * UNIT, T0 + 100, a, True)
    assert model.node_data(b) == (450 * UNIT, T0 + 100, b, True)
    assert model.pending(a, T0 + 100) == 0
    assert model.pending(a, T0 + 103) == 6 * UNIT
    assert model.total_supply_units == 650


def test_claim__caller_may_be_checksummed() -> None:
    model = _model(1)
    cube = model.mint("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", 0, T0)
    assert model.claim("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", [cube], T0 + 7) == 7 * UNIT


def test_claim__inactive_cube__pays_carried_once_and_keeps_last_claim_time() -> None:
    model = _model(3)
    cube = model.mint(ALICE, 0, T0)
    model.set_active(cube, False, T0 + 10)
    assert model.claim(ALICE, [cube], T0 + 50) == 30 * UNIT
    assert model.cube(cube) == Cube(cube, ALICE, 0, False, T0, 30, 0)
    assert model.node_word(cube).carried is False
    assert model.claim(ALICE, [cube], T0 + 60) == 0


def test_claim__reactivated_cube__pays_carried_plus_new_accrual() -> None:
    model = _model(3)
    cube = model.mint(ALICE, 0, T0)
    model.set_active(cube, False, T0 + 10)
    model.set_active(cube, True, T0 + 40)
    assert model.claim(ALICE, [cube], T0 + 45) == (30 + 15) * UNIT
    assert model.cube(cube) == Cube(cube, ALICE, 0, True, T0 + 45, 45, 0)


def test_claim__duplicate_id__pays_once() -> None:
    model = _model(2)
    cube = model.mint(ALICE, 0, T0)
    assert model.claim(ALICE, [cube, cube, cube], T0 + 10) == 20 * UNIT
    assert model.cube(cube).total_mined_units == 20
    assert model.total_supply_units == 20


def test_claim__duplicate_carried_id__pays_carried_once() -> None:
    model = _model(2)
    cube = model.mint(ALICE, 0, T0)
    model.set_active(cube, False, T0 + 10)
    assert model.claim(ALICE, [cube, cube], T0 + 10) == 20 * UNIT
    assert model.total_supply_units == 20


def test_claim__foreign_cube__fails_the_whole_batch_and_changes_nothing() -> None:
    model = _model(2)
    mine = model.mint(ALICE, 0, T0)
    theirs = model.mint(BOB, 0, T0)
    model.set_active(mine, False, T0 + 5)
    before = _state(model)
    with pytest.raises(NotCubeOwner, match=rf"{ALICE} does not own cube {theirs} \(its owner is {BOB}\)"):
        model.claim(ALICE, [mine, theirs], T0 + 100)
    assert _state(model) == before
    assert model.pending(mine, T0 + 100) == 10 * UNIT


@pytest.mark.parametrize("unknown", [0, 3, MAX_CUBE_ID + 1, -1])
def test_claim__unknown_cube__fails_the_whole_batch_and_changes_nothing(unknown: int) -> None:
    model = _model(2)
    a = model.mint(ALICE, 0, T0)
    b = model.mint(ALICE, 0, T0)
    before = _state(model)
    with pytest.raises(UnknownCube, match=rf"cube {unknown} does not exist \(ids 1 \.\. 2 exist\)"):
        model.claim(ALICE, [a, b, unknown], T0 + 100)
    assert _state(model) == before


def test_claim__reports_the_first_bad_id_in_order_like_the_contract() -> None:
    model = _model(2)
    model.mint(BOB, 0, T0)
    with pytest.raises(NotCubeOwner):
        model.claim(ALICE, [1, 9], T0 + 1)
    with pytest.raises(UnknownCube):
        model.claim(ALICE, [9, 1], T0 + 1)


def test_claim__paused__raises_and_changes_nothing_then_pays_after_unpause() -> None:
    model = _model(2)
    cube = model.mint(ALICE, 0, T0)
    model.pause()
    before = _state(model)
    with pytest.raises(ClaimsPaused, match="claims are paused"):
        model.claim(ALICE, [cube], T0 + 10)
    with pytest.raises(ClaimsPaused):
        model.claim(ALICE, [], T0 + 10)
    assert _state(model) == before
    model.unpause()
    assert model.claim(ALICE, [cube], T0 + 10) == 20 * UNIT


def test_claim__empty_batch__pays_nothing() -> None:
    model = _model(2)
    model.mint(ALICE, 0, T0)
    assert model.claim(ALICE, [], T0 + 10) == 0
    assert model.total_supply_units == 0


def test_claim__total_mined_overflow__fails_the_whole_batch() -> None:
    model = _model(RATE_MASK, 1)
    small = model.mint(ALICE, 1, T0)
    big = model.mint(ALICE, 0, T0)
    before = _state(model)
    elapsed = MINED_MAX // RATE_MASK + 1  # RATE_MASK * elapsed > MINED_MAX
    with pytest.raises(TotalMinedOverflow, match=rf"cube {big} has mined 0 units and would earn"):
        model.claim(ALICE, [small, big], T0 + elapsed)
    assert _state(model) == before
    assert model.claim(ALICE, [small], T0 + elapsed) == elapsed * UNIT


def test_claim__total_mined_up_to_exactly_mined_max__pays_and_one_more_unit_fails() -> None:
    model = _model(RATE_MASK)
    cube = model.mint(ALICE, 0, T0)
    full, rest = divmod(MINED_MAX, RATE_MASK)
    model.set_tier_rate(0, UNIT, T0 + full)
    model.set_tier_rate(0, 0, T0 + full + rest)
    assert model.claim(ALICE, [cube], T0 + full + rest + 5) == MINED_MAX * UNIT
    model.set_tier_rate(0, UNIT, T0 + full + rest + 5)
    with pytest.raises(TotalMinedOverflow):
        model.claim(ALICE, [cube], T0 + full + rest + 6)
    assert model.cube(cube).total_mined_units == MINED_MAX


def test_pause__twice__raises_and_unpause_when_running__raises() -> None:
    model = _model()
    with pytest.raises(ClaimsNotPaused, match="claims are not paused"):
        model.unpause()
    model.pause()
    assert model.paused is True
    assert model.rates_word().paused is True
    with pytest.raises(ClaimsPaused, match="already paused"):
        model.pause()
    model.unpause()
    assert model.paused is False


def test_pause__accrual_continues_while_paused() -> None:
    model = _model(3)
    cube = model.mint(ALICE, 0, T0)
    model.pause()
    model.set_active(cube, False, T0 + 10)
    model.unpause()
    assert model.claim(ALICE, [cube], T0 + 20) == 30 * UNIT


# -------------------------------------------------------------------------------------------------------
# Transfers
# -------------------------------------------------------------------------------------------------------


def test_transfer__moves_pending_to_the_new_owner() -> None:
    model = _model(2)
    cube = model.mint(ALICE, 0, T0)
    model.set_active(cube, False, T0 + 10)
    model.set_active(cube, True, T0 + 20)
    model.transfer(cube, BOB)
    assert model.pending(cube, T0 + 30) == (20 + 20) * UNIT
    with pytest.raises(NotCubeOwner):
        model.claim(ALICE, [cube], T0 + 30)
    assert model.claim(BOB, [cube], T0 + 30) == 40 * UNIT
    assert model.cube(cube) == Cube(cube, BOB, 0, True, T0 + 30, 40, 0)


def test_transfer__changes_only_the_owner() -> None:
    model = _model(2)
    cube = model.mint(ALICE, 1, T0)
    before = model.cube(cube)
    model.transfer(cube, "0x" + "C4" * 20)
    assert model.cube(cube) == dataclasses.replace(before, owner=CAROL)


def test_transfer__to_zero_or_unknown_cube__raises() -> None:
    model = _model()
    cube = model.mint(ALICE, 0, T0)
    with pytest.raises(ZeroAddress):
        model.transfer(cube, ZERO)
    with pytest.raises(UnknownCube):
        model.transfer(cube + 1, BOB)
    assert model.owner_of(cube) == ALICE


# -------------------------------------------------------------------------------------------------------
# Storage views, time, forecasts, errors
# -------------------------------------------------------------------------------------------------------


def test_node_word__mirrors_the_cube_and_encodes() -> None:
    model = _model(2)
    cube = model.mint(ALICE, 3, T0)
    model.set_tier_rate(3, 2 * UNIT, T0)
    model.claim(ALICE, [cube], T0 + 10)
    word = model.node_word(cube)
    assert word == NodeWord(ALICE, True, False, 3, T0 + 10, 20)
    assert NodeWord.decode(word.encode()) == word


def test_rates_word__mirrors_current_rates_and_since() -> None:
    model = _model(1, 2)
    model.set_tier_rate(3, 9 * UNIT, T0 + 40)
    model.pause()
    assert model.rates_word() == RatesWord(True, ((1, T0), (2, T0), (0, T0), (9, T0 + 40)))


def test_clock__operations_and_views_before_it__raise() -> None:
    model = _model(1)
    cube = model.mint(ALICE, 0, T0 + 100)
    assert model.clock == T0 + 100
    with pytest.raises(ClockWentBackwards, match=rf"time {T0 + 99} is before the model's clock"):
        model.pending(cube, T0 + 99)
    with pytest.raises(ClockWentBackwards):
        model.set_tier_rate(0, UNIT, T0 + 99)
    with pytest.raises(ClockWentBackwards):
        model.mint(ALICE, 0, T0 - 1)
    with pytest.raises(ClockWentBackwards):
        RewardModel(T0).mint(ALICE, 0, T0 - 1)


def test_forecast_units__is_rate_times_seconds_in_wei() -> None:
    assert forecast_units(3 * UNIT, 86_400) == 3 * 86_400 * UNIT
    assert forecast_units(0, 10) == 0
    with pytest.raises(InvalidRate):
        forecast_units(UNIT + 1, 10)
    with pytest.raises(ValueError, match="seconds = -1 must be a non-negative int"):
        forecast_units(UNIT, -1)


def test_forecast__sums_pending_at_a_future_time_counting_repeats_once() -> None:
    model = _model(2, 5)
    a = model.mint(ALICE, 0, T0)
    model.set_active(a, False, T0 + 50)
    b = model.mint(BOB, 1, T0 + 100)
    assert model.forecast([a, b, b], T0 + 1000) == (100 + 5 * 900) * UNIT
    assert model.forecast([], T0 + 1000) == 0
    with pytest.raises(UnknownCube):
        model.forecast([a, 7], T0 + 1000)
    assert model.clock == T0 + 100


@pytest.mark.parametrize(
    "error",
    [
        UnknownCube(5, 2),
        NotCubeOwner(1, ALICE, BOB),
        ClaimsPaused(),
        ClaimsPaused("pause"),
        ClaimsNotPaused(),
        InvalidTier(4),
        TotalMinedOverflow(1, 2, 3),
        CubeIdsExhausted(5, MAX_CUBE_ID),
        ZeroAddress("owner"),
        ClockWentBackwards(1, 2, "the model's clock"),
    ],
)
def test_errors__are_value_errors_whose_message_says_what_to_do(error: RewardModelError) -> None:
    assert isinstance(error, ValueError)
    message = str(error)
    assert ";" in message or ":" in message
    assert any(
        hint in message for hint in ("check", "claim", "wait", "call", "use", "leave", "mint at most", "pass")
    )


# -------------------------------------------------------------------------------------------------------
# Random operation sequences against a second-by-second oracle
# -------------------------------------------------------------------------------------------------------

ACTORS = (ALICE, BOB, CAROL)


class RewardMachine(RuleBasedStateMachine):
    """Drives the model and a naive oracle that adds each active cube's rate every elapsed second."""

    def __init__(self) -> None:
        super().__init__()
        self.model = RewardModel(T0)
        self.now = T0
        self.rates = [0] * TIERS
        self.owed: dict[int, int] = {}  # oracle: units each cube would pay now
        self.paid: dict[int, int] = {}  # oracle: units each cube has paid
        self.active: dict[int, bool] = {}
        self.tier: dict[int, int] = {}
        self.owner: dict[int, str] = {}
        self.supply = 0

    @rule(seconds=st.integers(0, 5000))
    def advance(self, seconds: int) -> None:
        for cube, active in self.active.items():
            if active:
                self.owed[cube] += self.rates[self.tier[cube]] * seconds
        self.now += seconds

    @rule(owner=st.sampled_from(ACTORS), tier=st.integers(0, TIERS - 1), quantity=st.integers(1, 3))
    def mint(self, owner: str, tier: int, quantity: int) -> None:
        first = self.model.mint_batch(owner, tier, quantity, self.now)
        for cube in range(first, first + quantity):
            self.owed[cube], self.paid[cube] = 0, 0
            self.active[cube], self.tier[cube], self.owner[cube] = True, tier, owner

    @rule(tier=st.integers(0, TIERS - 1), rate=st.integers(0, 10**6))
    def set_rate(self, tier: int, rate: int) -> None:
        self.model.set_tier_rate(tier, rate * UNIT, self.now)
        self.rates[tier] = rate

    @precondition(lambda self: self.active)
    @rule(data=st.data(), active=st.booleans())
    def set_active(self, data: st.DataObject, active: bool) -> None:
        cube = data.draw(st.sampled_from(sorted(self.active)))
        self.model.set_active(cube, active, self.now)
        self.active[cube] = active

    @precondition(lambda self: self.active)
    @rule(data=st.data(), new_owner=st.sampled_from(ACTORS))
    def transfer(self, data: st.DataObject, new_owner: str) -> None:
        cube = data.draw(st.sampled_from(sorted(self.active)))
        self.model.transfer(cube, new_owner)
        self.owner[cube] = new_owner

    @rule()
    def toggle_pause(self) -> None:
        if self.model.paused:
            self.model.unpause()
        else:
            self.model.pause()

    @rule(caller=st.sampled_from(ACTORS), data=st.data())
    def claim(self, caller: str, data: st.DataObject) -> None:
        ids = data.draw(st.lists(st.integers(0, len(self.active) + 1), max_size=6))
        valid = all(cube in self.owner and self.owner[cube] == caller for cube in ids)
        if self.model.paused or not valid:
            before = _state(self.model)
            with pytest.raises(RewardModelError):
                self.model.claim(caller, ids, self.now)
            assert _state(self.model) == before
            return
        expected = sum(self.owed[cube] for cube in set(ids))
        assert self.model.claim(caller, ids, self.now) == expected * UNIT
        for cube in set(ids):
            self.paid[cube] += self.owed[cube]
            self.owed[cube] = 0
        self.supply += expected

    @precondition(lambda self: not self.model.paused)
    @rule(caller=st.sampled_from(ACTORS), repeat=st.booleans())
    def claim_everything_held(self, caller: str, repeat: bool) -> None:
        ids = [cube for cube, owner in self.owner.items() if owner == caller]
        expected = sum(self.owed[cube] for cube in ids)
        assert self.model.claim(caller, ids + ids if repeat else ids, self.now) == expected * UNIT
        for cube in ids:
            self.paid[cube] += self.owed[cube]
            self.owed[cube] = 0
        self.supply += expected

    @invariant()
    def supply_equals_the_sum_of_total_mined(self) -> None:
        cubes = [self.model.cube(i) for i in range(1, self.model.total_minted + 1)]
        assert self.model.total_supply_units == sum(c.total_mined_units for c in cubes) == self.supply

    @invariant()
    def every_cube_matches_the_oracle(self) -> None:
        for cube, owed in self.owed.items():
            assert self.model.pending(cube, self.now) == owed * UNIT
            assert self.model.cube(cube).total_mined_units == self.paid[cube]
            assert self.model.node_data(cube)[3] is self.active[cube]
            assert self.model.owner_of(cube) == self.owner[cube]
            word = self.model.node_word(cube)
            assert NodeWord.decode(word.encode()) == word

    @invariant()
    def forecast_extrapolates_current_rates(self) -> None:
        later = self.now + 1000
        expected = sum(
            owed + (self.rates[self.tier[c]] * 1000 if self.active[c] else 0) for c, owed in self.owed.items()
        )
        assert self.model.forecast(self.owed, later) == expected * UNIT


TestRewardMachine = RewardMachine.TestCase
TestRewardMachine.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
