"""The chains link-ops knows: ids, the keys users type, ape networks, RPC variables and deployments.

CUBE lives on Polygon (and Amoy, its testnet), and so does LBC's home lockbox: those are the *home* chains.
Ethereum and BNB Smart Chain (and their testnets) are *remote* chains, each bridged to the home chain of its
own family (mainnets to Polygon, testnets to Amoy).

Pure: no ape, no web3, no network access. The RPC URL of a chain comes from its environment variable
(:func:`rpc_url`), the addresses link-ops deployed on it from ``deployments/<chain_id>.json``
(:func:`deployment_addresses`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from link_ops.exceptions import UnsupportedChainError


@dataclass(frozen=True)
class ChainInfo:
    """One chain: its id, display name and ape network choice, and its place in the bridge.

    The first four fields keep their positions, so ``ChainInfo(137, "Polygon PoS", "polygon:mainnet")``
    still reads as it always did.
    """

    chain_id: int
    #: Display name, for messages and tables.
    name: str
    #: ape network choice without a provider: ``polygon:mainnet``.
    ape_network: str
    #: A throwaway development chain (each start is a new chain).
    is_local: bool = False
    #: The short name users type (``--chain polygon``): lower case, unique.
    key: str = ""
    #: The environment variable holding this chain's RPC URL (None: a local chain, no URL to configure).
    rpc_env: str | None = None
    #: CUBE and LBC's home lockbox live here.
    is_home: bool = False
    #: For a remote chain, the key of the home chain it bridges to; None on home and local chains.
    home_key: str | None = None
    is_testnet: bool = False

    @property
    def ecosystem(self) -> str:
        """The ape ecosystem of :attr:`ape_network` (``polygon``)."""
        return self.ape_network.split(":")[0]

    @property
    def network(self) -> str:
        """The ape network name of :attr:`ape_network` (``mainnet``)."""
        return self.ape_network.split(":")[1]


CHAINS: dict[int, ChainInfo] = {
    c.chain_id: c
    for c in (
        # Mainnets: Polygon is home, Ethereum and BNB Smart Chain bridge to it.
        ChainInfo(
            137, "Polygon PoS", "polygon:mainnet", key="polygon", rpc_env="POLYGON_RPC_URL", is_home=True
        ),
        ChainInfo(
            1, "Ethereum", "ethereum:mainnet", key="ethereum", rpc_env="ETHEREUM_RPC_URL", home_key="polygon"
        ),
        ChainInfo(56, "BNB Smart Chain", "bsc:mainnet", key="bsc", rpc_env="BSC_RPC_URL", home_key="polygon"),
        # Testnets: Amoy is home, Sepolia and BSC testnet bridge to it.
        ChainInfo(
            80002,
            "Polygon Amoy",
            "polygon:amoy",
            key="amoy",
            rpc_env="AMOY_RPC_URL",
            is_home=True,
            is_testnet=True,
        ),
        ChainInfo(
            11155111,
            "Ethereum Sepolia",
            "ethereum:sepolia",
            key="sepolia",
            rpc_env="SEPOLIA_RPC_URL",
            home_key="amoy",
            is_testnet=True,
        ),
        ChainInfo(
            97,
            "BNB Smart Chain Testnet",
            "bsc:testnet",
            key="bsc-testnet",
            rpc_env="BSC_TESTNET_RPC_URL",
            home_key="amoy",
            is_testnet=True,
        ),
        # Development chains.
        ChainInfo(31337, "local anvil", "polygon:local:foundry", is_local=True, key="local"),
        ChainInfo(1337, "local dev chain", "ethereum:local", is_local=True, key="ethereum-local"),
    )
}


#: The same chains by :attr:`ChainInfo.key`.
CHAINS_BY_KEY: dict[str, ChainInfo] = {c.key: c for c in CHAINS.values()}


def chain_keys() -> tuple[str, ...]:
    """Every key :func:`chain_by_key` accepts, in registry order."""
    return tuple(CHAINS_BY_KEY)


def chain_by_key(name: str) -> ChainInfo:
    """The chain users call `name` (``polygon``, ``BSC-testnet``: case does not matter).

    Raises :class:`UnsupportedChainError` (``Unsupported chain: <name>``) for anything else.
    """
    info = CHAINS_BY_KEY.get(name.strip().lower())
    if info is None:
        raise UnsupportedChainError(name, chain_keys())
    return info


def chain_by_id(chain_id: int) -> ChainInfo:
    """The chain with `chain_id`; raises :class:`UnsupportedChainError` (``Unsupported chain: <id>``)."""
    info = None if isinstance(chain_id, bool) else CHAINS.get(chain_id)  # True == 1 is not Ethereum
    if info is None:
        raise UnsupportedChainError(chain_id, chain_keys())
    return info


def chain_by_network(ecosystem: str, network: str) -> ChainInfo | None:
    """The chain an ape network stands for (a fork stands for its upstream), or None for a local network
    (any ``<ecosystem>:local``: its chain id decides). Raises :class:`UnsupportedChainError`
    (``Unsupported chain: <ecosystem>:<network>``) for a network link-ops does not know.
    """
    if network == "local":
        return None
    wanted = f"{ecosystem}:{network.removesuffix('-fork')}"
    for info in CHAINS.values():
        if not info.is_local and info.ape_network == wanted:
            return info
    raise UnsupportedChainError(f"{ecosystem}:{network}", chain_keys())


def chain_name(chain_id: int) -> str:
    """A readable name for `chain_id` ("chain 12345" when unknown)."""
    info = CHAINS.get(chain_id)
    return info.name if info else f"chain {chain_id}"


def is_local_chain(chain_id: int) -> bool:
    """Whether `chain_id` is a throwaway development chain (each start is a new chain)."""
    info = CHAINS.get(chain_id)
    return bool(info and info.is_local)


def rpc_url(info: ChainInfo, environ: Mapping[str, str] | None = None) -> str | None:
    """The RPC URL in `info`'s variable (``$POLYGON_RPC_URL``), or None when it is unset or blank.

    Only reads the variable: :func:`link_ops.fork.check_upstream` checks that a URL answers as its chain.
    """
    if info.rpc_env is None:
        return None
    env = os.environ if environ is None else environ
    return env.get(info.rpc_env, "").strip() or None


ChainRef = ChainInfo | str | int


def resolve_chain(chain: ChainRef) -> ChainInfo:
    """`chain` as :class:`ChainInfo`; raises :class:`~link_ops.exceptions.UnsupportedChainError`."""
    if isinstance(chain, ChainInfo):
        return chain
    if isinstance(chain, int) and not isinstance(chain, bool):
        return chain_by_id(chain)
    return chain_by_key(str(chain))
