"""Specs of link_ops.model.layout: the packed node and rates words and Solady's ownership slot."""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from eth_utils import keccak
from hypothesis import example, given
from hypothesis import strategies as st

from link_ops.model import layout
from link_ops.model.layout import (
    ACTIVE_BIT,
    CARRIED_BIT,
    ERC721_MASTER_SLOT_SEED,
    MAX_CUBE_ID,
    MINED_MAX,
    MINED_SHIFT,
    OWNER_MASK,
    OWNERSHIP_BASE,
    PAUSED_BIT,
    RATE_MASK,
    SINCE_MASK,
    SINCE_SHIFT,
    TIER_MASK,
    TIER_SHIFT,
    TIER_WIDTH,
    TIERS,
    TIME_MASK,
    TIME_SHIFT,
    UINT256_MAX,
    UNIT,
    NodeWord,
    RatesWord,
    normalize_address,
    ownership_slot,
)

REPO = Path(__file__).resolve().parents[2]
CUBE_NODE_SOL = REPO / "contracts" / "libraries" / "CubeNode.sol"
MANAGEMENT_SOL = REPO / "contracts" / "OptimizedCubeManagement.sol"

ALICE = "0x" + "a1" * 20
# EIP-55 spelling of a known address (checksummed by eth_utils.to_checksum_address).
CHECKSUMMED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"

addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
node_words = st.builds(
    NodeWord,
    owner=addresses,
    active=st.booleans(),
    carried=st.booleans(),
    tier=st.integers(0, TIER_MASK),
    last_claim_time=st.integers(0, TIME_MASK),
    total_mined_units=st.integers(0, MINED_MAX),
)
tier_rates = st.tuples(st.integers(0, RATE_MASK), st.integers(0, SINCE_MASK))
rates_words = st.builds(RatesWord, paused=st.booleans(), rates=st.tuples(*[tier_rates] * TIERS))


def _node(**changes: object) -> NodeWord:
    fields: dict[str, object] = {
        "owner": ALICE,
        "active": True,
        "carried": False,
        "tier": 0,
        "last_claim_time": 0,
        "total_mined_units": 0,
    }
    fields.update(changes)
    return NodeWord(**fields)  # type: ignore[arg-type]


def _rates(**changes: object) -> RatesWord:
    fields: dict[str, object] = {"paused": False, "rates": ((0, 0),) * TIERS}
    fields.update(changes)
    return RatesWord(**fields)  # type: ignore[arg-type]


# -------------------------------------------------------------------------------------------------------
# The constants equal CubeNode.sol's, read from the Solidity source itself.
# -------------------------------------------------------------------------------------------------------

_BINOPS: dict[type[ast.operator], Callable[[int, int], int]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Pow: operator.pow,
    ast.LShift: operator.lshift,
}


