"""The bridge's gas: both sides deployed on one chain, each leg measured in the steady state.

One anvil plays home and remote (two messengers with each other's chain id as peer); the deliveries carry
:data:`BRIDGE_THRESHOLD` signatures of :data:`BRIDGE_SIGNER_KEYS`, and the receiver's own work is read from
the call trace so that the messenger's overhead is known exactly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ape import chain
from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from link_ops import contracts
from link_ops.exceptions import LinkOpsError
from link_ops.gas.measuring import Progress, advance, gas_used
from link_ops.gas.models import BRIDGE_LEGS, BridgeGas, calldata_gas
from link_ops.model.attest import Message, attest
from link_ops.protocol.deploy import deploy_protocol

#: The bridge's signer keys (deterministic, for the benchmark only), ascending by address as the messenger
#: wants them: 3 signers, and a delivery needs BRIDGE_THRESHOLD of them.
BRIDGE_SIGNER_KEYS: tuple[bytes, ...] = tuple(
    sorted(
        (keccak(text=f"link-ops gas bench: bridge signer {i}") for i in range(3)),
        key=lambda key: int(Account.from_key(key).address, 16),
    )
)


BRIDGE_THRESHOLD = 2


#: Cubes moved at once (the smallest and largest give the fixed and per-cube cost of each leg).
BRIDGE_CUBE_BATCHES = (1, 10)


#: LBC moved per trip, and both daily limits of both LBC bridges (far above what the benchmark moves).
BRIDGE_LBC_AMOUNT = 100 * 10**18


BRIDGE_DAILY_LIMIT = 1_000_000 * 10**18


_DAY = 86_400


@dataclass
class _BridgeWorld:
    """Both sides of the bridge on the one chain: home (the protocol's LBC in a lockbox bridge, its cubes in
    ``CubeBridge``) and remote (its own LBC, minted by its bridge, and ``RemoteCubeBridge``), each with an
    ``AttestedMessenger``, the two trusting each other for this chain's id."""

    relayer: Any
    chain_id: int
    home_messenger: Any
    remote_messenger: Any
    home_lbc: Any
    remote_lbc: Any
    home_lbc_bridge: Any
    remote_lbc_bridge: Any
    cubes: Any
    cube_bridge: Any
    remote_cube_bridge: Any

    def sent(self, receipt: Any, messenger: Any) -> Message:
        """The one message `messenger` sent in `receipt`."""
        logs = messenger.MessageSent.from_receipt(receipt)  # only `messenger`'s own logs
        if len(logs) != 1:
            raise LinkOpsError(f"expected one MessageSent in {receipt.txn_hash}, found {len(logs)}")
        log = logs[0]
        return Message(
            src_chain_id=self.chain_id,
            src_messenger=str(messenger.address),
            sender=str(log.sender),
            dst_chain_id=int(log.dstChainId),
            receiver=str(log.receiver),
            nonce=int(log.nonce),
            payload=bytes(log.payload),
        )

    def deliver(self, message: Message, messenger: Any, signers: int = BRIDGE_THRESHOLD) -> Any:
        """Delivers `message` on `messenger`, signed by the first `signers` signers."""
        signatures = attest(message, str(messenger.address), list(BRIDGE_SIGNER_KEYS[:signers]))
        return messenger.deliver(message.as_tuple(), signatures, sender=self.relayer)

    def lbc_trip(self, holder: Any, amount: int, *, out: bool, signers: int = BRIDGE_THRESHOLD) -> list[Any]:
        """`holder` sends `amount` LBC out (home → remote) or home, and it is delivered: both receipts.

        A day passes before each, so the daily limits are always full (and take the same branch)."""
        token, bridge, src, dst = (
            (self.home_lbc, self.home_lbc_bridge, self.home_messenger, self.remote_messenger)
            if out
            else (self.remote_lbc, self.remote_lbc_bridge, self.remote_messenger, self.home_messenger)
        )
        token.approve(bridge.address, amount, sender=holder)  # as CrossChainBridge.bridge_assets does
        advance(_DAY)
        send = bridge.send(self.chain_id, holder.address, amount, sender=holder)
        advance(_DAY)
        return [send, self.deliver(self.sent(send, src), dst, signers)]

    def cube_trip(self, holder: Any, cube_ids: list[int], *, out: bool) -> list[Any]:
        """`holder` sends `cube_ids` out (home → remote) or home, and they are delivered: both receipts."""
        bridge, src, dst = (
            (self.cube_bridge, self.home_messenger, self.remote_messenger)
            if out
            else (self.remote_cube_bridge, self.remote_messenger, self.home_messenger)
        )
        send = bridge.send(self.chain_id, holder.address, cube_ids, sender=holder)
        return [send, self.deliver(self.sent(send, src), dst)]


