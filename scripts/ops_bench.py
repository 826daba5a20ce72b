"""`ape run ops_bench [--calls N] [--section proxy|index|all]`: the operations benchmarks, each figure beside
its goal (in `ape run gas_bench`'s spirit: figures to read, never a timed test).

- proxy: the RPC pool's loopback proxy against direct calls to a local anvil (started here, chain 137):
  p50/p99 of `--calls` sequential eth_calls each way, what the proxy adds (goal: at most 1 ms at p50), and
  reads per second with `--concurrency` in flight (link_ops.rpc.bench.run_proxy_bench).
- index: the event index's backfill of a local anvil holding `--events` protocol events (100,000 by default)
  into a SQLite file and into PostgreSQL (`--postgres-url`, else a throwaway cluster started here; goal:
  10,000 events/s into PostgreSQL), with where the time went (link_ops.index.bench).

Needs no ape network.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable
from pathlib import Path

import click
from rich.table import Table

from link_ops.cli.console import make_console
from link_ops.cli.errors import user_errors
from link_ops.index.bench import BackfillResult, backfill, fill
from link_ops.rpc.bench import run_proxy_bench
from link_ops.testing.postgres import ThrowawayPostgres
from link_ops.testing.standin import LocalUpstream

Row = tuple[str, str, str, str]


def _proxy_rows(calls: int, concurrency: int, say: Callable[[str], None]) -> list[Row]:
    with LocalUpstream(137) as node:
        bench = run_proxy_bench(node.url, calls=calls, concurrency=concurrency, say=say)
    met = "[green]yes" if bench.meets_goal else "[red]no"
    return [
        ("eth_call p50, direct to anvil", f"{bench.direct.p50_ms:.3f} ms", "", ""),
        ("eth_call p50, through the proxy", f"{bench.proxied.p50_ms:.3f} ms", "", ""),
        (
            "added by the proxy at p50",
            f"{bench.added_p50_ms:.3f} ms",
            f"≤ {bench.goal_added_p50_ms:g} ms",
            met,
        ),
        (
            "eth_call p99, direct / proxied",
            f"{bench.direct.p99_ms:.3f} / {bench.proxied.p99_ms:.3f} ms",
            "",
            "",
        ),
        ("added by the proxy at p99", f"{bench.added_p99_ms:.3f} ms", "", ""),
        (
            f"reads/s, {bench.concurrency} in flight, direct",
            f"{bench.direct_reads_per_second:,.0f}",
            "",
            "",
        ),
        (
            f"reads/s, {bench.concurrency} in flight, proxied",
            f"{bench.proxied_reads_per_second:,.0f}",
            "",
            "",
        ),
    ]


#: The index's goal: events per second written into PostgreSQL on a 2-core machine.
INDEX_GOAL_EVENTS_PER_S = 10_000


def _backfill_rows(label: str, result: BackfillResult, goal: bool) -> list[Row]:
    rate = result.events_per_second
    met = ("[green]yes" if rate >= INDEX_GOAL_EVENTS_PER_S else "[red]no") if goal else ""
    return [
        (
            f"backfill into {label}",
            f"{rate:,.0f} events/s",
            f"≥ {INDEX_GOAL_EVENTS_PER_S:,} events/s" if goal else "",
            met,
        ),
        (
            f"  {label}: {result.events:,} events, {result.batches} batch(es)",
            f"RPC {result.fetch_seconds:.1f} s, decode {result.decode_seconds:.1f} s, "
            f"write {result.write_seconds:.1f} s of {result.seconds:.1f} s",
            "",
            "",
        ),
    ]


def _index_rows(events: int, postgres_url: str | None, say: Callable[[str], None]) -> list[Row]:
    """A local anvil filled with `events` protocol events, indexed from scratch into a SQLite file and
    into PostgreSQL (`postgres_url`, else a throwaway cluster started here)."""
    rows: list[Row] = []
    with LocalUpstream(137) as node, tempfile.TemporaryDirectory(prefix="link-ops-bench-") as folder:
        filled = fill(node.url, events=events, say=say)
        rows.append(
            (
                "events on the chain (blocks)",
                f"{filled.events:,} ({filled.last_block - filled.first_block + 1:,})",
                "≥ 100,000" if events >= 100_000 else "",
                "",
            )
        )
        say("backfilling into SQLite…")
        sqlite = backfill(node.url, filled.targets, f"sqlite:///{Path(folder) / 'bench.db'}")
        rows += _backfill_rows("SQLite", sqlite, goal=False)
        with contextlib.ExitStack() as stack:
            if postgres_url is None:
                say("starting a throwaway PostgreSQL…")
                server = stack.enter_context(ThrowawayPostgres())
                postgres_url = server.create_database("link_ops_bench")
            say("backfilling into PostgreSQL…")
            postgres = backfill(node.url, filled.targets, postgres_url)
        rows += _backfill_rows("PostgreSQL", postgres, goal=True)
    return rows


@click.command()
@click.option(
    "--calls", type=click.IntRange(min=1), default=10_000, show_default=True, help="eth_calls each way"
)
@click.option(
    "--concurrency", type=click.IntRange(min=1), default=16, show_default=True, help="reads in flight"
)
@click.option(
    "--events",
    type=click.IntRange(min=1),
    default=100_000,
    show_default=True,
    help="protocol events the index backfills",
)
@click.option(
    "--postgres-url",
    default=None,
    help="a PostgreSQL database to backfill into (default: a throwaway cluster started and stopped here)",
)
@click.option(
    "--section",
    type=click.Choice(["proxy", "index", "all"]),
    default="all",
    show_default=True,
    help="which benchmark to run",
)
def cli(calls: int, concurrency: int, events: int, postgres_url: str | None, section: str) -> None:
    """Benchmark the RPC proxy (and the index)."""
    console = make_console()
    rows: list[Row] = []
    if postgres_url is not None and not postgres_url.startswith(("postgresql://", "postgresql+")):
        raise click.BadParameter(
            "give a PostgreSQL URL (postgresql+psycopg://user:password@host/dbname), or leave it out for a "
            "throwaway cluster",
            param_hint="'--postgres-url'",
        )
    with user_errors():
        if section in ("proxy", "all"):
            with console.status("starting a local anvil and the proxy…") as status:
                rows += _proxy_rows(calls, concurrency, status.update)
        if section in ("index", "all"):
            with console.status("filling a local anvil with protocol events…") as status:
                rows += _index_rows(events, postgres_url, status.update)
    table = Table(title="operations benchmarks (loopback, this machine)")
    for column in ("figure", "value", "goal", "met"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)
