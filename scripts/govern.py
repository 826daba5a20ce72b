"""`ape run govern propose|pending|execute|cancel`: protocol changes go through the Safe and the timelock.

The Safe's owners sign a proposal (`--signer`, one per owner, at least the Safe's threshold), any account
sends it (`--account`, it pays the gas), and the timelock holds it for its delay; then anyone executes it.
The timelock and the Safe are those recorded in deployments/<chain_id>.json as LinkTimelock and
GovernanceSafe, or given with --timelock and --safe. Every command checks what it can before signing or
sending, and `--dry-run` stops after simulating (on a local chain or fork, it also lists the events the
transaction would emit). A live network needs `--confirm` to send.

    ape run govern propose OptimizedCubeManagement setTierRate 1 23e12 --signer alice --signer bob
    ape run govern pending
    ape run govern execute 0x1a2b3c4d
    ape run govern cancel 0x1a2b3c4d --signer alice --signer bob
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from ape import chain
from eth_utils import is_address, to_checksum_address
from rich.table import Table

from link_ops.cli.console import make_console
from link_ops.cli.errors import user_errors
from link_ops.cli.network import RpcCheckedCommand
from link_ops.cli.options import (
    AccountChoice,
    account_option,
    confirm_option,
    default_account,
    network_option,
)
from link_ops.exceptions import ConfigurationError
from link_ops.governance import (
    Governance,
    GovernanceResult,
    build_call,
    cancel,
    execute,
    finish_chain_setup,
    load_governance,
    operations,
    propose,
)
from link_ops.governance.timelock import call_parts, duration, when
from link_ops.model.chains import chain_name, is_local_chain
from link_ops.model.governance import ZERO_ADDRESS, ZERO_BYTES32, salt_from_text

#: Who a dry run on a live network simulates an execution from when no --account is given: anyone (the
#: zero address) may execute where execution is open.
ANYONE = ZERO_ADDRESS

#: How much of an operation id `pending` shows ("0x" and 10 hex digits), unless --full-ids.
SHORT_ID = 12

# Inputs are checked as options, before ape connects: a mistake costs nothing.


def _address(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    if not is_address(value):
        raise click.BadParameter(f"{value!r} is not an address: give 0x and 40 hex digits")
    return to_checksum_address(value)


def _bytes32(_ctx: click.Context, _param: click.Parameter, value: str | None) -> bytes:
    if value is None:
        return ZERO_BYTES32
    try:
        return salt_from_text(value)
    except ConfigurationError as exc:
        raise click.BadParameter(str(exc)) from None


def _predecessor(_ctx: click.Context, _param: click.Parameter, value: str | None) -> bytes:
    if value is None:
        return ZERO_BYTES32
    raw = value[2:] if value.startswith(("0x", "0X")) else ""
    if len(raw) != 64:
        raise click.BadParameter(f"{value!r} is not an operation id: give 0x and its 64 hex digits")
    try:
        return bytes.fromhex(raw)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an operation id: give 0x and its 64 hex digits") from None


def _calldata(_ctx: click.Context, _param: click.Parameter, value: str | None) -> bytes | None:
    if value is None:
        return None
    try:
        if not value.startswith(("0x", "0X")):
            raise ValueError
        return bytes.fromhex(value[2:])
    except ValueError:
        raise click.BadParameter(f"{value!r} is not calldata: give 0x and hex digits") from None


def _delay(_ctx: click.Context, _param: click.Parameter, value: int | None) -> int | None:
    if value is not None and value < 0:
        raise click.BadParameter(f"the delay is in seconds and cannot be negative, got {value}")
    return value


def governance_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--network, --account, --timelock, --safe, --from-block: where the governance is and who sends."""
    for option in reversed(
        [
            network_option(),
            account_option(),
            click.option(
                "--timelock",
                default=None,
                callback=_address,
                help="the timelock (default: LinkTimelock in deployments/<chain_id>.json)",
            ),
            click.option(
                "--safe",
                default=None,
                callback=_address,
                help="the Safe that proposes (default: GovernanceSafe in deployments/<chain_id>.json)",
            ),
            click.option(
                "--from-block",
                type=click.IntRange(min=0),
                default=None,
                help="read the timelock's events from this block (default: its recorded deployment block)",
            ),
        ]
    ):
        command = option(command)
    return command


def signer_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--signer",
        "signers",
        multiple=True,
        type=AccountChoice(prompt_message=None),
        help="a Safe owner who signs: an alias of `ape accounts list` or TEST::<n>; repeat for each owner",
    )(command)


def dry_run_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--dry-run",
        is_flag=True,
        help="simulate only: say what would change (or why it would revert) and send nothing",
    )(command)


