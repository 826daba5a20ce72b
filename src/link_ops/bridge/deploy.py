"""Moving LBC and CUBEs between Polygon, Ethereum and BSC: deploying the bridge, wiring it, sending.

Polygon is home: its LBC bridge is a lockbox and its cube bridge locks cubes; every other chain gets an LBC
token whose only minter is its LBC bridge, and a remote cube bridge with its ``RemoteCube`` collection.
Every chain has one ``AttestedMessenger``; a message executes on its destination with the signatures of
``threshold`` of the signers (see ``contracts/interfaces/IAttestedMessenger.sol`` for who trusts what).
Messages travel only between home and a remote chain.

The chains are reached through a :class:`~link_ops.bridge.connections.Connections`: something whose
``on(chain)`` makes that chain ape's active one for a ``with`` block (:class:`LiveConnections`, or in tests
:class:`link_ops.testing.localchains.LocalChains`).
Delivery is the relayer's job (:mod:`link_ops.bridge.relayer`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ape import chain
from ape.contracts import ContractInstance
from eth_utils.address import to_checksum_address

from link_ops import contracts
from link_ops.bridge.connections import Connections, UnsupportedRouteError
from link_ops.exceptions import ConfigurationError, RoleError
from link_ops.governance.roles import check_no_eoa_roles
from link_ops.governance.setup import AdminCalls, GovernanceSettings, deploy_governance, finish_setup
from link_ops.governance.timelock import Governance
from link_ops.model.chains import ChainInfo
from link_ops.protocol.records import (
    ContractRecord,
    DeploymentRecord,
    load_record,
    save_record,
)

#: The limits a new LBC route gets unless told otherwise: one million LBC each way, refilling per day.
DEFAULT_DAILY_LIMIT = 1_000_000 * 10**18


#: The remote LBC token's cap when not given: the default cap of the home token.
DEFAULT_REMOTE_CAP = 1_000_000_000 * 10**18


@dataclass
class BridgeSide:
    """The bridge contracts on one chain."""

    chain: ChainInfo
    messenger: ContractInstance
    lbc_bridge: ContractInstance
    cube_bridge: ContractInstance
    lbc: ContractInstance
    cubes: ContractInstance
    deployed_at_block: int = 0

    @property
    def is_home(self) -> bool:
        return self.chain.is_home

    def addresses(self) -> dict[str, str]:
        return {
            "AttestedMessenger": str(self.messenger.address),
            "LBCBridge": str(self.lbc_bridge.address),
            "CubeBridge": str(self.cube_bridge.address),
            "LBCToken": str(self.lbc.address),
            "Cubes": str(self.cubes.address),
        }


def deploy_bridge_side(
    sender: Any,
    info: ChainInfo,
    *,
    signers: Sequence[str],
    threshold: int,
    home: ChainInfo,
    lbc: ContractInstance | None = None,
    cubes: ContractInstance | None = None,
    remote_cap: int = DEFAULT_REMOTE_CAP,
    base_uri: str = "",
    deployments_dir: Path | None = None,
    governance: Governance | None = None,
) -> BridgeSide:
    """Deploys the bridge contracts of `info` on the active chain, signed by `sender`.

    Home needs the protocol's `lbc` and `cubes`; a remote chain gets a new LBC token (cap `remote_cap`, its
    bridge the only minter) and a remote cube bridge. Routes are wired by :func:`wire`. `sender` is the
    contracts' admin; with `governance` (the chain's timelock, in its setup phase) the timelock is, from
    the constructors on, its guardian pauses, and the side's own wiring runs through the timelock.
    """
    if int(chain.chain_id) != info.chain_id:
        raise ConfigurationError(
            f"connected to chain {chain.chain_id}, not {info.key} ({info.chain_id}): switch first"
        )
    ordered_signers = sorted((to_checksum_address(s) for s in signers), key=lambda a: int(a, 16))
    start = int(chain.blocks.height)
    admin = governance.address if governance is not None else str(sender.address)
    calls = AdminCalls(sender, governance.timelock if governance else None, label=f"bridge side {info.key}")

    messenger = contracts.deploy("AttestedMessenger", sender, admin, ordered_signers, threshold)
    if info.is_home:
        if lbc is None or cubes is None:
            raise ConfigurationError(f"the home bridge on {info.key} needs the protocol's lbc and cubes")
        lbc_bridge = contracts.deploy(
            "LBCBridge",
            sender,
            admin,
            lbc.address,
            messenger.address,
            home.chain_id,
            True,
        )
        cube_bridge = contracts.deploy("CubeBridge", sender, admin, cubes.address, messenger.address)
        token, collection = lbc, cubes
    else:
        token = contracts.deploy("LBCToken", sender, admin, remote_cap)
        lbc_bridge = contracts.deploy(
            "LBCBridge",
            sender,
            admin,
            token.address,
            messenger.address,
            home.chain_id,
            False,
        )
        calls.call(token, "grantRole", token.MINTER_ROLE(), lbc_bridge.address, what="LBC bridge mints")
        cube_bridge = contracts.deploy(
            "RemoteCubeBridge",
            sender,
            admin,
            messenger.address,
            home.chain_id,
            base_uri,
        )
        collection = contracts.at("RemoteCube", cube_bridge.cubes())
    sender_role = messenger.SENDER_ROLE()
    calls.call(messenger, "grantRole", sender_role, lbc_bridge.address, what="LBC bridge sends")
    calls.call(messenger, "grantRole", sender_role, cube_bridge.address, what="cube bridge sends")
    if governance is not None and governance.guardian is not None:
        for bridge in (lbc_bridge, cube_bridge):
            calls.call(bridge, "grantRole", bridge.PAUSER_ROLE(), governance.guardian, what="guardian pauses")
    calls.flush()
    side = BridgeSide(info, messenger, lbc_bridge, cube_bridge, token, collection, start)
    if deployments_dir is not None:
        record_bridge_side(side, deployments_dir)
    return side


#: The names a side's contracts are recorded under in ``deployments/<chain_id>.json``.
MESSENGER, LBC_BRIDGE, CUBE_BRIDGE, REMOTE_LBC = (
    "AttestedMessenger",
    "LBCBridge",
    "CubeBridge",
    "RemoteLBCToken",
)


def record_bridge_side(side: BridgeSide, deployments_dir: Path) -> Path:
    """Adds `side`'s contracts to the chain's deployment record (call it on that chain); returns the file."""
    rec = load_record(deployments_dir, side.chain.chain_id)
    if rec is None:
        block_hash = chain.blocks[0].hash
        genesis = block_hash.hex() if isinstance(block_hash, bytes) else str(block_hash)
        rec = DeploymentRecord(chain_id=side.chain.chain_id, genesis_hash=genesis, complete=True)
    entries = {MESSENGER: side.messenger, LBC_BRIDGE: side.lbc_bridge, CUBE_BRIDGE: side.cube_bridge}
    if not side.is_home:
        entries[REMOTE_LBC] = side.lbc
    for name, contract in entries.items():
        rec = rec.with_contract(
            name, ContractRecord(address=str(contract.address), block_number=side.deployed_at_block)
        )
    return save_record(deployments_dir, rec)


def load_bridge_side(info: ChainInfo, deployments_dir: Path) -> BridgeSide:
    """The bridge recorded for `info` (call it on that chain); raises when it is not recorded."""
    rec = load_record(deployments_dir, info.chain_id)
    names = [MESSENGER, LBC_BRIDGE, CUBE_BRIDGE] + ([] if info.is_home else [REMOTE_LBC])
    if info.is_home:
        names += ["LBCToken", "OptimizedCubeManagement"]
    missing = [n for n in names if rec is None or n not in rec.contracts]
    if rec is None or missing:
        raise UnsupportedRouteError(
            f"no bridge recorded for {info.key} in {deployments_dir} (missing: {', '.join(missing)}): deploy "
            "it with link_ops.bridge.deploy_bridge_side(..., deployments_dir=...)"
        )
    address = {name: rec.contracts[name].address for name in names}
    messenger = contracts.at("AttestedMessenger", address[MESSENGER])
    lbc_bridge = contracts.at("LBCBridge", address[LBC_BRIDGE])
    if info.is_home:
        cube_bridge = contracts.at("CubeBridge", address[CUBE_BRIDGE])
        lbc = contracts.at("LBCToken", address["LBCToken"])
        cubes = contracts.at("OptimizedCubeManagement", address["OptimizedCubeManagement"])
    else:
        cube_bridge = contracts.at("RemoteCubeBridge", address[CUBE_BRIDGE])
        lbc = contracts.at("LBCToken", address[REMOTE_LBC])
        cubes = contracts.at("RemoteCube", cube_bridge.cubes())
    first = min((e.block_number for e in rec.contracts.values() if e.block_number is not None), default=0)
    return BridgeSide(info, messenger, lbc_bridge, cube_bridge, lbc, cubes, first)


def wire(
    connections: Connections,
    home: BridgeSide,
    remote: BridgeSide,
    sender: Any,
    *,
    send_limit: int = DEFAULT_DAILY_LIMIT,
    receive_limit: int = DEFAULT_DAILY_LIMIT,
    governance: Mapping[str, Governance] | None = None,
) -> None:
    """Makes `home` and `remote` trust each other (messengers and bridges) and sets the LBC limits of the
    route between them on both sides; through each chain's timelock (setup phase) when `governance` maps
    the chain's key to it."""
    for here, there in ((home, remote), (remote, home)):
        with connections.on(here.chain.key):
            gov = (governance or {}).get(here.chain.key)
            calls = AdminCalls(sender, gov.timelock if gov else None, label=f"route {here.chain.key}")
            route = there.chain.chain_id
            calls.call(here.messenger, "setRemoteMessenger", route, there.messenger.address, what="messenger")
            calls.call(here.lbc_bridge, "setPeer", route, there.lbc_bridge.address, what="LBC peer")
            calls.call(here.cube_bridge, "setPeer", route, there.cube_bridge.address, what="cube peer")
            calls.call(here.lbc_bridge, "setLimits", route, send_limit, receive_limit, what="limits")
            calls.flush()


