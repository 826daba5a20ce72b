"""The backfill benchmark's shape on a tiny chain (its speed is measured by hand, never in a test)."""

from __future__ import annotations

import pytest
from _ape import error_lines, output_of, run_ape_here
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from link_ops.index.bench import BENCH_CAP, BENCH_RATE, LBC_GAS, BenchError, _Sender, backfill, fill
from link_ops.index.rpc import HttpJsonRpc
from link_ops.store import OpsStore
from link_ops.testing.standin import LocalUpstream


@pytest.fixture(scope="module")
def anvil():
    with LocalUpstream(31337) as upstream:
        yield upstream


def test_bench__fills_a_chain_then_backfills_every_event_and_times_the_phases(anvil, index_db_url):
    filled = fill(anvil.url, events=300, cubes_per_tx=40, holders=3)
    assert filled.events >= 300
    assert set(filled.targets.contracts) == {"LBCToken", "OptimizedCubeManagement"}
    result = backfill(anvil.url, filled.targets, index_db_url)
    assert result.events == filled.events
    assert result.blocks == filled.last_block - filled.first_block + 1
    assert result.events_per_second > 0 and result.batches >= 1 and result.rpc_calls >= 2
    assert result.fetch_seconds > 0 and result.decode_seconds > 0 and result.write_seconds > 0
    assert result.fetch_seconds + result.decode_seconds + result.write_seconds <= result.seconds
    with OpsStore(index_db_url) as store:
        counts = store.index.event_counts(31337)
        assert sum(counts.values()) == filled.events
        assert len(store.index.claims(31337)) == 3  # one claim per holder, told from the plain LBC mints
        assert counts[(31337, "Transfer")] > counts[(31337, "CubesMinted")] > 0
    again = backfill(anvil.url, filled.targets, index_db_url)  # starts from scratch: same events
    assert again.events == result.events


def test_bench__too_few_events__refused(anvil):
    with pytest.raises(BenchError, match="fill at least 10 events"):
        fill(anvil.url, events=5)


def test_bench__a_transaction_that_reverts__named_with_its_step_and_decoded_error(anvil):
    rpc = HttpJsonRpc(anvil.url)
    admin, stranger = rpc.request("eth_accounts", [])[:2]
    sender = _Sender(rpc)
    lbc = sender.deploy(admin, "LBCToken", ["address", "uint256"], [admin, BENCH_CAP])
    mint = keccak(text="mint(address,uint256)")[:4] + encode(["address", "uint256"], [stranger, 1])

    with pytest.raises(BenchError) as excinfo:  # a stranger may not mint; gas given, so it is mined
        sender.send(stranger, lbc, mint, what="a stranger's LBC mint", gas=LBC_GAS)

    message = str(excinfo.value)
    assert "(a stranger's LBC mint) reverted while filling the bench chain" in message
    assert "AccessControlUnauthorizedAccount" in message and "gas used of 100,000" in message
    rpc.close()


def test_bench__a_rate_set_in_the_deployments_second_that_lands_seconds_later__still_has_gas(anvil):
    """The estimate of ``setTierRate`` in the deployment's second is the cheap branch (rewrite the
    checkpoint); mined later it adds one. An exact estimate ran out of gas (CI, on a busy machine)."""
    rpc = HttpJsonRpc(anvil.url)
    admin = rpc.request("eth_accounts", [])[0]
    sender = _Sender(rpc)
    lbc = sender.deploy(admin, "LBCToken", ["address", "uint256"], [admin, BENCH_CAP])
    cubes = sender.deploy(admin, "OptimizedCubeManagement", ["address", "address"], [admin, lbc])
    deployed_at = int(rpc.request("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    set_rate = keccak(text="setTierRate(uint8,uint256)")[:4] + encode(["uint8", "uint256"], [0, BENCH_RATE])
    rpc.request("evm_setAutomine", [False])
    try:
        tx_hash = sender.send(admin, cubes, set_rate, what="setting tier 0's rate", wait=False)
        rpc.request("evm_mine", [deployed_at + 5])
        receipt = sender.receipt(tx_hash)
    finally:
        rpc.request("evm_setAutomine", [True])
    assert int(receipt["gasUsed"], 16) > 55_000  # the dear branch: a new checkpoint
    rpc.close()


def test_bench__a_transaction_out_of_gas__said_so(anvil):
    rpc = HttpJsonRpc(anvil.url)
    admin = rpc.request("eth_accounts", [])[0]
    sender = _Sender(rpc)
    lbc = sender.deploy(admin, "LBCToken", ["address", "uint256"], [admin, BENCH_CAP])
    grant = keccak(text="grantRole(bytes32,address)")[:4]
    sender.send(
        admin, lbc, grant + encode(["bytes32", "address"], [keccak(text="MINTER_ROLE"), admin]), what="grant"
    )
    mint = keccak(text="mint(address,uint256)")[:4] + encode(["address", "uint256"], [admin, 1])

    with pytest.raises(BenchError, match=r"\(an LBC mint\) reverted .*: out of gas: it used all 30,000"):
        sender.send(admin, lbc, mint, what="an LBC mint", gas=30_000)
    rpc.close()


def test_ops_bench_script__index_section__backfills_into_sqlite_and_a_throwaway_postgres_beside_the_goal():
    done = run_ape_here("run", "ops_bench", "--section", "index", "--events", "300")

    assert done.returncode == 0, output_of(done)
    table = done.stdout
    assert "backfill into SQLite" in table and "backfill into PostgreSQL" in table
    assert "≥ 10,000 events/s" in table  # the goal, beside the PostgreSQL figure
    assert table.count("events/s") >= 3 and "decode" in table and "write" in table
    assert "eth_call" not in table  # the proxy section did not run


def test_ops_bench_script__postgres_url_of_another_database__one_error_line_before_anything_starts():
    done = run_ape_here("run", "ops_bench", "--section", "index", "--postgres-url", "sqlite:////tmp/x.db")

    assert done.returncode != 0
    assert error_lines(done) == [
        "Error: Invalid value for '--postgres-url': give a PostgreSQL URL "
        "(postgresql+psycopg://user:password@host/dbname), or leave it out for a throwaway cluster"
    ], output_of(done)
