"""The demo: the protocol's main job on a local anvil playing Polygon.

Deploys LBC and the cube collection, mints cubes in several tiers to a few holders, lets time pass, and
has each holder batch-claim, checking every payout against the reward model's forecast.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ape import chain

from link_ops import contracts
from link_ops.exceptions import WrongChainError
from link_ops.model.chains import chain_name, is_local_chain
from link_ops.model.partner_config import PartnerConfig
from link_ops.model.rewards import RewardModel
from link_ops.partners.onboarding import OnboardingResult, onboard_new_partner
from link_ops.protocol.deploy import Protocol, deploy_protocol
from link_ops.store import OpsStore
from link_ops.testing.health import serve_health

#: Cubes per tier for each demo holder.
DEMO_HOLDINGS: dict[str, dict[int, int]] = {
    "alice": {0: 12, 1: 4},
    "bob": {2: 6},
    "carol": {0: 3, 1: 2, 3: 2},
}


TIER_NAMES = ("Bronze", "Silver", "Gold", "Diamond")


@dataclass
class HolderResult:
    """One holder's claim."""

    name: str
    address: str
    cubes_by_tier: dict[int, int]
    forecast_wei: int
    claimed_wei: int
    gas_used: int
    next_day_gas_used: int = 0

    @property
    def cube_count(self) -> int:
        return sum(self.cubes_by_tier.values())


@dataclass
class DemoResult:
    """What the demo did."""

    protocol: Protocol
    days: int
    holders: list[HolderResult] = field(default_factory=list)
    total_supply: int = 0
    sum_total_mined: int = 0
    owned: dict[str, list[int]] = field(default_factory=dict)


@dataclass
class PartnerDemoResult:
    """The example partner's onboarding and one holder's welcome claim."""

    onboarding: OnboardingResult
    entitled_cubes: int
    funded_wei: int
    holder: str
    holder_cubes: int
    welcome_paid_wei: int
    discount_bps: int
    store_url: str


def run_demo(
    deployer: Any,
    holders: Sequence[Any],
    *,
    holdings: Mapping[str, Mapping[int, int]] = DEMO_HOLDINGS,
    days: int = 30,
    deployments_dir: Path | None = None,
    say: Callable[[str], None] | None = None,
) -> DemoResult:
    """Runs the demo with `holders` (one account per entry of `holdings`) on a local chain."""
    progress = say or (lambda _line: None)
    if not is_local_chain(chain.chain_id):
        raise WrongChainError(
            f"the demo moves the clock, so it runs only on a local chain, not {chain_name(chain.chain_id)}: "
            "use the default network (polygon:local:foundry)"
        )
    if len(holders) < len(holdings):
        raise ValueError(f"the demo needs {len(holdings)} holder accounts, got {len(holders)}")

    progress("deploying LBC and the cube collection")
    protocol = deploy_protocol(deployer, deployments_dir=deployments_dir, report=progress)
    cubes = protocol.cubes
    model = RewardModel(deployed_at=int(chain.blocks.head.timestamp))
    for tier in range(len(TIER_NAMES)):
        model.set_tier_rate(tier, int(cubes.tierRate(tier)), int(chain.blocks.head.timestamp))

    owned: dict[str, list[int]] = {}
    for (name, tiers), account in zip(holdings.items(), holders[: len(holdings)], strict=True):
        progress(f"minting cubes to {name}")
        owned[name] = []
        for tier, quantity in tiers.items():
            receipt = cubes.mintBatch(account, tier, quantity, sender=deployer)
            first = model.mint_batch(account.address, tier, quantity, int(receipt.timestamp))
            owned[name].extend(range(first, first + quantity))

    progress(f"advancing {days} days")
    chain.mine(timestamp=chain.pending_timestamp + days * 86_400)

    result = DemoResult(protocol=protocol, days=days)
    for (name, tiers), account in zip(holdings.items(), holders[: len(holdings)], strict=True):
        progress(f"{name} claims {len(owned[name])} cubes in one transaction")
        claim_at = int(chain.pending_timestamp) + 60
        forecast = model.forecast(owned[name], claim_at)
        chain.pending_timestamp = claim_at
        before = int(protocol.lbc.balanceOf(account))
        receipt = cubes.batchClaimRewards(owned[name], sender=account)
        model.claim(account.address, owned[name], int(receipt.timestamp))
        claimed = int(protocol.lbc.balanceOf(account)) - before
        result.holders.append(
            HolderResult(name, str(account.address), dict(tiers), forecast, claimed, int(receipt.gas_used))
        )

    # A day later every holder claims again: the steady state, where each cube costs one slot rewrite.
    chain.mine(timestamp=chain.pending_timestamp + 86_400)
    for row, account in zip(result.holders, holders[: len(holdings)], strict=True):
        progress(f"{row.name} claims again a day later")
        claim_at = int(chain.pending_timestamp) + 60
        forecast = model.forecast(owned[row.name], claim_at)
        chain.pending_timestamp = claim_at
        before = int(protocol.lbc.balanceOf(account))
        receipt = cubes.batchClaimRewards(owned[row.name], sender=account)
        model.claim(account.address, owned[row.name], int(receipt.timestamp))
        row.forecast_wei += forecast
        row.claimed_wei += int(protocol.lbc.balanceOf(account)) - before
        row.next_day_gas_used = int(receipt.gas_used)

    result.total_supply = int(protocol.lbc.totalSupply())
    result.owned = owned
    result.sum_total_mined = sum(int(cubes.nodeData(cube_id)[0]) for ids in owned.values() for cube_id in ids)
    return result


