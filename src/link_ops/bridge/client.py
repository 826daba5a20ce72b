"""Sending LBC and cubes across: :class:`CrossChainBridge`, the user's side of the bridge.

A send locks (at home) or burns (on a remote chain) and emits the message that the relayer
(:mod:`link_ops.bridge.relayer`) delivers on the destination.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ape import accounts
from ape.exceptions import ContractLogicError
from eth_utils.address import is_address, to_checksum_address

from link_ops.bridge.connections import Connections, UnsupportedRouteError
from link_ops.bridge.deploy import BridgeSide
from link_ops.exceptions import ConfigurationError, LinkOpsError, MissingAccountError
from link_ops.model.attest import Message
from link_ops.model.chains import ChainInfo, resolve_chain

ASSET_TYPES = ("LBC", "CUBE")


class UnsupportedAssetError(ConfigurationError):
    """The asset type is neither LBC nor CUBE."""


class BridgeSendError(ConfigurationError):
    """A send that the bridge would refuse (balance, ownership, limit, pause); nothing was sent."""


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
        info = resolve_chain(chain_ref)
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
        :class:`UnsupportedAssetError`, :class:`UnsupportedRouteError`, :class:`BridgeSendError` (balance,
        ownership, limit, pause: see :func:`check_send`) or :class:`ConfigurationError` before anything
        is sent.
        """
        src, dst = resolve_chain(from_chain), resolve_chain(to_chain)
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
            check_send(source, dst, asset, value if asset == "LBC" else cube_ids, str(user.address))
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


def check_send(
    source: BridgeSide, dst: ChainInfo, asset: str, amount: int | Sequence[int], holder: str
) -> None:
    """Refuses a send that would revert, before anything is sent (call it on the source chain).

    Checks that the route is wired and not paused, and then, for LBC (`amount` in wei), the holder's
    balance and the route's send limit, or, for CUBE (`amount` the ids), the most cubes a message
    carries, and that each cube exists and the holder may move it. Raises :class:`UnsupportedRouteError`
    or :class:`BridgeSendError`, each saying what to do.
    """
    where = source.chain
    bridge = source.lbc_bridge if asset == "LBC" else source.cube_bridge
    if int(str(bridge.peer(dst.chain_id)), 16) == 0:
        raise UnsupportedRouteError(
            f"the {asset} bridge on {where.key} has no peer on {dst.key}: wire the route first "
            "(`ape run deploy_bridge` on both chains)"
        )
    if bridge.paused():
        raise BridgeSendError(
            f"the {asset} bridge on {where.key} is paused: wait until its admin unpauses it"
        )
    if isinstance(amount, int):
        balance = int(source.lbc.balanceOf(holder))
        if balance < amount:
            raise BridgeSendError(
                f"{holder} holds {_lbc(balance)} LBC on {where.name}, less than the {_lbc(amount)} LBC to "
                "send: send at most what it holds"
            )
        _max, available = (int(v) for v in source.lbc_bridge.sendLimit(dst.chain_id))
        if amount > available:
            raise BridgeSendError(
                f"{_lbc(amount)} LBC is over what the {where.key} bridge can send to {dst.key} now "
                f"({_lbc(available)} LBC left of the route's limit): send less, or wait for the limit to "
                "refill"
            )
        return
    most = int(source.cube_bridge.MAX_CUBES_PER_MESSAGE())
    if len(amount) > most:
        raise BridgeSendError(
            f"{len(amount)} cubes are more than one message carries ({most}): send them in batches of at "
            f"most {most}"
        )
    for cube_id in amount:
        try:
            owner = str(source.cubes.ownerOf(cube_id))
        except ContractLogicError:
            raise BridgeSendError(f"cube #{cube_id} does not exist on {where.name}: check the id") from None
        if source.is_home:
            allowed = owner.lower() == holder.lower()
        else:
            allowed = bool(source.cubes.isApprovedOrOwner(holder, cube_id))
        if not allowed:
            raise BridgeSendError(
                f"cube #{cube_id} on {where.name} is held by {owner}, not by {holder}: send only the "
                "holder's own cubes"
            )


def _lbc(wei: int) -> str:
    """Wei as LBC, without trailing zeros: 25, 0.5."""
    text = f"{Decimal(wei) / 10**18:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


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
