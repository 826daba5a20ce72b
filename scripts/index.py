"""`ape run index --chains polygon,ethereum`: the protocol's events on each chain, into the operations store.

Reads the contracts of each chain from deployments/<chain_id>.json ($LINK_OPS_DEPLOYMENTS_DIR) and the chain
through its RPC variable (POLYGON_RPC_URL, ETHEREUM_RPC_URL, …), and keeps the events in the operations
store (--db, else $LINK_OPS_DB_URL, else .link_ops/ops.db), reorganisations rolled back (link_ops.index).
Follows the chains until Ctrl-C (or SIGTERM); --once stops at the heads. A run killed anywhere resumes where
it stopped.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from types import FrameType

import click
from ape import project
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from link_ops.cli.console import make_console
from link_ops.cli.errors import user_errors
from link_ops.cli.options import chains_option, metrics_port_option
from link_ops.exceptions import ConfigurationError
from link_ops.index import (
    BatchReport,
    ChainIndexer,
    Indexer,
    IndexMetrics,
    IndexRpcError,
    IndexSettings,
    PooledJsonRpc,
    RoundReport,
    parse_confirmations,
    targets_from_records,
)
from link_ops.metrics import MetricsServer, serve_metrics
from link_ops.model.chains import ChainInfo
from link_ops.protocol.records import deployments_directory
from link_ops.rpc import RpcPool
from link_ops.store import OpsStore


def _pool(info: ChainInfo) -> RpcPool:
    """The RPC pool of the URLs in `info`'s variable, checked once (the checks then run in the background)."""
    if info.rpc_env is None:
        raise ConfigurationError(
            f"{info.key} is a local chain without an RPC variable: index a chain link-ops reaches through "
            "one (polygon, ethereum, bsc, amoy, sepolia, bsc-testnet)"
        )
    return RpcPool.from_env(info).start()


