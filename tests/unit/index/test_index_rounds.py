"""Rounds of the index on an in-memory chain: partners found as they are created, claims told from other
mints, reorganisations rolled back, a crash at every point, the checks before indexing, the metrics."""

from __future__ import annotations

import pytest
from _fake_chain import (
    ALICE,
    BOB,
    CAROL,
    CHAIN_ID,
    CUBE_BRIDGE,
    CUBES,
    FACTORY,
    LBC,
    LBC_BRIDGE,
    MESSENGER,
    ZERO,
    FakeChain,
    cube_transfer,
    foreign_log,
    lbc_transfer,
    partner_created,
    welcome_claimed,
)
from eth_utils.address import to_checksum_address

from link_ops.index import (
    KILL_POINTS,
    ChainIndexer,
    IndexMetrics,
    IndexMismatchError,
    IndexSettings,
    IndexTargets,
    ReorgTooDeepError,
)
from link_ops.store import OpsStore

TARGETS = IndexTargets(
    CHAIN_ID,
    0,
    {
        "OptimizedCubeManagement": (CUBES,),
        "LBCToken": (LBC,),
        "PartnerFactory": (FACTORY,),
        "LBCBridge": (LBC_BRIDGE,),
        "CubeBridge": (CUBE_BRIDGE,),
        "AttestedMessenger": (MESSENGER,),
    },
)
CLONE = to_checksum_address("0x" + "c0" * 20)


def settings(depth: int = 10, **more) -> IndexSettings:
    return IndexSettings(confirmations={"polygon": depth}, **more)


def indexer_for(chain, store, *, depth=10, **kwargs) -> ChainIndexer:
    return ChainIndexer(
        chain, TARGETS, store.index, settings=settings(depth), sleep=lambda _s: None, **kwargs
    )


def scenario(chain: FakeChain) -> None:
    """Cubes minted and moved, a claim, a plain mint, a partner created and its welcome claims."""
    chain.mine([cube_transfer(ZERO, ALICE, 1), cube_transfer(ZERO, ALICE, 2), cube_transfer(ZERO, BOB, 3)])
    chain.mine([cube_transfer(ALICE, BOB, 2)])
    chain.mine([lbc_transfer(ZERO, ALICE, 5 * 10**18, claim_of=[1, 2])])
    chain.mine([lbc_transfer(ZERO, CAROL, 7 * 10**18)])  # a minter's mint, not a claim
    chain.mine([foreign_log("0x" + "99" * 20)])
    chain.mine_many(3)
    # The partner is created and claimed at in the same block, and again two blocks later.
    chain.mine([partner_created(CLONE, "cafe"), welcome_claimed(CLONE, BOB, 2, 2 * 10**18)])
    chain.mine_many(2)
    chain.mine([welcome_claimed(CLONE, ALICE, 1, 10**18), cube_transfer(BOB, ZERO, 3)])
    chain.mine_many(6)


def fresh_dump(chain: FakeChain, tmp_path, name: str = "fresh", depth: int = 10) -> dict:
    with OpsStore(f"sqlite:///{tmp_path / f'{name}.db'}") as other:
        indexer_for(chain, other, depth=depth).round()
        return other.index.dump(CHAIN_ID)


def test_round__indexes_every_kept_event_once_with_partners_found_as_they_are_created(store):
    chain = FakeChain()
    scenario(chain)
    report = indexer_for(chain, store).round()
    events = store.index.events()
    assert [e.event for e in events] == [
        "Transfer",
        "Transfer",
        "Transfer",
        "Transfer",
        "Transfer",
        "Transfer",
        "PartnerCreated",
        "WelcomeClaimed",
        "WelcomeClaimed",
        "Transfer",
    ]
    assert report.events == len(events) and report.indexed == chain.head
    assert {e.address for e in events if e.event == "WelcomeClaimed"} == {CLONE}
    assert store.index.partner_contracts(CHAIN_ID) == [CLONE]


