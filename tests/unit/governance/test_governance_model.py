"""link_ops.model.governance without a chain: calls typed on a command line, salts, signatures' order,
operation shapes. (Its hashes are held equal to the contracts in test_governance_contracts.py.)"""

from __future__ import annotations

import subprocess
import sys

import pytest
from eth_abi.abi import decode
from eth_account import Account
from eth_utils import keccak, to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from link_ops.exceptions import ConfigurationError
from link_ops.model.governance import (
    ZERO_BYTES32,
    Call,
    FunctionSignature,
    OperationState,
    SafeTx,
    TimelockOperation,
    describe_call,
    encode_call,
    encode_signatures,
    parse_argument,
    recover_signer,
    salt_from_text,
    signature_in_abi,
    state_bitmap,
    states_of_bitmap,
)

CUBES = "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707"
SET_TIER_RATE_ABI = [
    {
        "type": "function",
        "name": "setTierRate",
        "inputs": [{"name": "tier", "type": "uint8"}, {"name": "weiPerSecond", "type": "uint256"}],
    },
    {"type": "function", "name": "pause", "inputs": []},
    {"type": "function", "name": "grant", "inputs": [{"name": "who", "type": "address"}]},
    {
        "type": "function",
        "name": "grant",
        "inputs": [{"name": "who", "type": "address"}, {"name": "until", "type": "uint64"}],
    },
    {"type": "function", "name": "mint", "inputs": [{"name": "to", "type": "address"}]},
    {"type": "function", "name": "mint", "inputs": [{"name": "count", "type": "uint256"}]},
]


# -------------------------------------------------------------------------------------- typed calls


def test_encode_call__a_typed_call__is_the_selector_and_the_abi_encoded_arguments():
    data = encode_call("setTierRate(uint8,uint256)", ["1", "23e12"])
    assert data[:4] == keccak(text="setTierRate(uint8,uint256)")[:4]
    assert decode(["uint8", "uint256"], data[4:]) == (1, 23 * 10**12)


def test_function_signature__spaces_and_short_int_names__are_made_canonical():
    sig = FunctionSignature.parse("f( uint, int ,uint[] )")
    assert str(sig) == "f(uint256,int256,uint256[])"
    assert sig.selector == keccak(text="f(uint256,int256,uint256[])")[:4]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("setTierRate", "is not a function signature"),
        ("setTierRate(uint8", "is not a function signature"),
        ("1f(uint8)", "is not a function signature"),
        ("f((uint8,address))", r"tuple \(struct\) arguments cannot be typed"),
        ("f(uint7)", "'uint7' is not an ABI type"),
        ("f(uint264)", "'uint264' is not an ABI type"),
        ("f(bytes33)", "'bytes33' is not an ABI type"),
        ("f(float)", "'float' is not an ABI type"),
    ],
)
def test_function_signature__malformed__refused_with_what_to_write(text, message):
    with pytest.raises(ConfigurationError, match=message):
        FunctionSignature.parse(text)


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        ("uint256", "23e12", 23 * 10**12),
        ("uint256", "1_000", 1000),
        ("uint256", "0x10", 16),
        ("int8", "-128", -128),
        ("uint8", "255", 255),
        ("bool", "true", True),
        ("bool", "0", False),
        ("address", CUBES.lower(), CUBES),
        ("bytes4", "0xdeadbeef", bytes.fromhex("deadbeef")),
        ("bytes", "0x", b""),
        ("string", "ipfs://cubes/", "ipfs://cubes/"),
        ("uint8[]", "[1, 2, 3]", [1, 2, 3]),
        ("address[2]", f'["{CUBES}", "{CUBES}"]', [CUBES, CUBES]),
    ],
)
def test_parse_argument__command_line_text__becomes_the_abi_value(kind, text, value):
    assert parse_argument(kind, text) == value


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        ("uint8", "256", "does not fit in uint8"),
        ("uint256", "-1", "does not fit in uint256"),
        ("int8", "128", "does not fit in int8"),
        ("uint256", "1.5", "is not a whole number"),
        ("uint256", "1.5e0", "is not a whole number"),
        ("uint256", "lots", "is not an integer"),
        ("uint256", "inf", "is not a whole number"),
        ("address", "0x1234", "is not an address"),
        ("bool", "yes", "is not a bool"),
        ("bytes32", "0x1234", "takes exactly 32 bytes"),
        ("bytes", "1234", "give 0x and hex digits"),
        ("bytes", "0xzz", "give 0x and hex digits"),
        ("uint8[]", "1,2", "takes a JSON list"),
        ("uint8[2]", "[1]", "takes exactly 2 items"),
    ],
)
def test_parse_argument__bad_text__refused_naming_the_type(kind, text, message):
    with pytest.raises(ConfigurationError, match=message):
        parse_argument(kind, text)


def test_encode_call__wrong_number_of_arguments__refused():
    with pytest.raises(ConfigurationError, match=r"setTierRate\(uint8,uint256\) takes 2 arguments, got 1"):
        encode_call("setTierRate(uint8,uint256)", ["1"])


def test_encode_call__a_bad_argument__names_its_position():
    with pytest.raises(ConfigurationError, match=r"argument 2: .*does not fit in uint8"):
        encode_call("f(uint256,uint8)", ["1", "300"])