def _eval_int(node: ast.expr) -> int:
    """Evaluate an integer constant expression: literals, + - * ** <<, parentheses; nothing else."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        return _BINOPS[type(node.op)](_eval_int(node.left), _eval_int(node.right))
    raise AssertionError(f"unexpected expression in Solidity constant: {ast.dump(node)}")


def _solidity_constants(path: Path, name: str = r"\w+") -> dict[str, int]:
    """The ``uint256 ... constant NAME = <expr>;`` of ``path`` whose name matches ``name``, evaluated."""
    found: dict[str, int] = {}
    pattern = rf"uint256\s+(?:internal|private|public)\s+constant\s+({name})\s*=\s*([^;]+);"
    for constant, expression in re.findall(pattern, path.read_text()):
        python = re.sub(r"\btype\(uint(\d+)\)\.max", r"((1 << \1) - 1)", expression)
        python = re.sub(r"\b(\d+)e(\d+)\b", r"(\1 * 10 ** \2)", python)
        found[constant] = _eval_int(ast.parse(python, mode="eval").body)
    return found


def test_constants__equal_those_of_cube_node_sol() -> None:
    solidity = _solidity_constants(CUBE_NODE_SOL)
    assert len(solidity) == 17
    for name, value in solidity.items():
        assert getattr(layout, name) == value, name


def test_erc721_seed__equals_the_one_in_optimized_cube_management_sol() -> None:
    seed = _solidity_constants(MANAGEMENT_SOL, "_ERC721_MASTER_SLOT_SEED")
    assert seed == {"_ERC721_MASTER_SLOT_SEED": ERC721_MASTER_SLOT_SEED}
    assert ERC721_MASTER_SLOT_SEED == 0x7D8825530A5A2E7A << 192


def test_constants__have_the_documented_values() -> None:
    assert UNIT == 10**12
    assert TIERS == 4
    assert OWNER_MASK == 2**160 - 1
    assert (ACTIVE_BIT, CARRIED_BIT) == (2**160, 2**161)
    assert (TIER_SHIFT, TIER_MASK) == (162, 3)
    assert (TIME_SHIFT, TIME_MASK) == (164, 2**40 - 1)
    assert (MINED_SHIFT, MINED_MAX) == (204, 2**52 - 1)
    assert PAUSED_BIT == 2**255
    assert (TIER_WIDTH, RATE_MASK, SINCE_SHIFT, SINCE_MASK) == (63, 2**23 - 1, 23, 2**40 - 1)
    assert MAX_CUBE_ID == 2**32 - 1


def test_node_word_fields__tile_all_256_bits_without_overlap() -> None:
    fields = [
        OWNER_MASK,
        ACTIVE_BIT,
        CARRIED_BIT,
        TIER_MASK << TIER_SHIFT,
        TIME_MASK << TIME_SHIFT,
        MINED_MAX << MINED_SHIFT,
    ]
    assert sum(fields) == UINT256_MAX
    for i, a in enumerate(fields):
        for b in fields[i + 1 :]:
            assert a & b == 0


def test_rates_word_fields__fit_below_the_pause_bit_and_tiers_fit_the_tier_mask() -> None:
    assert TIERS * TIER_WIDTH == 252
    assert SINCE_SHIFT + SINCE_MASK.bit_length() == TIER_WIDTH
    assert RATE_MASK.bit_length() == SINCE_SHIFT
    assert TIER_MASK + 1 == TIERS
    assert layout.RATES_UNUSED_MASK == (1 << 252) | (1 << 253) | (1 << 254)


# -------------------------------------------------------------------------------------------------------
# NodeWord
# -------------------------------------------------------------------------------------------------------


@given(node_words)
def test_node_word__encode_decode__round_trips(node: NodeWord) -> None:
    assert NodeWord.decode(node.encode()) == node


@given(st.integers(0, UINT256_MAX))
def test_node_word__decode_encode__round_trips_every_uint256(word: int) -> None:
    assert NodeWord.decode(word).encode() == word


def test_node_word__encode__puts_each_field_at_its_bits() -> None:
    assert _node(owner="0x" + "0" * 39 + "1", active=False).encode() == 1
    assert _node(owner="0x" + "0" * 40, active=True).encode() == 1 << 160
    assert _node(owner="0x" + "0" * 40, active=False, carried=True).encode() == 1 << 161
    assert _node(owner="0x" + "0" * 40, active=False, tier=3).encode() == 0b11 << 162
    assert _node(owner="0x" + "0" * 40, active=False, last_claim_time=1).encode() == 1 << 164
    assert _node(owner="0x" + "0" * 40, active=False, total_mined_units=1).encode() == 1 << 204
    full = _node(
        owner="0x" + "ff" * 20,
        active=True,
        carried=True,
        tier=3,
        last_claim_time=TIME_MASK,
        total_mined_units=MINED_MAX,
    )
    assert full.encode() == UINT256_MAX


def test_node_word__encode__concrete_word() -> None:
    node = NodeWord(
        owner=ALICE,
        active=True,
        carried=False,
        tier=2,
        last_claim_time=1_700_000_000,
        total_mined_units=5,
    )
    # 5 << 204 | 1_700_000_000 << 164 | 2 << 162 | 1 << 160 | owner
    # 52 bits: 5 | 40 bits: 0x006553f100 | 4 bits: tier 0b10, carried 0, active 1 | 160 bits: owner
    assert hex(node.encode()) == "0x5" + "006553f100" + "9" + "a1" * 20


def test_node_word__upper_96_bits__equal_cube_node_new_node() -> None:
    tier, time = 3, 1_700_000_123
    new_node = (ACTIVE_BIT | (tier << TIER_SHIFT) | (time << TIME_SHIFT)) >> 160  # CubeNode.newNode
    word = _node(tier=tier, last_claim_time=time).encode()
    assert word >> 160 == new_node
    assert word & OWNER_MASK == int(ALICE, 16)


def test_node_word__owner__is_stored_lowercase() -> None:
    assert _node(owner=CHECKSUMMED).owner == CHECKSUMMED.lower()
    assert _node(owner=CHECKSUMMED.upper().replace("0X", "0x")).owner == CHECKSUMMED.lower()
    assert NodeWord.decode(int(ALICE, 16)).owner == ALICE


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tier", 4, r"NodeWord\.tier = 4 is out of range; allowed 0 \.\. 3 \(2 bits\)"),
        ("tier", -1, r"NodeWord\.tier = -1 is out of range; allowed 0 \.\. 3"),
        ("last_claim_time", 2**40, rf"NodeWord\.last_claim_time = {2**40} .*allowed 0 \.\. {2**40 - 1}"),
        ("last_claim_time", -5, r"NodeWord\.last_claim_time = -5 .*allowed 0 \.\. "),
        ("total_mined_units", 2**52, rf"NodeWord\.total_mined_units = {2**52} .*allowed 0 \.\. {2**52 - 1}"),
        ("total_mined_units", "7", r"NodeWord\.total_mined_units = '7' is not an int"),
        ("tier", True, r"NodeWord\.tier = True is not an int"),
        ("active", 1, r"NodeWord\.active = 1 is not a bool; allowed False or True"),
        ("carried", None, r"NodeWord\.carried = None is not a bool"),
        ("owner", "0x1234", r"NodeWord\.owner = '0x1234' is not an address"),
        ("owner", "a1" * 20, r"NodeWord\.owner = 'a1a1.*' is not an address"),
        ("owner", "0x" + "a1" * 21, r"NodeWord\.owner = .* is not an address"),
    ],
)
def test_node_word__encode__out_of_range_field__raises_naming_field_value_and_range(
    field: str, value: object, message: str
) -> None:
    node = _node(**{field: value})
    with pytest.raises(ValueError, match=message):
        node.encode()


def test_node_word__encode__bad_checksum_owner__raises() -> None:
    bad = CHECKSUMMED[:-1] + ("d" if CHECKSUMMED[-1] == "D" else "D")
    with pytest.raises(ValueError, match=r"NodeWord\.owner = .* invalid EIP-55 checksum"):
        _node(owner=bad).encode()


@pytest.mark.parametrize("word", [-1, 2**256, "0x00"])
def test_node_word__decode__non_uint256__raises(word: object) -> None:
    with pytest.raises(ValueError, match=r"NodeWord word = .* allowed 0 \.\. "):
        NodeWord.decode(word)  # type: ignore[arg-type]


# -------------------------------------------------------------------------------------------------------
# RatesWord
# -------------------------------------------------------------------------------------------------------


@given(rates_words)
def test_rates_word__encode_decode__round_trips(rates: RatesWord) -> None:
    assert RatesWord.decode(rates.encode()) == rates


@given(st.integers(0, UINT256_MAX))
def test_rates_word__decode_encode__round_trips_every_word_with_unused_bits_clear(word: int) -> None:
    word &= ~layout.RATES_UNUSED_MASK
    assert RatesWord.decode(word).encode() == word


def test_rates_word__encode__puts_each_tier_at_63_times_tier() -> None:
    rates = _rates(rates=((0, 0), (0, 0), (5, 7), (0, 0)))
    assert rates.encode() == ((7 << 23) | 5) << 126
    assert _rates(paused=True).encode() == 1 << 255
    last = _rates(rates=((0, 0), (0, 0), (0, 0), (RATE_MASK, SINCE_MASK)))
    assert last.encode() == ((1 << 63) - 1) << 189


def test_rates_word__decode__matches_cube_node_tier_rate() -> None:
    word = RatesWord(
        paused=True, rates=((1, 1_700_000_000), (2, 1_700_000_001), (3, 1_700_000_002), (RATE_MASK, 0))
    ).encode()
    for tier, expected in enumerate([(1, 1_700_000_000), (2, 1_700_000_001), (3, 1_700_000_002)]):
        field = (word >> (63 * tier)) & ((1 << 63) - 1)  # CubeNode.tierRate
        assert (field & RATE_MASK, field >> 23) == expected
    assert word >> 255 == 1


def test_rates_word__lists_are_stored_as_tuples() -> None:
    rates = RatesWord(paused=False, rates=[[1, 2], [3, 4], [5, 6], [7, 8]])  # type: ignore[arg-type]
    assert rates.rates == ((1, 2), (3, 4), (5, 6), (7, 8))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"rates": ((0, 0), (RATE_MASK + 1, 0), (0, 0), (0, 0))},
            rf"RatesWord\.rates\[1\]\.rate_units = {RATE_MASK + 1} is out of range; "
            rf"allowed 0 \.\. {RATE_MASK}",
        ),
        (
            {"rates": ((0, 0), (0, 0), (0, 0), (0, SINCE_MASK + 1))},
            rf"RatesWord\.rates\[3\]\.since = {SINCE_MASK + 1} is out of range; allowed 0 \.\. {SINCE_MASK}",
        ),
        ({"rates": ((-1, 0), (0, 0), (0, 0), (0, 0))}, r"RatesWord\.rates\[0\]\.rate_units = -1"),
        ({"rates": ((0, 0),) * 3}, r"RatesWord\.rates = .* exactly 4 \(rate_units, since\) pairs"),
        ({"rates": ((0, 0),) * 5}, r"RatesWord\.rates = .* exactly 4"),
        ({"rates": ((0, 0), (0, 0, 0), (0, 0), (0, 0))}, r"RatesWord\.rates\[1\] = \(0, 0, 0\) must be a"),
        ({"paused": 0}, r"RatesWord\.paused = 0 is not a bool"),
    ],
)
def test_rates_word__encode__out_of_range_field__raises_naming_field_value_and_range(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _rates(**changes).encode()


@pytest.mark.parametrize("bit", [252, 253, 254])
def test_rates_word__decode__unused_bit_set__raises(bit: int) -> None:
    with pytest.raises(ValueError, match=r"unused bits 252\.\.254 set"):
        RatesWord.decode(1 << bit)


# -------------------------------------------------------------------------------------------------------
# ownership_slot
# -------------------------------------------------------------------------------------------------------


def _solady_slot(cube_id: int) -> int:
    """Solady's assembly replayed on a byte array standing in for EVM memory."""
    memory = bytearray(0x40)
    memory[0x00:0x20] = cube_id.to_bytes(32, "big")  # mstore(0x00, id)
    memory[0x1C:0x3C] = (0x7D8825530A5A2E7A << 192).to_bytes(32, "big")  # mstore(0x1c, seed)
    return (cube_id + cube_id + int.from_bytes(keccak(bytes(memory[0x00:0x20])), "big")) % 2**256


