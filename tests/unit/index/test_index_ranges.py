"""The adaptive ``eth_getLogs`` range: providers' refusals read as they word them, ranges that adapt, and
not one block skipped or read twice."""

from __future__ import annotations

import itertools

import pytest
from _fake_chain import (
    ALICE,
    BOB,
    CUBES,
    FACTORY,
    LBC,
    ZERO,
    FakeChain,
    cube_transfer,
    lbc_transfer,
    refuse_ranges_over,
    refuse_results_over,
    time_out_over,
)

from link_ops.index import ChainIndexer, IndexRpcError, IndexSettings, IndexTargets
from link_ops.index.ranges import AdaptiveRange, Refusal, classify_logs_error
from link_ops.index.rpc import JsonRpcError, RpcTimeoutError, RpcTransportError

TARGETS = IndexTargets(
    137, 0, {"OptimizedCubeManagement": (CUBES,), "LBCToken": (LBC,), "PartnerFactory": (FACTORY,)}
)


def error(message: str, code: int = -32005) -> JsonRpcError:
    return JsonRpcError("eth_getLogs", code, message)


@pytest.mark.parametrize(
    ("message", "kind", "max_blocks", "suggested_to"),
    [
        ("query returned more than 10000 results", "results", None, None),
        (
            "Query returned more than 10000 results. Try with this block range [0x118dc91, 0x1198cc3].",
            "results",
            None,
            0x1198CC3,
        ),
        (
            "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range and "
            "no limit on the response size, or you can request any block range with a cap of 10K logs in the "
            "response. Based on your parameters, this block range should work: [0x10, 0x2f]",
            "results",
            None,
            0x2F,
        ),
        (
            "You can make eth_getLogs requests with up to a 500 block range. Based on your parameters, this "
            "block range should work: [0x123c9b2, 0x123cba5]",
            "range",
            500,
            0x123CBA5,
        ),
        ("range 1000000 exceeds limit of 10000", "range", 10_000, None),
        ("eth_getLogs and eth_newFilter are limited to a 10,000 blocks range", "range", 10_000, None),
        ("query exceeds max block range 100000", "range", 100_000, None),
        (
            "query exceeds max results 20000, retry with the range 24383075-24383096",
            "results",
            None,
            24383096,
        ),
        ("block range is too wide (maximum 1024)", "range", 1024, None),
        ("exceed maximum block range: 5000", "range", 5000, None),
        ("invalid params: range 9009594 is bigger than range limit 2000", "range", 2000, None),
        (
            "block range is larger than max block range, block range = 5120, max block range = 5000",
            "range",
            5000,
            None,
        ),
        ("block range too high", "range", None, None),
        ("query timeout exceeded", "timeout", None, None),
        ("context deadline exceeded", "timeout", None, None),
    ],
)
def test_classify__providers_refusals__read_as_worded(message, kind, max_blocks, suggested_to):
    assert classify_logs_error(error(message)) == Refusal(kind, max_blocks, suggested_to)


def test_classify__client_timeout__is_a_timeout():
    assert classify_logs_error(RpcTimeoutError("eth_getLogs timed out after 30 s")).kind == "timeout"


@pytest.mark.parametrize(
    "message",
    [
        "execution reverted",
        "invalid argument 0: hex string without 0x prefix",
        "method not found",
        "rate limited",
    ],
)
def test_classify__anything_else__is_not_about_the_range(message):
    assert classify_logs_error(error(message, -32602)) is None
    assert classify_logs_error(RpcTransportError("cannot reach http://node/…")) is None


def test_adaptive_range__grows_on_comfortable_answers_up_to_the_maximum():
    adaptive = AdaptiveRange(initial=10, minimum=1, maximum=70, target_logs=100)
    seen = []
    for _ in range(5):
        adaptive.answered(adaptive.blocks, 3)
        seen.append(adaptive.blocks)
    assert seen == [20, 40, 70, 70, 70]


def test_adaptive_range__shrinks_in_proportion_to_a_crowded_answer():
    adaptive = AdaptiveRange(initial=100, minimum=1, maximum=1000, target_logs=50)
    adaptive.answered(100, 400)
    assert adaptive.blocks == 12


def test_adaptive_range__a_stated_limit_caps_the_range_for_good():
    adaptive = AdaptiveRange(initial=800, minimum=1, maximum=5000, target_logs=5000)
    assert adaptive.refused(800, Refusal("range", max_blocks=500), 0)
    assert adaptive.blocks == 500
    for _ in range(5):
        adaptive.answered(adaptive.blocks, 0)
    assert adaptive.blocks == 500


def test_adaptive_range__at_the_minimum__nothing_smaller_to_try():
    adaptive = AdaptiveRange(initial=1, minimum=1, maximum=10, target_logs=10)
    assert not adaptive.refused(1, Refusal("timeout"), 5)


def test_adaptive_range__bad_bounds__refused():
    with pytest.raises(ValueError, match="minimum <= initial <= maximum"):
        AdaptiveRange(initial=5, minimum=10, maximum=20, target_logs=1)


