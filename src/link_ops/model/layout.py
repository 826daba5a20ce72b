"""The packed storage words of the CUBE collection, bit for bit as ``contracts/libraries/CubeNode.sol``.

Pure: no ape, no web3, no network. Two 256-bit words hold everything the claim path reads.

The node word
-------------
One per cube. It *is* the cube's Solady ERC-721 ownership slot (see :func:`ownership_slot`): Solady keeps
the owner in the low 160 bits and hands the high 96 bits to the collection, which packs the node data
there. Bit 0 is the least significant bit::

    bit  255 ........ 204 | 203 ........ 164 | 163 162 | 161     | 160    | 159 ........... 0
        +-----------------+------------------+---------+---------+--------+------------------+
        | total mined     | last claim time  |  tier   | carried | active | owner address    |
        | 52 bits, units  | 40 bits, unix s  | 2 bits  | 1 bit   | 1 bit  | 160 bits         |
        +-----------------+------------------+---------+---------+--------+------------------+

* ``total mined`` counts reward units (1 unit = :data:`UNIT` wei) paid out for the cube, ever.
* ``last claim time`` is when accrual last (re)started: at mint, at a claim while active, at reactivation.
* ``tier`` (0 .. :data:`TIERS` - 1) picks the rate the cube earns.
* ``carried`` says a side mapping holds units frozen when the cube was deactivated and not yet claimed.
* ``active`` says whether the cube earns at all.

The rates word
--------------
One for the whole collection: the pause flag and, per tier, the current rate and when it took effect::

    bit  255    | 254 .. 252 | 251 .... 189 | 188 .... 126 | 125 ..... 63 | 62 ...... 0
        +--------+------------+--------------+--------------+--------------+-------------+
        | paused | (unused,0) |    tier 3    |    tier 2    |    tier 1    |   tier 0    |
        +--------+------------+--------------+--------------+--------------+-------------+

    one tier = 63 bits starting at bit 63 * tier:
        +-----------------------------------+-----------------------------------+
        | since: bits 23..62 (40), unix s   | rate: bits 0..22 (23), units / s  |
        +-----------------------------------+-----------------------------------+

``since`` lets a claim skip the tier's rate history: a cube whose last claim time is at or after it has
earned at the current rate only (the contract's fast path).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from eth_utils.address import is_checksum_address
from eth_utils.crypto import keccak

__all__ = [
    "ACTIVE_BIT",
    "CARRIED_BIT",
    "ERC721_MASTER_SLOT_SEED",
    "MAX_CUBE_ID",
    "MINED_MAX",
    "MINED_SHIFT",
    "OWNERSHIP_BASE",
    "OWNER_MASK",
    "PAUSED_BIT",
    "RATES_UNUSED_MASK",
    "RATE_MASK",
    "SINCE_MASK",
    "SINCE_SHIFT",
    "TIERS",
    "TIER_FIELD_MASK",
    "TIER_MASK",
    "TIER_SHIFT",
    "TIER_WIDTH",
    "TIME_MASK",
    "TIME_SHIFT",
    "UINT256_MAX",
    "UNIT",
    "NodeWord",
    "RatesWord",
    "normalize_address",
    "ownership_slot",
]


#: Wei per reward unit. Rates are whole units per second and totals whole units.
UNIT: Final = 10**12


#: Number of tiers; valid tiers are 0 .. TIERS - 1.
TIERS: Final = 4


#: Node word: the owner address, bits 0..159 (Solady's part of the slot).
OWNER_MASK: Final = (1 << 160) - 1


#: Node word: the ``active`` flag, bit 160.
ACTIVE_BIT: Final = 1 << 160


#: Node word: the ``carried`` flag, bit 161.
CARRIED_BIT: Final = 1 << 161


#: Node word: ``tier`` sits at bits 162..163.
TIER_SHIFT: Final = 162


TIER_MASK: Final = (1 << 2) - 1


#: Node word: ``last claim time`` sits at bits 164..203.
TIME_SHIFT: Final = 164


TIME_MASK: Final = (1 << 40) - 1


#: Node word: ``total mined`` sits at bits 204..255.
MINED_SHIFT: Final = 204


MINED_MAX: Final = (1 << 52) - 1


#: Rates word: the pause flag, bit 255.
PAUSED_BIT: Final = 1 << 255


#: Rates word: bits per tier (tier ``t`` starts at bit ``TIER_WIDTH * t``).
TIER_WIDTH: Final = 63


#: Rates word, inside a tier's field: the rate in units per second, bits 0..22.
RATE_MASK: Final = (1 << 23) - 1


#: Rates word, inside a tier's field: ``since`` starts at bit 23.
SINCE_SHIFT: Final = 23


#: Rates word: the mask of one tier's 63-bit field.
TIER_FIELD_MASK: Final = (1 << 63) - 1


#: The largest cube id (ids fit the seed interface's ``uint32``).
MAX_CUBE_ID: Final = (1 << 32) - 1


#: Python only: the mask of ``since`` once shifted down (40 bits).
SINCE_MASK: Final = TIER_FIELD_MASK >> SINCE_SHIFT


#: Python only: the rates word's unused bits 252..254, which the contract never sets.
RATES_UNUSED_MASK: Final = PAUSED_BIT - (1 << (TIER_WIDTH * TIERS))


#: Python only: the largest uint256.
UINT256_MAX: Final = (1 << 256) - 1


#: Solady ERC721's ``_ERC721_MASTER_SLOT_SEED``.
ERC721_MASTER_SLOT_SEED: Final = 0x7D8825530A5A2E7A << 192


_ADDRESS_RE: Final = re.compile(r"^0x[0-9a-fA-F]{40}$")


def _is_address(value: object) -> bool:
    """Whether ``value`` is a 0x-prefixed 40-hex string that is single-case or a valid EIP-55 checksum."""
    if not isinstance(value, str) or not _ADDRESS_RE.match(value):
        return False
    digits = value[2:]
    single_case = digits == digits.lower() or digits == digits.upper()
    return single_case or bool(is_checksum_address(value))


def normalize_address(value: object, field: str) -> str:
    """Return ``value`` as a lowercase ``0x`` + 40 hex digits address.

    Accepts lowercase, uppercase and EIP-55 checksummed spellings. A mixed-case spelling whose checksum
    is wrong is refused (it is most likely a typo). Raises :class:`ValueError` naming ``field``.
    """
    if not isinstance(value, str) or not _ADDRESS_RE.match(value):
        raise ValueError(
            f"{field} = {value!r} is not an address; expected '0x' followed by 40 hex digits "
            "(lowercase or EIP-55 checksummed)"
        )
    if not _is_address(value):
        raise ValueError(
            f"{field} = {value!r} has an invalid EIP-55 checksum; copy the address again, or pass it "
            "all lowercase"
        )
    return value.lower()


def _check_uint(field: str, value: object, maximum: int, bits: int) -> int:
    """Return ``value`` if it is an int in ``0 .. maximum``; raise :class:`ValueError` naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{field} = {value!r} is not an int; allowed 0 .. {maximum} ({bits} bits)")
    if not 0 <= value <= maximum:
        raise ValueError(f"{field} = {value} is out of range; allowed 0 .. {maximum} ({bits} bits)")
    return value