@pytest.mark.parametrize("initial_range", [1, 3, 50])
def test_round__partner_created_and_claimed_in_one_range__claims_kept_whatever_the_range(
    store, initial_range
):
    chain = FakeChain()
    scenario(chain)
    ChainIndexer(
        chain,
        TARGETS,
        store.index,
        settings=settings(10, initial_range=initial_range, max_range=initial_range),
    ).round()
    claims = [(e.args["holder"], e.args["cubeCount"]) for e in store.index.events(event="WelcomeClaimed")]
    assert claims == [(BOB, "2"), (ALICE, "1")]


def test_round__claims_are_mints_in_a_batch_claim_to_the_cube_contract(store):
    chain = FakeChain()
    scenario(chain)
    indexer_for(chain, store).round()
    (claim,) = store.index.claims()
    assert (claim.holder, claim.amount, claim.cube_ids) == (ALICE, 5 * 10**18, (1, 2))
    mints = store.index.events(event="Transfer", contract="LBCToken")
    assert [m.to_address for m in mints] == [ALICE, CAROL]
    assert (claim.block_number, claim.log_index, claim.tx_hash) == (
        mints[0].block_number,
        mints[0].log_index,
        mints[0].tx_hash,
    )


def test_round__logs_without_block_timestamps__times_read_from_headers(store, tmp_path):
    chain = FakeChain(with_timestamps=False)
    scenario(chain)
    indexer_for(chain, store).round()
    assert [e.block_time for e in store.index.events()] == [
        chain.blocks[e.block_number].timestamp for e in store.index.events()
    ]


def test_round__nothing_new__reads_only_the_head_and_the_last_block(store):
    chain = FakeChain()
    scenario(chain)
    indexer = indexer_for(chain, store)
    indexer.round()
    chain.calls.clear()
    report = indexer.round()
    assert report.batches == 0
    assert [m for m, _p in chain.calls] == ["eth_blockNumber", "eth_getBlockByNumber"]


def test_round__only_blocks_within_the_depth_keep_their_hashes(store):
    chain = FakeChain()
    scenario(chain)
    indexer_for(chain, store, depth=4).round()
    kept = [b.number for b in store.index.stored_blocks(CHAIN_ID)]
    assert kept == list(range(chain.head, chain.head - 4, -1))
    chain.mine_many(3)
    indexer_for(chain, store, depth=4).round()
    assert [b.number for b in store.index.stored_blocks(CHAIN_ID)] == list(
        range(chain.head, chain.head - 4, -1)
    )


# -- reorganisations -----------------------------------------------------------------------------------------


def test_reorg__last_blocks_replaced__rolled_back_re_read_and_equal_to_a_fresh_index(store, tmp_path):
    chain = FakeChain()
    scenario(chain)
    indexer = indexer_for(chain, store)
    indexer.round()
    old_head = chain.head
    chain.reorg(8, [[cube_transfer(ALICE, CAROL, 1)], [], [lbc_transfer(ZERO, BOB, 3, claim_of=[3])], [], []])
    report = indexer.round()
    (rollback,) = report.rollbacks
    assert (rollback.from_block, rollback.to_block) == (old_head, old_head - 8)
    assert rollback.events_deleted == 2  # block 12's welcome claim and burn, above the fork
    assert store.index.dump(CHAIN_ID) == fresh_dump(chain, tmp_path)
    assert [c.cube_ids for c in store.index.claims()] == [(1, 2), (3,)]
    assert indexer.metrics.reorgs.labels(chain="polygon")._value.get() == 1


def test_reorg__chain_shorter_than_the_index__rolled_back(store, tmp_path):
    chain = FakeChain()
    scenario(chain)
    indexer = indexer_for(chain, store)
    indexer.round()
    chain.reorg(6, [[cube_transfer(ALICE, BOB, 1)]])
    assert indexer.round().rollbacks[0].to_block == chain.head - 1
    assert store.index.dump(CHAIN_ID) == fresh_dump(chain, tmp_path)


