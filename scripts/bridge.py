"""`ape run bridge --network polygon:mainnet:node --to ethereum --asset LBC --amount 25 --account <alias>`.

Sends LBC or cubes from the `--network` chain to the `--to` chain; the destination is reached through its
RPC variable (ETHEREUM_RPC_URL, BSC_RPC_URL, POLYGON_RPC_URL, …) and both bridges are found in
deployments/<chain_id>.json ($LINK_OPS_DEPLOYMENTS_DIR). Everything is checked before anything is sent
(route, pause, balance, send limit, each cube's holder). The message then waits for the relayer
(`ape run relayer`). `--amount` is in LBC (decimals allowed) or, for CUBE, cube ids: `--amount 7,8`.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path

import click
from ape import chain, project
from rich.table import Table

from link_ops.bridge.client import CrossChainBridge
from link_ops.bridge.connections import connections_from_env
from link_ops.bridge.deploy import load_bridge_side
from link_ops.cli.console import make_console
from link_ops.cli.errors import user_errors
from link_ops.cli.network import RpcCheckedCommand
from link_ops.cli.options import account_option, default_account, network_option, no_confirmations_option
from link_ops.model.chains import chain_by_id, chain_by_key
from link_ops.protocol.records import deployments_directory


def _amount(asset: str, text: str) -> int | list[int]:
    try:
        if asset.upper() == "CUBE":
            return [int(part) for part in text.split(",") if part.strip()]
        wei = Decimal(text) * 10**18
    except (InvalidOperation, ValueError):
        raise click.BadParameter(
            f"{text!r}: give LBC as a number (e.g. 25 or 0.5), cubes as ids (e.g. 7,8)", param_hint="--amount"
        ) from None
    if wei != wei.to_integral_value():
        raise click.BadParameter(f"{text!r} LBC has more than 18 decimals", param_hint="--amount")
    return int(wei)


@click.command(cls=RpcCheckedCommand)
@network_option()
@click.option(
    "--to", "to_chain", required=True, help="the destination chain: polygon, ethereum, bsc, amoy, …"
)
@click.option(
    "--asset", required=True, type=click.Choice(["LBC", "CUBE"], case_sensitive=False), help="what to send"
)
@click.option("--amount", required=True, help="LBC (e.g. 25.5) or cube ids (e.g. 7,8)")
@account_option()
@no_confirmations_option()
def cli(account, to_chain: str, asset: str, amount: str, no_confirmations: bool) -> None:
    """Send LBC or cubes to another chain.

    The relayer (`ape run relayer`) delivers the message on the destination.
    """
    console = make_console()
    with user_errors():
        src = chain_by_id(chain.chain_id)
        dst = chain_by_key(to_chain)
        value = _amount(asset, amount)
        user = default_account(account, local_or_fork=False)
        connections = connections_from_env(
            [src.key, dst.key],
            wait_for_confirmations=not no_confirmations,
            connected={src.key: chain.provider},
        )
        directory = deployments_directory(Path(project.path))
        sides = []
        for info in (src, dst):
            with connections.on(info.key):
                sides.append(load_bridge_side(info, directory))
        receipt = CrossChainBridge(sides, connections).bridge_assets(src, dst, asset, value, user)

    table = Table(title=f"sent {receipt.asset_type} from {src.name} to {dst.name}: waiting for the relayer")
    table.add_column("field")
    table.add_column("value")
    shown = (
        f"{(Decimal(receipt.amount) / 10**18).normalize():f} LBC"
        if receipt.asset_type == "LBC"
        else ", ".join(f"#{i}" for i in receipt.cube_ids)
    )
    for name, val in (
        ("message id", receipt.message_id),
        ("amount", shown),
        ("to", receipt.user_address),
        ("transaction", receipt.tx_hash),
        ("gas used", f"{receipt.gas_used:,}"),
        ("nonce", str(receipt.message.nonce)),
    ):
        table.add_row(name, val)
    console.print(table)
