"""Moving LBC and CUBEs between Polygon, Ethereum and BSC: deploying the bridge, wiring it, sending.

Polygon is home: its LBC bridge is a lockbox and its cube bridge locks cubes; every other chain gets an LBC
token whose only minter is its LBC bridge, and a remote cube bridge with its ``RemoteCube`` collection.
Every chain has one ``AttestedMessenger``; a message executes on its destination with the signatures of
``threshold`` of the signers (see ``contracts/interfaces/IAttestedMessenger.sol`` for who trusts what).
Messages travel only between home and a remote chain.

The chains are reached through a :class:`Connections`: something whose ``on(chain)`` makes that chain ape's
active one for a ``with`` block (:class:`link_ops.multichain.LocalChains`, or :class:`LiveConnections`).
Delivery is the relayer's job (:mod:`link_ops.relayer`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ape import accounts, chain
from ape.contracts import ContractInstance
from eth_utils.address import is_address, to_checksum_address

from . import contracts
from .attest import Message
from .chains import ChainInfo, chain_by_id, chain_by_key
from .deployments import ContractRecord, DeploymentRecord, load_record, save_record
from .exceptions import ConfigurationError, LinkOpsError, MissingAccountError
from .multichain import activate, connect, without_confirmations

ASSET_TYPES = ("LBC", "CUBE")
#: Daily limits a new LBC bridge gets unless told otherwise: one million LBC each way.
DEFAULT_DAILY_LIMIT = 1_000_000 * 10**18
#: The remote LBC token's cap when not given: the default cap of the home token.
DEFAULT_REMOTE_CAP = 1_000_000_000 * 10**18


class UnsupportedAssetError(ConfigurationError):
    """The asset type is neither LBC nor CUBE."""


class UnsupportedRouteError(ConfigurationError):
    """No bridge is wired between the two chains (assets travel only between home and a remote chain)."""


class Connections(Protocol):
    """Reaches chains: ``with connections.on(chain): ...`` runs the block on that chain."""

    def on(self, chain: Any) -> AbstractContextManager[Any]: ...


class LiveConnections:
    """Connections to networks by ape network choice (``polygon:mainnet:https://…``), each connected on
    first use and kept for later blocks.

    `wait_for_confirmations=False` makes those networks wait for no confirmations (for local stand-ins,
    whose blocks come only with transactions).
    """

    def __init__(self, choices: Mapping[str, str], *, wait_for_confirmations: bool = True) -> None:
        self.choices = {chain_by_key(key).key: choice for key, choice in choices.items()}
        self.wait_for_confirmations = wait_for_confirmations
        self._providers: dict[str, Any] = {}

    def provider(self, chain_ref: Any) -> Any:
        info = chain_ref if isinstance(chain_ref, ChainInfo) else chain_by_key(str(chain_ref))
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


@dataclass(frozen=True)
class BridgeReceipt:
    """What :meth:`CrossChainBridge.bridge_assets` sent: the message that now waits for its delivery."""

    message_id: str
    from_chain: str
    to_chain: str
    asset_type: str
    amount: int
    cube_ids: tuple[int, ...]
    user_address: str
    tx_hash: str
    gas_used: int
    message: Message = field(repr=False)


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
) -> BridgeSide:
    """Deploys the bridge contracts of `info` on the active chain, signed by `sender` (who stays admin).

    Home needs the protocol's `lbc` and `cubes`; a remote chain gets a new LBC token (cap `remote_cap`, its
    bridge the only minter) and a remote cube bridge. Routes are wired by :func:`wire`.
    """
    if int(chain.chain_id) != info.chain_id:
        raise ConfigurationError(
            f"connected to chain {chain.chain_id}, not {info.key} ({info.chain_id}): switch first"
        )
    ordered_signers = sorted((to_checksum_address(s) for s in signers), key=lambda a: int(a, 16))
    start = int(chain.blocks.height)

    messenger = contracts.deploy("AttestedMessenger", sender, sender.address, ordered_signers, threshold)
    if info.is_home:
        if lbc is None or cubes is None:
            raise ConfigurationError(f"the home bridge on {info.key} needs the protocol's lbc and cubes")
        lbc_bridge = contracts.deploy(
            "LBCBridge",
            sender,
            sender.address,
            lbc.address,
            messenger.address,
            home.chain_id,
            True,
        )
        cube_bridge = contracts.deploy("CubeBridge", sender, sender.address, cubes.address, messenger.address)
        token, collection = lbc, cubes
    else:
        token = contracts.deploy("LBCToken", sender, sender.address, remote_cap)
        lbc_bridge = contracts.deploy(
            "LBCBridge",
            sender,
            sender.address,
            token.address,
            messenger.address,
            home.chain_id,
            False,
        )
        token.grantRole(token.MINTER_ROLE(), lbc_bridge.address, sender=sender)
        cube_bridge = contracts.deploy(
            "RemoteCubeBridge",
            sender,
            sender.address,
            messenger.address,
            home.chain_id,
            base_uri,
        )
        collection = contracts.at("RemoteCube", cube_bridge.cubes())
    sender_role = messenger.SENDER_ROLE()
    messenger.grantRole(sender_role, lbc_bridge.address, sender=sender)
    messenger.grantRole(sender_role, cube_bridge.address, sender=sender)
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


def connections_from_env(
    keys: Sequence[str], environ: Mapping[str, str] | None = None, *, wait_for_confirmations: bool = True
) -> LiveConnections:
    """Connections to the chains `keys` through their RPC variables (``POLYGON_RPC_URL``, …).

    Raises :class:`ConfigurationError` naming every variable that is not set.
    """
    env = os.environ if environ is None else environ
    infos = [chain_by_key(k) for k in keys]
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
    choices = {i.key: f"{i.ape_network}:{env[variables[i.key]].strip()}" for i in infos}
    return LiveConnections(choices, wait_for_confirmations=wait_for_confirmations)


def wire(
    connections: Connections,
    home: BridgeSide,
    remote: BridgeSide,
    sender: Any,
    *,
    send_limit: int = DEFAULT_DAILY_LIMIT,
    receive_limit: int = DEFAULT_DAILY_LIMIT,
) -> None:
    """Makes `home` and `remote` trust each other (messengers and bridges) and sets both LBC limits."""
    for here, there in ((home, remote), (remote, home)):
        with connections.on(here.chain.key):
            here.messenger.setRemoteMessenger(there.chain.chain_id, there.messenger.address, sender=sender)
            here.lbc_bridge.setPeer(there.chain.chain_id, there.lbc_bridge.address, sender=sender)
            here.cube_bridge.setPeer(there.chain.chain_id, there.cube_bridge.address, sender=sender)
            here.lbc_bridge.setLimits(send_limit, receive_limit, sender=sender)


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
) -> list[BridgeSide]:
    """Deploys the home bridge and one per remote chain, wires home with each; returns them, home first."""
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
            )
        wire(connections, home_side, side, sender)
        sides.append(side)
    return sides


def message_from_receipt(receipt: Any, side: BridgeSide) -> Message:
    """The message a bridge's ``send`` transaction emitted (its ``MessageSent``)."""
    events = side.messenger.MessageSent.from_receipt(receipt)
    if len(events) != 1:
        raise LinkOpsError(f"expected one MessageSent in {receipt.txn_hash}, found {len(events)}")
    return message_from_event(events[0], side)