def _deploy_bridge_world(deployer: Any) -> _BridgeWorld:
    """A fresh protocol and both bridge sides on it, wired for this chain; `deployer` admin and relayer."""
    chain_id = int(chain.chain_id)
    protocol = deploy_protocol(deployer, record=False)
    signers = [to_checksum_address(Account.from_key(key).address) for key in BRIDGE_SIGNER_KEYS]
    home_messenger = contracts.deploy(
        "AttestedMessenger", deployer, deployer.address, signers, BRIDGE_THRESHOLD
    )
    remote_messenger = contracts.deploy(
        "AttestedMessenger", deployer, deployer.address, signers, BRIDGE_THRESHOLD
    )
    home_lbc, cubes = protocol.lbc, protocol.cubes
    home_lbc_bridge = contracts.deploy(
        "LBCBridge",
        deployer,
        deployer.address,
        home_lbc.address,
        home_messenger.address,
        chain_id,
        True,
    )
    cube_bridge = contracts.deploy(
        "CubeBridge", deployer, deployer.address, cubes.address, home_messenger.address
    )
    remote_lbc = contracts.deploy("LBCToken", deployer, deployer.address, home_lbc.cap())
    remote_lbc_bridge = contracts.deploy(
        "LBCBridge",
        deployer,
        deployer.address,
        remote_lbc.address,
        remote_messenger.address,
        chain_id,
        False,
    )
    remote_cube_bridge = contracts.deploy(
        "RemoteCubeBridge", deployer, deployer.address, remote_messenger.address, chain_id, ""
    )
    remote_lbc.grantRole(remote_lbc.MINTER_ROLE(), remote_lbc_bridge.address, sender=deployer)
    home_lbc.grantRole(home_lbc.MINTER_ROLE(), deployer.address, sender=deployer)
    for here, there in ((home_messenger, remote_messenger), (remote_messenger, home_messenger)):
        here.setRemoteMessenger(chain_id, there.address, sender=deployer)
    sender_role = home_messenger.SENDER_ROLE()
    for messenger, bridge, peer in (
        (home_messenger, home_lbc_bridge, remote_lbc_bridge),
        (remote_messenger, remote_lbc_bridge, home_lbc_bridge),
        (home_messenger, cube_bridge, remote_cube_bridge),
        (remote_messenger, remote_cube_bridge, cube_bridge),
    ):
        messenger.grantRole(sender_role, bridge.address, sender=deployer)
        bridge.setPeer(chain_id, peer.address, sender=deployer)
    for bridge in (home_lbc_bridge, remote_lbc_bridge):
        bridge.setLimits(chain_id, BRIDGE_DAILY_LIMIT, BRIDGE_DAILY_LIMIT, sender=deployer)
    return _BridgeWorld(
        relayer=deployer,
        chain_id=chain_id,
        home_messenger=home_messenger,
        remote_messenger=remote_messenger,
        home_lbc=home_lbc,
        remote_lbc=remote_lbc,
        home_lbc_bridge=home_lbc_bridge,
        remote_lbc_bridge=remote_lbc_bridge,
        cubes=cubes,
        cube_bridge=cube_bridge,
        remote_cube_bridge=remote_cube_bridge,
    )