def _check_flag(field: str, value: object) -> bool:
    """Return ``value`` if it is a bool; raise :class:`ValueError` naming ``field``."""
    if not isinstance(value, bool):
        raise ValueError(f"{field} = {value!r} is not a bool; allowed False or True (1 bit)")
    return value


@dataclass(frozen=True)
class NodeWord:
    """One cube's ownership slot: the owner (Solady's bits) and the node data above it.

    ``owner`` is kept as a lowercase ``0x`` address when it is a valid address (a checksummed spelling is
    lowercased on construction). Field ranges are checked by :meth:`encode`, which raises
    :class:`ValueError` naming the field, its value and the allowed range.
    """

    owner: str
    active: bool
    carried: bool
    tier: int
    last_claim_time: int
    total_mined_units: int

    def __post_init__(self) -> None:
        if _is_address(self.owner):
            object.__setattr__(self, "owner", self.owner.lower())

    def encode(self) -> int:
        """The 256-bit slot value; raises :class:`ValueError` if any field is out of its range."""
        owner = int(normalize_address(self.owner, "NodeWord.owner"), 16)
        active = _check_flag("NodeWord.active", self.active)
        carried = _check_flag("NodeWord.carried", self.carried)
        tier = _check_uint("NodeWord.tier", self.tier, TIER_MASK, 2)
        last = _check_uint("NodeWord.last_claim_time", self.last_claim_time, TIME_MASK, 40)
        mined = _check_uint("NodeWord.total_mined_units", self.total_mined_units, MINED_MAX, 52)
        return (
            owner
            | (ACTIVE_BIT if active else 0)
            | (CARRIED_BIT if carried else 0)
            | (tier << TIER_SHIFT)
            | (last << TIME_SHIFT)
            | (mined << MINED_SHIFT)
        )

    @classmethod
    def decode(cls, word: int) -> NodeWord:
        """Split a slot value into its fields. Every uint256 is a valid node word (all 256 bits are used).

        Raises :class:`ValueError` if ``word`` is not an int in ``0 .. 2**256 - 1``.
        """
        _check_uint("NodeWord word", word, UINT256_MAX, 256)
        return cls(
            owner=f"0x{word & OWNER_MASK:040x}",
            active=word & ACTIVE_BIT != 0,
            carried=word & CARRIED_BIT != 0,
            tier=(word >> TIER_SHIFT) & TIER_MASK,
            last_claim_time=(word >> TIME_SHIFT) & TIME_MASK,
            total_mined_units=word >> MINED_SHIFT,
        )


