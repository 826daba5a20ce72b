"""`ape run bridge --from polygon --to ethereum --asset LBC --amount 25 --account <alias>`: send LBC or cubes.

Reaches each chain through its RPC variable (POLYGON_RPC_URL, ETHEREUM_RPC_URL, BSC_RPC_URL, …) and finds the
bridge in deployments/<chain_id>.json ($LINK_OPS_DEPLOYMENTS_DIR). The message then waits for the relayer
(`ape run relayer`). `--amount` is in LBC (decimals allowed) or, for CUBE, cube ids: `--amount 7,8`.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path

import click
from ape import accounts, project
from rich.table import Table

from link_ops.bridge.client import CrossChainBridge
from link_ops.bridge.connections import connections_from_env
from link_ops.bridge.deploy import load_bridge_side
from link_ops.cli.console import make_console
from link_ops.exceptions import LinkOpsError
from link_ops.model.chains import chain_by_key
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


@click.command()
@click.option("--from", "from_chain", required=True, help="source chain: polygon, ethereum, bsc, amoy, …")
@click.option("--to", "to_chain", required=True, help="destination chain")
@click.option("--asset", required=True, help="LBC or CUBE")
@click.option("--amount", required=True, help="LBC (e.g. 25.5) or cube ids (e.g. 7,8)")
@click.option("--account", "alias", required=True, help="ape account alias, or TEST::<n> on stand-ins")
@click.option("--no-confirmations", is_flag=True, help="do not wait for confirmations (local stand-ins)")
def cli(from_chain: str, to_chain: str, asset: str, amount: str, alias: str, no_confirmations: bool) -> None:
    console = make_console()
    try:
        src, dst = chain_by_key(from_chain), chain_by_key(to_chain)
        value = _amount(asset, amount)
        user = accounts.test_accounts[int(alias[6:])] if alias.startswith("TEST::") else accounts.load(alias)
        connections = connections_from_env([src.key, dst.key], wait_for_confirmations=not no_confirmations)
        directory = deployments_directory(Path(project.path))
        sides = []
        for info in (src, dst):
            with connections.on(info.key):
                sides.append(load_bridge_side(info, directory))
        receipt = CrossChainBridge(sides, connections).bridge_assets(src, dst, asset, value, user)
    except LinkOpsError as exc:
        raise click.ClickException(str(exc)) from None

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
