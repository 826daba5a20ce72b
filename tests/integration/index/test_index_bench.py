"""The backfill benchmark's shape on a tiny chain (its speed is measured by hand, never in a test)."""

from __future__ import annotations

import pytest
from _ape import error_lines, output_of, run_ape_here

from link_ops.index.bench import BenchError, backfill, fill
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
