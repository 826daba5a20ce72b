"""Logs of the protocol's contracts decoded as the index stores them: arguments as JSON, the query columns."""

from __future__ import annotations

import json

import pytest
from _fake_chain import (
    ALICE,
    BOB,
    CHAIN_ID,
    CUBES,
    LBC,
    ZERO,
    FakeChain,
    cube_transfer,
    cubes_minted,
    cubes_sent,
    lbc_transfer,
    partner_created,
    transfer_held,
)

from link_ops.index.catalog import INDEXED_EVENTS, Catalog

CATALOG = Catalog()


def decoded(log, contract):
    chain = FakeChain()
    block = chain.mine([log])
    raw = chain._log_json(block, 0, log)
    return CATALOG.decode(CHAIN_ID, contract, raw, block.timestamp), block


def test_cube_transfer__erc721__token_id_and_holders_in_columns_id_as_decimal_string():
    event, block = decoded(cube_transfer(ZERO, ALICE, 7), "OptimizedCubeManagement")
    assert event.event == "Transfer"
    assert event.args == {"from": ZERO, "to": ALICE, "id": "7"}
    assert (event.from_address, event.to_address, event.token_id, event.amount) == (ZERO, ALICE, 7, None)
    assert (event.address, event.contract, event.block_number, event.block_time) == (
        CUBES,
        "OptimizedCubeManagement",
        block.number,
        block.timestamp,
    )
    assert event.block_hash == block.hash and event.tx_hash.startswith("0x") and len(event.tx_hash) == 66


def test_lbc_transfer__erc20__amount_as_decimal_string_beyond_json_precision():
    amount = 123_456_789_012_345_678_901_234_567
    event, _ = decoded(lbc_transfer(ALICE, BOB, amount), "LBCToken")
    assert event.args == {"from": ALICE, "to": BOB, "value": str(amount)}
    assert (event.amount, event.token_id) == (str(amount), None)
    assert json.loads(json.dumps(event.args))["value"] == str(amount)


def test_small_integers_stay_numbers_addresses_are_checksummed():
    event, _ = decoded(cubes_minted(ALICE.lower(), 3, 11, 5), "OptimizedCubeManagement")
    assert event.args == {"to": ALICE, "tier": 3, "firstCubeId": "11", "quantity": "5"}


def test_cubes_sent__array_and_transfer_id_column():
    transfer_id, message_id = b"\x01" * 32, b"\x02" * 32
    event, _ = decoded(cubes_sent(transfer_id, 1, ALICE, BOB, [4, 9], message_id), "CubeBridge")
    assert event.args == {
        "transferId": "0x" + transfer_id.hex(),
        "dstChainId": "1",
        "from": ALICE,
        "to": BOB,
        "cubeIds": ["4", "9"],
        "messageId": "0x" + message_id.hex(),
    }
    assert event.transfer_id == "0x" + transfer_id.hex()


def test_transfer_held__bytes_as_hex():
    event, _ = decoded(transfer_held(b"\x03" * 32, 1, b"\xde\xad", b""), "LBCBridge")
    assert event.args["payload"] == "0xdead" and event.args["reason"] == "0x"


def test_partner_created__partner_address_and_slug():
    clone = "0x" + "ab" * 20
    event, _ = decoded(partner_created(clone, "cafe-42"), "PartnerFactory")
    assert event.args["partnerAddress"].lower() == clone
    assert bytes.fromhex(event.args["partnerId"][2:]).rstrip(b"\0") == b"cafe-42"
    assert event.args["welcomeToken"] == LBC and event.args["funded"] == str(10**20)


def test_an_event_the_index_does_not_keep__is_none():
    # The LBC token's Transfer topic read as if the messenger had emitted it: not one of its kept events.
    event, _ = decoded(lbc_transfer(ALICE, BOB, 1), "AttestedMessenger")
    assert event is None


def test_a_log_that_does_not_match_its_abi__is_refused_with_what_is_wrong():
    log = lbc_transfer(ALICE, BOB, 1)  # two indexed addresses: not the collection's three-topic Transfer
    with pytest.raises(
        ValueError, match=r"OptimizedCubeManagement.Transfer has 3 indexed arguments, the log 2"
    ):
        decoded(log, "OptimizedCubeManagement")


def test_catalog__every_kept_event_exists_in_its_contract_abi():
    catalog = Catalog()
    for contract, names in INDEXED_EVENTS.items():
        assert len(catalog.topics([contract])) == len(set(names)), contract


def test_catalog__an_event_missing_from_the_abi__is_refused():
    with pytest.raises(ValueError, match="LBCToken's ABI has no event CubesMinted"):
        Catalog({"LBCToken": ("Transfer", "CubesMinted")})
