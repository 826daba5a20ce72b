"""What the index reads for the watch: the governance events of every contract, the timelock and the Safe
(found in the deployment records), an index begun before that refused with what to do, and the queries the
intrusion rules make, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from _fake_chain import (
    ALICE,
    BOB,
    CHAIN_ID,
    CUBES,
    LBC,
    ZERO,
    FakeChain,
    Log,
    _topic_of,
    _word,
    cube_transfer,
)
from eth_abi.abi import encode
from eth_utils.address import to_checksum_address

from link_ops.index import ChainIndexer, IndexMismatchError, IndexSettings, IndexTargets, targets_from_records
from link_ops.index.catalog import SAFE_CONTRACT, contract_abi, event_topic
from link_ops.index.targets import GOVERNANCE_RECORD_NAMES
from link_ops.model.chains import chain_by_id
from link_ops.protocol.records import ContractRecord, DeploymentRecord, save_record
from link_ops.store import BlockRef, IndexedEvent

TIMELOCK = to_checksum_address("0x" + "71" * 20)
SAFE = to_checksum_address("0x" + "5a" * 20)
MINTER = bytes.fromhex("9f2df0fed2c77648de5860a4cc508cd0818c85b8b8a1ab4ceeef8d981c8956a6")
OLD_TARGETS = IndexTargets(CHAIN_ID, 0, {"OptimizedCubeManagement": (CUBES,), "LBCToken": (LBC,)})
NEW_TARGETS = IndexTargets(
    CHAIN_ID,
    0,
    {
        "OptimizedCubeManagement": (CUBES,),
        "LBCToken": (LBC,),
        "LinkTimelock": (TIMELOCK,),
        SAFE_CONTRACT: (SAFE,),
    },
)


def role_granted(at: str, role: bytes, account: str, sender: str) -> Log:
    topic = _topic_of("LBCToken", "RoleGranted")
    return Log(at, [topic, "0x" + role.hex(), _word(account, "address"), _word(sender, "address")])


def safe_added_owner(owner: str) -> Log:
    (entry,) = [e for e in contract_abi(SAFE_CONTRACT) if e.get("name") == "AddedOwner"]
    return Log(SAFE, [event_topic(entry), _word(owner, "address")])


def min_delay_change(old: int, new: int) -> Log:
    topic = _topic_of("LinkTimelock", "MinDelayChange")
    return Log(TIMELOCK, [topic], "0x" + encode(["uint256", "uint256"], [old, new]).hex())


def indexer(chain, store, targets=NEW_TARGETS):
    return ChainIndexer(chain, targets, store.index, settings=IndexSettings(), sleep=lambda _s: None)


def test_round__governance_events_of_the_protocol_the_timelock_and_the_safe__indexed(store):
    chain = FakeChain()
    chain.mine([role_granted(LBC, MINTER, BOB, TIMELOCK), cube_transfer(ZERO, ALICE, 1)])
    chain.mine([safe_added_owner(BOB), min_delay_change(172_800, 60)])
    indexer(chain, store).round()
    found = [(e.contract, e.event) for e in store.index.events()]
    assert found == [
        ("LBCToken", "RoleGranted"),
        ("OptimizedCubeManagement", "Transfer"),
        (SAFE_CONTRACT, "AddedOwner"),
        ("LinkTimelock", "MinDelayChange"),
    ]
    granted, _, added, delay = store.index.events()
    assert granted.args == {"role": "0x" + MINTER.hex(), "account": BOB, "sender": TIMELOCK}
    assert added.args == {"owner": BOB} and added.address == SAFE
    assert delay.args == {"oldDuration": "172800", "newDuration": "60"}


def test_check__index_built_before_governance_was_read__refused_naming_what_is_new_and_reset(store):
    chain = FakeChain()
    chain.mine([cube_transfer(ZERO, ALICE, 1)])
    indexer(chain, store, OLD_TARGETS).round()
    with pytest.raises(IndexMismatchError) as caught:
        indexer(chain, store).check()
    text = str(caught.value)
    assert f"built without LinkTimelock {TIMELOCK}, {SAFE_CONTRACT} {SAFE}" in text
    assert "ape run index --chains polygon --reset" in text


def test_targets_from_records__the_recorded_timelock_and_safe__read_on_home_and_remote_chains(tmp_path):
    for chain_id, token in ((137, "LBCToken"), (1, "RemoteLBCToken")):
        record = DeploymentRecord(
            chain_id=chain_id,
            genesis_hash="0x" + "00" * 32,
            contracts={
                token: ContractRecord(address=LBC, block_number=9),
                "LinkTimelock": ContractRecord(address=TIMELOCK, block_number=4),
                "GovernanceSafe": ContractRecord(address=SAFE),
            },
        )
        save_record(tmp_path, record)
        targets = targets_from_records(chain_by_id(chain_id), tmp_path)
        assert targets.contracts == {
            "LBCToken": (LBC,),
            "LinkTimelock": (TIMELOCK,),
            SAFE_CONTRACT: (SAFE,),
        }
        assert targets.start_block == 4


def test_governance_record_names__the_names_governance_records_under():
    from link_ops.governance.timelock import SAFE as SAFE_NAME
    from link_ops.governance.timelock import TIMELOCK as TIMELOCK_NAME

    assert GOVERNANCE_RECORD_NAMES == {TIMELOCK_NAME: "LinkTimelock", SAFE_NAME: SAFE_CONTRACT}


# -- the queries the rules make ------------------------------------------------------------------------------


def event(block, log, name, args, *, contract="AttestedMessenger", chain_id=CHAIN_ID, token_id=None, to=None):
    return IndexedEvent(
        chain_id,
        block,
        log,
        f"0x{block:064x}",
        f"0x{block * 10 + log:064x}",
        LBC,
        contract,
        name,
        args,
        1_000 + block,
        to_address=to,
        token_id=token_id,
        from_address=ZERO if token_id is not None else None,
    )


def write(store, chain_id, events, first, last):
    store.index.write_batch(
        chain_id,
        first_block=first,
        last=BlockRef(last, f"0x{last:064x}", f"0x{last - 1:064x}", 1_000 + last),
        events=events,
        start_block=0,
        contracts={"LBCToken": (LBC,)},
    )


def test_queries__events_between_message_sent_indexed_time_and_cube_holders(store):
    message = "0x" + "ab" * 32
    sent = event(3, 0, "MessageSent", {"messageId": message, "nonce": 1})
    moves = [
        event(4, 0, "Transfer", {}, contract="OptimizedCubeManagement", token_id=7, to=ALICE),
        event(6, 1, "Transfer", {}, contract="OptimizedCubeManagement", token_id=7, to=BOB),
        event(6, 2, "Transfer", {}, contract="OptimizedCubeManagement", token_id=8, to=ALICE),
    ]
    remote = [event(2, 0, "Transfer", {}, contract="RemoteCube", chain_id=1, token_id=7, to=ALICE)]
    assert store.index.indexed_time(CHAIN_ID) is None
    write(store, CHAIN_ID, [sent, *moves], 0, 9)
    write(store, 1, remote, 0, 2)
    assert [(e.block_number, e.log_index) for e in store.index.events_between(CHAIN_ID, 4, 6)] == [
        (4, 0),
        (6, 1),
        (6, 2),
    ]
    assert store.index.message_sent(CHAIN_ID, message.upper().replace("0X", "0x")) == sent
    assert store.index.message_sent(CHAIN_ID, "0x" + "cd" * 32) is None
    assert store.index.message_sent(1, message) is None
    assert store.index.indexed_time(CHAIN_ID) == 1_009 and store.index.indexed_time(1) == 1_002
    assert store.index.cube_holders([7, 9]) == {
        (CHAIN_ID, "OptimizedCubeManagement", 7): BOB,
        (1, "RemoteCube", 7): ALICE,
    }
    assert store.index.cube_holders([]) == {}
