"""ape's node provider through an RPC pool, in-process.

ape 0.8.51's web3-based providers (``node``, ``foundry`` and the URL shortcut ``polygon:mainnet:https://…``)
send everything, calls, transactions, receipts and raw requests, through their ``web3`` object's provider
(``provider.web3.provider.make_request``). :func:`attach_pool` swaps that transport for a
:class:`~link_ops.rpc.providers.PoolProvider`, keeping everything ape set up on connecting (its middleware,
its gas strategy, its chain-id check)::

    pool = RpcPool.from_env("polygon").start()
    provider = connect_pooled(pool, "polygon:mainnet")   # ape connected through the pool, not yet active
    with networks.parse_network_choice(...)  # or link_ops.bridge.connections.activate(provider)
        contract.transfer(to, amount, sender=account)     # nonce read and send go to one upstream

What holds, and what does not:

- ape connects through one of the pool's usable upstreams (it asks the node's client version, chain id
  and history when connecting), then every later request goes through the pool;
- ape reads the nonce with ``eth_getTransactionCount(sender, "latest")`` and sends a raw transaction: the
  pool's sticky routing sends both to the same upstream, and a send is never retried elsewhere; a send that
  may have arrived raises :class:`~link_ops.exceptions.AmbiguousSendError` out of ape's ``send_transaction``
  (ape does not re-sign it);
- disconnecting and connecting again (``provider.disconnect()``, ``provider.connect()``) builds a new web3
  object: attach the pool again (or use :func:`connect_pooled` again);
- ``provider.stream_request`` (ape's streamed traces) posts to the URL ape connected to, not the pool.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from ape import networks
from ape.api.providers import ProviderAPI

from link_ops.exceptions import RpcConfigurationError
from link_ops.model.chains import chain_name
from link_ops.rpc.pool import RpcPool
from link_ops.rpc.providers import PoolProvider


def attach_pool(provider: ProviderAPI, pool: RpcPool) -> Callable[[], None]:
    """Sends every request of the connected web3-based ape `provider` through `pool`; returns the function
    that gives it back its own transport. Refuses a provider of another chain than the pool's."""
    found: Any = getattr(provider, "_web3", None)
    if found is None:
        raise RpcConfigurationError(
            f"{provider.name} is not a connected web3-based ape provider: connect it first (node, foundry or "
            "a URL network choice)"
        )
    web3: Any = found
    chain_id = int(provider.chain_id)
    if chain_id != pool.chain_id:
        raise RpcConfigurationError(
            f"the ape provider is on chain {chain_id} ({chain_name(chain_id)}) but the pool serves chain "
            f"{pool.chain_id} ({chain_name(pool.chain_id)}): attach a pool of the provider's chain"
        )
    previous = web3.provider
    web3.provider = PoolProvider(pool)

    def detach() -> None:
        if getattr(provider, "_web3", None) is web3:
            cast(Any, web3).provider = previous

    return detach


def connect_pooled(pool: RpcPool, network: str) -> ProviderAPI:
    """ape connected to `network` (an ecosystem and network, ``polygon:mainnet``) through `pool`.

    ape connects through one usable upstream of the pool (the least busy), then :func:`attach_pool` sends
    everything through the pool. The provider is connected but not made active: use it in ape's provider
    context, e.g. ``link_ops.bridge.connections.activate(provider)``.
    """
    parts = network.split(":")
    if len(parts) != 2 or not all(parts):
        raise RpcConfigurationError(
            f"give the ape network as <ecosystem>:<network> (e.g. polygon:mainnet), got {network!r}: the "
            "pool is its provider"
        )
    url = pool.pick_url()
    previous = networks.active_provider
    context = networks.parse_network_choice(f"{network}:{url}")
    try:
        provider: ProviderAPI = context.__enter__()
        context.__exit__(None)
    finally:
        networks.active_provider = previous
    attach_pool(provider, pool)
    return provider