def message_from_event(log: Any, side: BridgeSide) -> Message:
    return Message(
        src_chain_id=side.chain.chain_id,
        src_messenger=str(side.messenger.address),
        sender=str(log.sender),
        dst_chain_id=int(log.dstChainId),
        receiver=str(log.receiver),
        nonce=int(log.nonce),
        payload=bytes(log.payload),
    )


class CrossChainBridge:
    """The seed's ``CrossChainBridge``: :meth:`bridge_assets` moves LBC or cubes from one chain to another."""

    def __init__(self, sides: Sequence[BridgeSide], connections: Connections) -> None:
        self.sides = {side.chain.key: side for side in sides}
        self.connections = connections

    def side(self, chain_ref: str | int | ChainInfo) -> BridgeSide:
        info = _chain(chain_ref)
        side = self.sides.get(info.key)
        if side is None:
            wired = ", ".join(sorted(self.sides)) or "none"
            raise UnsupportedRouteError(f"no bridge on {info.key}: this bridge is deployed on {wired}")
        return side

    def bridge_assets(
        self,
        from_chain: str | int | ChainInfo,
        to_chain: str | int | ChainInfo,
        asset_type: str,
        amount: int | Sequence[int],
        user_address: Any,
    ) -> BridgeReceipt:
        """Sends `amount` of `asset_type` of the user from `from_chain` to the same user on `to_chain`.

        `asset_type` is ``"LBC"`` (`amount` in wei) or ``"CUBE"`` (`amount` a cube id or a list of ids).
        `user_address` is an ape account, or the address of one ape can sign with. Raises
        :class:`~link_ops.exceptions.UnsupportedChainError` (``Unsupported chain: <name>``),
        :class:`UnsupportedAssetError`, :class:`UnsupportedRouteError` or :class:`ConfigurationError`
        before anything is sent.
        """
        src, dst = _chain(from_chain), _chain(to_chain)
        asset = str(asset_type).strip().upper()
        if asset not in ASSET_TYPES:
            raise UnsupportedAssetError(f"Unsupported asset type: {asset_type}")
        if src.chain_id == dst.chain_id:
            raise UnsupportedRouteError(
                f"{src.key} to {dst.key}: the source and destination are the same chain"
            )
        if not (src.is_home or dst.is_home):
            raise UnsupportedRouteError(
                f"{src.key} to {dst.key}: assets travel only between {src.home_key} and a remote chain; "
                f"bridge to {src.home_key} first"
            )
        source, destination = self.side(src), self.side(dst)
        user = _signer(user_address)
        cube_ids: tuple[int, ...] = ()
        if asset == "LBC":
            if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
                raise ConfigurationError(f"LBC amount must be a positive number of wei, got {amount!r}")
            value = amount
        else:
            cube_ids = _cube_ids(amount)
            value = len(cube_ids)
        with self.connections.on(src.key):
            if asset == "LBC":
                bridge = source.lbc_bridge
                if int(source.lbc.allowance(user.address, bridge.address)) < value:
                    source.lbc.approve(bridge.address, value, sender=user)
                receipt = bridge.send(dst.chain_id, user.address, value, sender=user)
            else:
                bridge = source.cube_bridge
                if source.is_home and not source.cubes.isApprovedForAll(user.address, bridge.address):
                    source.cubes.setApprovalForAll(bridge.address, True, sender=user)
                receipt = bridge.send(dst.chain_id, user.address, list(cube_ids), sender=user)
            message = message_from_receipt(receipt, source)
        if (
            message.receiver.lower()
            != str((destination.lbc_bridge if asset == "LBC" else destination.cube_bridge).address).lower()
        ):
            raise LinkOpsError(
                f"the {src.key} bridge sent to {message.receiver}, which is not the {dst.key} bridge: "
                "check the wiring (wire())"
            )
        return BridgeReceipt(
            message_id="0x" + message.message_id.hex(),
            from_chain=src.key,
            to_chain=dst.key,
            asset_type=asset,
            amount=value if asset == "LBC" else len(cube_ids),
            cube_ids=cube_ids,
            user_address=str(user.address),
            tx_hash=str(receipt.txn_hash),
            gas_used=int(receipt.gas_used),
            message=message,
        )


