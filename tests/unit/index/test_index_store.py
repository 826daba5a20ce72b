"""The index's tables through IndexStore: batches that must follow the cursor, rollbacks, and the query rules
a small real history does not reach (held and refunding transfers, cubes locked in a bridge, burns)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from _fake_chain import (
    ALICE,
    BOB,
    CAROL,
    CHAIN_ID,
    CUBE_BRIDGE,
    CUBES,
    LBC,
    LBC_BRIDGE,
    ZERO,
    FakeChain,
    cube_transfer,
    cubes_sent,
    lbc_received,
    lbc_sent,
    refund_sent,
    refunded,
    transfer_held,
)

from link_ops.index import ChainIndexer, IndexSettings, IndexTargets
from link_ops.store import BlockRef, Holding, IndexCursorError, IndexedEvent

TARGETS = IndexTargets(
    CHAIN_ID,
    0,
    {
        "OptimizedCubeManagement": (CUBES,),
        "LBCToken": (LBC,),
        "LBCBridge": (LBC_BRIDGE,),
        "CubeBridge": (CUBE_BRIDGE,),
    },
)
CONTRACTS = {"LBCToken": (LBC,)}


def block(number: int) -> BlockRef:
    return BlockRef(number, f"0x{number:064x}", f"0x{number - 1:064x}", 1_700_000_000 + number)


def event(number: int, index: int = 0) -> IndexedEvent:
    return IndexedEvent(
        CHAIN_ID, number, index, block(number).hash, "0x" + "ab" * 32, LBC, "LBCToken", "Transfer", {}, 0
    )


def test_write_batch__first_batch_must_say_where_it_starts(store):
    with pytest.raises(IndexCursorError, match="must say where it starts"):
        store.index.write_batch(CHAIN_ID, first_block=0, last=block(3), events=[])
    with pytest.raises(IndexCursorError, match="must begin at its start block 5, not 0"):
        store.index.write_batch(
            CHAIN_ID, first_block=0, last=block(3), events=[], start_block=5, contracts=CONTRACTS
        )


def test_write_batch__a_gap_or_an_overlap_with_the_cursor__refused_and_nothing_written(store):
    index = store.index
    index.write_batch(
        CHAIN_ID, first_block=0, last=block(3), events=[event(2)], start_block=0, contracts=CONTRACTS
    )
    for first in (3, 5):
        with pytest.raises(IndexCursorError, match=f"is at block 3, but this batch begins at block {first}"):
            index.write_batch(CHAIN_ID, first_block=first, last=block(6), events=[event(6)])
    assert [e.block_number for e in index.events()] == [2]
    assert index.cursor(CHAIN_ID).last_block == 3


def test_write_batch__keeps_hashes_from_the_window_and_the_cursor_only(store):
    index = store.index
    index.write_batch(
        CHAIN_ID,
        first_block=0,
        last=block(9),
        events=[],
        blocks=[block(n) for n in range(5, 10)],
        keep_blocks_from=5,
        start_block=0,
        contracts=CONTRACTS,
    )
    index.write_batch(
        CHAIN_ID, first_block=10, last=block(12), events=[], blocks=[block(12)], keep_blocks_from=8
    )
    assert [b.number for b in index.stored_blocks(CHAIN_ID)] == [12, 9, 8]


def test_roll_back__deletes_above_the_block_in_one_go_and_checks_the_cursor(store):
    index = store.index
    index.write_batch(
        CHAIN_ID,
        first_block=0,
        last=block(6),
        events=[event(n) for n in range(7)],
        blocks=[block(n) for n in range(7)],
        start_block=0,
        contracts=CONTRACTS,
    )
    with pytest.raises(IndexCursorError, match="is at block 6, not 9"):
        index.roll_back(CHAIN_ID, expected_last=9, to=block(3))
    assert index.roll_back(CHAIN_ID, expected_last=6, to=block(3)) == 3
    assert [e.block_number for e in index.events()] == [0, 1, 2, 3]
    assert (index.cursor(CHAIN_ID).last_block, index.cursor(CHAIN_ID).last_hash) == (3, block(3).hash)
    assert index.roll_back(CHAIN_ID, expected_last=3, to=None) == 4
    assert index.cursor(CHAIN_ID) is None and index.stored_blocks(CHAIN_ID) == []


def test_reset__forgets_one_chain_only(store):
    index = store.index
    index.write_batch(
        CHAIN_ID, first_block=0, last=block(1), events=[event(1)], start_block=0, contracts=CONTRACTS
    )
    other = IndexedEvent(1, 1, 0, "0x" + "11" * 32, "0x" + "22" * 32, LBC, "LBCToken", "Transfer", {}, 0)
    index.write_batch(1, first_block=0, last=block(1), events=[other], start_block=0, contracts=CONTRACTS)
    assert index.reset(CHAIN_ID) is True and index.reset(CHAIN_ID) is False
    assert [e.chain_id for e in index.events()] == [1]


# -- queries -------------------------------------------------------------------------------------------------


def indexed(store, chain: FakeChain) -> None:
    ChainIndexer(chain, TARGETS, store.index, settings=IndexSettings(confirmations={"polygon": 0})).round()


def tid(n: int) -> bytes:
    return n.to_bytes(32, "big")


def test_holders__burnt_and_bridge_locked_cubes_left_out_latest_transfer_wins(store):
    chain = FakeChain()
    chain.mine([cube_transfer(ZERO, ALICE, 1), cube_transfer(ZERO, ALICE, 2), cube_transfer(ZERO, BOB, 3)])
    chain.mine(
        [cube_transfer(ALICE, CAROL, 1), cube_transfer(CAROL, BOB, 1)]
    )  # same block: log order decides
    chain.mine([cube_transfer(ALICE, CUBE_BRIDGE, 2), cube_transfer(BOB, ZERO, 3)])
    indexed(store, chain)
    assert store.index.holders() == [Holding(CHAIN_ID, BOB, (1,))]


def test_bridge_in_flight__sent_held_refunding_and_settled(store):
    chain = FakeChain()
    msg = b"\x0a" * 32
    chain.mine([lbc_sent(tid(1), 1, ALICE, BOB, 5, msg)])  # arrives below: settled
    chain.mine([lbc_sent(tid(2), 1, ALICE, BOB, 7, msg)])  # held at the destination
    chain.mine([lbc_sent(tid(3), 1, BOB, BOB, 9, msg)])  # nothing seen yet
    chain.mine([cubes_sent(tid(4), 56, CAROL, CAROL, [8, 9], msg)])  # to another chain
    chain.mine([lbc_sent(tid(5), 1, ALICE, ALICE, 11, msg)])  # held, its refund on the way back
    chain.mine([lbc_sent(tid(6), 1, ALICE, ALICE, 13, msg)])  # held, then refunded: settled
    chain.mine([lbc_received(tid(1), 1, BOB, 5), transfer_held(tid(2), 1, b"", b"")])
    chain.mine([transfer_held(tid(5), 1, b"", b""), refund_sent(tid(5), 1, msg)])
    chain.mine([transfer_held(tid(6), 1, b"", b""), refund_sent(tid(6), 1, msg)])
    chain.mine([refunded(tid(6), 1, ALICE)])
    indexed(store, chain)
    flights = store.index.bridge_in_flight()
    assert [(f.transfer_id, f.dst_chain_id, f.asset, f.amount, f.cube_ids, f.status) for f in flights] == [
        ("0x" + tid(2).hex(), 1, "LBC", 7, (), "held"),
        ("0x" + tid(3).hex(), 1, "LBC", 9, (), "sent"),
        ("0x" + tid(5).hex(), 1, "LBC", 11, (), "refunding"),
        ("0x" + tid(4).hex(), 56, "CUBE", 0, (8, 9), "sent"),
    ]
    assert [f.transfer_id for f in store.index.bridge_in_flight(dst_chain_id=56)] == ["0x" + tid(4).hex()]
    routes = store.index.in_flight_by_route()
    assert [(r.src_chain_id, r.dst_chain_id, r.transfers, r.lbc, r.cubes) for r in routes] == [
        (CHAIN_ID, 1, 3, 27, 0),
        (CHAIN_ID, 56, 1, 0, 2),
    ]


def test_link_ops_index__imports_no_ape_or_web3():
    probe = (
        "import sys, link_ops.index, link_ops.index.bench\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('ape', 'web3') or m.startswith('ape_')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