def test_signature_in_abi__a_bare_name__finds_the_function_with_that_many_arguments():
    assert str(signature_in_abi(SET_TIER_RATE_ABI, "setTierRate", 2)) == "setTierRate(uint8,uint256)"
    assert str(signature_in_abi(SET_TIER_RATE_ABI, "grant", 2)) == "grant(address,uint64)"


@pytest.mark.parametrize(
    ("name", "count", "message"),
    [
        ("setRate", 2, "has no function setRate"),
        ("setTierRate", 1, "setTierRate with 1 arguments matches 0"),
        ("mint", 1, r"mint with 1 arguments matches 2 .*give the full signature"),
    ],
)
def test_signature_in_abi__unknown_or_ambiguous__refused(name, count, message):
    with pytest.raises(ConfigurationError, match=message):
        signature_in_abi(SET_TIER_RATE_ABI, name, count)


def test_describe_call__known_calldata__reads_as_the_call():
    data = encode_call("setTierRate(uint8,uint256)", ["1", "23e12"])
    assert describe_call(data, SET_TIER_RATE_ABI) == "setTierRate(1, 23000000000000)"
    assert describe_call(encode_call("pause()", []), SET_TIER_RATE_ABI) == "pause()"
    assert describe_call(bytes.fromhex("12345678"), SET_TIER_RATE_ABI) is None


# -------------------------------------------------------------------------------------------- salts


def test_salt_from_text__hex_text_and_empty():
    assert salt_from_text("") == ZERO_BYTES32
    assert salt_from_text("0x" + "ab" * 32) == bytes.fromhex("ab" * 32)
    assert salt_from_text("rates-2026-12") == keccak(text="rates-2026-12")


@pytest.mark.parametrize("text", ["0x1234", "0x" + "zz" * 32, "0x" + "ab" * 33])
def test_salt_from_text__a_0x_salt_of_another_length__refused(text):
    with pytest.raises(ConfigurationError, match="a 0x salt is 32 bytes"):
        salt_from_text(text)


# ---------------------------------------------------------------------------------------- operations


def test_timelock_operation__shapes_the_timelock_refuses__are_refused_here():
    call = Call(CUBES, b"\x01")
    with pytest.raises(ConfigurationError, match="at least one call"):
        TimelockOperation.of([])
    with pytest.raises(ConfigurationError, match="exactly one call, got 2"):
        TimelockOperation((call, call), batch=False)
    with pytest.raises(ConfigurationError, match="salt must be 32 bytes, got 3"):
        TimelockOperation((call,), salt=b"abc")


def test_timelock_operation__one_call_alone_and_as_a_batch__have_different_ids():
    call = Call(CUBES, b"\x01")
    alone = TimelockOperation.of([call])
    assert not alone.batch and TimelockOperation.of([call, call]).batch
    assert alone.id != TimelockOperation((call,), batch=True).id


def test_call__bad_target_or_negative_value__refused():
    with pytest.raises(ConfigurationError, match="must be a 0x address"):
        Call("OptimizedCubeManagement", b"")
    with pytest.raises(ConfigurationError, match="cannot be negative"):
        Call(CUBES, b"", -1)


@given(st.sets(st.sampled_from(list(OperationState))))
def test_state_bitmap__round_trips(states):
    assert set(states_of_bitmap(state_bitmap(*states))) == states


def test_state_bitmap__ready_is_bit_2_as_the_timelock_encodes_it():
    assert state_bitmap(OperationState.READY) == (4).to_bytes(32, "big")


# -------------------------------------------------------------------------------------------- safe


KEYS = [keccak(text=f"link-ops governance model test owner {i}") for i in range(3)]


def _safe_tx(nonce: int = 0) -> SafeTx:
    return SafeTx(safe=CUBES, chain_id=137, to=CUBES, data=b"\x12\x34", nonce=nonce)


def _sign(key: bytes, tx: SafeTx) -> bytes:
    signed = Account.sign_message(tx.signable(), key)
    return bytes(signed.signature)


def test_encode_signatures__ascending_by_owner_address_whatever_the_order_given():
    tx = _safe_tx()
    by_owner = {to_checksum_address(Account.from_key(k).address): _sign(k, tx) for k in KEYS}
    packed = encode_signatures(dict(reversed(list(by_owner.items()))))
    chunks = [packed[i : i + 65] for i in range(0, len(packed), 65)]
    signers = [recover_signer(tx, chunk) for chunk in chunks]
    assert signers == sorted(by_owner, key=lambda a: int(a, 16))


def test_recover_signer__the_signature_of_an_owner__recovers_to_it_and_not_for_another_nonce():
    owner = Account.from_key(KEYS[0]).address
    signature = _sign(KEYS[0], _safe_tx(0))
    assert recover_signer(_safe_tx(0), signature) == owner
    assert recover_signer(_safe_tx(1), signature) != owner


@pytest.mark.parametrize("signature", [b"\x00" * 64, b"\x00" * 64 + b"\x01", b"\x00" * 66])
def test_recover_signer__not_a_65_byte_eip712_signature__refused(signature):
    with pytest.raises(ConfigurationError, match="65 bytes ending in v = 27 or 28"):
        recover_signer(_safe_tx(), signature)


def test_governance_model__imports_no_ape_web3_or_network_client():
    probe = (
        "import sys\nimport link_ops.model.governance\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('ape', 'web3', 'requests') "
        "or m.split('.')[0].startswith('ape_')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout
