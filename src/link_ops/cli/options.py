"""The options every ``ape run`` script shares, named and explained the same way everywhere.

- ``--network``: ape's own option; the chain the command's transactions go to (``polygon:amoy:node``,
  ``polygon:mainnet-fork:foundry`` to rehearse, ``polygon:local:foundry`` by default).
- ``--account``: ape's account choice (an alias of ``ape accounts list``, or ``TEST::<n>``), the one that
  signs and pays; local chains and forks default to ``TEST::0``.
- ``--chains``: the chains a multi-chain command watches, by key (``polygon,ethereum``), each reached
  through its RPC variable (``POLYGON_RPC_URL``, …).
- ``--confirm``: required on a live network, where the command spends real funds.
- ``--no-confirmations``: do not wait for block confirmations (local stand-ins mine only on demand).
- ``--metrics-port``: the long-running commands serve Prometheus' ``/metrics`` on loopback at this port.

:func:`command_line` rebuilds what the user typed, with changes, for the hints a command prints (the
dry run's "deploy for real with …" repeats every option given, so copying it changes nothing but the
network).
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import click
from ape import accounts
from ape.cli import network_option as ape_network_option
from ape.cli.choices import AccountAliasPromptChoice

from link_ops.exceptions import ConfigurationError
from link_ops.fork import rpc_gas_price
from link_ops.model.chains import ChainInfo, chain_by_key

NETWORK_HELP = (
    "the ape network the transactions go to, e.g. polygon:amoy:node, polygon:mainnet-fork:foundry (a "
    "rehearsal on a fork), polygon:local:foundry"
)
ACCOUNT_HELP = (
    "the ape account that signs and pays: an alias from `ape accounts list`, or TEST::<n> for a test "
    "account (local chains and forks default to TEST::0)"
)


class AccountChoice(AccountAliasPromptChoice):
    """ape's account choice, with what to do when the alias is unknown."""

    def fail(
        self, message: str, param: click.Parameter | None = None, ctx: click.Context | None = None
    ) -> Any:
        if "not found" in message:
            message += " See `ape accounts list`; add the account with `ape accounts import <alias>`."
        return super().fail(message, param, ctx)


def network_option(**kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """ape's ``--network``, with the house help text (or `help`)."""
    kwargs.setdefault("help", NETWORK_HELP)
    return ape_network_option(**kwargs)


def account_option() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--account``: ape's account choice (no prompt), explained."""
    return click.option("--account", type=AccountChoice(prompt_message=None), default=None, help=ACCOUNT_HELP)


def chains_option(default: str = "polygon,ethereum") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--chains polygon,ethereum``: chain keys, parsed into :class:`ChainInfo` (unknown keys refused)."""

    def parse(_ctx: click.Context, _param: click.Parameter, value: str) -> list[ChainInfo]:
        keys = [k.strip() for k in value.split(",") if k.strip()]
        if not keys:
            raise click.BadParameter("give at least one chain key, e.g. polygon,ethereum")
        try:
            return [chain_by_key(k) for k in keys]
        except ConfigurationError as exc:
            raise click.BadParameter(f"{exc}; {getattr(exc, 'hint', '')}".rstrip("; ")) from None

    return click.option(
        "--chains",
        "chains",
        default=default,
        show_default=True,
        callback=parse,
        help="the chains to act on, by key (their RPC URLs come from POLYGON_RPC_URL, ETHEREUM_RPC_URL, …)",
    )


def confirm_option() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("--confirm", is_flag=True, help="required on a live network: yes, spend real funds")


def no_confirmations_option() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--no-confirmations",
        is_flag=True,
        help="do not wait for block confirmations (for local stand-ins, which mine only on demand)",
    )


def metrics_port_option() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--metrics-port``: serve Prometheus' ``/metrics`` on 127.0.0.1 at this port (0: a free one)."""
    return click.option(
        "--metrics-port",
        type=click.IntRange(0, 65_535),
        default=None,
        help="serve Prometheus metrics on http://127.0.0.1:<port>/metrics (0: any free port; default: none)",
    )


def default_account(account: Any, *, local_or_fork: bool) -> Any:
    """`account`, or the first test account on a local chain or a fork; a live network needs one given."""
    if account is not None:
        return account
    if local_or_fork:
        return accounts.test_accounts[0]
    raise click.UsageError(
        "give --account <alias> on a live network: the account that signs and pays (see `ape accounts list`)"
    )


def command_line(
    ctx: click.Context,
    *,
    replace: Mapping[str, str | None] | None = None,
    add: Sequence[str] = (),
    argv: Sequence[str] | None = None,
) -> str:
    """The command the user ran (``ape run <script> …``), every option as they typed it.

    `replace` maps an option (``"--network"``) to its new value, or None to drop it; a replaced option the
    user did not give is added. `add` appends flags (``"--confirm"``) not already there. `argv` defaults to
    this process's arguments.
    """
    replace = dict(replace or {})
    words = list(sys.argv[1:] if argv is None else argv)
    script = ctx.info_name or "?"
    tail = words[words.index(script) + 1 :] if script in words else []
    flags = {
        opt: bool(param.is_flag or param.count)
        for param in ctx.command.params
        if isinstance(param, click.Option)
        for opt in param.opts + param.secondary_opts
    }
    kept: list[str] = []
    seen: set[str] = set()
    i = 0
    while i < len(tail):
        word = tail[i]
        name, has_value, _ = word.partition("=")
        takes_value = not has_value and not flags.get(name, False) and name.startswith("-")
        step = 2 if takes_value and i + 1 < len(tail) else 1
        if name in replace:
            seen.add(name)
            if replace[name] is not None:
                kept += [name, str(replace[name])]
        else:
            kept += tail[i : i + step]
        i += step
    kept += [
        part
        for flag, value in replace.items()
        if flag not in seen and value is not None
        for part in (flag, value)
    ]
    kept += [flag for flag in add if flag not in kept]
    return shlex.join(["ape", "run", script, *kept])


def fork_of(network: Any) -> str:
    """The rehearsal network of a live `network`: ``polygon:mainnet`` → ``polygon:mainnet-fork:foundry``."""
    return f"{network.ecosystem.name}:{network.name}-fork:foundry"


def live_node_of(network: Any) -> str:
    """The live network a fork rehearses: ``polygon:mainnet-fork`` → ``polygon:mainnet:node``."""
    return f"{network.ecosystem.name}:{network.name.removesuffix('-fork')}:node"


def require_confirm(ctx: click.Context, network: Any, chain: str, *, live: bool, confirm: bool) -> None:
    """Refuses a live network without ``--confirm``, naming the rehearsal (every option the user gave)."""
    if live and not confirm:
        rehearse = command_line(ctx, replace={"--network": fork_of(network)})
        raise click.ClickException(
            f"{network.choice} is a live network ({chain}): this deploy spends real funds. Rehearse it "
            f"first with `{rehearse}`, then run again with --confirm."
        )


def real_run_command(ctx: click.Context, network: Any, *, account_given: bool) -> str:
    """What a rehearsal on a fork ends with: the same command on the live network, with ``--confirm``."""
    replace = {"--network": live_node_of(network), **({} if account_given else {"--account": "<alias>"})}
    return command_line(ctx, replace=replace, add=["--confirm"])


def dry_run_gas_price(gas_price_gwei: float | None, fork_url: str) -> tuple[int, str]:
    """The gas price a rehearsal is priced at, in wei, and where it came from."""
    if gas_price_gwei is not None:
        return int(gas_price_gwei * 10**9), "--gas-price-gwei"
    return rpc_gas_price(fork_url), "the upstream's eth_gasPrice"
