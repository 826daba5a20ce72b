"""The reward model's errors, one per revert of ``OptimizedCubeManagement`` it mirrors (named in each).

Pure: no ape, no web3, no network.
"""

from __future__ import annotations

from link_ops.model.layout import (
    MAX_CUBE_ID,
    MINED_MAX,
    TIERS,
)


class RewardModelError(ValueError):
    """Base of every error the reward model raises for a call the contract would revert."""


class UnknownCube(RewardModelError):
    """The cube id does not exist (contract: ``NonexistentCube``)."""

    def __init__(self, cube_id: object, minted: int) -> None:
        self.cube_id = cube_id
        self.minted = minted
        known = f"ids 1 .. {minted} exist" if minted else "no cube has been minted yet"
        super().__init__(f"cube {cube_id!r} does not exist ({known}); check the id, cube ids start at 1")


class NotCubeOwner(RewardModelError):
    """The caller tried to claim a cube somebody else holds (contract: ``NotCubeOwner``)."""

    def __init__(self, cube_id: int, caller: str, owner: str) -> None:
        self.cube_id = cube_id
        self.caller = caller
        self.owner = owner
        super().__init__(
            f"{caller} does not own cube {cube_id} (its owner is {owner}); claim only cubes the caller "
            "holds, or claim this one from the owner's account"
        )


class ClaimsPaused(RewardModelError):
    """Claims are paused (contract: ``EnforcedPause``, from a claim or from pausing twice)."""

    def __init__(self, action: str = "claim") -> None:
        self.action = action
        if action == "pause":
            message = "claims are already paused; nothing to do (call unpause() to resume claims)"
        else:
            message = (
                f"claims are paused, so {action} is refused; wait until the pauser unpauses "
                "(rewards keep accruing meanwhile)"
            )
        super().__init__(message)


class ClaimsNotPaused(RewardModelError):
    """Unpausing while claims are not paused (contract: ``ExpectedPause``)."""

    def __init__(self) -> None:
        super().__init__("claims are not paused; nothing to do (call pause() first to pause claims)")


class InvalidTier(RewardModelError):
    """The tier is not 0 .. TIERS - 1 (contract: ``InvalidTier``)."""

    def __init__(self, tier: object) -> None:
        self.tier = tier
        super().__init__(f"tier {tier!r} does not exist; use a tier from 0 to {TIERS - 1}")


class InvalidRate(RewardModelError):
    """The rate cannot be stored (contract: ``RateNotMultipleOfUnit`` or ``RateTooHigh``)."""

    def __init__(self, wei_per_second: object, reason: str) -> None:
        self.wei_per_second = wei_per_second
        super().__init__(f"rate {wei_per_second!r} wei/s is invalid: {reason}")


class TotalMinedOverflow(RewardModelError):
    """Paying the cube would pass ``MINED_MAX`` units of total mined (contract: ``TotalMinedOverflow``)."""

    def __init__(self, cube_id: int, total_mined_units: int, earned_units: int) -> None:
        self.cube_id = cube_id
        super().__init__(
            f"cube {cube_id} has mined {total_mined_units} units and would earn {earned_units} more, past "
            f"the most one cube can count ({MINED_MAX} units); leave this cube out of the claim"
        )


class CubeIdsExhausted(RewardModelError):
    """Minting would pass the largest cube id (contract: ``CubeIdsExhausted``)."""

    def __init__(self, quantity: int, minted: int) -> None:
        self.quantity = quantity
        super().__init__(
            f"minting {quantity} cubes after {minted} would pass the largest cube id {MAX_CUBE_ID}; "
            f"mint at most {MAX_CUBE_ID - minted}"
        )


class ZeroQuantity(RewardModelError):
    """Contract error ``ZeroQuantity``: a batch mint of no cubes."""

    def __init__(self) -> None:
        super().__init__("mint_batch was asked for 0 cubes: ask for at least one")


class ZeroAddress(RewardModelError):
    """An address argument is the zero address (contract: ``ZeroAddress``; Solady's for transfers)."""

    def __init__(self, field: str) -> None:
        self.field = field
        super().__init__(f"{field} is the zero address; pass the real recipient's address")


class ClockWentBackwards(RewardModelError):
    """A time earlier than the model already reached (the chain's time never goes back)."""

    def __init__(self, now: object, earliest: int, what: str) -> None:
        self.now = now
        self.earliest = earliest
        super().__init__(
            f"time {now!r} is before {what} ({earliest}); pass a unix time of {earliest} or later"
        )
