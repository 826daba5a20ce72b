"""Reaching several chains from one process: which chain ape talks to, for a ``with`` block.

A :class:`Connections` is anything whose ``on(chain)`` makes that chain ape's active one for a block:
:class:`LiveConnections` (ape network choices, e.g. from ``POLYGON_RPC_URL`` through
:func:`connections_from_env`) or, in tests and demos, :class:`link_ops.testing.localchains.LocalChains`.
ape 0.8.51 caches the chain id by network *name*; :func:`activate` drops that entry on every switch, so
``chain.chain_id`` is always the active chain's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol, cast

from ape import networks
from ape.api.networks import ProviderContextManager
from ape.api.providers import ProviderAPI
from ape.managers.chain import ChainIdCache, ChainManager

from link_ops.exceptions import ConfigurationError, StandInError
from link_ops.model.chains import ChainInfo, chain_by_key
from link_ops.rpc import PoolSettings, RpcPool
from link_ops.rpc.ape_provider import connect_pooled


class UnsupportedRouteError(ConfigurationError):
    """No bridge is wired between the two chains (assets travel only between home and a remote chain)."""


class Connections(Protocol):
    """Reaches chains: ``with connections.on(chain): ...`` runs the block on that chain."""

    def on(self, chain: Any) -> AbstractContextManager[Any]: ...


class LiveConnections:
    """Connections to networks by ape network choice (``polygon:mainnet:https://…``), each connected on
    first use and kept for later blocks.

    `wait_for_confirmations=False` makes those networks wait for no confirmations (for local stand-ins,
    whose blocks come only with transactions). `pools` are the RPC pools some `connected` providers send
    through (by chain key); :meth:`close` closes them.
    """

    def __init__(
        self,
        choices: Mapping[str, str],
        *,
        wait_for_confirmations: bool = True,
        connected: Mapping[str, Any] | None = None,
        pools: Mapping[str, RpcPool] | None = None,
    ) -> None:
        #: The RPC pools of the chains reached through one, by chain key.
        self.pools: dict[str, RpcPool] = {chain_by_key(k).key: p for k, p in (pools or {}).items()}
        self.choices = {chain_by_key(key).key: choice for key, choice in choices.items()}
        self.wait_for_confirmations = wait_for_confirmations
        #: Providers already connected (a script's ``--network``), by chain key; used as they are.
        self._providers: dict[str, Any] = {chain_by_key(k).key: p for k, p in (connected or {}).items()}
        if not wait_for_confirmations:
            for key in self._providers:
                without_confirmations(chain_by_key(key))

    def provider(self, chain_ref: Any) -> Any:
        info = chain_ref if isinstance(chain_ref, ChainInfo) else chain_by_key(str(chain_ref))
        if info.key in self._providers:
            return self._providers[info.key]
        choice = self.choices.get(info.key)
        if choice is None:
            raise UnsupportedRouteError(
                f"no connection to {info.key} configured: give its ape network choice"
            )
        if info.key not in self._providers:
            if not self.wait_for_confirmations:
                without_confirmations(info)
            self._providers[info.key] = connect(choice)
        return self._providers[info.key]

    def on(self, chain_ref: Any) -> AbstractContextManager[Any]:
        return activate(self.provider(chain_ref))

    def close(self) -> None:
        """Stops the RPC pools' health checks and closes their connections (ape's stay as they are)."""
        for pool in self.pools.values():
            pool.close()

    def __enter__(self) -> LiveConnections:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connections_from_env(
    keys: Sequence[str],
    environ: Mapping[str, str] | None = None,
    *,
    wait_for_confirmations: bool = True,
    connected: Mapping[str, Any] | None = None,
    pool_settings: PoolSettings | None = None,
) -> LiveConnections:
    """Connections to the chains `keys` through their RPC variables (``POLYGON_RPC_URL``, …); a chain in
    `connected` (key → a connected ape provider, e.g. the script's ``--network``) is reached through it.

    A variable listing several URLs (``POLYGON_RPC_URL=url1,url2,url3``) makes that chain's connection an
    :class:`~link_ops.rpc.RpcPool` of them (health-checked from now on, with `pool_settings`), ape's provider
    sending through it: reads fail over, a transaction and its nonce go to one node. Close the connections
    (:meth:`LiveConnections.close`) to stop the pools' checks.

    Raises :class:`ConfigurationError` naming every variable that is not set.
    """
    env = os.environ if environ is None else environ
    given = {chain_by_key(k).key for k in (connected or {})}
    infos = [info for info in (chain_by_key(k) for k in keys) if info.key not in given]
    variables = {i.key: i.rpc_env or "" for i in infos}
    if not all(variables.values()):
        local = [k for k, v in variables.items() if not v]
        raise ConfigurationError(f"{', '.join(local)} has no RPC variable: it is a local chain")
    missing = [variables[i.key] for i in infos if not env.get(variables[i.key], "").strip()]
    if missing:
        raise ConfigurationError(
            f"set {', '.join(missing)} to the RPC URL of "
            + ", ".join(i.name for i in infos if variables[i.key] in missing)
        )
    pooled = [i for i in infos if "," in env[variables[i.key]]]
    pools: dict[str, RpcPool] = {}
    providers = dict(connected or {})
    try:
        for info in pooled:
            pool = RpcPool.from_env(info, pool_settings or PoolSettings(), environ=env)
            pools[info.key] = pool
            pool.start()
            providers[info.key] = connect_pooled(pool, info.ape_network)
    except BaseException:
        for pool in pools.values():
            pool.close()
        raise
    choices = {i.key: f"{i.ape_network}:{env[variables[i.key]].strip()}" for i in infos if i not in pooled}
    return LiveConnections(
        choices, wait_for_confirmations=wait_for_confirmations, connected=providers, pools=pools
    )


def _forget_chain_id(provider: ProviderAPI) -> None:
    # ape 0.8.51 keys its chain-id cache by network name alone ("mainnet" for polygon, ethereum and bsc):
    # dropping the entry makes the next `chain.chain_id` ask the provider that is active now.
    ChainManager._chain_id_cache.pop(ChainIdCache.key_for(provider), None)


@contextmanager
def activate(provider: ProviderAPI) -> Iterator[ProviderAPI]:
    """Makes the connected `provider` ape's active one for the block, then restores the previous one.

    Goes through ape's provider stack (so ``networks.parse_network_choice`` contexts nested inside unwind
    to `provider`) and keeps ``chain.chain_id`` right on both sides of the switch.
    """
    if not provider.is_connected:
        raise StandInError(
            f"{provider.network.choice} at {provider.connection_str or '?'} is not connected: connect it "
            "first (a LocalChains stand-in is connected only while its LocalChains runs)"
        )
    previous = networks.active_provider
    context: Any = ProviderContextManager(provider=provider)  # ape leaves its __enter__/__exit__ untyped
    context.__enter__()
    _forget_chain_id(provider)
    try:
        yield provider
    finally:
        context.__exit__(None)
        networks.active_provider = previous
        if previous is not None:
            _forget_chain_id(previous)


def connect(choice: str) -> ProviderAPI:
    """Connects ape to `choice` without making it active; the connection stays in ape's provider cache."""
    previous = networks.active_provider
    context = networks.parse_network_choice(choice)
    try:
        provider: ProviderAPI = context.__enter__()
        context.__exit__(None)
    finally:
        networks.active_provider = previous
    _forget_chain_id(provider)
    return provider


