"""An exact, pure model of ``OptimizedCubeManagement``'s reward accounting (also used for forecasts).

Pure: no ape, no web3, no network; integers only. Amounts inside the model are reward *units* (1 unit =
:data:`~link_ops.model.layout.UNIT` wei); the methods that mirror a contract view return wei like it.

The rules, as in the contract:

* Each tier has a rate in whole units per second and a history of checkpoints (:class:`RateCheckpoint`). The
  *accumulator* ``acc_at(t)`` of a tier is what one always-active cube of that tier has earned from
  deployment up to ``t``. A rate change only appends a checkpoint (or, within the same second, replaces the
  rate of the latest one), so what was earned before it never changes.
* An active cube has earned ``acc_at(now) - acc_at(last_claim_time)`` since its last claim. When
  ``last_claim_time`` is at or after the tier's current ``since`` this is ``rate * (now - last)``, the
  contract's fast path.
* Deactivation moves what the cube accrued into ``carried_units`` and stops accrual (``last_claim_time``
  stays). Reactivation restarts accrual from ``now``; ``carried_units`` stays until claimed.
* A claim pays ``carried + accrued`` per cube to the cube's owner, zeroes ``carried``, moves
  ``last_claim_time`` to ``now`` for active cubes and adds the payment to ``total_mined_units``. A batch
  fails as a whole (paused, unknown id, foreign id, ``total mined`` overflow); a repeated id pays once.
* Rewards follow the cube: a transfer changes the owner only.

One module, as the accounting is one contract's: splitting :class:`RewardModel` would split its rules (its
errors live in :mod:`link_ops.model.reward_errors`).

Time: the model keeps a clock, the latest ``now`` given to an operation. Operations and views at an earlier
time raise :class:`ClockWentBackwards` (the chain cannot go back either).
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from link_ops.model.layout import (
    MAX_CUBE_ID,
    MINED_MAX,
    RATE_MASK,
    TIERS,
    TIME_MASK,
    UNIT,
    NodeWord,
    RatesWord,
    normalize_address,
)
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

__all__ = [
    "ClaimsNotPaused",
    "ClaimsPaused",
    "ClockWentBackwards",
    "Cube",
    "CubeIdsExhausted",
    "InvalidRate",
    "InvalidTier",
    "NotCubeOwner",
    "RateCheckpoint",
    "RewardModel",
    "RewardModelError",
    "TierSchedule",
    "TotalMinedOverflow",
    "UnknownCube",
    "ZeroAddress",
    "ZeroQuantity",
    "forecast_units",
]


_ZERO_ADDRESS = "0x" + "0" * 40


def _rate_units(wei_per_second: object) -> int:
    """Rate in units per second, validated as ``setTierRate`` does."""
    if isinstance(wei_per_second, bool) or not isinstance(wei_per_second, int):
        raise InvalidRate(wei_per_second, "it must be an int number of wei per second")
    if wei_per_second < 0:
        raise InvalidRate(wei_per_second, "it must not be negative")
    if wei_per_second % UNIT:
        below = wei_per_second - wei_per_second % UNIT
        raise InvalidRate(
            wei_per_second,
            f"it must be a multiple of {UNIT} wei (one reward unit); use {below} or {below + UNIT}",
        )
    rate = wei_per_second // UNIT
    if rate > RATE_MASK:
        raise InvalidRate(
            wei_per_second, f"it is above the largest storable rate, {RATE_MASK * UNIT} wei/s; lower it"
        )
    return rate


def _check_tier(tier: object) -> int:
    if isinstance(tier, bool) or not isinstance(tier, int) or not 0 <= tier < TIERS:
        raise InvalidTier(tier)
    return tier


def _check_time(now: object, earliest: int, what: str) -> int:
    """``now`` as a unix time in ``earliest .. TIME_MASK`` (the 40 bits the contract stores)."""
    if isinstance(now, bool) or not isinstance(now, int):
        raise ValueError(f"time {now!r} is not an int; pass a unix time in seconds")
    if now < earliest:
        raise ClockWentBackwards(now, earliest, what)
    if now > TIME_MASK:
        raise ValueError(f"time {now} does not fit the contract's 40-bit timestamps (max {TIME_MASK})")
    return now


def forecast_units(rate_wei_per_second: int, seconds: int) -> int:
    """Wei one active cube earns in ``seconds`` at ``rate_wei_per_second`` (a storable rate).

    Raises :class:`InvalidRate` if the rate could not be set on the contract, and :class:`ValueError` if
    ``seconds`` is negative.
    """
    rate = _rate_units(rate_wei_per_second)
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
        raise ValueError(f"seconds = {seconds!r} must be a non-negative int")
    return rate * seconds * UNIT


@dataclass(frozen=True)
class RateCheckpoint:
    """A rate (units per second) in effect from ``start``; ``acc_units`` is the tier's accumulator then."""

    start: int
    rate_units: int
    acc_units: int

    def acc_at(self, t: int) -> int:
        """The accumulator at ``t`` (``t >= start``) if this rate held from ``start`` to ``t``."""
        return self.acc_units + self.rate_units * (t - self.start)


