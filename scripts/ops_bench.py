"""`ape run ops_bench [--calls N] [--section proxy|index|all]`: the operations benchmarks, each figure beside
its goal (in `ape run gas_bench`'s spirit: figures to read, never a timed test).

- proxy: the RPC pool's loopback proxy against direct calls to a local anvil (started here, chain 137):
  p50/p99 of `--calls` sequential eth_calls each way, what the proxy adds (goal: at most 1 ms at p50), and
  reads per second with `--concurrency` in flight (link_ops.rpc.bench.run_proxy_bench).
- index: the event index's backfill into SQLite and PostgreSQL (link_ops.index.bench; see _index_rows).

Needs no ape network.
"""

from __future__ import annotations

from collections.abc import Callable

import click
from rich.table import Table

from link_ops.cli.console import make_console
from link_ops.cli.errors import user_errors
from link_ops.rpc.bench import run_proxy_bench
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


def _index_rows(calls: int) -> list[Row]:
    # INDEX SECTION (issue 11, wired by the lead): call link_ops.index.bench here (the backfill of a local
    # anvil holding >= 100,000 protocol events into SQLite and into PostgreSQL) and return its figures as
    # rows: ("backfill into PostgreSQL", "<n> events/s", "≥ 10,000 events/s", "yes"/"no"), ...
    return [("index backfill", "not wired in this branch", "≥ 10,000 events/s into PostgreSQL", "-")]


@click.command()
@click.option(
    "--calls", type=click.IntRange(min=1), default=10_000, show_default=True, help="eth_calls each way"
)
@click.option(
    "--concurrency", type=click.IntRange(min=1), default=16, show_default=True, help="reads in flight"
)
@click.option(
    "--section",
    type=click.Choice(["proxy", "index", "all"]),
    default="all",
    show_default=True,
    help="which benchmark to run",
)
def cli(calls: int, concurrency: int, section: str) -> None:
    """Benchmark the RPC proxy (and the index)."""
    console = make_console()
    rows: list[Row] = []
    with user_errors():
        if section in ("proxy", "all"):
            with console.status("starting a local anvil and the proxy…") as status:
                rows += _proxy_rows(calls, concurrency, status.update)
        if section in ("index", "all"):
            rows += _index_rows(calls)
    table = Table(title=f"operations benchmarks ({calls:,} calls each way, loopback)")
    for column in ("figure", "value", "goal", "met"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)
