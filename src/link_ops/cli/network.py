"""What the ``ape run`` scripts share: a connected command that checks a Polygon RPC URL before connecting.

``polygon:mainnet:node`` and ``polygon:amoy:node`` send to ``$POLYGON_RPC_URL`` / ``$AMOY_RPC_URL`` (through
``ape-config.yaml``), and their ``-fork:foundry`` networks fork it. ape reports an unset variable as
``Invalid uri: ${POLYGON_RPC_URL}`` under a stack trace, and a node of the wrong chain later still; this
command says it in one line before anything connects.
"""

from __future__ import annotations

import os
from typing import Any

import click
from ape.cli import ConnectedProviderCommand
from ape.cli.options import NETWORK_META_KEY

from link_ops.exceptions import UpstreamError
from link_ops.fork import FORK_TARGETS, upstream_from_env
from link_ops.model.chains import chain_name


def check_network_rpc(provider: Any) -> None:
    """Raises :class:`UpstreamError` when `provider` (not yet connected) needs an RPC variable that is unset,
    or (for a fork) one that serves another chain."""
    network = provider.network
    if network.ecosystem.name != "polygon":
        return
    if getattr(network, "is_fork", False):
        target = FORK_TARGETS.get(network.name.removesuffix("-fork"))
        if target is not None:
            upstream_from_env(target)
        return
    target = FORK_TARGETS.get(network.name)
    explicit_uri = (getattr(provider, "provider_settings", None) or {}).get("uri")
    if target is None or provider.name != "node" or explicit_uri:
        return
    if not os.environ.get(target.env_var, "").strip():
        raise UpstreamError(
            f"{target.env_var} is not set: {target.live_choice}:node sends to the RPC URL in "
            f"{target.env_var}. Export {target.env_var}=https://<your {chain_name(target.chain_id)} RPC>, or "
            f"pass --network {target.live_choice}:https://<rpc url>."
        )


class RpcCheckedCommand(ConnectedProviderCommand):
    """:class:`~ape.cli.ConnectedProviderCommand` that runs :func:`check_network_rpc` before connecting."""

    def invoke(self, ctx: click.Context) -> Any:
        provider = (ctx.meta.get(NETWORK_META_KEY) or {}).get("provider") or ctx.params.get("network")
        if provider is not None and hasattr(provider, "network"):
            try:
                check_network_rpc(provider)
            except UpstreamError as exc:
                raise click.ClickException(str(exc)) from None
        return super().invoke(ctx)
