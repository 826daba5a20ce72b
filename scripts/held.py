"""`ape run held --network ethereum:mainnet:node` lists the transfers held by the bridge on that chain.

A transfer is held when it arrived but could not execute (its route's receive limit used up, say): see
link_ops.bridge.held. `--retry 0x<transfer id>` executes one now (anyone may); `--refund 0x<transfer id>`
sends it back to its sender (only its sender or recipient, as `--account`), and the relayer then delivers
the refund at the source. Bridges are found in deployments/<chain_id>.json ($LINK_OPS_DEPLOYMENTS_DIR).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import click
from ape import chain, project
from rich.table import Table

from link_ops.bridge import held as held_transfers
from link_ops.bridge.connections import without_confirmations
from link_ops.bridge.deploy import load_bridge_side
from link_ops.cli.console import make_console
from link_ops.cli.errors import user_errors
from link_ops.cli.network import RpcCheckedCommand
from link_ops.cli.options import account_option, default_account, network_option, no_confirmations_option
from link_ops.model.chains import chain_by_id
from link_ops.protocol.records import deployments_directory


def _transfer_id(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip().lower()
    digits = text.removeprefix("0x")
    if len(digits) != 64 or any(c not in "0123456789abcdef" for c in digits):
        raise click.BadParameter(
            f"{value!r} is not a transfer id: give the 0x… 32-byte id `ape run held` lists", param=param
        )
    return "0x" + digits


@click.command(cls=RpcCheckedCommand)
@network_option()
@click.option("--retry", "retry_id", callback=_transfer_id, help="execute this held transfer now")
@click.option(
    "--refund", "refund_id", callback=_transfer_id, help="send this held transfer back to its sender"
)
@click.option(
    "--from-block", type=click.IntRange(min=0), help="read holds from this block (default: deployment)"
)
@account_option()
@no_confirmations_option()
def cli(
    account, retry_id: str | None, refund_id: str | None, from_block: int | None, no_confirmations: bool
) -> None:
    """List, retry or refund held bridge transfers."""
    if retry_id and refund_id:
        raise click.UsageError("give --retry or --refund, not both")
    console = make_console()
    with user_errors():
        info = chain_by_id(chain.chain_id)
        side = load_bridge_side(info, deployments_directory(Path(project.path)))
        if retry_id or refund_id:
            sender = default_account(account, local_or_fork=info.is_local)
            if no_confirmations:
                without_confirmations(info)
            wanted = held_transfers.find_held(side, retry_id or refund_id or "", from_block=from_block)
            if retry_id:
                receipt = held_transfers.retry(side, wanted, sender)
                console.print(f"retried {wanted.describe()}: executed in {receipt.txn_hash}")
            else:
                receipt = held_transfers.refund(side, wanted, sender)
                console.print(
                    f"refunded {wanted.describe()}: on its way back in {receipt.txn_hash}; the relayer "
                    "delivers it at the source"
                )
            return
        found = held_transfers.held_transfers(side, from_block=from_block)

    if not found:
        console.print(f"no transfer is held on {info.name}")
        return
    table = Table(title=f"transfers held on {info.name}: retry (anyone) or refund (sender or recipient)")
    table.add_column("transfer id", no_wrap=True)
    table.add_column("what")
    table.add_column("why")
    for h in found:
        amount = (
            f"{Decimal(h.transfer.amount) / 10**18:f}".rstrip("0").rstrip(".") + " LBC"
            if h.asset == "LBC"
            else "cubes " + ", ".join(f"#{i}" for i in h.transfer.cube_ids)
        )
        sender, recipient = _short(h.transfer.sender), _short(h.transfer.recipient)
        what = f"{amount} from {sender} on chain {h.src_chain_id} to {recipient}"
        table.add_row(h.transfer_id, what, h.reason)
    console.print(table)


def _short(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}"