def run_partner_demo(
    demo: DemoResult,
    deployer: Any,
    holders: Sequence[Any],
    config_path: Path,
    *,
    say: Callable[[str], None] | None = None,
) -> PartnerDemoResult:
    """Onboards the partner of `config_path` after :func:`run_demo`, against a local health service.

    The service runs on a free local port, and the config's endpoints are pointed at it (their paths
    kept), so two demos never collide. On this local chain the deployer funds the welcome grant by minting
    it (it is LBC's admin); on a real network the onboarding account holds the welcome tokens. The ops
    store is a throwaway SQLite file.
    """
    progress = say or (lambda _line: None)
    config = PartnerConfig.from_file(config_path)
    protocol = demo.protocol
    entitled = int(protocol.cubes.totalMinted())
    funded = config.initial_benefits.amount_per_cube * entitled
    lbc = protocol.lbc
    minter = lbc.MINTER_ROLE()
    lbc.grantRole(minter, deployer.address, sender=deployer)
    lbc.mint(deployer, funded, sender=deployer)
    lbc.revokeRole(minter, deployer.address, sender=deployer)

    store_url = f"sqlite:///{tempfile.mkdtemp(prefix='link-ops-demo-')}/ops.db"
    with serve_health() as base, OpsStore(store_url) as store:
        local = [base + urlparse(url).path for url in config.api_endpoints]
        config = config.model_copy(update={"api_endpoints": local})
        onboarding = onboard_new_partner(
            config,
            protocol,
            deployer,
            store=store,
            health_timeout=5.0,
            report=lambda step, line: progress(f"partner {step}: {line}"),
        )
    clone = contracts.at("PartnerBenefits", onboarding.contract_address)
    name, account = next(iter(demo.owned)), holders[0]
    ids = demo.owned[name]
    progress(f"{name} claims the partner's welcome grant for {len(ids)} cubes")
    before = int(lbc.balanceOf(account))
    clone.claimWelcome(ids, sender=account)
    paid = int(lbc.balanceOf(account)) - before
    _, discount = clone.benefitOf(ids[0])
    return PartnerDemoResult(onboarding, entitled, funded, name, len(ids), paid, int(discount), store_url)
