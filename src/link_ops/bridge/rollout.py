"""Rolling the bridge out one chain at a time: what ``ape run deploy_bridge`` runs on each chain.

:func:`deploy_side` deploys a chain's side (or resumes the recorded one) and wires it toward the sides
recorded for its route partners (a home chain's remotes, or a remote's home). Wiring is one-sided and
idempotent (:func:`wire_side` sends only what differs), so a route is complete once the command has run on
both of its chains, in either order; running it again changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ape import chain
from ape.contracts import ContractInstance
from eth_utils.address import to_checksum_address

from link_ops.bridge.connections import UnsupportedRouteError
from link_ops.bridge.deploy import (
    CUBE_BRIDGE,
    DEFAULT_DAILY_LIMIT,
    DEFAULT_REMOTE_CAP,
    LBC_BRIDGE,
    MESSENGER,
    BridgeSide,
    deploy_bridge_side,
    load_bridge_side,
)
from link_ops.exceptions import ConfigurationError
from link_ops.governance.setup import AdminCalls, GovernanceSettings, deploy_governance
from link_ops.model.chains import CHAINS, ChainInfo, chain_by_key
from link_ops.protocol.records import deployment_addresses, record_path


@dataclass
class SideDeployment:
    """What :func:`deploy_side` did on one chain: the side, whether it was already recorded, the wiring
    transactions it sent, and the file it wrote (None on a dry run)."""

    side: BridgeSide
    reused: bool
    wired: list[str]
    record_file: Path | None


def peers_for(
    info: ChainInfo, deployments_dir: Path, wanted: Sequence[ChainInfo] | None = None
) -> list[ChainInfo]:
    """The chains `info`'s side is wired to: `wanted` (each must be a legal route), else every chain of the
    route with a bridge recorded in `deployments_dir` (home: its remotes; a remote: its home)."""
    if wanted is not None:
        for peer in wanted:
            legal = (info.is_home and peer.home_key == info.key) or (peer.key == info.home_key)
            if not legal:
                raise UnsupportedRouteError(
                    f"{info.key} to {peer.key}: a bridge route joins a home chain and one of its remotes "
                    f"({info.key}'s route partners: {', '.join(c.key for c in route_partners(info))})"
                )
        return list(wanted)
    return [p for p in route_partners(info) if MESSENGER in deployment_addresses(p, deployments_dir)]


def route_partners(info: ChainInfo) -> list[ChainInfo]:
    """The chains a bridge on `info` may talk to: a home chain's remotes, or a remote chain's home."""
    if info.is_home:
        return [c for c in CHAINS.values() if c.home_key == info.key]
    return [chain_by_key(info.home_key)] if info.home_key else []


def wire_side(
    side: BridgeSide,
    peer: ChainInfo,
    peer_addresses: dict[str, str],
    sender: Any,
    *,
    send_limit: int = DEFAULT_DAILY_LIMIT,
    receive_limit: int = DEFAULT_DAILY_LIMIT,
    timelock: ContractInstance | None = None,
) -> list[str]:
    """Makes `side` (on the active chain) trust `peer`'s recorded bridge; sends only what differs.

    Governed, `timelock` (in its setup phase) is the contracts' admin and the changes run through it in
    one batch.

    Sets the remote messenger and both bridges' peers for `peer`, and the LBC bridge's limits of that
    route. Returns a line per transaction sent (none when everything was already so).
    """
    missing = [n for n in (MESSENGER, LBC_BRIDGE, CUBE_BRIDGE) if n not in peer_addresses]
    if missing:
        raise UnsupportedRouteError(
            f"no bridge recorded for {peer.key} (missing {', '.join(missing)}): run `ape run deploy_bridge` "
            f"on {peer.key} first, then here again"
        )
    sent: list[str] = []
    calls = AdminCalls(sender, timelock, label=f"wire {side.chain.key} to {peer.key}")
    want = {
        "messenger": (side.messenger, "remoteMessenger", "setRemoteMessenger", MESSENGER),
        "LBC bridge": (side.lbc_bridge, "peer", "setPeer", LBC_BRIDGE),
        "cube bridge": (side.cube_bridge, "peer", "setPeer", CUBE_BRIDGE),
    }
    for what, (contract, read, write, name) in want.items():
        target = to_checksum_address(peer_addresses[name])
        if to_checksum_address(str(getattr(contract, read)(peer.chain_id))) != target:
            line = f"{what} on {side.chain.key} trusts {peer.key}'s {name} {target}"
            calls.call(contract, write, peer.chain_id, target, what=line)
            sent.append(line)
    route = peer.chain_id
    (send_max, _), (receive_max, _) = side.lbc_bridge.sendLimit(route), side.lbc_bridge.receiveLimit(route)
    if (int(send_max), int(receive_max)) != (send_limit, receive_limit):
        line = (
            f"LBC bridge on {side.chain.key}: limits of the route to {peer.key} {send_limit} out, "
            f"{receive_limit} in (wei, refilling per day)"
        )
        calls.call(side.lbc_bridge, "setLimits", route, send_limit, receive_limit, what=line)
        sent.append(line)
    calls.flush()
    return sent


def deploy_side(
    sender: Any,
    info: ChainInfo,
    *,
    deployments_dir: Path,
    signers: Sequence[str] | None = None,
    threshold: int | None = None,
    peers: Sequence[ChainInfo] | None = None,
    lbc: ContractInstance | None = None,
    cubes: ContractInstance | None = None,
    remote_cap: int = DEFAULT_REMOTE_CAP,
    send_limit: int = DEFAULT_DAILY_LIMIT,
    receive_limit: int = DEFAULT_DAILY_LIMIT,
    dry_run: bool = False,
    governance: GovernanceSettings | None = None,
    report: Callable[[str], None] | None = None,
) -> SideDeployment:
    """Deploys `info`'s bridge side on the active chain, or resumes the recorded one, and wires it toward
    its peers (:func:`peers_for`), one side at a time: run it on each chain of a route.

    A new side needs `signers` and `threshold` (and, at home, the protocol's `lbc` and `cubes`); a recorded
    side is reused as it is (given signers must match it). Everything is checked before anything is sent.
    `dry_run` (a rehearsal on a fork) writes no record.

    With `governance` the chain's timelock (the governed core's at home, recorded; a new one elsewhere) is
    the admin of every new contract, and the side's wiring runs through its setup phase, which stays open
    for the other chains of the route: end it on each chain with `ape run govern finish-setup` once every
    route is wired (:func:`link_ops.governance.finish_chain_setup`).
    """
    say = report or (lambda _line: None)
    if int(chain.chain_id) != info.chain_id:
        raise ConfigurationError(
            f"connected to chain {chain.chain_id}, not {info.key} ({info.chain_id}): pass its --network"
        )
    if info.is_local or not (info.is_home or info.home_key):
        raise ConfigurationError(
            f"{info.name} takes no bridge: bridges join a home chain (polygon, amoy) and its remotes"
        )
    peer_infos = peers_for(info, deployments_dir, peers)
    peer_addresses = {p.key: deployment_addresses(p, deployments_dir) for p in peer_infos}
    for p in peer_infos:
        if MESSENGER not in peer_addresses[p.key]:
            raise UnsupportedRouteError(
                f"no bridge recorded for {p.key} in {deployments_dir}: run `ape run deploy_bridge` on "
                f"{p.key} first, then here again"
            )
    gov = None
    if governance is not None:
        gov = deploy_governance(
            sender,
            safe=governance.safe,
            min_delay=governance.min_delay,
            guardian=governance.guardian,
            setup=True,
            record=not dry_run,
            deployments_dir=deployments_dir,
            report=say,
        )
    recorded = deployment_addresses(info, deployments_dir)
    reused = MESSENGER in recorded
    if reused:
        side = load_bridge_side(info, deployments_dir)
        if not chain.provider.get_code(side.messenger.address):
            raise ConfigurationError(
                f"{record_path(deployments_dir, info.chain_id)} records a messenger at "
                f"{side.messenger.address}, but there is no code there: check --network, or move the "
                "record away to deploy afresh"
            )
        if signers is not None or threshold is not None:
            have = sorted(str(s).lower() for s in side.messenger.signers())
            if (signers is not None and sorted(s.lower() for s in signers) != have) or (
                threshold is not None and int(side.messenger.threshold()) != threshold
            ):
                raise ConfigurationError(
                    f"the recorded messenger on {info.key} has signers {', '.join(have)} and threshold "
                    f"{side.messenger.threshold()}: change them with setSigners (an admin call), not here"
                )
        say(f"reusing the recorded bridge on {info.key} (messenger {side.messenger.address})")
    else:
        if not signers or threshold is None:
            raise ConfigurationError(
                f"a new bridge on {info.key} needs its signers and threshold (--signers, --threshold)"
            )
        if not 1 <= threshold <= len(signers):
            raise ConfigurationError(
                f"threshold must be between 1 and the {len(signers)} signers, got {threshold}"
            )
        if info.is_home and (lbc is None or cubes is None):
            raise ConfigurationError(
                f"the home bridge on {info.key} needs the protocol: deploy it first (`ape run deploy`)"
            )
        home = info if info.is_home else chain_by_key(str(info.home_key))
        say(f"deploying the bridge on {info.key}")
        side = deploy_bridge_side(
            sender,
            info,
            signers=signers,
            threshold=threshold,
            home=home,
            lbc=lbc,
            cubes=cubes,
            remote_cap=remote_cap,
            deployments_dir=None if dry_run else deployments_dir,
            governance=gov,
        )
    wired: list[str] = []
    for p in peer_infos:
        lines = wire_side(
            side,
            p,
            peer_addresses[p.key],
            sender,
            send_limit=send_limit,
            receive_limit=receive_limit,
            timelock=gov.timelock if gov is not None else None,
        )
        for line in lines:
            say(line)
        wired += lines
    record_file = None if dry_run else record_path(deployments_dir, info.chain_id)
    return SideDeployment(side, reused, wired, record_file)
