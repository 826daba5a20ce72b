"""Held transfers: arrivals a bridge could not execute, waiting for a retry or a refund.

A bridge executes an arriving transfer inside a self-call; when that fails (the route's receive limit is
used up, the remote token lost its minter role, a cube is not locked for that chain) the transfer is
*held* (``TransferHeld``) instead of being stuck with its messenger. From there it ends in exactly one of:

- **retry** (anyone): executed now, e.g. once the limit has refilled (:func:`retry`);
- **refund** (its sender or recipient): sent back to the source bridge, which pays the sender exactly what
  left against its outbox commitment (:func:`refund`); the relayer delivers that message like any other.

See ``contracts/interfaces/IBridge.sol`` for the rules the contracts enforce.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ape import chain
from ape.exceptions import ContractLogicError
from eth_abi.abi import decode
from eth_utils.address import to_checksum_address

from link_ops.bridge.deploy import BridgeSide
from link_ops.contracts.errors import decode_error, describe_revert
from link_ops.exceptions import ConfigurationError, LinkOpsError

#: Payload kinds (the first word of every bridge payload).
TRANSFER, REFUND = 1, 2

_HEADER = ["uint256", "uint64", "address", "address"]
_LBC_BODY = ["uint256"]
_CUBE_BODY = ["uint256[]", "uint8[]", "uint256[]"]


class HeldTransferError(ConfigurationError):
    """A retry or refund that the bridge would refuse; nothing was sent."""


@dataclass(frozen=True)
class TransferPayload:
    """A bridge payload, decoded."""

    kind: int
    nonce: int
    sender: str
    recipient: str
    amount: int = 0
    cube_ids: tuple[int, ...] = ()
    tiers: tuple[int, ...] = ()
    total_mined: tuple[int, ...] = ()

    @property
    def asset(self) -> str:
        return "CUBE" if self.cube_ids else "LBC"


def decode_payload(payload: bytes, asset: str) -> TransferPayload:
    """Decodes a bridge payload of `asset` ("LBC" or "CUBE")."""
    body = _LBC_BODY if asset == "LBC" else _CUBE_BODY
    values = decode(_HEADER + body, bytes(payload))
    kind, nonce = int(values[0]), int(values[1])
    sender, recipient = to_checksum_address(str(values[2])), to_checksum_address(str(values[3]))
    if asset == "LBC":
        return TransferPayload(kind, nonce, sender, recipient, amount=int(values[4]))
    ids, tiers, mined = values[4], values[5], values[6]
    return TransferPayload(
        kind,
        nonce,
        sender,
        recipient,
        amount=len(ids),
        cube_ids=tuple(int(i) for i in ids),
        tiers=tuple(int(t) for t in tiers),
        total_mined=tuple(int(m) for m in mined),
    )


@dataclass(frozen=True)
class HeldTransfer:
    """A transfer held by a bridge on `chain_key`: what it carries and why it did not execute."""

    transfer_id: str
    chain_key: str
    bridge: str
    asset: str
    src_chain_id: int
    src_bridge: str
    payload: bytes
    transfer: TransferPayload
    reason: str
    block_number: int

    def describe(self) -> str:
        what = (
            f"{self.transfer.amount} wei LBC"
            if self.asset == "LBC"
            else "cubes " + ", ".join(f"#{i}" for i in self.transfer.cube_ids)
        )
        return (
            f"transfer {self.transfer_id[:10]}… ({what} from {self.transfer.sender} on chain "
            f"{self.src_chain_id} to {self.transfer.recipient}) held on {self.chain_key}: {self.reason}"
        )


def held_transfers(side: BridgeSide, *, from_block: int | None = None) -> list[HeldTransfer]:
    """The transfers still held by `side`'s bridges (call it on that chain), oldest first."""
    start = side.deployed_at_block if from_block is None else from_block
    head = int(chain.blocks.height)
    found: list[HeldTransfer] = []
    for asset, bridge in (("LBC", side.lbc_bridge), ("CUBE", side.cube_bridge)):
        # range(start, stop): with one argument ape takes it as the stop block.
        for log in bridge.TransferHeld.range(start, head + 1) if start <= head else []:
            transfer_id = "0x" + bytes(log.transferId).hex()
            if int.from_bytes(bytes(bridge.held(transfer_id)), "big") == 0:
                continue  # retried or refunded since
            reason = decode_error(bytes(log.reason))
            found.append(
                HeldTransfer(
                    transfer_id=transfer_id,
                    chain_key=side.chain.key,
                    bridge=str(bridge.address),
                    asset=asset,
                    src_chain_id=int(log.srcChainId),
                    src_bridge=to_checksum_address(str(log.srcBridge)),
                    payload=bytes(log.payload),
                    transfer=decode_payload(bytes(log.payload), asset),
                    reason=str(reason) if reason is not None else "0x" + bytes(log.reason).hex(),
                    block_number=int(log.block_number),
                )
            )
    return sorted(found, key=lambda h: h.block_number)


def find_held(side: BridgeSide, transfer_id: str, *, from_block: int | None = None) -> HeldTransfer:
    """The held transfer `transfer_id` on `side`; raises :class:`HeldTransferError` when it is not held."""
    wanted = transfer_id.lower()
    for held in held_transfers(side, from_block=from_block):
        if held.transfer_id.lower() == wanted:
            return held
    raise HeldTransferError(
        f"no transfer {transfer_id} is held on {side.chain.key}: it was never held there, or it was retried "
        "or refunded already (list the held ones with `ape run held --network ...`)"
    )


def _bridge(side: BridgeSide, held: HeldTransfer) -> Any:
    return side.lbc_bridge if held.asset == "LBC" else side.cube_bridge


def retry(side: BridgeSide, held: HeldTransfer, sender: Any) -> Any:
    """Executes `held` now (anyone may); raises :class:`HeldTransferError`, sending nothing, while it would
    still fail (with the reason)."""
    bridge = _bridge(side, held)
    args = (held.src_chain_id, held.src_bridge, held.payload)
    try:
        bridge.retry.estimate_gas_cost(*args, sender=sender)
    except ContractLogicError as exc:
        raise HeldTransferError(
            f"transfer {held.transfer_id[:10]}… still cannot execute on {held.chain_key}: "
            f"{describe_revert(exc)}; retry later, or refund it to its sender"
        ) from None
    return bridge.retry(*args, sender=sender)


def refund(side: BridgeSide, held: HeldTransfer, sender: Any) -> Any:
    """Sends `held` back to its sender (only its sender or recipient may ask); the relayer then delivers
    the refund at the source. Raises :class:`HeldTransferError` before sending anything otherwise."""
    account = to_checksum_address(str(sender.address))
    if account not in (held.transfer.sender, held.transfer.recipient):
        raise HeldTransferError(
            f"{account} may not refund transfer {held.transfer_id[:10]}…: only its sender "
            f"{held.transfer.sender} or recipient {held.transfer.recipient} may (--account)"
        )
    bridge = _bridge(side, held)
    if bridge.paused():
        raise HeldTransferError(
            f"the {held.asset} bridge on {held.chain_key} is paused: refund after it resumes"
        )
    try:
        return bridge.refund(held.src_chain_id, held.src_bridge, held.payload, sender=sender)
    except ContractLogicError as exc:
        raise LinkOpsError(
            f"the refund of {held.transfer_id[:10]}… reverted: {describe_revert(exc)}"
        ) from None