@click.group()
def cli() -> None:
    """Govern through the Safe and the timelock.

    The Safe proposes, the timelock waits, anyone executes; each sending command takes --dry-run.
    """


def _context(
    account: Any,
    timelock: str | None,
    safe: str | None,
    from_block: int | None,
    *,
    sends: bool,
    confirm: bool,
    stand_in: Any = None,
) -> tuple[Governance, Any]:
    """The governance, and who sends: `account`, else on a local chain or fork the first test account;
    on a live network a dry run (which sends nothing) simulates from `stand_in` (the first signer, or
    anyone), and a real run needs --account and --confirm."""
    network = chain.provider.network
    on_fork = bool(getattr(network, "is_fork", False))
    local = is_local_chain(chain.chain_id)
    if sends and not (local or on_fork) and not confirm:
        raise click.ClickException(
            f"{network.choice} is a live network ({chain_name(chain.chain_id)}): this sends a transaction. "
            "Try it with --dry-run first, then run again with --confirm."
        )
    if account is None and not sends and not (local or on_fork):
        sender = stand_in
    else:
        sender = default_account(account, local_or_fork=local or on_fork)
    with user_errors():
        governance = load_governance(timelock=timelock, safe=safe, from_block=from_block)
    return governance, sender


def _signed_context(
    account: Any,
    timelock: str | None,
    safe: str | None,
    from_block: int | None,
    signers: tuple[Any, ...],
    dry_run: bool,
    confirm: bool,
) -> tuple[Governance, Any]:
    """:func:`_context` for a command the Safe's owners sign (`signers`: at least one is required)."""
    if not signers:
        raise click.UsageError(
            "give the Safe owners who sign: --signer <alias> for each (at least the threshold)"
        )
    return _context(
        account, timelock, safe, from_block, sends=not dry_run, confirm=confirm, stand_in=signers[0]
    )


def _show(result: GovernanceResult) -> None:
    console = make_console()
    title = "dry run: nothing was sent" if result.dry_run else "done"
    console.print(f"[bold]{result.action}[/bold] ({title})")
    for line in result.changes:
        console.print(f"  {line}", markup=False, highlight=False)
    console.print(f"  operation id: 0x{result.operation_id.hex()}", markup=False, highlight=False)
    if result.eta is not None:
        estimated = " (estimated)" if result.dry_run else ""
        console.print(f"  executable from {when(result.eta)}{estimated}", markup=False, highlight=False)
    if result.receipt is not None:
        console.print(
            f"  transaction {result.receipt.txn_hash}, gas {result.receipt.gas_used:,}", markup=False
        )
    if result.simulation is not None:
        console.print(f"  would use about {result.simulation.gas or 0:,} gas", markup=False)
        if result.simulation.previewed:
            console.print("  events it would emit:")
            for event in result.simulation.events:
                console.print(f"    {event}", markup=False, highlight=False)


@cli.command("propose", cls=RpcCheckedCommand)
@governance_options
@click.argument("target")
@click.argument("function", required=False)
@click.argument("args", nargs=-1)
@click.option(
    "--data", default=None, callback=_calldata, help="raw calldata instead of a function and arguments"
)
@click.option("--value", type=click.IntRange(min=0), default=0, help="wei the timelock sends with the call")
@signer_option
@click.option(
    "--delay", type=int, default=None, callback=_delay, help="seconds (default: the timelock's minimum)"
)
@click.option(
    "--salt",
    default=None,
    callback=_bytes32,
    help="tells apart identical proposals: 0x and 64 hex digits, or any text (hashed)",
)
@click.option(
    "--predecessor", default=None, callback=_predecessor, help="an operation id that must execute first"
)
@dry_run_option
@confirm_option()
def propose_cmd(
    account: Any,
    timelock: str | None,
    safe: str | None,
    from_block: int | None,
    target: str,
    function: str | None,
    args: tuple[str, ...],
    data: bytes | None,
    value: int,
    signers: tuple[Any, ...],
    delay: int | None,
    salt: bytes,
    predecessor: bytes,
    dry_run: bool,
    confirm: bool,
) -> None:
    """Schedule a call on the timelock, through the Safe.

    TARGET is a 0x address or a recorded contract name (OptimizedCubeManagement); FUNCTION a signature
    like 'setTierRate(uint8,uint256)' or, for a contract link_ops knows, just its name; then its ARGS.
    """
    governance, sender = _signed_context(account, timelock, safe, from_block, signers, dry_run, confirm)
    with user_errors():
        call = build_call(governance, target, function, list(args), data=data, value=value)
        result = propose(
            governance,
            [call],
            list(signers),
            sender=sender,
            delay=delay,
            salt=salt,
            predecessor=predecessor,
            dry_run=dry_run,
        )
    _show(result)