class _Shown:
    """The progress bars, one per chain: blocks done of the chain's range, blocks to go, events per second."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}
        self.began = time.monotonic()
        self.events: dict[str, int] = {}

    def batch(self, report: BatchReport) -> None:
        now = time.monotonic()
        self.events[report.chain] = events = self.events.get(report.chain, 0) + report.events
        rate = events / (now - self.began) if now > self.began else 0.0
        total = report.head - report.start_block + 1
        done = report.last_block - report.start_block + 1
        if report.chain not in self.tasks:
            self.tasks[report.chain] = self.progress.add_task(report.chain, total=total, to_go=0, rate=0.0)
        self.progress.update(
            self.tasks[report.chain],
            total=total,
            completed=done,
            to_go=report.head - report.last_block,
            rate=rate,
        )


def _summary(store: OpsStore, indexer: Indexer, heads: dict[str, int]) -> Table:
    table = Table(title="event index")
    for column in ("chain", "indexed up to", "head", "events", "claims", "partners", "in flight from it"):
        table.add_column(column, justify="left" if column == "chain" else "right")
    counts = store.index.event_counts()
    in_flight = store.index.bridge_in_flight()
    for chain_indexer in indexer.chains:
        info = chain_indexer.chain
        cursor = store.index.cursor(info.chain_id)
        table.add_row(
            info.name,
            "-" if cursor is None else f"{cursor.last_block:,}",
            f"{heads[info.key]:,}" if info.key in heads else "?",
            f"{sum(n for (c, _e), n in counts.items() if c == info.chain_id):,}",
            f"{len(store.index.claims(info.chain_id)):,}",
            f"{len(store.index.partners(info.chain_id)):,}",
            f"{sum(t.src_chain_id == info.chain_id for t in in_flight):,}",
        )
    return table


def _stop(_signum: int, _frame: FrameType | None) -> None:
    # ape answers Ctrl-C with sys.exit(130) wherever the process is; a stop here is a KeyboardInterrupt that
    # the command catches, after the batch being written is rolled back or committed whole.
    raise KeyboardInterrupt


@click.command()
@chains_option()
@click.option(
    "--once", is_flag=True, help="index up to each chain's head, then stop (default: follow the chains)"
)
@click.option(
    "--from-block",
    type=click.IntRange(min=0),
    default=None,
    help="begin a new index at this block on every chain given (default: the contracts' deployment block)",
)
@click.option(
    "--db", default=None, help="the operations store's URL (default: $LINK_OPS_DB_URL, else .link_ops/ops.db)"
)
@click.option(
    "--confirmations",
    default="",
    help="blocks after which a block is final, by chain: KEY=BLOCKS,… (polygon 128, ethereum 64, bsc 15)",
)
@click.option(
    "--max-range",
    type=click.IntRange(min=1),
    default=None,
    help="at most this many blocks per eth_getLogs (and batch)",
)
@click.option(
    "--interval", type=click.FloatRange(min=0), default=2.0, show_default=True, help="seconds between rounds"
)
@metrics_port_option()
@click.option("--reset", is_flag=True, help="forget what is indexed of these chains and index them again")
def cli(
    chains: list[ChainInfo],
    once: bool,
    from_block: int | None,
    db: str | None,
    confirmations: str,
    max_range: int | None,
    interval: float,
    metrics_port: int | None,
    reset: bool,
) -> None:
    """Index the protocol's events into the store.

    Cubes, LBC, partners and the bridge on each chain, reorganisations followed, into the operations store.
    """
    console: Console = make_console()
    with user_errors():
        bounds = {} if max_range is None else {"max_range": max_range, "initial_range": min(500, max_range)}
        settings = IndexSettings.build(confirmations=parse_confirmations(confirmations), **bounds)
        directory = deployments_directory(Path(project.path))
        store = OpsStore(db)
    pools: list[RpcPool] = []
    server: MetricsServer | None = None
    try:
        with store, user_errors():
            metrics = IndexMetrics()
            chain_indexers = []
            for info in chains:
                pools.append(_pool(info))
                rpc = PooledJsonRpc(pools[-1])
                targets = targets_from_records(info, directory, rpc)
                if reset:
                    store.index.reset(info.chain_id)
                chain_indexers.append(
                    ChainIndexer(
                        rpc, targets, store.index, settings=settings, metrics=metrics, from_block=from_block
                    )
                )
            indexer = Indexer(chain_indexers)
            indexer.check()
            if metrics_port is not None:
                server = serve_metrics([metrics.registry, *(pool.registry for pool in pools)], metrics_port)
                console.print(f"metrics on {server.url}")

            heads: dict[str, int] = {}
            progress = Progress(
                TextColumn("{task.description:<10}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("blocks, {task.fields[to_go]:,} to go, {task.fields[rate]:,.0f} events/s"),
                console=console,
            )
            shown = _Shown(progress)

            def on_batch(report: BatchReport) -> None:
                heads[report.chain] = report.head
                shown.batch(report)

            def on_round(reports: list[RoundReport]) -> None:
                for report in reports:
                    heads[report.chain] = report.head
                    for rollback in report.rollbacks:
                        fork = "the start" if rollback.to_block is None else f"block {rollback.to_block:,}"
                        progress.console.print(
                            f"[yellow]{report.chain}: reorganised, {rollback.depth} block(s) above {fork} "
                            f"read again ({rollback.events_deleted} event(s) forgotten)"
                        )

            def on_error(chain_indexer: ChainIndexer, exc: IndexRpcError) -> None:
                progress.console.print(f"[yellow]{chain_indexer.chain.key}: {exc} (trying again next round)")

            signal.signal(signal.SIGINT, _stop)
            signal.signal(signal.SIGTERM, _stop)
            try:
                with progress:
                    if once:
                        on_round(indexer.catch_up(on_batch=on_batch))
                    else:
                        indexer.run(
                            interval=interval, on_batch=on_batch, on_round=on_round, on_error=on_error
                        )
            except KeyboardInterrupt:
                console.print("stopped: every batch written is kept, the next run goes on from there")
            console.print(_summary(store, indexer, heads))
    finally:
        if server is not None:
            server.close()
        for pool in pools:
            pool.close()