# -- through the indexer, on a chain whose node refuses ------------------------------------------------------


def busy_chain(blocks: int = 120) -> FakeChain:
    """Cubes minted and moved, LBC minted: a few logs in every block."""
    chain = FakeChain()
    chain.mine_many(
        blocks,
        lambda n: [
            cube_transfer(ZERO, ALICE, n),
            lbc_transfer(ZERO, ALICE, 10**18 + n),
            *([cube_transfer(ALICE, BOB, n - 1)] if n % 3 == 0 else []),
        ],
    )
    return chain


def expected_events(chain: FakeChain) -> int:
    return sum(len(b.logs) for b in chain.blocks)


def assert_tiled(chain: FakeChain, start: int) -> None:
    """The answered eth_getLogs ranges cover start..head once each, in order: nothing skipped, nothing
    read twice."""
    ranges = chain.answered
    assert ranges[0][0] == start
    for (_, last), (first, _) in itertools.pairwise(ranges):
        assert first == last + 1
    assert ranges[-1][1] == chain.head


LIMIT_MESSAGES = [
    "range {limit} exceeds limit of {limit}",
    "eth_getLogs and eth_newFilter are limited to a {limit} blocks range",
    "query exceeds max block range {limit}",
    "block range is too wide (maximum {limit})",
    "block range too high",
]


@pytest.mark.parametrize("message", LIMIT_MESSAGES)
def test_index__node_refusing_ranges_over_k_blocks__range_adapts_and_no_block_is_skipped_or_read_twice(
    store, message
):
    chain = busy_chain()
    chain.refuse = refuse_ranges_over(7, message)
    indexer = ChainIndexer(chain, TARGETS, store.index, sleep=lambda _s: None)
    indexer.round()
    assert_tiled(chain, 0)
    assert all(last - first + 1 <= 7 for first, last in chain.answered)
    assert len(store.index.events()) == expected_events(chain)
    keys = [(e.block_number, e.log_index) for e in store.index.events()]
    assert len(keys) == len(set(keys))
    assert store.index.cursor(137).last_block == chain.head


def test_index__stated_limit__used_at_once_after_one_refusal(store):
    chain = busy_chain()
    chain.refuse = refuse_ranges_over(25, "range {limit} exceeds limit of 25")
    ChainIndexer(chain, TARGETS, store.index, settings=IndexSettings(initial_range=400)).round()
    refusals = sum(1 for m, p in chain.calls if m == "eth_getLogs") - len(chain.answered)
    assert refusals == 1
    assert {last - first + 1 for first, last in chain.answered[:-1]} == {25}
    assert_tiled(chain, 0)


def test_index__node_refusing_answers_over_n_logs_with_a_suggested_range__follows_it(store):
    chain = busy_chain()
    chain.refuse = refuse_results_over(
        40, "Query returned more than 40 results. Try with this block range [{first}, {half}]."
    )
    ChainIndexer(
        chain, TARGETS, store.index, settings=IndexSettings(initial_range=200, target_logs=10_000)
    ).round()
    assert_tiled(chain, 0)
    assert len(store.index.events()) == expected_events(chain)


def test_index__node_timing_out_on_large_ranges__range_halves_until_it_answers(store):
    chain = busy_chain()
    chain.refuse = time_out_over(10)
    indexer = ChainIndexer(
        chain, TARGETS, store.index, settings=IndexSettings(initial_range=64), sleep=lambda _s: None
    )
    indexer.round()
    assert_tiled(chain, 0)
    assert max(last - first + 1 for first, last in chain.answered) <= 10
    assert indexer.metrics.refusals.labels(chain="polygon")._value.get() >= 3


def test_index__refused_even_one_block__gives_up_with_what_to_do(store):
    chain = busy_chain(5)
    chain.refuse = lambda first, last, logs: error("query returned more than 0 results")
    sleeps = []
    indexer = ChainIndexer(
        chain, TARGETS, store.index, settings=IndexSettings(attempts=3), sleep=sleeps.append
    )
    with pytest.raises(
        IndexRpcError, match=r"refuses eth_getLogs even for 1 block\(s\) from block 0 .*another node"
    ):
        indexer.round()
    assert len(sleeps) == 2
    assert store.index.cursor(137) is None


def test_index__range_grows_back_after_sparse_answers(store):
    chain = FakeChain()
    chain.mine_many(300)  # empty blocks
    ChainIndexer(chain, TARGETS, store.index, settings=IndexSettings(initial_range=4, max_range=64)).round()
    sizes = [last - first + 1 for first, last in chain.answered]
    assert sizes[:5] == [4, 8, 16, 32, 64]
    assert_tiled(chain, 0)


def test_index__another_error__is_not_taken_for_a_range_problem(store):
    chain = busy_chain(5)
    chain.refuse = lambda first, last, logs: error("invalid argument 0: json: cannot unmarshal", -32602)
    with pytest.raises(JsonRpcError, match="cannot unmarshal"):
        ChainIndexer(chain, TARGETS, store.index, sleep=lambda _s: None).round()
