"""Several local chains at once, driven from one Python process through ape.

:class:`LocalChains` starts one anvil per chain (a :class:`~link_ops.testing.standin.LocalUpstream` with the
chain's id) and connects ape to each under the chain's real ape network, through ape's URL shortcut
(``polygon:mainnet:http://127.0.0.1:<port>``, ``ethereum:mainnet:…``, ``bsc:mainnet:…``): the same
networks, ecosystems and chain-id checks the bridge meets on the real chains. ape sends calls and
transactions to its *active* provider, so :meth:`LocalChains.on` makes one chain active for a block and
then gives back whatever was active before (the test session's ``polygon:local`` chain, say)::

    with LocalChains(["polygon", "ethereum"]) as chains:
        with chains.on("polygon"):
            home = project.LBCToken.deploy(admin, cap, sender=admin)
        with chains.on("ethereum") as provider:
            remote = project.LBCToken.deploy(admin, cap, sender=admin)
            head = provider.get_block("latest").number
            minted = list(remote.Transfer.range(0, head + 1))

A contract object is only an address and an ABI: call it, and query its events, inside the ``on(...)`` of
the chain it was deployed on (deterministic deployers give the same address on every chain, so another
chain may well answer). That holds for a chain's provider too (:meth:`LocalChains.provider`): its blocks,
code and raw requests are its own, but ape bounds ``provider.get_contract_logs`` by the *active* chain's
height.

Posing as a live network takes three adjustments while the stand-ins run, each undone on exit:

- ape 0.8.51 caches ``chain.chain_id`` by network *name*, so ``polygon:mainnet``, ``ethereum:mainnet`` and
  ``bsc:mainnet`` share one entry: every switch drops the entry of the chain it activates
  (:func:`activate`), so ``chain.chain_id`` is the active chain's;
- the networks' ``required_confirmations`` (1 on Polygon, 2 on Ethereum) is set to 0: anvil mines a block
  per transaction and none after, so waiting for confirmations would never end;
- ape's contract-type and code caches of those networks are kept in a temporary folder and in memory, not
  in ``~/.ape/<ecosystem>/<network>``, where they would describe the real chains' addresses wrongly.

Everything is stopped, disconnected and restored on exit, whatever happened inside.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from ape import chain as chain_manager
from ape.api.networks import ProviderContextManager, ProxyInfoAPI
from ape.api.providers import ProviderAPI
from ape.api.query import ContractCreation
from ape.managers._contractscache import ApeDataCache, ContractCache
from ape.managers.chain import ChainManager
from ethpm_types import ContractType
from pydantic import BaseModel

from link_ops.bridge.connections import activate, connect, disconnect, without_confirmations
from link_ops.exceptions import StandInError
from link_ops.model.chains import ChainInfo, ChainRef, resolve_chain
from link_ops.testing.standin import LocalUpstream

#: What :class:`LocalChains` starts when not told: the home chain and one remote chain.
DEFAULT_CHAINS: tuple[str, ...] = ("polygon", "ethereum")


"""A chain as :class:`ChainInfo`, its key (``"polygon"``) or its id (``137``)."""


@dataclass(frozen=True)
class StandIn:
    """One running local chain: what it plays, its anvil and ape's provider connected to it."""

    info: ChainInfo
    upstream: LocalUpstream
    provider: ProviderAPI

    @property
    def url(self) -> str:
        return self.upstream.url

    @property
    def network_choice(self) -> str:
        """What ape was given: ``polygon:mainnet:http://127.0.0.1:<port>``."""
        return f"{self.info.ape_network}:{self.url}"