def test_ownership_slot__of_cube_1__known_value() -> None:
    hashed = keccak(bytes(28) + bytes.fromhex("7d882553"))
    assert ownership_slot(1) == int.from_bytes(hashed, "big") + 2
    assert ownership_slot(1) == 0xAF0C224D3B3DFDE7EC21B9B700F9EEC830DE5A6067303EEBC57BA60855F20B38


def test_ownership_base__is_the_slot_of_id_0() -> None:
    assert ownership_slot(0) == OWNERSHIP_BASE
    assert OWNERSHIP_BASE == 0xAF0C224D3B3DFDE7EC21B9B700F9EEC830DE5A6067303EEBC57BA60855F20B36


@given(st.integers(0, MAX_CUBE_ID))
def test_ownership_slot__below_2_pow_32__is_base_plus_twice_the_id(cube_id: int) -> None:
    assert ownership_slot(cube_id) == OWNERSHIP_BASE + 2 * cube_id


# Ids near 2**256 are where the slot arithmetic wraps: drawn as often as the rest.
@given(st.one_of(st.integers(0, UINT256_MAX), st.integers(UINT256_MAX - 2**64, UINT256_MAX)))
@example(UINT256_MAX)
def test_ownership_slot__any_uint256__equals_solady_memory_replay(cube_id: int) -> None:
    assert ownership_slot(cube_id) == _solady_slot(cube_id)