def disconnect(provider: ProviderAPI) -> None:
    """Disconnects `provider` and forgets it as a connected provider of ape."""
    connection_id = next(
        (cid for cid, p in ProviderContextManager.connected_providers.items() if p is provider), None
    )
    try:
        if provider.is_connected:
            cast(Any, provider).disconnect()  # untyped in ape
    finally:
        if connection_id is not None:
            ProviderContextManager.connected_providers.pop(connection_id, None)
            ProviderContextManager.disconnect_map.pop(connection_id, None)
        _forget_chain_id(provider)
        if networks.active_provider is provider:
            networks.active_provider = None


def without_confirmations(info: ChainInfo) -> Callable[[], None]:
    """Sets `info`'s network to wait for no confirmations; returns what puts the old value back."""
    network = networks.get_ecosystem(info.ecosystem).get_network(info.network)
    settings: Any = network.config  # the live config object for ecosystems with network configs
    before = int(network.required_confirmations)
    if before == 0:
        return lambda: None
    settings.required_confirmations = 0
    if network.required_confirmations != 0:
        settings.required_confirmations = before
        raise StandInError(
            f"cannot turn off confirmations of {info.ape_network} for its local stand-in (ape keeps "
            f"{before}); anvil mines no block to confirm with, so transactions there would wait forever"
        )

    def restore() -> None:
        settings.required_confirmations = before

    return restore