class LocalChains:
    """Local anvils playing `chains` (default Polygon and Ethereum), all reachable from this process.

    A context manager: on exit every provider is disconnected, every anvil stopped (its port released), and
    ape's configuration and caches are as they were, also when the block raised.
    """

    def __init__(self, chains: Iterable[ChainRef] = DEFAULT_CHAINS, *, anvil: str = "anvil") -> None:
        infos = [resolve_chain(c) for c in chains]
        if not infos:
            raise StandInError(
                "LocalChains needs at least one chain, e.g. LocalChains(['polygon', 'ethereum'])"
            )
        for info in infos:
            if info.is_local:
                raise StandInError(
                    f"{info.key} ({info.ape_network}) is already a local chain: LocalChains stands in for "
                    "live chains (polygon, ethereum, bsc, amoy, sepolia, bsc-testnet); connect to it as usual"
                )
        networks_used = [info.ape_network for info in infos]
        duplicates = sorted({n for n in networks_used if networks_used.count(n) > 1})
        if duplicates:
            raise StandInError(
                f"{', '.join(duplicates)} asked for more than once: LocalChains runs one stand-in per chain"
            )
        self.infos: tuple[ChainInfo, ...] = tuple(infos)
        self.anvil = anvil
        self._stand_ins: dict[int, StandIn] = {}
        self._cleanup: ExitStack | None = None

    # -- lifecycle ------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._cleanup is not None

    def start(self) -> LocalChains:
        """Starts an anvil per chain and connects ape to each; on any failure undoes what it did."""
        if self._cleanup is not None:
            return self
        self._refuse_live_connections()
        with ExitStack() as stack:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="link-ops-local-chains-")))
            stack.enter_context(chain_manager.contracts.deployments.use_temporary_cache())
            for info in self.infos:
                stack.callback(_isolate_caches(info, tmp))
                stack.callback(without_confirmations(info))
            stack.callback(self._stand_ins.clear)
            for info in self.infos:
                upstream = stack.enter_context(LocalUpstream(info.chain_id, anvil=self.anvil))
                provider = connect(f"{info.ape_network}:{upstream.url}")
                stack.callback(disconnect, provider)
                self._stand_ins[info.chain_id] = StandIn(info, upstream, provider)
            self._cleanup = stack.pop_all()
        return self

    def stop(self) -> None:
        """Disconnects, stops every anvil and restores ape's state (safe to call twice)."""
        cleanup, self._cleanup = self._cleanup, None
        if cleanup is not None:
            cleanup.close()

    def __enter__(self) -> LocalChains:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- using the chains -----------------------------------------------------------------------------------

    def __getitem__(self, chain: ChainRef) -> StandIn:
        info = resolve_chain(chain)
        stand_in = self._stand_ins.get(info.chain_id)
        if stand_in is None:
            running = ", ".join(s.info.key for s in self._stand_ins.values()) or "none: start() it first"
            raise StandInError(
                f"{info.key} (chain {info.chain_id}) is not running in these LocalChains "
                f"(running: {running}); pass {info.key!r} to LocalChains(...)"
            )
        return stand_in

    @property
    def stand_ins(self) -> tuple[StandIn, ...]:
        return tuple(self._stand_ins.values())

    def provider(self, chain: ChainRef) -> ProviderAPI:
        """ape's provider connected to `chain`: blocks, code and raw requests without switching (for
        ``get_contract_logs``, switch with :meth:`on`: ape bounds it by the active chain's height)."""
        return self[chain].provider

    def advance_time(self, chain: ChainRef, seconds: int) -> int:
        """Moves `chain`'s clock `seconds` forward and mines a block there; returns its timestamp.

        (ape's ``chain.mine(timestamp=...)`` needs a test provider; a stand-in is reached as a node.)
        """
        provider = self[chain].provider
        return advance_clock(provider, seconds)

    def on(self, chain: ChainRef) -> AbstractContextManager[ProviderAPI]:
        """Makes `chain` ape's active chain for a ``with`` block (nestable); yields its provider."""
        return activate(self[chain].provider)

    def _refuse_live_connections(self) -> None:
        # A connection to the real network (or to another LocalChains) would share ape's per-network caches
        # and the confirmation setting with the stand-in.
        mine = {info.ape_network for info in self.infos}
        for provider in ProviderContextManager.connected_providers.values():
            network = provider.network
            choice = f"{network.ecosystem.name}:{network.name}"
            if choice in mine and provider.is_connected:
                raise StandInError(
                    f"this process is already connected to {choice} "
                    f"({provider.connection_str or provider.name}): disconnect it (or stop the other "
                    "LocalChains) before starting a stand-in for it"
                )


#: The per-network caches of ape 0.8's ContractCache, by name (ape/managers/_contractscache.py).
_CONTRACT_CACHES: dict[str, type[BaseModel]] = {
    "contract_types": ContractType,
    "proxy_info": ProxyInfoAPI,
    "blueprints": ContractType,
    "contract_creation": ContractCreation,
}


def advance_clock(provider: ProviderAPI, seconds: int) -> int:
    """Mines a block `seconds` after the latest one on `provider`'s node; returns its timestamp.

    Counted from the latest block, not from the wall clock as ``evm_increaseTime`` is: anvil gives each
    automined block a later second than the one before, so a burst of transactions puts the chain's clock
    ahead of the wall clock, and a delay "passed" by ``evm_increaseTime`` may not have passed on chain.
    """
    latest = int(provider.make_request("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    provider.make_request("evm_setNextBlockTimestamp", [latest + int(seconds)])
    provider.make_request("evm_mine", [])
    return latest + int(seconds)


def _isolate_caches(info: ChainInfo, tmp: Path) -> Callable[[], None]:
    """Points ape's caches of `info`'s network at `tmp` and memory; returns what restores the old ones."""
    eco, net = info.ecosystem, info.network
    by_network = ContractCache._caches.setdefault(eco, {})
    saved_caches = by_network.get(net)
    by_network[net] = {
        key: ApeDataCache(tmp, eco, net, key, model) for key, model in _CONTRACT_CACHES.items()
    }
    code_by_network = ChainManager._code.setdefault(eco, {})
    saved_code = code_by_network.pop(net, None)

    def restore() -> None:
        if saved_caches is None:
            ContractCache._caches.get(eco, {}).pop(net, None)
        else:
            ContractCache._caches.setdefault(eco, {})[net] = saved_caches
        if saved_code is None:
            ChainManager._code.get(eco, {}).pop(net, None)
        else:
            ChainManager._code.setdefault(eco, {})[net] = saved_code

    return restore