def test_ownership_slot__from_2_pow_32__no_longer_base_plus_twice_the_id() -> None:
    assert ownership_slot(2**32) != OWNERSHIP_BASE + 2 * 2**32
    assert ownership_slot(2**32) == _solady_slot(2**32)


def test_ownership_slot__wraps_modulo_2_pow_256() -> None:
    top = UINT256_MAX
    assert 0 <= ownership_slot(top) <= UINT256_MAX
    unwrapped = 2 * top + int.from_bytes(
        keccak(top.to_bytes(32, "big")[:28] + bytes.fromhex("7d882553")), "big"
    )
    assert unwrapped >= 2**256
    assert ownership_slot(top) == unwrapped % 2**256


@pytest.mark.parametrize("cube_id", [-1, 2**256])
def test_ownership_slot__non_uint256_id__raises(cube_id: int) -> None:
    with pytest.raises(ValueError, match=r"cube_id = .* out of range"):
        ownership_slot(cube_id)


# -------------------------------------------------------------------------------------------------------
# normalize_address
# -------------------------------------------------------------------------------------------------------


def test_normalize_address__accepts_lower_upper_and_checksummed() -> None:
    lower = CHECKSUMMED.lower()
    assert normalize_address(lower, "x") == lower
    assert normalize_address("0x" + lower[2:].upper(), "x") == lower
    assert normalize_address(CHECKSUMMED, "x") == lower


def test_normalize_address__bad_input__raises_naming_the_field() -> None:
    with pytest.raises(ValueError, match=r"caller = 42 is not an address"):
        normalize_address(42, "caller")
    with pytest.raises(ValueError, match=r"caller = .* invalid EIP-55 checksum"):
        normalize_address(CHECKSUMMED.replace("a", "A", 1), "caller")
