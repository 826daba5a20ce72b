"""The gas benchmark: steady-state batch claims of the optimized collection beside the seed-literal design.

Both designs are deployed fresh on the connected (local) chain with the same compiler settings. For each
batch size the same cubes are claimed once to reach the steady state (past any rate change, non-zero
totals), time advances, and the measured claim is the second one. A holder who already has LBC claims.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ape import chain, project

from .deploy import deploy_protocol

#: Goals of the core-protocol issue, in gas.
GOAL_MARGINAL_PER_CUBE = 5_600
GOAL_ONE_CUBE_CLAIM = 48_000
STRETCH_ONE_CUBE_CLAIM = 45_000
#: Goals of the partner-onboarding issue, in gas.
GOAL_PARTNER_CREATE = 150_000
GOAL_WELCOME_PER_CUBE = 3_500
#: Polygon PoS block gas limit the "largest batch" is computed against.
BLOCK_GAS_LIMIT = 30_000_000
DEFAULT_BATCH_SIZES = (1, 10, 100, 500)
_RATE = 10**13  # wei per second, tier 0, both designs
_MINT_CHUNK = 100

Progress = Callable[[str], None]


@dataclass
class ClaimCurve:
    """Measured claim gas of one design."""

    design: str
    gas_by_batch: dict[int, int]
    fixed: int = 0
    marginal: float = 0.0
    max_batch_in_block: int = 0

    def __post_init__(self) -> None:
        sizes = sorted(self.gas_by_batch)
        lo, hi = sizes[0], sizes[-1]
        self.marginal = (self.gas_by_batch[hi] - self.gas_by_batch[lo]) / (hi - lo)
        self.fixed = round(self.gas_by_batch[lo] - self.marginal * lo)
        self.max_batch_in_block = int((BLOCK_GAS_LIMIT - self.fixed) // self.marginal)

    @property
    def one_cube_claim(self) -> int:
        return self.gas_by_batch[min(self.gas_by_batch)]


@dataclass
class PartnerGas:
    """Onboarding one partner and its welcome claims, beside a plain full deployment."""

    create_by_cubes: dict[int, int]
    welcome_by_batch: dict[int, int]
    plain_deploy: int
    plain_fund: int
    plain_welcome_by_batch: dict[int, int]

    @staticmethod
    def _marginal(by_batch: dict[int, int]) -> float:
        lo, hi = min(by_batch), max(by_batch)
        return (by_batch[hi] - by_batch[lo]) / (hi - lo)

    @property
    def create(self) -> int:
        """The dearest createPartner measured (it should not depend on the number of cubes)."""
        return max(self.create_by_cubes.values())

    @property
    def welcome_marginal(self) -> float:
        return self._marginal(self.welcome_by_batch)

    @property
    def plain_welcome_marginal(self) -> float:
        return self._marginal(self.plain_welcome_by_batch)


@dataclass
class GasReport:
    """The optimized design against the reference, with the goals."""

    optimized: ClaimCurve
    reference: ClaimCurve
    partner: PartnerGas | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.optimized.marginal / self.reference.marginal

    def goals(self) -> list[tuple[str, float, float, bool]]:
        """(goal, measured, limit, met) rows."""
        o = self.optimized
        rows: list[tuple[str, float, float, bool]] = [
            (
                "marginal gas per cube",
                o.marginal,
                GOAL_MARGINAL_PER_CUBE,
                o.marginal <= GOAL_MARGINAL_PER_CUBE,
            ),
            (
                "one-cube claim transaction",
                o.one_cube_claim,
                GOAL_ONE_CUBE_CLAIM,
                o.one_cube_claim <= GOAL_ONE_CUBE_CLAIM,
            ),
            (
                "one-cube claim (stretch)",
                o.one_cube_claim,
                STRETCH_ONE_CUBE_CLAIM,
                o.one_cube_claim <= STRETCH_ONE_CUBE_CLAIM,
            ),
        ]
        if self.partner is not None:
            pg = self.partner
            rows.append(
                (
                    "partner create + fund (any cube count)",
                    pg.create,
                    GOAL_PARTNER_CREATE,
                    pg.create <= GOAL_PARTNER_CREATE,
                )
            )
            rows.append(
                (
                    "claimWelcome per cube",
                    pg.welcome_marginal,
                    GOAL_WELCOME_PER_CUBE,
                    pg.welcome_marginal <= GOAL_WELCOME_PER_CUBE,
                )
            )
        return rows

    def to_json(self) -> dict[str, Any]:
        return {
            "block_gas_limit": BLOCK_GAS_LIMIT,
            "optimized": asdict(self.optimized),
            "reference": asdict(self.reference),
            "marginal_ratio_to_reference": round(self.ratio, 4),
            "partner": None
            if self.partner is None
            else {
                **asdict(self.partner),
                "welcome_marginal": self.partner.welcome_marginal,
                "plain_welcome_marginal": self.partner.plain_welcome_marginal,
            },
            "goals": [
                {"goal": g, "measured": m, "limit": limit, "met": met} for g, m, limit, met in self.goals()
            ],
            **self.extra,
        }

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n")
        return path


def _advance(seconds: int) -> None:
    chain.mine(timestamp=chain.pending_timestamp + seconds)


def _measure(claim: Callable[[list[int]], Any], ids: list[int], sizes: Sequence[int]) -> dict[int, int]:
    # Warm-up: the holder gets LBC (cube ids[0]) and every measured cube reaches the steady state.
    claim(ids[:1])
    measured = ids[1:]
    claim(measured[: max(sizes)])
    out: dict[int, int] = {}
    for size in sizes:
        _advance(100)
        out[size] = int(claim(measured[:size]).gas_used)
    return out


def measure_optimized(deployer: Any, holder: Any, sizes: Sequence[int], say: Progress) -> ClaimCurve:
    """Claim gas of OptimizedCubeManagement (deployed through :func:`deploy_protocol`)."""
    p = deploy_protocol(deployer, tier_rates=(_RATE, 0, 0, 0), record=False)
    total = max(sizes) + 1
    for start in range(0, total, _MINT_CHUNK * 5):
        p.cubes.mintBatch(holder, 0, min(_MINT_CHUNK * 5, total - start), sender=deployer)
    say(f"optimized: {total} cubes minted")
    _advance(100)
    ids = list(range(1, total + 1))
    gas = _measure(lambda batch: p.cubes.batchClaimRewards(batch, sender=holder), ids, sizes)
    return ClaimCurve("OptimizedCubeManagement", gas)


def measure_reference(deployer: Any, holder: Any, sizes: Sequence[int], say: Progress) -> ClaimCurve:
    """Claim gas of the seed-literal design (contracts/test, testing only)."""
    lbc = deployer.deploy(project.LBCToken, deployer.address, 10**27)
    nft = deployer.deploy(project.SeedCubeNFT, deployer.address)
    mgr = deployer.deploy(project.SeedCubeManagement, deployer.address, nft.address, lbc.address, _RATE)
    nft.grantRole(nft.MINTER_ROLE(), mgr.address, sender=deployer)
    lbc.grantRole(lbc.MINTER_ROLE(), mgr.address, sender=deployer)
    total = max(sizes) + 1
    for start in range(0, total, _MINT_CHUNK):
        mgr.mintBatch(holder, min(_MINT_CHUNK, total - start), sender=deployer)
    say(f"reference: {total} cubes minted")
    _advance(100)
    ids = list(range(1, total + 1))
    gas = _measure(lambda batch: mgr.batchClaimRewards(batch, sender=holder), ids, sizes)
    return ClaimCurve("SeedCubeManagement (seed-literal reference)", gas)


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
        create[cube_count] = int(factory.createPartner(partner_id, terms(), sender=deployer).gas_used)
        say(f"partner created with {cube_count} cubes")
    clone = project.PartnerBenefits.at(factory.partnerOf(b"bench-1000".ljust(32, b"\0")))

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
    plain_deploy = int(chain.provider.get_receipt(plain.txn_hash).gas_used)
    plain_fund = int(lbc.transfer(plain.address, amount * int(cubes.totalMinted()), sender=deployer).gas_used)

    def welcome(contract: Any) -> dict[int, int]:
        contract.claimWelcome(
            [1], sender=holder
        )  # the holder's token balance and the first bitmap word exist
        return {
            10: int(contract.claimWelcome(list(range(2, 12)), sender=holder).gas_used),
            110: int(contract.claimWelcome(list(range(12, 122)), sender=holder).gas_used),
        }

    return PartnerGas(create, welcome(clone), plain_deploy, plain_fund, welcome(plain))


def run_benchmark(
    deployer: Any,
    holder: Any,
    sizes: Sequence[int] = DEFAULT_BATCH_SIZES,
    say: Progress | None = None,
    *,
    partners: bool = True,
) -> GasReport:
    """Measures both designs at `sizes` (the smallest and largest give fixed and marginal cost)."""
    if len(set(sizes)) < 2:
        raise ValueError("give at least two different batch sizes, e.g. 1 and 500")
    progress = say or (lambda _line: None)
    optimized = measure_optimized(deployer, holder, sorted(set(sizes)), progress)
    reference = measure_reference(deployer, holder, sorted(set(sizes)), progress)
    partner = measure_partner(deployer, holder, progress) if partners else None
    return GasReport(optimized, reference, partner)
