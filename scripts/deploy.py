"""`ape run deploy --network polygon:mainnet:node --account <alias> --confirm`: deploy or resume the protocol.

Reuses what deployments/<chain_id>.json records and is live, deploys the rest, wires LBC's MINTER_ROLE and
the tier rates, and prints the addresses. On a fork (`--network polygon:mainnet-fork:foundry`) it is a
rehearsal: the same transactions against the forked state, a dry-run summary of their gas and cost in POL at
the upstream's gas price, and no record written. A live network needs `--confirm`. On a local network the
first test account signs by default.
"""

from __future__ import annotations

import click
from ape import chain
from eth_utils import is_address, to_checksum_address
from rich.table import Table

from link_ops.bridge.connections import without_confirmations
from link_ops.cli.console import make_console
from link_ops.cli.errors import user_errors
from link_ops.cli.network import RpcCheckedCommand
from link_ops.cli.options import (
    account_option,
    confirm_option,
    default_account,
    dry_run_gas_price,
    network_option,
    no_confirmations_option,
    real_run_command,
    require_confirm,
)
from link_ops.exceptions import ConfigurationError
from link_ops.governance import GovernanceSettings
from link_ops.model.chains import chain_by_id, chain_name, is_local_chain
from link_ops.protocol.deploy import (
    DEFAULT_TIER_RATES,
    check_core_chain,
    deploy_protocol,
    validate_tier_rates,
)

# The inputs are checked as options, before ape connects (or starts a node): a mistake costs nothing.


def _address(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    if not is_address(value):
        what = {"admin": "the admin", "governance": "the governance Safe", "guardian": "the guardian"}
        raise click.BadParameter(
            f"{value!r} is not an address: give the 0x address of {what.get(param.name or '', 'an account')}"
        )
    return to_checksum_address(value)


def _delay(_ctx: click.Context, _param: click.Parameter, value: int) -> int:
    if value < 60:
        raise click.BadParameter(f"the timelock's delay is in seconds and at least 60, got {value}")
    return value


def _cap(_ctx: click.Context, _param: click.Parameter, value: int | None) -> int | None:
    if value is not None and value <= 0:
        raise click.BadParameter(f"the cap is in whole LBC and must be positive, got {value}")
    return value


def _rates(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple[int, ...] | None:
    if value is None:
        return None
    try:
        return validate_tier_rates([int(r) for r in value.split(",")])
    except ConfigurationError as exc:
        raise click.BadParameter(str(exc)) from None
    except ValueError as exc:
        raise click.BadParameter(f"integers in wei/s, like 11000000000000,23000000000000,…: {exc}") from None


@click.command(cls=RpcCheckedCommand)
@network_option()
@account_option()
@click.option(
    "--admin",
    default=None,
    callback=_address,
    help="hand every role to this address (the default admin role in two steps; default: the account)",
)
@click.option(
    "--governance",
    default=None,
    callback=_address,
    help="govern through this Safe: its timelock becomes every contract's admin (see SECURITY.md)",
)
@click.option("--guardian", default=None, callback=_address, help="with --governance: who may pause at once")
@click.option(
    "--delay",
    type=int,
    default=2 * 86_400,
    show_default=True,
    callback=_delay,
    help="with --governance: the timelock's delay in seconds",
)
@click.option(
    "--keep-setup",
    is_flag=True,
    help="with --governance: leave the timelock's setup open for the bridge (`ape run govern finish-setup`)",
)
@click.option(
    "--cap", "cap_lbc", type=int, default=None, callback=_cap, help="LBC hard cap in whole LBC (default 1e9)"
)
@click.option(
    "--rates",
    default=None,
    callback=_rates,
    help="tier rates in wei/s, 4 comma-separated multiples of 10^12 (default "
    + ",".join(map(str, DEFAULT_TIER_RATES))
    + ")",
)
@click.option("--no-record", is_flag=True, help="do not read or write deployments/<chain_id>.json")
@confirm_option()
@no_confirmations_option()
@click.option(
    "--gas-price-gwei", type=float, default=None, help="price the dry run at this (default: upstream)"
)
def cli(
    account,
    admin: str | None,
    governance: str | None,
    guardian: str | None,
    delay: int,
    keep_setup: bool,
    cap_lbc: int | None,
    rates: tuple[int, ...] | None,
    no_record: bool,
    confirm: bool,
    no_confirmations: bool,
    gas_price_gwei: float | None,
) -> None:
    """Deploy or resume the core on a home chain.

    LBC, CUBE and the partner factory, wired; a fork rehearses, a live network needs --confirm.
    """
    console = make_console()
    ctx = click.get_current_context()
    if governance is not None and admin is not None:
        raise click.UsageError("give --admin or --governance, not both")
    if (governance is None) != (guardian is None):
        raise click.UsageError(
            "--governance and --guardian go together: the Safe governs, the guardian pauses"
        )
    network = chain.provider.network
    on_fork = bool(getattr(network, "is_fork", False))
    live = not on_fork and not is_local_chain(chain.chain_id)
    with user_errors():
        check_core_chain(chain_by_id(chain.chain_id))
    require_confirm(ctx, network, chain_name(chain.chain_id), live=live, confirm=confirm)
    if no_confirmations:
        without_confirmations(chain_by_id(chain.chain_id))
    given_account = account is not None
    account = default_account(account, local_or_fork=on_fork or is_local_chain(chain.chain_id))
    with user_errors():
        protocol = deploy_protocol(
            account,
            admin=admin,
            governance=None
            if governance is None or guardian is None
            else GovernanceSettings(
                safe=governance, guardian=guardian, min_delay=delay, finish=not keep_setup
            ),
            lbc_cap=None if cap_lbc is None else cap_lbc * 10**18,
            tier_rates=rates,
            record=not no_record,
            report=lambda line: console.print(f"  {line}"),
        )

    table = Table(title=f"L.I.N.K Protocol on {chain_name(protocol.chain_id)} ({protocol.chain_id})")
    table.add_column("contract")
    table.add_column("address")
    table.add_row("LBCToken", str(protocol.lbc.address))
    table.add_row("OptimizedCubeManagement", str(protocol.cubes.address))
    table.add_row("PartnerFactory", str(protocol.partner_factory.address))
    table.add_row("admin", f"{protocol.admin} (timelock)" if protocol.governance else protocol.admin)
    table.add_row("record", str(protocol.record_file or "not written"))
    console.print(table)
    if not protocol.dry_run:
        console.print("reused the recorded deployment" if protocol.reused else "deployment complete")
        return

    price, source = dry_run_gas_price(gas_price_gwei, chain.provider.fork_url)
    summary = Table(
        title=f"dry run on a fork of {chain_name(protocol.chain_id)}: nothing was sent or recorded"
    )
    summary.add_column("transaction")
    summary.add_column("gas", justify="right")
    summary.add_column("POL", justify="right")
    for tx in protocol.transactions:
        summary.add_row(tx.step, f"{tx.gas_used:,}", f"{tx.gas_used * price / 10**18:.6f}")
    summary.add_section()
    total = protocol.gas_used
    summary.add_row(
        f"total ({len(protocol.transactions)} transactions)", f"{total:,}", f"{total * price / 1e18:.6f}"
    )
    console.print(summary)
    again = real_run_command(ctx, network, account_given=given_account)
    console.print(f"priced at {price / 10**9:.2f} gwei ({source}); deploy for real with:")
    console.print(again, markup=False, highlight=False, soft_wrap=True)
