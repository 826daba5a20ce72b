"""`ape run relayer --chains polygon,ethereum --account <alias>`: deliver the bridge's messages, exactly once.

Signer keys come from $LINK_OPS_SIGNER_KEYS (comma-separated hex private keys, at least the threshold).
Cursors and messages live in the operations store ($LINK_OPS_DB_URL, default .link_ops/ops.db), so a relayer
killed at any point and started again delivers every message once. Shows a live status table. A chain whose
RPC variable lists several URLs (POLYGON_RPC_URL=url1,url2,url3) is reached through an RPC pool of them;
--metrics-port serves the relayer's and the pools' metrics.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from ape import project
from rich.live import Live
from rich.table import Table

from link_ops.bridge.connections import connections_from_env
from link_ops.bridge.deploy import load_bridge_side
from link_ops.bridge.relayer import Relayer, RelayerMetrics, RoundReport
from link_ops.cli.console import make_console
from link_ops.cli.errors import user_errors
from link_ops.cli.options import (
    account_option,
    chains_option,
    default_account,
    metrics_port_option,
    no_confirmations_option,
)
from link_ops.exceptions import ConfigurationError
from link_ops.metrics import MetricsServer, serve_metrics
from link_ops.model.chains import ChainInfo
from link_ops.protocol.records import deployments_directory
from link_ops.store import OpsStore

SIGNER_KEYS_ENV = "LINK_OPS_SIGNER_KEYS"


def _status(relayer: Relayer, store: OpsStore, report: RoundReport, rounds: int) -> Table:
    table = Table(title=f"relayer: round {rounds}")
    for col in ("chain", "head", "next block to read", "pending to it", "delivered to it"):
        table.add_column(col, justify="left" if col == "chain" else "right")
    messages = store.relayer.list_messages()
    for side in relayer.sides.values():
        cursor = store.relayer.relayer_cursor(side.chain.chain_id, str(side.messenger.address))
        to_it = [m for m in messages if m.dst_chain_id == side.chain.chain_id]
        table.add_row(
            side.chain.name,
            str(report.heads.get(side.chain.key, "?")),
            str(cursor),
            str(sum(m.status == "pending" for m in to_it)),
            str(sum(m.status == "delivered" for m in to_it)),
        )
    for message_id, error in report.failed.items():
        table.add_row(f"[yellow]{message_id[:12]}… waits", error, "", "", "")
    return table


@click.command()
@chains_option()
@account_option()
@click.option("--interval", default=2.0, show_default=True, help="seconds between rounds")
@click.option("--rounds", type=int, default=None, help="stop after this many rounds (default: run on)")
@no_confirmations_option()
@metrics_port_option()
def cli(
    chains: list[ChainInfo],
    account,
    interval: float,
    rounds: int | None,
    no_confirmations: bool,
    metrics_port: int | None,
) -> None:
    """Deliver bridge messages, each exactly once.

    Reads what each chain sent and delivers it, attested, on its destination; the account pays.
    """
    console = make_console()
    with user_errors():
        keys = [k.strip() for k in os.environ.get(SIGNER_KEYS_ENV, "").split(",") if k.strip()]
        if not keys:
            raise ConfigurationError(
                f"{SIGNER_KEYS_ENV} is not set: give the signers' private keys, comma-separated (hex)"
            )
        payer = default_account(account, local_or_fork=False)
        connections = connections_from_env(
            [i.key for i in chains], wait_for_confirmations=not no_confirmations
        )
        directory = deployments_directory(Path(project.path))
        sides = []
        for info in chains:
            with connections.on(info.key):
                sides.append(load_bridge_side(info, directory))
        store = OpsStore()
        metrics = RelayerMetrics()
        server: MetricsServer | None = None
        if metrics_port is not None:
            pools = [pool.registry for pool in connections.pools.values()]
            server = serve_metrics([metrics.registry, *pools], metrics_port)
            console.print(f"metrics: {server.url}")

    try:
        with store:
            relayer = Relayer(sides, connections, keys, store, payer, metrics=metrics)
            done = 0
            with Live(console=console, auto_refresh=False) as live:

                def show(report: RoundReport) -> None:
                    nonlocal done
                    done += 1
                    live.update(_status(relayer, store, report, done), refresh=True)

                relayer.run(interval=interval, rounds=rounds, on_round=show)
    finally:
        if server is not None:
            server.close()
        connections.close()
