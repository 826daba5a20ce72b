"""The gas benchmark: every user-facing operation of the optimized collection beside the seed-literal design.

Both designs are deployed fresh on the connected chain (a local anvil or a Polygon fork) with the same
compiler settings, and measured in the steady state a live collection is in: the holder already holds cubes
and LBC, and every measured cube has been claimed before. For each claim batch size the same cubes are
claimed once to reach it (past any rate change, non-zero totals), time advances, and the measured claim is
the second one. Then a claimed cube is transferred to an address that holds none, and cubes are minted to
the holder one at a time and in batches. The partner onboarding (factory clone against a plain deployment)
and the welcome claims are measured on a deployment of their own, and so is the bridge: both its sides,
home and remote, on the one chain (see :func:`measure_bridge`).

What was measured is a :class:`~link_ops.gas.report.GasReport`; :mod:`link_ops.gas.render` writes it out
and :mod:`link_ops.gas.snapshot` compares it with the committed snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ape import chain, project

from link_ops import contracts
from link_ops.gas.bridge import measure_bridge
from link_ops.gas.measuring import Progress, advance, gas_used
from link_ops.gas.models import BatchCurve, DesignGas, PartnerGas
from link_ops.gas.report import GasReport
from link_ops.protocol.deploy import deploy_protocol

DEFAULT_BATCH_SIZES = (1, 10, 100, 500)


#: mintBatch sizes measured (the smallest and largest give the fixed and per-cube cost of minting).
MINT_BATCH_SIZES = (1, 10, 100)


#: Receives the transferred cube: an address that holds no cube, with no zero byte (so its calldata costs
#: what a typical address costs): the last 20 bytes of keccak256("link-ops gas bench: a new cube holder").
NEW_HOLDER = "0x90c31819913980bf1Fc618ad9c490D8ff88dbde2"


_RATE = 10**13  # wei per second, tier 0, both designs


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


def _measure_claims(
    claim: Callable[[list[int]], Any], ids: list[int], sizes: Sequence[int]
) -> dict[int, int]:
    # Warm-up: the holder gets LBC (cube ids[0]) and every measured cube reaches the steady state.
    claim(ids[:1])
    measured = ids[1:]
    claim(measured[: max(sizes)])
    out: dict[int, int] = {}
    for size in sizes:
        advance(100)
        out[size] = gas_used(claim(measured[:size]))
    return out


def _measure_design(design: _Design, sizes: Sequence[int], say: Progress) -> DesignGas:
    total = max(sizes) + 1
    for start in range(0, total, design.mint_chunk):
        design.mint_batch(min(design.mint_chunk, total - start))
    say(f"{design.name}: {total} cubes minted, measuring claims")
    advance(100)
    ids = list(range(1, total + 1))
    claims = _measure_claims(design.claim, ids, sizes)
    say(f"{design.name}: measuring transfer and mints")
    transfer = gas_used(design.transfer(ids[-1]))
    mint_one = gas_used(design.mint_one())
    mints = {size: gas_used(design.mint_batch(size)) for size in MINT_BATCH_SIZES}
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
        create[cube_count] = gas_used(factory.createPartner(partner_id, terms(), sender=deployer))
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
    plain_deploy = gas_used(chain.provider.get_receipt(plain.txn_hash))
    plain_fund = gas_used(lbc.transfer(plain.address, amount * int(cubes.totalMinted()), sender=deployer))

    def welcome(contract: Any) -> dict[int, int]:
        # The holder's token balance and the first bitmap word exist before the measured claims.
        contract.claimWelcome([1], sender=holder)
        return {
            10: gas_used(contract.claimWelcome(list(range(2, 12)), sender=holder)),
            110: gas_used(contract.claimWelcome(list(range(12, 122)), sender=holder)),
        }

    return PartnerGas(create, welcome(clone), plain_deploy, plain_fund, welcome(plain))


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