def test_reorg__while_a_batch_is_read__round_starts_again_and_holds_the_final_chain(store, tmp_path):
    chain = FakeChain()
    scenario(chain)
    indexer = indexer_for(chain, store)
    indexer.round()
    chain.mine_many(2, lambda n: [cube_transfer(ZERO, CAROL, 100 + n)])
    done = []

    def reorg_after_get_logs(method, params):
        if method == "eth_getLogs" and not done:
            done.append(True)
            chain.reorg(3, [[cube_transfer(ZERO, BOB, 200)], [], [cube_transfer(ZERO, BOB, 201)]])

    chain.before_answer = reorg_after_get_logs
    indexer.round()
    chain.before_answer = None
    assert store.index.dump(CHAIN_ID) == fresh_dump(chain, tmp_path)


def test_reorg__deeper_than_the_kept_hashes__stops_with_what_to_do(store):
    chain = FakeChain()
    scenario(chain)
    chain.mine_many(20)
    indexer = indexer_for(chain, store, depth=3)
    indexer.round()
    chain.reorg(10, [[cube_transfer(ZERO, BOB, 99)]] * 10)
    with pytest.raises(
        ReorgTooDeepError, match=r"confirmation depth is 3 blocks.*--reset --confirmations polygon="
    ):
        indexer.round()
    assert store.index.cursor(CHAIN_ID).last_block == chain.head  # nothing changed: the operator decides


def test_reorg__every_block_replaced_while_all_hashes_were_kept__index_starts_again(store, tmp_path):
    chain = FakeChain()
    scenario(chain)
    indexer = indexer_for(chain, store, depth=100)
    indexer.round()
    chain.reorg(chain.head + 1, [[cube_transfer(ZERO, BOB, 5)], [], [cube_transfer(BOB, ALICE, 5)]])
    assert indexer.round().rollbacks[0].to_block is None
    assert store.index.dump(CHAIN_ID) == fresh_dump(chain, tmp_path, depth=100)


# -- crashes ------------------------------------------------------------------------------------------------


class Crash(Exception):
    pass


@pytest.mark.parametrize(
    ("point", "occurrence"),
    [(p, n) for p in KILL_POINTS for n in (1, 3) if not (p == "rolling_back" and n > 1)],
)
def test_crash_at_any_point__restart_ends_equal_to_an_uninterrupted_index(store, tmp_path, point, occurrence):
    chain = FakeChain()
    scenario(chain)
    seen = {"n": 0}

    def hook(name):
        if name == point:
            seen["n"] += 1
            if seen["n"] == occurrence:
                raise Crash(name)

    small = settings(10, initial_range=2, max_range=2)
    ChainIndexer(chain, TARGETS, store.index, settings=small).round(until=chain.head - 5)
    if point == "rolling_back":  # the indexed blocks 11 to 13 replaced
        chain.reorg(8, [[cube_transfer(ALICE, BOB, 1)], [], [], []])
    crashing = ChainIndexer(chain, TARGETS, store.index, settings=small, kill_hook=hook)
    try:
        crashing.round()
    except Crash:
        pass
    else:
        pytest.fail(f"the index never reached {point} #{occurrence}")
    ChainIndexer(chain, TARGETS, store.index, settings=small).round()
    assert store.index.dump(CHAIN_ID) == fresh_dump(chain, tmp_path)


def test_crash_inside_the_transaction__nothing_of_the_batch_is_kept(store):
    chain = FakeChain()
    scenario(chain)

    def hook(name):
        if name == "writing":
            raise Crash()

    with pytest.raises(Crash):
        indexer_for(chain, store, kill_hook=hook).round()
    assert store.index.cursor(CHAIN_ID) is None
    assert store.index.events() == [] and store.index.stored_blocks(CHAIN_ID) == []


# -- checks -------------------------------------------------------------------------------------------------


