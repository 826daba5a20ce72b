"""What the index reads on one chain: the protocol's contracts there, by name, and where to start.

:func:`targets_from_records` finds them in the deployment records (``deployments/<chain_id>.json``): at
home LBC, the cube collection, the partner factory and the bridge side; on a remote chain its bridge side,
its LBC and its ``RemoteCube`` collection (which is not recorded: the remote cube bridge is asked for it);
on every chain the governance recorded there: the timelock and the Safe (read through ``SafeL2``'s events).
Partner contracts are not listed here: they are clones the factory creates, and the index adds each as it
reads its ``PartnerCreated``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from eth_abi.abi import decode as abi_decode
from eth_utils.crypto import keccak

from link_ops.exceptions import ConfigurationError
from link_ops.index.catalog import INDEXED_EVENTS, SAFE_CONTRACT, checksum
from link_ops.index.rpc import JsonRpc
from link_ops.model.chains import ChainInfo


class IndexTargetError(ConfigurationError):
    """Nothing to index on a chain, or its contracts are recorded wrongly."""


@dataclass(frozen=True)
class IndexTargets:
    """The contracts the index reads on chain `chain_id`, by contract name, from block `start_block`."""

    chain_id: int
    start_block: int
    contracts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.contracts) - set(INDEXED_EVENTS) - {"PartnerBenefits"})
        if unknown:
            raise IndexTargetError(
                f"the index reads no contract named {', '.join(unknown)}: use one of "
                + ", ".join(INDEXED_EVENTS)
            )
        if "PartnerBenefits" in self.contracts:
            raise IndexTargetError(
                "partner contracts are found through the PartnerFactory's PartnerCreated events: list the "
                "PartnerFactory instead"
            )
        if not any(self.contracts.values()):
            raise IndexTargetError(f"nothing to index on chain {self.chain_id}: no contract given")
        if self.start_block < 0:
            raise IndexTargetError(f"start_block must be 0 or more, got {self.start_block}")
        normal = {
            name: tuple(sorted(checksum(a) for a in addresses)) for name, addresses in self.contracts.items()
        }
        object.__setattr__(self, "contracts", {k: v for k, v in sorted(normal.items()) if v})

    def by_address(self) -> dict[str, str]:
        """Contract name by address."""
        return {address: name for name, addresses in self.contracts.items() for address in addresses}

    def addresses(self, name: str) -> tuple[str, ...]:
        return tuple(self.contracts.get(name, ()))


#: The names governance is recorded under (:data:`link_ops.governance.timelock.TIMELOCK` and ``SAFE``; spelled
#: here so that the index does not import the governance package, which imports ape; a test holds them
#: equal) and the contract each is read as.
GOVERNANCE_RECORD_NAMES = {"LinkTimelock": "LinkTimelock", "GovernanceSafe": SAFE_CONTRACT}

#: Where each recorded name points, at home and elsewhere (record name -> contract name).
HOME_RECORD_NAMES = {
    "LBCToken": "LBCToken",
    "OptimizedCubeManagement": "OptimizedCubeManagement",
    "PartnerFactory": "PartnerFactory",
    "AttestedMessenger": "AttestedMessenger",
    "LBCBridge": "LBCBridge",
    "CubeBridge": "CubeBridge",
    **GOVERNANCE_RECORD_NAMES,
}
REMOTE_RECORD_NAMES = {
    "RemoteLBCToken": "LBCToken",
    "AttestedMessenger": "AttestedMessenger",
    "LBCBridge": "LBCBridge",
    "CubeBridge": "RemoteCubeBridge",
    **GOVERNANCE_RECORD_NAMES,
}

_CUBES_SELECTOR = "0x" + keccak(text="cubes()")[:4].hex()


def _remote_collection(rpc: JsonRpc, bridge: str) -> str:
    answer = rpc.request("eth_call", [{"to": bridge, "data": _CUBES_SELECTOR}, "latest"])
    raw = bytes.fromhex(str(answer).removeprefix("0x"))
    if len(raw) != 32:
        raise IndexTargetError(
            f"the remote cube bridge recorded at {bridge} did not answer cubes(): is the record of the right "
            "chain?"
        )
    (address,) = abi_decode(["address"], raw)
    return checksum(str(address))


def targets_from_records(info: ChainInfo, deployments_dir: Path, rpc: JsonRpc | None = None) -> IndexTargets:
    """The contracts link-ops recorded on `info`'s chain, from the earliest recorded block (0 when a record
    has no block numbers). `rpc` reaches the chain, to ask a remote cube bridge for its collection.

    Raises :class:`IndexTargetError` when nothing indexable is recorded there.
    """
    # The records module is pure, but its package (link_ops.protocol) imports ape to deploy: imported here,
    # the index itself stays free of ape.
    from link_ops.protocol.records import load_record

    record = load_record(deployments_dir, info.chain_id)
    if record is None:
        raise IndexTargetError(
            f"nothing recorded for {info.name} ({info.chain_id}) in {deployments_dir}: deploy there first "
            f"(`ape run deploy`, `ape run deploy_bridge`), or point LINK_OPS_DEPLOYMENTS_DIR at the records"
        )
    names = REMOTE_RECORD_NAMES if "RemoteLBCToken" in record.contracts else HOME_RECORD_NAMES
    found: dict[str, list[str]] = {}
    blocks: list[int] = []
    for recorded, entry in record.contracts.items():
        if recorded not in names:
            continue
        found.setdefault(names[recorded], []).append(entry.address)
        if entry.block_number is not None:
            blocks.append(entry.block_number)
    if not found:
        raise IndexTargetError(
            f"the record of {info.name} ({info.chain_id}) in {deployments_dir} holds none of the contracts "
            f"the index reads ({', '.join(sorted(set(HOME_RECORD_NAMES) | set(REMOTE_RECORD_NAMES)))})"
        )
    if "RemoteCubeBridge" in found:
        if rpc is None:
            raise IndexTargetError("a remote chain's cube collection is found through its bridge: give rpc=")
        found["RemoteCube"] = [_remote_collection(rpc, b) for b in found["RemoteCubeBridge"]]
    return IndexTargets(info.chain_id, min(blocks, default=0), {k: tuple(v) for k, v in found.items()})


def describe(targets: IndexTargets) -> Sequence[str]:
    """One line per contract: ``LBCToken 0x…``."""
    return [f"{name} {address}" for name, addresses in targets.contracts.items() for address in addresses]
