"""Reorganisations on a real anvil standing in for Polygon: indexed blocks replaced (``anvil_reorg`` with
replacement transactions, ``evm_revert`` then other transactions); the index rolls back, reads again, and
holds exactly what a fresh index of the final chain holds, table by table."""

from __future__ import annotations

from collections.abc import Iterator

import ape
import pytest
from _ape import error_lines, output_of, run_ape_here
from _index_world import DAY, LBC, World, build_world, create_partner, mint_cubes

from link_ops.contracts import at
from link_ops.index import IndexSettings, ReorgTooDeepError
from link_ops.store import OpsStore

POLYGON_ID = 137


@ape.fixture(scope="module", chain_isolation=False)
def world(accounts, tmp_path_factory) -> Iterator[World]:
    chains, built = build_world(accounts, tmp_path_factory.mktemp("index-reorg"), bridge=False)
    with chains:
        mint_cubes(built, accounts[1], 3)
        mint_cubes(built, accounts[2], 2, tier=2)
        yield built


def rpc(world: World, method: str, params: list) -> object:
    return world.chains.provider("polygon").make_request(method, params)


@pytest.fixture(autouse=True)
def same_chain_for_each_test(world) -> Iterator[None]:
    """Each test (once per store backend) starts from the chain the module built: its reorgs are undone."""
    snapshot = rpc(world, "evm_snapshot", [])
    yield
    assert rpc(world, "evm_revert", [snapshot]) is True


def fresh_dump(world: World, tmp_path, name: str = "fresh") -> dict:
    with OpsStore(f"sqlite:///{tmp_path / f'{name}.db'}") as store:
        world.indexer("polygon", store).round()
        return store.index.dump(POLYGON_ID)


def test_evm_revert_then_other_transactions__rolled_back_to_the_fork_and_equal_to_a_fresh_index(
    world, accounts, index_db_url, tmp_path
):
    alice, bob, carol = accounts[1], accounts[2], accounts[3]
    cubes, lbc = world.protocol.cubes, world.protocol.lbc
    fork_block = world.head("polygon")
    snapshot = rpc(world, "evm_snapshot", [])
    # What is indexed, then undone: a claim, a transfer, a partner and its welcome claim.
    world.chains.advance_time("polygon", DAY)
    with world.chains.on("polygon"):
        cubes.batchClaimRewards([1, 2], sender=alice)
        cubes.transferFrom(bob, carol, 4, sender=bob)
    partner, _created, _grant = create_partner(world, "undone")
    with world.chains.on("polygon"):
        at("PartnerBenefits", partner).claimWelcome([3], sender=alice)
    with OpsStore(index_db_url) as store:
        indexer = world.indexer("polygon", store)
        indexer.round()
        before = store.index.event_counts(POLYGON_ID)
        assert before[(POLYGON_ID, "WelcomeClaimed")] == 1 and len(store.index.claims()) == 1
        indexed_head = store.index.cursor(POLYGON_ID).last_block
        undone = sum(1 for e in store.index.events(POLYGON_ID) if e.block_number > fork_block)

        assert rpc(world, "evm_revert", [snapshot]) is True
        # Another history from the fork: other transfers, another partner, no claim.
        with world.chains.on("polygon"):
            cubes.transferFrom(alice, bob, 1, sender=alice)
            lbc.mint(carol, 3 * LBC, sender=world.admin)
        create_partner(world, "kept")
        report = indexer.round()

        (rollback,) = report.rollbacks
        assert (rollback.from_block, rollback.to_block) == (indexed_head, fork_block)
        assert rollback.events_deleted == undone > 0
        assert store.index.claims() == []
        assert [p.partner_id for p in store.index.partners()] == ["kept"]
        assert store.index.dump(POLYGON_ID) == fresh_dump(world, tmp_path)


def test_anvil_reorg_with_replacement_transactions__rolled_back_and_equal_to_a_fresh_index(
    world, accounts, index_db_url, tmp_path
):
    alice, bob, carol = accounts[1], accounts[2], accounts[3]
    cubes = world.protocol.cubes
    with world.chains.on("polygon"):
        cubes.transferFrom(alice, carol, 2, sender=alice)
        cubes.mintBatch(alice, 1, 2, sender=world.admin)
        cubes.transferFrom(carol, bob, 2, sender=carol)
    fork = world.head("polygon") - 3
    replacement = [
        [replacement_tx(world, world.admin, cubes, mint_call(cubes, carol, 3, 4), fork), 0],
        [replacement_tx(world, alice, cubes, transfer_call(cubes, alice, bob, 3), fork), 1],
    ]
    with OpsStore(index_db_url) as store:
        indexer = world.indexer("polygon", store)
        indexer.round()
        head = world.head("polygon")
        rpc(world, "anvil_reorg", [3, replacement])
        assert world.head("polygon") == head
        report = indexer.round()
        (rollback,) = report.rollbacks
        assert (rollback.from_block, rollback.to_block) == (head, head - 3)
        holders = {h.holder: h.cube_ids for h in store.index.holders()}
        owner = {cube: holder for holder, ids in holders.items() for cube in ids}
        # The replaced blocks had moved cube 2 to carol and then bob, and minted 6-7 to alice; the new ones
        # mint 6-9 to carol and move alice's cube 3 to bob.
        assert (owner[2], owner[3]) == (alice.address, bob.address)
        assert holders[carol.address] == (6, 7, 8, 9)
        assert store.index.dump(POLYGON_ID) == fresh_dump(world, tmp_path)


def replacement_tx(world: World, sender, cubes, data: str, fork: int) -> dict:
    """A transaction for `anvil_reorg`, with the sender's nonce as of the fork block."""
    nonce = rpc(world, "eth_getTransactionCount", [sender.address, hex(fork)])
    return {"from": sender.address, "to": str(cubes.address), "data": data, "nonce": nonce}


def mint_call(cubes, to, tier: int, quantity: int) -> str:
    return "0x" + bytes(cubes.mintBatch.encode_input(to, tier, quantity)).hex()


def transfer_call(cubes, frm, to, cube_id: int) -> str:
    return "0x" + bytes(cubes.transferFrom.encode_input(frm, to, cube_id)).hex()


def test_reorg_deeper_than_the_depth__library_and_script_stop_with_what_to_do(world, accounts, index_db_url):
    cubes = world.protocol.cubes
    with world.chains.on("polygon"):
        for _ in range(6):
            cubes.mintBatch(accounts[4], 0, 1, sender=world.admin)
    shallow = IndexSettings(confirmations={"polygon": 2})
    with OpsStore(index_db_url) as store:
        indexer = world.indexer("polygon", store, settings=shallow)
        indexer.round()
        replacement = [
            [
                {
                    "from": world.admin.address,
                    "to": str(cubes.address),
                    "data": mint_call(cubes, accounts[5], 0, 1),
                },
                0,
            ]
        ]
        rpc(world, "anvil_reorg", [5, replacement])
        with pytest.raises(ReorgTooDeepError, match="confirmation depth is 2 blocks"):
            indexer.round()
    done = run_ape_here(
        "run",
        "index",
        "--chains",
        "polygon",
        "--once",
        "--db",
        index_db_url,
        "--confirmations",
        "polygon=2",
        env=world.env(),
    )
    lines = error_lines(done)
    assert len(lines) == 1 and "reorganised below block" in lines[0] and "--reset" in lines[0], output_of(
        done
    )
    again = run_ape_here(
        "run", "index", "--chains", "polygon", "--once", "--db", index_db_url, "--reset", env=world.env()
    )
    assert again.returncode == 0, output_of(again)
