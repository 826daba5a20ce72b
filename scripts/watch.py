"""`ape run watch --chains polygon,ethereum`: the watchtower.

Follows each chain through its RPC pool (POLYGON_RPC_URL=url1,url2,…), indexes the protocol's events into the
operations store (--db, else $LINK_OPS_DB_URL, else .link_ops/ops.db), runs the intrusion rules on every
block it indexes, measures the RPC nodes and its own API against the performance thresholds, probes the
active partners and evaluates their SLAs, and delivers every alert to the console, a JSON-lines file and
webhooks (retried in the background; nothing is lost or sent twice). It serves the status page, a JSON
API and /metrics on --port (127.0.0.1; --host to change), and shows a live view until Ctrl-C or SIGTERM.

Thresholds, sinks and routing come from --config (YAML, see link_ops.watch.config); --jsonl and --webhook
add sinks. --once indexes every chain up to its head, runs each check once and exits (a cron job, a test).
Needs no ape network: the chains' contracts come from deployments/<chain_id>.json.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from types import FrameType
from typing import Any

import click
from ape import project
from prometheus_client import CollectorRegistry
from rich.console import Console
from rich.live import Live
from rich.table import Table

from link_ops.cli.console import make_console
from link_ops.cli.errors import user_errors
from link_ops.cli.options import chains_option
from link_ops.exceptions import ConfigurationError
from link_ops.index import (
    ChainIndexer,
    IndexMetrics,
    IndexSettings,
    PooledJsonRpc,
    parse_confirmations,
    targets_from_records,
)
from link_ops.model.chains import ChainInfo
from link_ops.protocol.records import deployments_directory
from link_ops.rpc import RpcPool
from link_ops.store import OpsStore
from link_ops.watch.config import WatchConfig
from link_ops.watch.console import alerts_table, render
from link_ops.watch.detector import IntrusionDetector
from link_ops.watch.dispatch import AlertDispatcher
from link_ops.watch.http import StatusSources, WatchServer, index_figures, pool_upstreams
from link_ops.watch.monitor import PerformanceMonitor
from link_ops.watch.partner_sla import PartnerSlas
from link_ops.watch.probes import PartnerProber
from link_ops.watch.rules import RuleSettings, trusted_from_records
from link_ops.watch.service import IndexTask, ProbeJob, SlaJob, Watchtower
from link_ops.watch.sinks import build_sinks


def _pool(info: ChainInfo) -> RpcPool:
    if info.rpc_env is None:
        raise ConfigurationError(
            f"{info.key} is a local chain without an RPC variable: watch a chain link-ops reaches through "
            "one (polygon, ethereum, bsc, amoy, sepolia, bsc-testnet)"
        )
    return RpcPool.from_env(info).start()


def _stop(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _summary(store: OpsStore, tower: Watchtower) -> Table:
    table = Table(title="watchtower")
    for column in ("chain", "indexed", "head", "events", "alerts (open incidents)"):
        table.add_column(column, justify="left" if column == "chain" else "right")
    snapshot = tower.snapshot()
    counts = store.index.event_counts()
    incidents = store.watch.incidents()
    for chain in snapshot["chains"]:
        table.add_row(
            chain["chain"],
            "-" if chain["indexed"] is None else f"{chain['indexed']:,}",
            "-" if chain["head"] is None else f"{chain['head']:,}",
            f"{sum(n for (c, _e), n in counts.items() if c == chain['chain_id']):,}",
            f"{len(store.watch.alerts(limit=10_000))} ({len(incidents)})",
        )
    return table


@click.command()
@chains_option()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="YAML settings: thresholds, sinks and their routing, HTTP (README: Watchtower)",
)
@click.option(
    "--db", default=None, help="the operations store's URL (default: $LINK_OPS_DB_URL, else .link_ops/ops.db)"
)
@click.option("--port", type=click.IntRange(0, 65_535), default=None, help="HTTP port (default 8590; 0: any)")
@click.option("--host", default=None, help="HTTP host (default 127.0.0.1: put a proxy in front)")
@click.option("--jsonl", type=click.Path(path_type=Path), default=None, help="also append alerts here")
@click.option("--webhook", "webhooks", multiple=True, help="also POST alerts to this URL (repeatable)")
@click.option(
    "--confirmations",
    default="",
    help="blocks after which a block is final, by chain: KEY=BLOCKS,… (polygon 128, ethereum 64, bsc 15)",
)
@click.option("--once", is_flag=True, help="index to each chain's head, run every check once, and stop")
@click.option("--no-live", is_flag=True, help="no live view: print alerts as lines (logs, services)")
def cli(
    chains: list[ChainInfo],
    config_path: Path | None,
    db: str | None,
    port: int | None,
    host: str | None,
    jsonl: Path | None,
    webhooks: tuple[str, ...],
    confirmations: str,
    once: bool,
    no_live: bool,
) -> None:
    """Watch the protocol and raise alerts.

    Intrusion rules on every indexed block, the performance monitor, partner SLAs, alerts to the console, a
    file and webhooks, and a status page, a JSON API and /metrics.
    """
    console: Console = make_console()
    with user_errors():
        http: dict[str, Any] = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
        config = WatchConfig.load(config_path, **({"http": http} if http else {}))
        if jsonl is not None or webhooks:  # sinks added to the file's (its webhooks kept)
            sinks = config.sinks.model_dump()
            sinks["jsonl"] = jsonl if jsonl is not None else sinks["jsonl"]
            sinks["webhooks"] = [
                *sinks["webhooks"],
                *({"url": url, "name": f"webhook-{i + 1}"} for i, url in enumerate(webhooks)),
            ]
            config = WatchConfig.build({**config.model_dump(), "sinks": sinks}, source="--jsonl/--webhook")
        index_settings = IndexSettings.build(confirmations=parse_confirmations(confirmations))
        directory = deployments_directory(Path(project.path))
        store = OpsStore(db)
    pools: list[RpcPool] = []
    server: WatchServer | None = None
    dispatcher: AlertDispatcher | None = None
    try:
        with store, user_errors():
            registry = CollectorRegistry(auto_describe=True)
            index_metrics = IndexMetrics()
            tasks = []
            rpcs = {}
            for info in chains:
                pool = _pool(info)
                pools.append(pool)
                rpc = PooledJsonRpc(pool)
                rpcs[info.chain_id] = rpc
                targets = targets_from_records(info, directory, rpc)

                def make(rpc: PooledJsonRpc = rpc, targets: Any = targets) -> ChainIndexer:
                    return ChainIndexer(
                        rpc, targets, store.index, settings=index_settings, metrics=index_metrics
                    )

                task = IndexTask(pool, make)
                task.indexer.check()
                tasks.append(task)
            dispatcher = AlertDispatcher(
                store.watch,
                build_sinks(config.sinks, console=Console(stderr=True)),
                retry=config.sinks.retry.policy(),
                routes=config.sinks.routes(),
                registry=registry,
            ).start()
            # The recorded guardians may pause at once: their pauses are warnings, not pages.
            recorded = trusted_from_records(directory, [info.chain_id for info in chains])
            rules = RuleSettings.build(
                **{**config.rules.model_dump(), "trusted": {**recorded, **config.rules.trusted}}
            )
            slas = PartnerSlas(store, config.sla)
            server = WatchServer(
                StatusSources(
                    store.watch,
                    figures=index_figures(store.index),
                    upstreams=pool_upstreams(pools),
                    standings=slas.standings,
                    sla=store.sla,
                    loop=lambda: tower.snapshot(),
                ),
                registries=[registry, index_metrics.registry, *(p.registry for p in pools)],
                host=config.http.host,
                port=config.http.port,
            ).start()
            console.print(
                f"status page {server.url}/ · API {server.url}/api/status · metrics {server.url}/metrics"
            )
            tower: Watchtower

            monitor = PerformanceMonitor(
                pools,
                config.monitor,
                api_registry=server.registry,
                active_users=store.index.active_addresses,
                tasks=lambda: tower.restartable(),
            )
            tower = Watchtower(
                store,
                tasks,
                dispatcher,
                detector=IntrusionDetector(store.index, rpcs, settings=rules),
                monitor=monitor,
                jobs=[
                    ProbeJob(PartnerProber(store, config.probes), keep=config.sla.lookback),
                    SlaJob(slas, config.sla_interval_s),
                ],
                settings=config.loop,
            )
            signal.signal(signal.SIGINT, _stop)
            signal.signal(signal.SIGTERM, _stop)
            try:
                if once:
                    while tower.step().behind:
                        pass
                elif no_live or not console.is_terminal:
                    tower.run()
                else:
                    with Live(render(tower.snapshot()), console=console, refresh_per_second=2) as live:
                        tower.run(on_step=lambda _report: live.update(render(tower.snapshot())))
            except KeyboardInterrupt:
                console.print("stopped: what was indexed and raised is kept; the next run goes on from there")
            # Give the sinks a moment to hand over what this run raised (the outbox keeps the rest).
            deadline = time.monotonic() + 10
            while dispatcher.pending() and time.monotonic() < deadline:
                time.sleep(0.1)
            console.print(_summary(store, tower))
            recent = tower.snapshot()["recent_alerts"]
            if recent:
                console.print(alerts_table(recent[:20], title="alerts raised in this run"))
    finally:
        if dispatcher is not None:
            dispatcher.stop()
        if server is not None:
            server.close()
        for pool in pools:
            pool.close()
