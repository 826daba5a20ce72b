"""Safe's contracts (the multisig that proposes to the timelock), version 1.4.1, as ape contract types.

They are not compiled here: ``ape-safe`` ships Safe's own build of 1.3.0 and 1.4.1 as ethPM manifests
(``ape_safe/manifests/safe-v1.4.1.json``), and this module reads the 1.4.1 one. Safes are made of a
singleton (``SafeL2``: the code, with the events that indexers on L2s and Polygon read) and a proxy per
Safe, created by ``SafeProxyFactory``. On every public chain Safe deployed both at canonical addresses
(:data:`CANONICAL`); a local chain gets its own copies (:func:`link_ops.governance.safe.safe_singletons`).
"""

from __future__ import annotations

import json
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

from link_ops.exceptions import ConfigurationError

if TYPE_CHECKING:
    from ape.contracts import ContractContainer, ContractInstance
    from ethpm_types import ContractType

#: The Safe version link-ops deploys and drives.
SAFE_VERSION = "1.4.1"

SINGLETON = "SafeL2"
PROXY_FACTORY = "SafeProxyFactory"
#: ``CompatibilityFallbackHandler``: lets a Safe answer EIP-1271 signature checks (not in the manifest).
FALLBACK_HANDLER = "CompatibilityFallbackHandler"

#: Safe 1.4.1's canonical deployments (the same addresses on every chain Safe supports, Polygon PoS and
#: Amoy included; github.com/safe-global/safe-deployments, ``src/assets/v1.4.1``).
CANONICAL: dict[str, str] = {
    SINGLETON: "0x29fcB43b46531BcA003ddC8FCB67FFE91900C762",
    PROXY_FACTORY: "0x4e1DCf7AD4e460CfD30791CCC4F9c8a4f820ec67",
    FALLBACK_HANDLER: "0xfd0732Dc9E303f09fCEf3a7388Ad10A83459Ec99",
}


@cache
def _manifest() -> dict[str, Any]:
    # Found without importing ape_safe (which imports ape): the event index reads the Safe's ABI too.
    spec = find_spec("ape_safe")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError("ape-safe is not installed: install link-ops with its dependencies")
    path = Path(next(iter(spec.submodule_search_locations))) / "manifests" / f"safe-v{SAFE_VERSION}.json"
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


@cache
def contract_type(name: str) -> ContractType:
    """ape's ``ContractType`` of Safe contract `name` (``SafeL2``, ``SafeProxyFactory``, ...)."""
    from ethpm_types import ContractType

    types = _manifest()["contractTypes"]
    if name not in types:
        raise ConfigurationError(f"Unknown Safe contract: {name}; ape-safe ships {', '.join(sorted(types))}")
    return ContractType.model_validate(types[name])


def container(name: str) -> ContractContainer:
    from ape.contracts import ContractContainer

    return ContractContainer(contract_type(name))


def abi(name: str) -> list[dict[str, Any]]:
    """The ABI of Safe contract `name`, as JSON-ready dicts."""
    return [dict(entry) for entry in _manifest()["contractTypes"][name]["abi"]]


def at(name: str, address: str) -> ContractInstance:
    """Safe contract `name` at `address` (a Safe proxy is used through ``SafeL2``'s ABI)."""
    instance: ContractInstance = container(name).at(address)
    return instance