# --------------------------------------------------------------------------------------------- internals


def _chain(ref: str | int | ChainInfo) -> ChainInfo:
    if isinstance(ref, ChainInfo):
        return ref
    if isinstance(ref, int) and not isinstance(ref, bool):
        return chain_by_id(ref)
    return chain_by_key(str(ref))


def _cube_ids(amount: int | Sequence[int]) -> tuple[int, ...]:
    ids = (amount,) if isinstance(amount, int) and not isinstance(amount, bool) else tuple(amount)  # type: ignore[arg-type]
    if not ids or any(not isinstance(i, int) or isinstance(i, bool) or i <= 0 for i in ids):
        raise ConfigurationError(
            f"CUBE takes a cube id or a list of cube ids (positive integers), got {amount!r}"
        )
    if len(set(ids)) != len(ids):
        raise ConfigurationError(f"cube ids repeat in {list(ids)}: give each cube once")
    return ids


def _signer(user: Any) -> Any:
    if hasattr(user, "address") and hasattr(user, "call"):
        return user
    raw = getattr(user, "address", user)
    if not isinstance(raw, str) or not is_address(raw):
        raise ConfigurationError(f"user_address must be an ape account or a 0x address, got {user!r}")
    address = to_checksum_address(raw)
    for account in accounts.test_accounts:
        if account.address == address:
            return account
    for container_account in accounts:
        if container_account.address == address:
            return container_account
    raise MissingAccountError(
        f"no account to sign for {address}: import it with `ape accounts import`, or pass the ape account"
    )
