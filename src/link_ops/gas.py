"""The gas benchmark: every user-facing operation of the optimized collection beside the seed-literal design.

Both designs are deployed fresh on the connected chain (a local anvil or a Polygon fork) with the same
compiler settings, and measured in the steady state a live collection is in: the holder already holds cubes
and LBC, and every measured cube has been claimed before. For each claim batch size the same cubes are
claimed once to reach it (past any rate change, non-zero totals), time advances, and the measured claim is
the second one. Then a claimed cube is transferred to an address that holds none, and cubes are minted to
the holder one at a time and in batches. The partner onboarding (factory clone against a plain deployment)
and the welcome claims are measured on a deployment of their own, and so is the bridge: both its sides,
home and remote, on the one chain (see :func:`measure_bridge`).

What was measured is a :class:`~link_ops.gas_report.GasReport`; :mod:`link_ops.gas_report` prices it,
writes it out and compares it with the committed snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ape import chain, project
from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from . import contracts
from .attest import Message, attest
from .deploy import deploy_protocol
from .exceptions import LinkOpsError
from .gas_report import (
    BRIDGE_LEGS,
    BatchCurve,
    BridgeGas,
    DesignGas,
    GasReport,
    PartnerGas,
    calldata_gas,
)

DEFAULT_BATCH_SIZES = (1, 10, 100, 500)
#: mintBatch sizes measured (the smallest and largest give the fixed and per-cube cost of minting).
MINT_BATCH_SIZES = (1, 10, 100)
#: Receives the transferred cube: an address that holds no cube, with no zero byte (so its calldata costs
#: what a typical address costs): the last 20 bytes of keccak256("link-ops gas bench: a new cube holder").
NEW_HOLDER = "0x90c31819913980bf1Fc618ad9c490D8ff88dbde2"
_RATE = 10**13  # wei per second, tier 0, both designs
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

Progress = Callable[[str], None]


@dataclass(frozen=True)
class _Design:
    """How to drive one design: each callable sends one transaction and returns its receipt."""

    name: str
    mint_batch: Callable[[int], Any]
    mint_one: Callable[[], Any]
    mint_one_call: str
    claim: Callable[[list[int]], Any]
    transfer: Callable[[int], Any]
    #: Most cubes one setup mintBatch may hold (the reference's mint is dear: 100 stay well inside a block).
    mint_chunk: int


def _advance(seconds: int) -> None:
    chain.mine(timestamp=chain.pending_timestamp + seconds)


def _gas(receipt: Any) -> int:
    return int(receipt.gas_used)


def _measure_claims(
    claim: Callable[[list[int]], Any], ids: list[int], sizes: Sequence[int]
) -> dict[int, int]:
    # Warm-up: the holder gets LBC (cube ids[0]) and every measured cube reaches the steady state.
    claim(ids[:1])
    measured = ids[1:]
    claim(measured[: max(sizes)])
    out: dict[int, int] = {}
    for size in sizes:
        _advance(100)
        out[size] = _gas(claim(measured[:size]))
    return out


def _measure_design(design: _Design, sizes: Sequence[int], say: Progress) -> DesignGas:
    total = max(sizes) + 1
    for start in range(0, total, design.mint_chunk):
        design.mint_batch(min(design.mint_chunk, total - start))
    say(f"{design.name}: {total} cubes minted, measuring claims")
    _advance(100)
    ids = list(range(1, total + 1))
    claims = _measure_claims(design.claim, ids, sizes)
    say(f"{design.name}: measuring transfer and mints")
    transfer = _gas(design.transfer(ids[-1]))
    mint_one = _gas(design.mint_one())
    mints = {size: _gas(design.mint_batch(size)) for size in MINT_BATCH_SIZES}
    return DesignGas(
        design=design.name,
        claim=BatchCurve(design.name, claims),
        mint=BatchCurve(design.name, mints),
        mint_one=mint_one,
        mint_one_call=design.mint_one_call,
        transfer=transfer,
    )


def measure_optimized(
    deployer: Any, holder: Any, sizes: Sequence[int], say: Progress, *, new_holder: str = NEW_HOLDER
) -> DesignGas:
    """OptimizedCubeManagement (deployed through :func:`deploy_protocol`)."""
    cubes = deploy_protocol(deployer, tier_rates=(_RATE, 0, 0, 0), record=False).cubes
    design = _Design(
        name="OptimizedCubeManagement",
        mint_batch=lambda n: cubes.mintBatch(holder, 0, n, sender=deployer),
        mint_one=lambda: cubes.mint(holder, 0, sender=deployer),
        mint_one_call="mint(to, tier)",
        claim=lambda batch: cubes.batchClaimRewards(batch, sender=holder),
        transfer=lambda cube: cubes.transferFrom(holder, new_holder, cube, sender=holder),
        mint_chunk=500,
    )
    return _measure_design(design, sizes, say)


def measure_reference(
    deployer: Any, holder: Any, sizes: Sequence[int], say: Progress, *, new_holder: str = NEW_HOLDER
) -> DesignGas:
    """The seed-literal design: SeedCubeManagement minting into SeedCubeNFT (contracts/test, testing only).

    The seed has no single-cube mint: minting one cube is ``mintBatch(to, 1)``.
    """
    lbc = contracts.deploy("LBCToken", deployer, deployer.address, 10**27)
    nft = deployer.deploy(project.SeedCubeNFT, deployer.address)
    mgr = deployer.deploy(project.SeedCubeManagement, deployer.address, nft.address, lbc.address, _RATE)
    nft.grantRole(nft.MINTER_ROLE(), mgr.address, sender=deployer)
    lbc.grantRole(lbc.MINTER_ROLE(), mgr.address, sender=deployer)
    design = _Design(
        name="SeedCubeManagement",
        mint_batch=lambda n: mgr.mintBatch(holder, n, sender=deployer),
        mint_one=lambda: mgr.mintBatch(holder, 1, sender=deployer),
        mint_one_call="mintBatch(to, 1)",
        claim=lambda batch: mgr.batchClaimRewards(batch, sender=holder),
        transfer=lambda cube: nft.transferFrom(holder, new_holder, cube, sender=holder),
        mint_chunk=100,
    )
    return _measure_design(design, sizes, say)


def measure_partner(deployer: Any, holder: Any, say: Progress) -> PartnerGas:
    """createPartner with 10 and with 1,000 existing cubes, and welcome claims, beside a plain deployment."""
    p = deploy_protocol(deployer, record=False)
    lbc, cubes, factory = p.lbc, p.cubes, p.partner_factory
    lbc.grantRole(lbc.MINTER_ROLE(), deployer.address, sender=deployer)
    lbc.mint(deployer, 10**26, sender=deployer)
    lbc.approve(factory.address, 2**256 - 1, sender=deployer)
    services = [name.ljust(32, b"\0") for name in (b"coffee", b"wifi")]
    amount = 5 * 10**18
    window = 30 * 86_400

    def terms() -> tuple[Any, ...]:
        return (deployer.address, lbc.address, amount, window, [500, 1_000, 1_500, 2_000], services)

    create: dict[int, int] = {}
    for cube_count in (10, 1_000):
        while int(cubes.totalMinted()) < cube_count:
            cubes.mintBatch(holder, 0, min(500, cube_count - int(cubes.totalMinted())), sender=deployer)
        partner_id = f"bench-{cube_count}".encode().ljust(32, b"\0")
        create[cube_count] = _gas(factory.createPartner(partner_id, terms(), sender=deployer))
        say(f"partner created with {cube_count} cubes")
    clone = contracts.at("PartnerBenefits", factory.partnerOf(b"bench-1000".ljust(32, b"\0")))

    plain = deployer.deploy(
        project.PlainPartnerBenefits,
        cubes.address,
        b"plain".ljust(32, b"\0"),
        deployer.address,
        lbc.address,
        amount,
        int(cubes.totalMinted()),
        int(chain.pending_timestamp) + window,
        [500, 1_000, 1_500, 2_000],
        services,
    )
    plain_deploy = _gas(chain.provider.get_receipt(plain.txn_hash))
    plain_fund = _gas(lbc.transfer(plain.address, amount * int(cubes.totalMinted()), sender=deployer))

    def welcome(contract: Any) -> dict[int, int]:
        # The holder's token balance and the first bitmap word exist before the measured claims.
        contract.claimWelcome([1], sender=holder)
        return {
            10: _gas(contract.claimWelcome(list(range(2, 12)), sender=holder)),
            110: _gas(contract.claimWelcome(list(range(12, 122)), sender=holder)),
        }

    return PartnerGas(create, welcome(clone), plain_deploy, plain_fund, welcome(plain))


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
        _advance(_DAY)
        send = bridge.send(self.chain_id, holder.address, amount, sender=holder)
        _advance(_DAY)
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
        bridge.setLimits(BRIDGE_DAILY_LIMIT, BRIDGE_DAILY_LIMIT, sender=deployer)
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
    lbc = dict(zip(BRIDGE_LEGS, (_gas(r) for r in (*out, *home)), strict=True))
    overhead = lbc["deliver_in"] - _receive_gas(out[1], str(w.remote_lbc_bridge.address))
    overhead_calldata = calldata_gas(bytes(out[1].transaction.data))
    # The same delivery in the same state with every signer's signature: what one more signature costs.
    _, all_signed = w.lbc_trip(holder, amount, out=True, signers=len(BRIDGE_SIGNER_KEYS))
    extra = (_gas(all_signed) - lbc["deliver_in"]) // (len(BRIDGE_SIGNER_KEYS) - BRIDGE_THRESHOLD)

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
        cubes[size] = dict(zip(BRIDGE_LEGS, (_gas(r) for r in receipts), strict=True))
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


def run_benchmark(
    deployer: Any,
    holder: Any,
    sizes: Sequence[int] = DEFAULT_BATCH_SIZES,
    say: Progress | None = None,
    *,
    partners: bool = True,
    bridge: bool = True,
    new_holder: str = NEW_HOLDER,
) -> GasReport:
    """Measures both designs; claims in batches of `sizes` (the extremes give fixed and marginal cost).

    `deployer` deploys and mints (and relays bridge messages), `holder` holds, claims and bridges,
    `new_holder` (any address holding no cube) receives the transferred cube. `partners` and `bridge`
    measure the partner onboarding and the bridge round trips too.
    """
    batch_sizes = sorted(set(sizes))
    if len(batch_sizes) < 2 or batch_sizes[0] < 1:
        raise ValueError(
            f"give at least two different positive batch sizes, e.g. 1 and 500, got {list(sizes)}"
        )
    progress = say or (lambda _line: None)
    optimized = measure_optimized(deployer, holder, batch_sizes, progress, new_holder=new_holder)
    reference = measure_reference(deployer, holder, batch_sizes, progress, new_holder=new_holder)
    partner = measure_partner(deployer, holder, progress) if partners else None
    bridge_gas = measure_bridge(deployer, holder, progress) if bridge else None
    network = chain.provider.network_choice
    return GasReport(
        optimized, reference, partner, network=network, chain_id=int(chain.chain_id), bridge=bridge_gas
    )