class TierSchedule:
    """One tier's rate history, oldest first; it starts at deployment with rate 0 and accumulator 0."""

    def __init__(self, deployed_at: int) -> None:
        start = _check_time(deployed_at, 0, "the epoch")
        self._checkpoints: list[RateCheckpoint] = [RateCheckpoint(start, 0, 0)]

    @property
    def checkpoints(self) -> tuple[RateCheckpoint, ...]:
        """The history, oldest first (a copy)."""
        return tuple(self._checkpoints)

    def set_rate(self, now: int, wei_per_second: int) -> None:
        """Make the tier pay ``wei_per_second`` from ``now`` on (``setTierRate``).

        Raises :class:`InvalidRate` for a rate that is not a multiple of ``UNIT`` or above
        ``RATE_MASK`` units, and :class:`ClockWentBackwards` if ``now`` is before the latest checkpoint.
        Within the latest checkpoint's second the rate is replaced (nothing accrued at it yet); later, a
        checkpoint is appended carrying the accumulator forward.
        """
        rate = _rate_units(wei_per_second)
        last = self._checkpoints[-1]
        _check_time(now, last.start, "the tier's latest rate change")
        if last.start == now:
            self._checkpoints[-1] = dataclasses.replace(last, rate_units=rate)
        else:
            self._checkpoints.append(RateCheckpoint(now, rate, last.acc_at(now)))

    def acc_at(self, t: int) -> int:
        """Units one always-active cube of the tier earned from deployment to ``t`` (any ``t`` after it).

        After the latest checkpoint this extrapolates at the current rate, which is what a forecast needs.
        """
        first = self._checkpoints[0].start
        if t < first:
            raise ClockWentBackwards(t, first, "the deployment")
        return self._checkpoints[bisect_right(self._checkpoints, t, key=lambda c: c.start) - 1].acc_at(t)

    def current(self) -> tuple[int, int]:
        """``(rate_units, since)``: the rate in effect now and when it took effect (the rates word)."""
        last = self._checkpoints[-1]
        return last.rate_units, last.start


@dataclass
class Cube:
    """One cube's state: its node word plus the contract's ``_carried`` entry (``carried_units``)."""

    cube_id: int
    owner: str
    tier: int
    active: bool
    last_claim_time: int
    total_mined_units: int
    carried_units: int


