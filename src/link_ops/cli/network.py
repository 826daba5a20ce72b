"""The connected command every ``ape run`` script uses: the network is checked before ape connects to it.

A network link-ops does not know (``arbitrum:mainnet``) is refused by name (``Unsupported chain: …``).

``polygon:mainnet:node`` and ``polygon:amoy:node`` send to ``$POLYGON_RPC_URL`` / ``$AMOY_RPC_URL`` (through
``ape-config.yaml``), and their ``-fork:foundry`` networks fork it. ape reports an unset variable as
``Invalid uri: ${POLYGON_RPC_URL}`` under a stack trace, and a node of the wrong chain later still; this
command says it in one line before anything connects.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

import click
from ape.cli import ConnectedProviderCommand
from ape.cli.options import NETWORK_META_KEY

from link_ops.cli.errors import user_errors
from link_ops.exceptions import UnsupportedChainError, UpstreamError
from link_ops.fork import FORK_TARGETS, free_port, upstream_from_env, use_upstream
from link_ops.model.chains import chain_by_network


def check_network_rpc(provider: Any) -> None:
    """Raises :class:`UnsupportedChainError` for a network outside the registry, and :class:`UpstreamError`
    when `provider` (not yet connected) needs an RPC variable that is unset, or (for a Polygon fork) one
    that serves another chain."""
    network = provider.network
    info = chain_by_network(network.ecosystem.name, network.name)
    if info is None:
        return
    if getattr(network, "is_fork", False):
        target = FORK_TARGETS.get(network.name.removesuffix("-fork"))
        if target is not None and network.ecosystem.name == "polygon":
            url = upstream_from_env(target)
            if "," in os.environ.get(target.env_var, ""):  # a list: fork the node that answered, not "a,b"
                use_upstream(target, url)
                # ape-foundry copied the configured value onto the network when it made the provider.
                network_config: Any = getattr(network.ecosystem.config, network.name, None)
                if network_config is not None:
                    network_config.upstream_provider = url
        return
    explicit_uri = (getattr(provider, "provider_settings", None) or {}).get("uri")
    if provider.name != "node" or explicit_uri or info.rpc_env is None:
        return
    choice = f"{network.ecosystem.name}:{network.name}"
    value = os.environ.get(info.rpc_env, "").strip()
    if not value:
        raise UpstreamError(
            f"{info.rpc_env} is not set: {choice}:node sends to the RPC URL in {info.rpc_env}. Export "
            f"{info.rpc_env}=https://<your {info.name} RPC>, or pass --network {choice}:https://<rpc url>."
        )
    if "," in value:
        raise UpstreamError(
            f"{info.rpc_env} lists several URLs, and ape's node provider takes one: serve them as one with "
            f"`ape run rpc_proxy --chain {info.key} --port 8545` (the RPC pool: failover, health checks) and "
            f"pass --network {choice}:http://127.0.0.1:8545, or --network {choice}:https://<one rpc url>."
        )


#: Seconds a local anvil may take to answer after it starts (ape-foundry 0.8.12 waits a fixed 20 s, too
#: short on a loaded machine: the process is alive, only slow).
ANVIL_START_TIMEOUT = 120


def patient_anvil_start(seconds: int = ANVIL_START_TIMEOUT) -> None:
    """Makes ape-foundry's local anvil start robust; idempotent, and nothing without ape-foundry (the
    ``[foundry]`` extra).

    - ape-foundry waits a fixed 20 s for anvil to answer: it waits up to `seconds` instead (a readiness
      wait, it goes on as soon as anvil answers);
    - with ``host: auto`` it picks a random port without checking that it is free, so a second anvil (or
      any program) already there makes the new one exit while ape waits (or, worse, talks to the other
      anvil): it gets a port the kernel has just handed out as free instead.
    """
    try:
        from ape_foundry.provider import FoundryProvider
    except ImportError:
        return
    original: Callable[..., Any] = FoundryProvider.start
    start: Callable[..., Any] = getattr(original, "__wrapped__", original)

    @functools.wraps(start)
    def patient_start(self: Any, timeout: int = seconds) -> Any:
        return start(self, timeout=max(timeout, seconds))

    FoundryProvider.start = patient_start

    original_launch: Callable[..., Any] = FoundryProvider._start
    launch: Callable[..., Any] = getattr(original_launch, "__wrapped__", original_launch)

    @functools.wraps(launch)
    def launch_on_a_free_port(self: Any) -> Any:
        if self._host in ("auto", None) and self.settings.host == "auto" and not self.is_connected:
            self._host = f"http://127.0.0.1:{free_port()}"
        return launch(self)

    FoundryProvider._start = launch_on_a_free_port  # type: ignore[method-assign]


class RpcCheckedCommand(ConnectedProviderCommand):
    """:class:`~ape.cli.ConnectedProviderCommand` that runs :func:`check_network_rpc` before connecting."""

    def invoke(self, ctx: click.Context) -> Any:
        patient_anvil_start()
        provider = (ctx.meta.get(NETWORK_META_KEY) or {}).get("provider") or ctx.params.get("network")
        if provider is not None and hasattr(provider, "network"):
            try:
                check_network_rpc(provider)
            except UnsupportedChainError as exc:
                raise click.ClickException(f"{exc}: {exc.hint}") from None
            except UpstreamError as exc:
                raise click.ClickException(str(exc)) from None
        with user_errors():  # a node that cannot be reached, found while connecting
            return super().invoke(ctx)