@cli.command("pending", cls=RpcCheckedCommand)
@governance_options
@click.option("--all", "show_all", is_flag=True, help="also list executed and cancelled operations")
@click.option(
    "--full-ids", is_flag=True, help="show whole operation ids (execute and cancel take the short ones)"
)
def pending_cmd(
    account: Any,
    timelock: str | None,
    safe: str | None,
    from_block: int | None,
    show_all: bool,
    full_ids: bool,
) -> None:
    """List the timelock's pending operations.

    Each with its id, target, call, ETA and state; --all adds the executed and cancelled ones. Ids are
    shortened to their first 10 hex digits, which execute and cancel accept (--full-ids shows them whole).
    """
    governance, _sender = _context(
        account, timelock, safe, from_block, sends=False, confirm=False, stand_in=ANYONE
    )
    with user_errors():
        found = [op for op in operations(governance) if show_all or op.pending]
        now = int(chain.blocks.head.timestamp)
    console = make_console()
    which = "operations" if show_all else "pending operations"
    table = Table(title=f"{which} of the timelock {governance.address} on {chain_name(chain.chain_id)}")
    table.add_column("id", no_wrap=True)
    for column in ("target", "call", "ETA", "state"):
        table.add_column(column)
    for op in found:
        for index, call in enumerate(op.operation.calls):
            name, text = call_parts(governance, call)
            first = index == 0
            eta = ""
            if first and op.eta is not None:
                eta = when(op.eta) + (f" (in {duration(op.eta - now)})" if op.eta > now else " (ready)")
            table.add_row(
                (op.id_hex if full_ids else op.id_hex[:SHORT_ID]) if first else "",
                name,
                text,
                eta,
                op.status if first else "",
            )
    console.print(table)
    if not found:
        console.print(f"no {which}")


@cli.command("execute", cls=RpcCheckedCommand)
@governance_options
@click.argument("operation_id")
@dry_run_option
@confirm_option()
def execute_cmd(
    account: Any,
    timelock: str | None,
    safe: str | None,
    from_block: int | None,
    operation_id: str,
    dry_run: bool,
    confirm: bool,
) -> None:
    """Execute a ready operation.

    OPERATION_ID as `pending` shows it, or its first digits. Anyone may execute once the delay has passed
    (unless the timelock names its executors).
    """
    governance, sender = _context(
        account, timelock, safe, from_block, sends=not dry_run, confirm=confirm, stand_in=ANYONE
    )
    with user_errors():
        result = execute(governance, operation_id, sender=sender, dry_run=dry_run)
    _show(result)


@cli.command("cancel", cls=RpcCheckedCommand)
@governance_options
@click.argument("operation_id")
@signer_option
@dry_run_option
@confirm_option()
def cancel_cmd(
    account: Any,
    timelock: str | None,
    safe: str | None,
    from_block: int | None,
    operation_id: str,
    signers: tuple[Any, ...],
    dry_run: bool,
    confirm: bool,
) -> None:
    """Cancel a pending operation through the Safe.

    OPERATION_ID as `pending` shows it, or its first digits; the Safe's owners sign (--signer).
    """
    governance, sender = _signed_context(account, timelock, safe, from_block, signers, dry_run, confirm)
    with user_errors():
        result = cancel(governance, operation_id, list(signers), sender=sender, dry_run=dry_run)
    _show(result)


@cli.command("finish-setup", cls=RpcCheckedCommand)
@network_option()
@account_option()
@click.option(
    "--delay",
    type=click.IntRange(min=60),
    required=True,
    help="the timelock's delay from now on, in seconds (e.g. 172800: two days)",
)
@confirm_option()
def finish_setup_cmd(account: Any, delay: int, confirm: bool) -> None:
    """End the timelock's setup phase on this chain.

    Once every contract of the chain is deployed and wired through it (`deploy --governance --keep-setup`,
    `deploy_bridge --governance` on every chain of each route): the recorded Safe proposes and cancels,
    the guardian cancels too, the delay applies, the deploying account keeps no role, and every role of
    every recorded contract is checked to be held by no key but the guardian.
    """
    network = chain.provider.network
    local = is_local_chain(chain.chain_id) or bool(getattr(network, "is_fork", False))
    if not local and not confirm:
        raise click.ClickException(
            f"{network.choice} is a live network ({chain_name(chain.chain_id)}): this sends transactions. "
            "Run again with --confirm."
        )
    sender = default_account(account, local_or_fork=local)
    console = make_console()
    with user_errors():
        result = finish_chain_setup(sender, min_delay=delay, report=lambda line: console.print(f"  {line}"))
    console.print(
        f"the timelock {result.timelock} is governed by the Safe {result.safe} with a delay of "
        f"{duration(result.min_delay)}; no key holds a role on this chain's recorded contracts"
    )
