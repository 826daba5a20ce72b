"""`ape run deploy --network polygon:amoy:node --account <alias>`: deploy (or resume) the core protocol.

Reuses what deployments/<chain_id>.json records and is live, deploys the rest, wires LBC's MINTER_ROLE and
the tier rates, and prints the addresses. On a local network the first test account signs by default.
"""

from __future__ import annotations

import click
from ape import accounts, chain
from ape.cli import ConnectedProviderCommand, account_option, network_option
from rich.table import Table

from link_ops.chains import chain_name, is_local_chain
from link_ops.console import make_console
from link_ops.deploy import deploy_protocol
from link_ops.exceptions import LinkOpsError


@click.command(cls=ConnectedProviderCommand)
@network_option()
@account_option(prompt=False)
@click.option("--admin", default=None, help="address that receives every admin role (default: the account)")
@click.option("--cap", "cap_lbc", type=int, default=None, help="LBC hard cap in whole LBC (default 1e9)")
@click.option("--rates", default=None, help="tier rates in wei/s, comma-separated, 4 values")
@click.option("--no-record", is_flag=True, help="do not read or write deployments/<chain_id>.json")
def cli(account, admin: str | None, cap_lbc: int | None, rates: str | None, no_record: bool) -> None:
    console = make_console()
    if account is None and is_local_chain(chain.chain_id):
        account = accounts.test_accounts[0]
    try:
        tier_rates = [int(r) for r in rates.split(",")] if rates else None
    except ValueError as exc:
        raise click.BadParameter(
            f"--rates takes integers in wei/s, like 11000000000000,23000000000000,…: {exc}"
        ) from None
    try:
        protocol = deploy_protocol(
            account,
            admin=admin,
            lbc_cap=None if cap_lbc is None else cap_lbc * 10**18,
            tier_rates=tier_rates,
            record=not no_record,
            report=lambda line: console.print(f"  {line}"),
        )
    except LinkOpsError as exc:
        raise click.ClickException(str(exc)) from None

    table = Table(title=f"L.I.N.K Protocol on {chain_name(protocol.chain_id)} ({protocol.chain_id})")
    table.add_column("contract")
    table.add_column("address")
    table.add_row("LBCToken", str(protocol.lbc.address))
    table.add_row("OptimizedCubeManagement", str(protocol.cubes.address))
    table.add_row("PartnerFactory", str(protocol.partner_factory.address))
    table.add_row("admin", protocol.admin)
    table.add_row("record", str(protocol.record_file or "not recorded"))
    console.print(table)
    console.print("reused the recorded deployment" if protocol.reused else "deployment complete")
