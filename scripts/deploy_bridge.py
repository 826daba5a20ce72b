"""`ape run deploy_bridge --network polygon:amoy:node --account <alias> --signers 0x…,0x… --threshold 2`

Deploys the bridge side of the `--network` chain (home: a lockbox for LBC and a cube bridge beside the
recorded protocol; a remote chain: its LBC token, LBC bridge and remote cube collection), or resumes the
one recorded in deployments/<chain_id>.json, and wires it toward its route partners whose sides are
recorded there (`--peers` to choose). Run it on each chain of a route, in either order, then once more on
the first: a route works once both sides trust each other. Same rules as `ape run deploy`: a fork
rehearses (nothing recorded, the gas priced), a live network needs --confirm, local chains sign with TEST::0.
"""

from __future__ import annotations

from pathlib import Path

import click
from ape import chain, project
from eth_utils.address import is_address, to_checksum_address
from rich.table import Table

from link_ops.bridge.connections import without_confirmations
from link_ops.bridge.deploy import DEFAULT_DAILY_LIMIT, DEFAULT_REMOTE_CAP
from link_ops.bridge.rollout import deploy_side
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
from link_ops.governance import GovernanceSettings
from link_ops.model.chains import chain_by_id, chain_by_key, is_local_chain
from link_ops.protocol.deploy import load_protocol
from link_ops.protocol.records import deployments_directory

LBC = 10**18


def _address(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    if not is_address(value):
        raise click.BadParameter(f"{value!r} is not an address: give the 0x address of the {param.name}")
    return to_checksum_address(value)


def _keys(text: str | None) -> list[str] | None:
    return None if text is None else [part.strip() for part in text.split(",") if part.strip()]


@click.command(cls=RpcCheckedCommand)
@network_option()
@account_option()
@click.option("--signers", default=None, help="a new messenger's signer addresses, comma-separated")
@click.option("--threshold", type=int, default=None, help="how many signers must attest a message")
@click.option(
    "--peers", default=None, help="route partners to wire toward, by key (default: every recorded one)"
)
@click.option(
    "--daily-limit",
    type=int,
    default=DEFAULT_DAILY_LIMIT // LBC,
    show_default=True,
    help="each route's LBC send and receive limits (refilling per day), in whole LBC",
)
@click.option(
    "--governance",
    default=None,
    callback=_address,
    help="govern through this Safe's timelock (its setup stays open: `ape run govern finish-setup`)",
)
@click.option("--guardian", default=None, callback=_address, help="with --governance: who may pause at once")
@click.option(
    "--delay",
    type=click.IntRange(min=60),
    default=2 * 86_400,
    show_default=True,
    help="with --governance: the timelock's delay in seconds, once its setup is finished",
)
@click.option(
    "--remote-cap",
    type=int,
    default=DEFAULT_REMOTE_CAP // LBC,
    show_default=True,
    help="on a remote chain, its LBC token's cap, in whole LBC",
)
@confirm_option()
@no_confirmations_option()
@click.option(
    "--gas-price-gwei", type=float, default=None, help="price the dry run at this (default: upstream)"
)
def cli(
    account,
    signers: str | None,
    threshold: int | None,
    peers: str | None,
    daily_limit: int,
    governance: str | None,
    guardian: str | None,
    delay: int,
    remote_cap: int,
    confirm: bool,
    no_confirmations: bool,
    gas_price_gwei: float | None,
) -> None:
    """Deploy and wire the bridge on one chain.

    Run it on each chain of a route; a fork rehearses, a live network needs --confirm.
    """
    console = make_console()
    ctx = click.get_current_context()
    if (governance is None) != (guardian is None):
        raise click.UsageError(
            "--governance and --guardian go together: the Safe governs, the guardian pauses"
        )
    network = chain.provider.network
    on_fork = bool(getattr(network, "is_fork", False))
    live = not on_fork and not is_local_chain(chain.chain_id)
    with user_errors():
        info = chain_by_id(chain.chain_id)
        peer_infos = None if peers is None else [chain_by_key(k) for k in _keys(peers) or []]
    require_confirm(ctx, network, info.name, live=live, confirm=confirm)
    given_account = account is not None
    sender = default_account(account, local_or_fork=not live)
    directory = deployments_directory(Path(project.path))
    if no_confirmations:
        without_confirmations(info)
    start_nonce = int(sender.nonce)
    with user_errors():
        protocol = load_protocol(deployments_dir=directory) if info.is_home else None
        result = deploy_side(
            sender,
            info,
            deployments_dir=directory,
            signers=_keys(signers),
            threshold=threshold,
            peers=peer_infos,
            lbc=protocol.lbc if protocol else None,
            cubes=protocol.cubes if protocol else None,
            remote_cap=remote_cap * LBC,
            governance=None
            if governance is None or guardian is None
            else GovernanceSettings(safe=governance, guardian=guardian, min_delay=delay, finish=False),
            send_limit=daily_limit * LBC,
            receive_limit=daily_limit * LBC,
            dry_run=on_fork,
            report=lambda line: console.print(f"  {line}"),
        )

    side = result.side
    table = Table(title=f"bridge on {info.name} ({info.chain_id})")
    table.add_column("contract")
    table.add_column("address")
    for name, address in side.addresses().items():
        table.add_row(name, address)
    table.add_row("record", str(result.record_file or "not written (rehearsal)"))
    console.print(table)
    sent = int(sender.nonce) - start_nonce
    console.print(
        ("reused the recorded side; " if result.reused else "deployed; ")
        + (f"{len(result.wired)} wiring transaction(s)" if result.wired else "wiring already in place")
        + f"; {sent} transaction(s) sent"
    )
    if not on_fork:
        return
    price, _source = dry_run_gas_price(gas_price_gwei, chain.provider.fork_url)
    gas = sum(int(r.gas_used) for r in chain.history[sender.address].sessional if r.nonce >= start_nonce)
    console.print(
        f"dry run on a fork of {info.name}: nothing was recorded; {sent} transactions, {gas:,} gas, "
        f"{gas * price / 10**18:.6f} at {price / 10**9:.2f} gwei"
    )
    again = real_run_command(ctx, network, account_given=given_account)
    console.print("deploy for real with:")
    console.print(again, markup=False, highlight=False, soft_wrap=True)