def _call_frames(frame: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield frame
    for call in frame.get("calls") or []:
        yield from _call_frames(call)


def _receive_gas(receipt: Any, receiver: str) -> int:
    """Gas spent inside `receiver`'s ``receiveMessage`` in the delivery `receipt` (from its call trace)."""
    try:
        trace = chain.provider.make_request(
            "debug_traceTransaction", [str(receipt.txn_hash), {"tracer": "callTracer"}]
        )
    except Exception as exc:  # the provider's own error types vary; say what is missing
        raise LinkOpsError(
            f"the bridge benchmark traces deliveries (debug_traceTransaction, callTracer), which "
            f"{chain.provider.network_choice} refused: {exc}"
        ) from None
    selector = "0x" + keccak(text="receiveMessage(bytes32,uint256,address,bytes)")[:4].hex()
    frames = [
        f
        for f in _call_frames(trace)
        if str(f.get("to", "")).lower() == receiver.lower() and str(f.get("input", "")).startswith(selector)
    ]
    if len(frames) != 1:
        raise LinkOpsError(f"expected one receiveMessage call in {receipt.txn_hash}, found {len(frames)}")
    gas_used = frames[0]["gasUsed"]
    return int(gas_used, 16) if isinstance(gas_used, str) else int(gas_used)


def measure_bridge(
    deployer: Any, holder: Any, say: Progress, *, cube_batches: Sequence[int] = BRIDGE_CUBE_BATCHES
) -> BridgeGas:
    """Every leg of a round trip home → remote → home, for LBC and for cubes in batches of `cube_batches`.

    Both sides live on the connected chain (:class:`_BridgeWorld`); every delivery is signed by
    BRIDGE_THRESHOLD of the 3 signers. Steady state, each figure being the second such trip: the holder
    holds LBC on both sides, the lockbox holds LBC (`outstanding` is never zero), the home bridge and the
    remote collection hold a cube that stays away, and each measured amount or cube went the same way once.
    """
    batches = sorted(set(cube_batches))
    if len(batches) < 2 or batches[0] < 1:
        raise ValueError(f"give at least two different positive cube batch sizes, got {list(cube_batches)}")
    w = _deploy_bridge_world(deployer)
    amount = BRIDGE_LBC_AMOUNT
    say("bridge: both sides deployed and wired, measuring LBC")
    w.home_lbc.mint(holder.address, 10 * amount, sender=deployer)
    # Warm-up: twice the amount out and the amount home, so LBC stays on both sides and in the lockbox.
    w.lbc_trip(holder, 2 * amount, out=True)
    w.lbc_trip(holder, amount, out=False)
    out = w.lbc_trip(holder, amount, out=True)
    home = w.lbc_trip(holder, amount, out=False)
    lbc = dict(zip(BRIDGE_LEGS, (gas_used(r) for r in (*out, *home)), strict=True))
    overhead = lbc["deliver_in"] - _receive_gas(out[1], str(w.remote_lbc_bridge.address))
    overhead_calldata = calldata_gas(bytes(out[1].transaction.data))
    # The same delivery in the same state with every signer's signature: what one more signature costs.
    _, all_signed = w.lbc_trip(holder, amount, out=True, signers=len(BRIDGE_SIGNER_KEYS))
    extra = (gas_used(all_signed) - lbc["deliver_in"]) // (len(BRIDGE_SIGNER_KEYS) - BRIDGE_THRESHOLD)

    say("bridge: measuring cubes")
    keeper = int(w.cubes.totalMinted()) + 1
    w.cubes.mintBatch(holder.address, 0, 1 + sum(batches), sender=deployer)
    w.cubes.setApprovalForAll(w.cube_bridge.address, True, sender=holder)  # as bridge_assets does
    w.cube_trip(holder, [keeper], out=True)  # stays away: the home bridge and the remote holder hold one
    groups: dict[int, list[int]] = {}
    first = keeper + 1
    for size in batches:
        groups[size] = list(range(first, first + size))
        first += size
    warm = [cube for ids in groups.values() for cube in ids]  # warm-up: every measured cube goes once
    w.cube_trip(holder, warm, out=True)
    w.cube_trip(holder, warm, out=False)
    cubes: dict[int, dict[str, int]] = {}
    for size, ids in groups.items():
        receipts = [*w.cube_trip(holder, ids, out=True), *w.cube_trip(holder, ids, out=False)]
        cubes[size] = dict(zip(BRIDGE_LEGS, (gas_used(r) for r in receipts), strict=True))
    return BridgeGas(
        lbc=lbc,
        cubes=cubes,
        messenger_overhead=overhead,
        messenger_calldata=overhead_calldata,
        extra_signature=extra,
        signers=len(BRIDGE_SIGNER_KEYS),
        threshold=BRIDGE_THRESHOLD,
        lbc_amount=amount,
    )
