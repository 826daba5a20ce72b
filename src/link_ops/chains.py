"""The chains link-ops knows, by chain id. Pure: no network access."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChainInfo:
    """A chain's id, human name and ape network choice."""

    chain_id: int
    name: str
    ape_network: str
    is_local: bool = False


CHAINS: dict[int, ChainInfo] = {
    c.chain_id: c
    for c in (
        ChainInfo(137, "Polygon PoS", "polygon:mainnet"),
        ChainInfo(80002, "Polygon Amoy", "polygon:amoy"),
        ChainInfo(1, "Ethereum", "ethereum:mainnet"),
        ChainInfo(11155111, "Ethereum Sepolia", "ethereum:sepolia"),
        ChainInfo(56, "BNB Smart Chain", "bsc:mainnet"),
        ChainInfo(31337, "local anvil", "polygon:local:foundry", is_local=True),
        ChainInfo(1337, "local dev chain", "ethereum:local", is_local=True),
    )
}


def chain_name(chain_id: int) -> str:
    """A readable name for `chain_id` ("chain 12345" when unknown)."""
    info = CHAINS.get(chain_id)
    return info.name if info else f"chain {chain_id}"


def is_local_chain(chain_id: int) -> bool:
    """Whether `chain_id` is a throwaway development chain (each start is a new chain)."""
    info = CHAINS.get(chain_id)
    return bool(info and info.is_local)