def deploy_bridges(
    connections: Connections,
    sender: Any,
    *,
    home: ChainInfo,
    remotes: Sequence[ChainInfo],
    lbc: ContractInstance,
    cubes: ContractInstance,
    signers: Sequence[str],
    threshold: int,
    deployments_dir: Path | None = None,
    governance: GovernanceSettings | None = None,
    timelocks: Mapping[str, Governance] | None = None,
) -> list[BridgeSide]:
    """Deploys the home bridge and one per remote chain, wires home with each; returns them, home first.

    With `governance`, each chain's timelock (the one the governed core left in its setup phase at home,
    a new one elsewhere) is every bridge contract's admin; once every route is wired each timelock's setup
    ends and every role of every contract is checked to be held by no key (:class:`RoleError` otherwise).
    One timelock administers a chain: give the ones already deployed (the governed core's) in `timelocks`
    by chain key when they are not recorded in `deployments_dir`.
    """
    govs: dict[str, Governance] = dict(timelocks or {})
    if governance is not None:
        for info in (home, *remotes):
            if info.key in govs:
                continue
            with connections.on(info.key):
                govs[info.key] = deploy_governance(
                    sender,
                    safe=governance.safe,
                    min_delay=governance.min_delay,
                    guardian=governance.guardian,
                    setup=True,
                    record=deployments_dir is not None,
                    deployments_dir=deployments_dir,
                )
    with connections.on(home.key):
        home_side = deploy_bridge_side(
            sender,
            home,
            signers=signers,
            threshold=threshold,
            home=home,
            lbc=lbc,
            cubes=cubes,
            deployments_dir=deployments_dir,
            governance=govs.get(home.key),
        )
    sides = [home_side]
    for remote in remotes:
        with connections.on(remote.key):
            side = deploy_bridge_side(
                sender,
                remote,
                signers=signers,
                threshold=threshold,
                home=home,
                deployments_dir=deployments_dir,
                governance=govs.get(remote.key),
            )
        wire(connections, home_side, side, sender, governance=govs or None)
        sides.append(side)
    if governance is not None:
        for side in sides:
            with connections.on(side.chain.key):
                _finish_governance(side, govs[side.chain.key], governance, sender)
    return sides