class RewardModel:
    """The contract's accounting: tiers' rate histories, cubes (ids from 1), the pause flag, the supply.

    Role checks are not modelled: every method acts as if the caller held the role it needs.
    """

    def __init__(self, deployed_at: int) -> None:
        self.deployed_at = _check_time(deployed_at, 0, "the epoch")
        self._schedules = tuple(TierSchedule(deployed_at) for _ in range(TIERS))
        self._cubes: dict[int, Cube] = {}
        self._paused = False
        self._clock = deployed_at
        self._supply_units = 0

    # -- state ---------------------------------------------------------------------------------------------

    @property
    def clock(self) -> int:
        """The latest time an operation was given; earlier times are refused."""
        return self._clock

    @property
    def paused(self) -> bool:
        """Whether claims are paused (accrual continues)."""
        return self._paused

    @property
    def total_minted(self) -> int:
        """Number of cubes minted; ids are 1 .. this."""
        return len(self._cubes)

    @property
    def total_supply_units(self) -> int:
        """Units paid by all claims so far (the LBC minted, in units); equals the sum of total mined."""
        return self._supply_units

    def cube(self, cube_id: int) -> Cube:
        """A copy of cube ``cube_id``'s state; raises :class:`UnknownCube`."""
        return dataclasses.replace(self._cube(cube_id))

    def owner_of(self, cube_id: int) -> str:
        """The cube's holder (lowercase address); raises :class:`UnknownCube`."""
        return self._cube(cube_id).owner

    def tier_of(self, cube_id: int) -> int:
        """The cube's tier (``tierOf``); raises :class:`UnknownCube`."""
        return self._cube(cube_id).tier

    def rate_history(self, tier: int) -> tuple[RateCheckpoint, ...]:
        """Tier ``tier``'s checkpoints, oldest first; raises :class:`InvalidTier`."""
        return self._schedules[_check_tier(tier)].checkpoints

    def node_word(self, cube_id: int) -> NodeWord:
        """The cube's ownership slot as the contract stores it (``carried`` is set iff units are carried)."""
        cube = self._cube(cube_id)
        return NodeWord(
            owner=cube.owner,
            active=cube.active,
            carried=cube.carried_units > 0,
            tier=cube.tier,
            last_claim_time=cube.last_claim_time,
            total_mined_units=cube.total_mined_units,
        )

    def rates_word(self) -> RatesWord:
        """The contract's rates slot: the pause flag and each tier's ``(rate_units, since)``."""
        return RatesWord(paused=self._paused, rates=tuple(s.current() for s in self._schedules))

    # -- operations ----------------------------------------------------------------------------------------

    def mint(self, owner: str, tier: int, now: int) -> int:
        """Mint one active cube of ``tier`` to ``owner`` at ``now``; returns its id (``mint``)."""
        return self.mint_batch(owner, tier, 1, now)

    def mint_batch(self, owner: str, tier: int, quantity: int, now: int) -> int:
        """Mint ``quantity`` active cubes of ``tier`` to ``owner``; returns the first id (``mintBatch``).

        Raises :class:`InvalidTier`, :class:`ZeroAddress`, :class:`ZeroQuantity` (``quantity`` 0, like the
        contract), :class:`CubeIdsExhausted`, :class:`ClockWentBackwards`.
        """
        _check_tier(tier)
        holder = normalize_address(owner, "owner")
        if holder == _ZERO_ADDRESS:
            raise ZeroAddress("owner")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise ValueError(f"quantity = {quantity!r} must be a positive int")
        if quantity == 0:
            raise ZeroQuantity()
        minted = self.total_minted
        if quantity > MAX_CUBE_ID - minted:
            raise CubeIdsExhausted(quantity, minted)
        self._clock = _check_time(now, self._clock, "the model's clock")
        first = minted + 1
        for cube_id in range(first, first + quantity):
            self._cubes[cube_id] = Cube(cube_id, holder, tier, True, now, 0, 0)
        return first

    def set_tier_rate(self, tier: int, wei_per_second: int, now: int) -> None:
        """Make every cube of ``tier`` earn ``wei_per_second`` from ``now`` on (``setTierRate``).

        Raises :class:`InvalidTier`, :class:`InvalidRate`, :class:`ClockWentBackwards`.
        """
        schedule = self._schedules[_check_tier(tier)]
        _rate_units(wei_per_second)
        self._clock = _check_time(now, self._clock, "the model's clock")
        schedule.set_rate(now, wei_per_second)

    def tier_rate(self, tier: int) -> int:
        """Wei per second each active cube of ``tier`` earns now (``tierRate``)."""
        rate, _ = self._schedules[_check_tier(tier)].current()
        return rate * UNIT

    def set_active(self, cube_id: int, active: bool, now: int) -> None:
        """(De)activate a cube (``setActive``); a no-op when it is already in that state.

        Deactivation adds what the cube accrued to ``carried_units`` (``last_claim_time`` stays);
        reactivation restarts accrual at ``now`` and keeps ``carried_units``.
        """
        cube = self._cube(cube_id)
        self._clock = _check_time(now, self._clock, "the model's clock")
        if cube.active == active:
            return
        if active:
            cube.active = True
            cube.last_claim_time = now
        else:
            cube.carried_units += self._accrued(cube, now)
            cube.active = False

    def transfer(self, cube_id: int, new_owner: str) -> None:
        """Move a cube to ``new_owner``; what it has pending moves with it. Raises :class:`ZeroAddress`."""
        cube = self._cube(cube_id)
        holder = normalize_address(new_owner, "new_owner")
        if holder == _ZERO_ADDRESS:
            raise ZeroAddress("new_owner")
        cube.owner = holder

    def pause(self) -> None:
        """Pause claims (``pause``); raises :class:`ClaimsPaused` if they already are."""
        if self._paused:
            raise ClaimsPaused("pause")
        self._paused = True

    def unpause(self) -> None:
        """Resume claims (``unpause``); raises :class:`ClaimsNotPaused` if they are not paused."""
        if not self._paused:
            raise ClaimsNotPaused()
        self._paused = False

    def claim(self, caller: str, cube_ids: Iterable[int], now: int) -> int:
        """Pay ``caller`` everything ``cube_ids`` earned (``batchClaimRewards``); returns wei.

        All or nothing: raises (and changes nothing) if claims are paused (:class:`ClaimsPaused`), an id
        does not exist (:class:`UnknownCube`), ``caller`` does not hold one (:class:`NotCubeOwner`), or a
        cube's total mined would overflow (:class:`TotalMinedOverflow`) - reporting the first failing id
        in order, as the contract does. A repeated id pays once: its later occurrences earn 0.
        """
        if self._paused:
            raise ClaimsPaused()
        who = normalize_address(caller, "caller")
        _check_time(now, self._clock, "the model's clock")
        staged: dict[int, Cube] = {}
        units = 0
        for cube_id in cube_ids:
            cube = staged.get(cube_id)
            if cube is None:
                cube = dataclasses.replace(self._cube(cube_id))
            if cube.owner != who:
                raise NotCubeOwner(cube_id, who, cube.owner)
            earned = cube.carried_units + self._accrued(cube, now)
            if cube.total_mined_units + earned > MINED_MAX:
                raise TotalMinedOverflow(cube_id, cube.total_mined_units, earned)
            cube.carried_units = 0
            if cube.active:
                cube.last_claim_time = now
            cube.total_mined_units += earned
            staged[cube_id] = cube
            units += earned
        self._cubes.update(staged)
        self._supply_units += units
        self._clock = now
        return units * UNIT

    # -- views ---------------------------------------------------------------------------------------------

    def accrued_units(self, cube_id: int, now: int) -> int:
        """Units the cube accrued since its last claim, at every rate its tier had (0 if inactive)."""
        cube = self._cube(cube_id)
        _check_time(now, self._clock, "the model's clock")
        return self._accrued(cube, now)

    def pending(self, cube_id: int, now: int) -> int:
        """Wei a claim of the cube at ``now`` would pay (``pendingReward``): carried plus accrued."""
        cube = self._cube(cube_id)
        _check_time(now, self._clock, "the model's clock")
        return (cube.carried_units + self._accrued(cube, now)) * UNIT

    def node_data(self, cube_id: int) -> tuple[int, int, int, bool]:
        """``(total_mined_wei, last_claim_time, cube_id, is_active)`` (``nodeData``)."""
        cube = self._cube(cube_id)
        return cube.total_mined_units * UNIT, cube.last_claim_time, cube.cube_id, cube.active

    def forecast(self, cube_ids: Iterable[int], at: int) -> int:
        """Wei a claim of ``cube_ids`` would pay at a future time ``at`` if nothing changes until then.

        A repeated id counts once, as in a claim. Raises :class:`UnknownCube` and
        :class:`ClockWentBackwards`.
        """
        return sum(self.pending(cube_id, at) for cube_id in dict.fromkeys(cube_ids))

    # -- internals -----------------------------------------------------------------------------------------

    def _cube(self, cube_id: int) -> Cube:
        valid = isinstance(cube_id, int) and not isinstance(cube_id, bool)
        cube = self._cubes.get(cube_id) if valid else None
        if cube is None:
            raise UnknownCube(cube_id, self.total_minted)
        return cube

    def _accrued(self, cube: Cube, now: int) -> int:
        if not cube.active:
            return 0
        schedule = self._schedules[cube.tier]
        return schedule.acc_at(now) - schedule.acc_at(cube.last_claim_time)