@dataclass(frozen=True)
class RatesWord:
    """The collection's pause flag and each tier's current ``(rate_units, since)``.

    ``rates[t]`` is tier ``t``'s rate in units per second and the unix time it took effect. A list given
    for ``rates`` (or for a pair) is stored as a tuple. Ranges are checked by :meth:`encode`.
    """

    paused: bool
    rates: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        rates: object = self.rates
        if isinstance(rates, Sequence) and not isinstance(rates, str):
            object.__setattr__(
                self,
                "rates",
                tuple(
                    tuple(pair) if isinstance(pair, Sequence) and not isinstance(pair, str) else pair
                    for pair in rates
                ),
            )

    def encode(self) -> int:
        """The 256-bit slot value; raises :class:`ValueError` if any field is out of its range."""
        word = PAUSED_BIT if _check_flag("RatesWord.paused", self.paused) else 0
        rates: object = self.rates
        if not isinstance(rates, tuple) or len(rates) != TIERS:
            raise ValueError(
                f"RatesWord.rates = {rates!r} must hold exactly {TIERS} (rate_units, since) pairs, "
                f"one per tier 0 .. {TIERS - 1}"
            )
        for tier, pair in enumerate(rates):
            if not isinstance(pair, tuple) or len(pair) != 2:
                raise ValueError(f"RatesWord.rates[{tier}] = {pair!r} must be a (rate_units, since) pair")
            rate = _check_uint(f"RatesWord.rates[{tier}].rate_units", pair[0], RATE_MASK, 23)
            since = _check_uint(f"RatesWord.rates[{tier}].since", pair[1], SINCE_MASK, 40)
            word |= ((since << SINCE_SHIFT) | rate) << (TIER_WIDTH * tier)
        return word

    @classmethod
    def decode(cls, word: int) -> RatesWord:
        """Split a rates slot value into its fields.

        Raises :class:`ValueError` if ``word`` is not a uint256, or if one of the unused bits 252..254 is
        set (the contract never sets them, so such a word is not a rates word).
        """
        _check_uint("RatesWord word", word, UINT256_MAX, 256)
        if word & RATES_UNUSED_MASK:
            raise ValueError(
                f"RatesWord word = {word:#x} has unused bits 252..254 set ({word & RATES_UNUSED_MASK:#x}); "
                "they must be 0 - check that this is the rates slot"
            )
        rates = []
        for tier in range(TIERS):
            field = (word >> (TIER_WIDTH * tier)) & TIER_FIELD_MASK
            rates.append((field & RATE_MASK, field >> SINCE_SHIFT))
        return cls(paused=word & PAUSED_BIT != 0, rates=tuple(rates))


def ownership_slot(cube_id: int) -> int:
    """The storage slot of token ``cube_id`` in Solady's ERC721 (where the node word lives).

    Solady computes it in scratch memory::

        mstore(0x00, id)              // bytes 0x00..0x1f = id, big-endian
        mstore(0x1c, seed)            // bytes 0x1c..0x3b = seed: overwrites id's low 4 bytes
        slot := add(id, add(id, keccak256(0x00, 0x20)))

    so the hashed 32 bytes are id's top 28 bytes followed by the seed's top 4 bytes, and the sum wraps
    modulo 2**256. For ``cube_id < 2**32`` the hashed bytes never depend on the id, so the slot is
    :data:`OWNERSHIP_BASE` ``+ 2 * cube_id`` (the contract's shortcut). Valid for any uint256 id.
    """
    _check_uint("cube_id", cube_id, UINT256_MAX, 256)
    hashed = cube_id.to_bytes(32, "big")[:28] + ERC721_MASTER_SLOT_SEED.to_bytes(32, "big")[:4]
    return (cube_id + cube_id + int.from_bytes(keccak(hashed), "big")) & UINT256_MAX


#: The contract's ``_OWNERSHIP_BASE``: ``ownership_slot(id) == OWNERSHIP_BASE + 2 * id`` for ids < 2**32.
OWNERSHIP_BASE: Final = ownership_slot(0)