def test_check__node_of_another_chain__refused(store):
    chain = FakeChain(chain_id=1)
    with pytest.raises(IndexMismatchError, match=r"serves chain 1, not 137: check POLYGON_RPC_URL"):
        indexer_for(chain, store).check()


def test_check__index_built_for_other_contracts__refused_with_reset_hint(store):
    chain = FakeChain()
    scenario(chain)
    indexer_for(chain, store).round()
    other = IndexTargets(CHAIN_ID, 0, {"LBCToken": (LBC,)})
    with pytest.raises(IndexMismatchError, match=r"other contracts .*--chains polygon --reset"):
        ChainIndexer(chain, other, store.index).check()


def test_check__other_start_block_for_an_index_begun__refused(store):
    chain = FakeChain()
    scenario(chain)
    indexer_for(chain, store).round()
    with pytest.raises(IndexMismatchError, match=r"began at block 0 .*begin at block 5 instead"):
        indexer_for(chain, store, from_block=5).check()


def test_from_block__index_begins_there(store):
    chain = FakeChain()
    scenario(chain)
    indexer_for(chain, store, from_block=3).round()
    assert min(e.block_number for e in store.index.events()) == 3
    assert store.index.cursor(CHAIN_ID).start_block == 3


def test_targets__unknown_or_empty__refused():
    with pytest.raises(ValueError, match="no contract named Token"):
        IndexTargets(CHAIN_ID, 0, {"Token": (LBC,)})
    with pytest.raises(ValueError, match="through the PartnerFactory"):
        IndexTargets(CHAIN_ID, 0, {"PartnerBenefits": (LBC,)})
    with pytest.raises(ValueError, match="nothing to index on chain 137"):
        IndexTargets(CHAIN_ID, 0, {"LBCToken": ()})


def test_settings__every_problem_listed_with_its_field():
    from link_ops.index import IndexSettingsError

    with pytest.raises(IndexSettingsError) as raised:
        IndexSettings.build(confirmations={"solana": 3, "polygon": -1}, min_range=0, target_logs=0)
    text = str(raised.value)
    assert "confirmations: unknown chain solana" in text
    assert "min_range: Input should be greater than or equal to 1" in text
    assert "target_logs:" in text


# -- metrics ------------------------------------------------------------------------------------------------


def test_metrics__events_by_name_heights_lag_and_rollbacks(store):
    chain = FakeChain()
    scenario(chain)
    metrics = IndexMetrics()
    indexer = ChainIndexer(chain, TARGETS, store.index, settings=settings(10), metrics=metrics)
    indexer.round()

    def value(name, **labels):
        return metrics.registry.get_sample_value(name, {"chain": "polygon", **labels})

    counts = store.index.event_counts(CHAIN_ID)
    for (_chain, event), count in counts.items():
        assert value("link_ops_index_events_total", event=event) == count
    assert value("link_ops_index_indexed_block") == chain.head
    assert value("link_ops_index_chain_head_block") == chain.head
    assert value("link_ops_index_lag_blocks") == 0
    chain.mine_many(4)
    chain.reorg(6, [[], []])
    indexer.round()
    assert value("link_ops_index_reorgs_total") == 1
    assert value("link_ops_index_rollback_depth_blocks_count") == 1
    assert value("link_ops_index_rollback_depth_blocks_sum") == 2  # blocks 17 and 18 were indexed
    assert value("link_ops_index_phase_seconds_total", phase="write") > 0


def test_round__a_log_that_does_not_fit_its_contract__refused_naming_the_record(store):
    chain = FakeChain()
    chain.mine([lbc_transfer(ALICE, BOB, 1, address=CUBES)])  # an ERC-20 Transfer where the collection is
    with pytest.raises(
        IndexMismatchError, match=r"does not decode as an event of OptimizedCubeManagement .*137.json"
    ):
        indexer_for(chain, store).round()
    assert store.index.cursor(CHAIN_ID) is None
