"""What every gas measurement shares: the progress callback, moving the clock, a receipt's gas."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ape import chain

#: Called with a line of progress for the user.
Progress = Callable[[str], None]


def advance(seconds: int) -> None:
    """Mines a block `seconds` after the pending block's timestamp."""
    chain.mine(timestamp=chain.pending_timestamp + seconds)


def gas_used(receipt: Any) -> int:
    """The gas the transaction of `receipt` used."""
    return int(receipt.gas_used)
