"""The protocol's compiled contracts, shipped inside the package.

Chain-facing code gets its contract types here, never from ape's ``project`` (which is whatever folder a
tool runs in). The JSON files in ``artifacts/`` are ape contract types (ABI, creation and runtime
bytecode, NatSpec) of every contract under ``contracts/`` except ``contracts/test/``; ``make artifacts``
writes them from a clean build and a test fails when they drift from the sources.

- :func:`abi` for web3.py or ethers users: a JSON-ready list, no ape needed;
- :func:`contract_type`, :func:`container`, :func:`deploy` and :func:`at` for ape users.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from link_ops.exceptions import ConfigurationError

if TYPE_CHECKING:
    from ape.contracts import ContractContainer, ContractInstance
    from ethpm_types import ContractType

#: Where the packaged contract types live.
ARTIFACTS = Path(__file__).resolve().with_name("artifacts")


class UnknownContractError(ConfigurationError):
    """A contract name the package carries no artifact for."""


@cache
def names() -> tuple[str, ...]:
    """The packaged contracts, sorted."""
    return tuple(sorted(path.stem for path in ARTIFACTS.glob("*.json")))


@cache
def _artifact(name: str) -> dict[str, Any]:
    path = ARTIFACTS / f"{name}.json"
    if not path.is_file():
        raise UnknownContractError(
            f"Unknown contract: {name}; link_ops carries {', '.join(names())} "
            "(test-only contracts are not packaged)"
        )
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def abi(name: str) -> list[dict[str, Any]]:
    """The ABI of contract `name`, as JSON-ready dicts (e.g. ``web3.eth.contract(address, abi=abi(...))``)."""
    return [dict(entry) for entry in _artifact(name)["abi"]]


@cache
def contract_type(name: str) -> ContractType:
    """ape's ``ContractType`` of `name`: ABI, bytecode and NatSpec (parsed once per process)."""
    from ethpm_types import ContractType

    return ContractType.model_validate(_artifact(name))


def container(name: str) -> ContractContainer:
    """An ape ``ContractContainer`` of `name`, to deploy: ``sender.deploy(container("LBCToken"), ...)``."""
    from ape.contracts import ContractContainer

    return ContractContainer(contract_type(name))


def deploy(name: str, sender: Any, *args: Any, **kwargs: Any) -> ContractInstance:
    """Deploys contract `name` from ape account `sender` with constructor `args` (and transaction `kwargs`)."""
    instance: ContractInstance = sender.deploy(container(name), *args, **kwargs)
    return instance


def at(name: str, address: str) -> ContractInstance:
    """Contract `name` at `address` on ape's connected chain."""
    instance: ContractInstance = container(name).at(address)
    return instance
