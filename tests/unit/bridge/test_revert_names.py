"""Reverts reach users by name (link_ops.contracts.errors, link_ops.cli.errors): a library error raised deep
inside a call (Solady's TransferFromFailed() under a bridge's token pull) and errors with arguments, the
bridge's own among them, from real transactions on the bridge world."""

from __future__ import annotations

import pytest
from _bridge_world import CHAIN_ID, LBC, MAX_CUBES, lbc_payload, transfer_id
from ape.exceptions import ContractLogicError
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from link_ops.cli.errors import describe
from link_ops.contracts.errors import DecodedError, decode_error, describe_revert, error_table


def selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def test_error_table__every_packaged_error_and_soladys_library_errors():
    names = {name for name, _, _ in error_table().values()}
    assert {"TransferFromFailed", "TokenDoesNotExist", "NotHolder", "ERC20InsufficientBalance"} <= names
    assert {"AccessControlUnauthorizedAccount", "EnforcedPause", "Error", "Panic"} <= names
    assert error_table()[selector("TransferFromFailed()")][0] == "TransferFromFailed"
    assert selector("TransferFromFailed()").hex() == "7939f424"  # what users saw, undecoded
    assert selector("TokenDoesNotExist()").hex() == "ceea21b6"


def test_decode_error__arguments_by_name():
    data = selector("NotHolder(uint256,address)") + encode(["uint256", "address"], [7, "0x" + "ab" * 20])
    assert str(decode_error(data)) == "NotHolder(cubeId=7, caller=0x" + "ab" * 20 + ")"
    assert decode_error(selector("Error(string)") + encode(["string"], ["boom"])) == DecodedError(
        "Error", (("", "boom"),)
    )


@pytest.mark.parametrize("data", [b"", b"\x01\x02", selector("NoSuchError()")])
def test_decode_error__no_selector_or_an_unknown_one__none(data):
    assert decode_error(data) is None


def test_decode_error__known_name_with_malformed_arguments__the_name_and_the_raw_bytes():
    decoded = decode_error(selector("NotHolder(uint256,address)") + b"\x00")
    assert decoded is not None and decoded.name == "NotHolder" and decoded.args[0][1].startswith("0x")


def test_a_bridge_pull_without_allowance__named_transfer_from_failed(world, alice):
    world.fund(alice, 10 * LBC)
    with pytest.raises(ContractLogicError) as caught:
        world.home_lbc_bridge.send(CHAIN_ID, alice, LBC, sender=alice)
    assert describe_revert(caught.value) == "TransferFromFailed()"
    assert describe(caught.value) == (
        "the transaction reverted with TransferFromFailed(): the token could not be taken from the account: "
        "check its balance and allowance"
    )


def test_a_cube_that_does_not_exist__named_with_the_bridge(world, alice, cubes):
    cubes.setApprovalForAll(world.cube_bridge, True, sender=alice)
    with pytest.raises(ContractLogicError) as caught:
        world.cube_bridge.send(CHAIN_ID, alice, [999_999], sender=alice)
    assert describe_revert(caught.value) == "TokenDoesNotExist()"
    assert describe(caught.value).endswith(": no cube has that id on this chain")


def test_the_bridges_own_errors__named_with_their_arguments(world, alice):
    with pytest.raises(ContractLogicError) as caught:
        world.cube_bridge.send(CHAIN_ID, alice, list(range(1, MAX_CUBES + 2)), sender=alice)
    assert describe_revert(caught.value) == f"TooManyCubes(count={MAX_CUBES + 1}, max={MAX_CUBES})"

    bridge = world.home_lbc_bridge
    with pytest.raises(ContractLogicError) as caught:
        world.remote_lbc_bridge.retry(CHAIN_ID, bridge, lbc_payload(7, alice, alice, LBC), sender=alice)
    assert describe_revert(caught.value) == f"NotHeld(transferId=0x{transfer_id(CHAIN_ID, bridge, 7).hex()})"