def _finish_governance(side: BridgeSide, gov: Governance, settings: GovernanceSettings, sender: Any) -> None:
    """Ends the setup phase of `side`'s chain's timelock (the guardian a canceller too) and checks that no
    key holds a role on any of the chain's bridge contracts, the core's at home, or the timelock."""
    timelock = gov.timelock
    canceller = timelock.CANCELLER_ROLE()
    if not timelock.hasRole(canceller, settings.guardian) and timelock.hasRole(
        timelock.DEFAULT_ADMIN_ROLE(), sender.address
    ):
        timelock.grantRole(canceller, settings.guardian, sender=sender)
    finish_setup(
        timelock,
        sender,
        safe=settings.safe,
        min_delay=settings.min_delay,
        allow=[settings.guardian],
        from_block=gov.from_block,
    )
    watched = [side.messenger, side.lbc_bridge, side.cube_bridge, side.lbc, timelock]
    if side.is_home:
        watched.append(side.cubes)
    keys = check_no_eoa_roles(*watched, from_block=gov.from_block, allow=[settings.guardian])
    if keys:
        raise RoleError(
            f"after the hand-over on {side.chain.key}, keys still hold roles: "
            + "; ".join(str(k) for k in keys)
            + ". Revoke them through the Safe (`ape run govern propose ... revokeRole ...`)"
        )
