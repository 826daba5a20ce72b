"""`ape run demo`: deploy on a local anvil, mint cubes in tiers, mine 30 days, batch-claim, print a table."""

from __future__ import annotations

from pathlib import Path

import click
from ape import accounts, project
from rich.table import Table

from link_ops.cli.console import make_console
from link_ops.cli.errors import user_errors
from link_ops.cli.network import RpcCheckedCommand
from link_ops.cli.options import network_option
from link_ops.model.partner_config import EXAMPLE_CONFIG
from link_ops.testing.bridge_demo import run_bridge_demo
from link_ops.testing.demo import DEMO_HOLDINGS, TIER_NAMES, run_demo, run_partner_demo


@click.command(cls=RpcCheckedCommand)
@network_option()
@click.option("--days", default=30, show_default=True, help="days of mining before the claims")
def cli(days: int) -> None:
    """Tour the protocol on local chains.

    Deploy, mine, batch-claim, onboard the example partner, bridge to a second chain and back.
    """
    console = make_console()
    deployer, *holders = accounts.test_accounts[: 1 + len(DEMO_HOLDINGS)]
    with user_errors(), console.status("running the demo…") as status:
        result = run_demo(deployer, holders, days=days, say=lambda line: status.update(line))
        partner = run_partner_demo(
            result,
            deployer,
            holders,
            Path(project.path) / EXAMPLE_CONFIG,
            say=lambda line: status.update(line),
        )

    p = result.protocol
    console.print(
        f"LBCToken {p.lbc.address}   OptimizedCubeManagement {p.cubes.address}   chain {p.chain_id}"
    )
    table = Table(title=f"batchClaimRewards after {result.days} days of mining, and again a day later")
    columns = ("holder", "cubes", "LBC claimed", "model forecast", "1st claim gas", "next-day gas")
    columns += ("per cube",)
    for col in columns:
        table.add_column(col, justify="left" if col in ("holder", "cubes") else "right")
    for h in result.holders:
        tiers = ", ".join(f"{n} {TIER_NAMES[t]}" for t, n in sorted(h.cubes_by_tier.items()))
        match = "[green]=" if h.forecast_wei == h.claimed_wei else "[red]≠"
        table.add_row(
            f"{h.name} {h.address[:8]}…",
            f"{h.cube_count} ({tiers})",
            f"{h.claimed_wei / 10**18:,.6f}",
            f"{match} {h.forecast_wei / 10**18:,.6f}",
            f"{h.gas_used:,}",
            f"{h.next_day_gas_used:,}",
            f"{h.next_day_gas_used / h.cube_count:,.0f}",
        )
    console.print(table)
    ok = result.total_supply == result.sum_total_mined
    console.print(
        f"LBC total supply {result.total_supply / 10**18:,.6f} "
        f"{'equals' if ok else 'DIFFERS FROM'} the sum of totalMined over all cubes"
    )
    if not ok or any(h.forecast_wei != h.claimed_wei for h in result.holders):
        raise click.ClickException("a claim did not match the reward model")

    o = partner.onboarding
    onboarded = Table(title="partner onboarded: validate, deploy, fund, monitor")
    onboarded.add_column("field")
    onboarded.add_column("value")
    for field, value in o.rows():
        onboarded.add_row(field, value)
    onboarded.add_row(
        "welcome grant", f"{partner.funded_wei / 10**18:,.2f} LBC for {partner.entitled_cubes} cubes"
    )
    onboarded.add_row(
        f"{partner.holder} claimed",
        f"{partner.welcome_paid_wei / 10**18:,.2f} LBC for {partner.holder_cubes} cubes",
    )
    onboarded.add_row(f"{partner.holder}'s cube 1 discount", f"{partner.discount_bps / 100:.1f} %")
    onboarded.add_row("ops store", partner.store_url)
    console.print(onboarded)

    signers = accounts.test_accounts[7:10]
    with user_errors(), console.status("bridging to a second chain…") as status:
        bridged = run_bridge_demo(deployer, holders[0], signers, say=lambda line: status.update(line))
    moves = Table(title="bridging: two local chains as Polygon (137) and Ethereum (1), 2-of-3 attestations")
    for col in ("move (delivered by the relayer)", "LBC on Polygon", "LBC on Ethereum", "CUBE is on"):
        moves.add_column(col, justify="left" if col.startswith(("move", "CUBE")) else "right")
    moves.add_column("send gas", justify="right")
    moves.add_column("deliver gas", justify="right")
    for step in bridged.steps:
        moves.add_row(
            step.what,
            f"{step.polygon_lbc / 10**18:,.4f}",
            f"{step.ethereum_lbc / 10**18:,.4f}",
            step.cube_on,
            f"{step.send_gas:,}",
            f"{step.deliver_gas:,}",
        )
    console.print(moves)
    earned_ok = bridged.reward_while_away == bridged.expected_reward_while_away
    backed = bridged.supply_ethereum == bridged.locked_at_home
    console.print(
        f"CUBE #{bridged.cube_id} mined {bridged.reward_while_away / 10**18:,.6f} LBC while away, claimed at "
        f"home ({'=' if earned_ok else '≠'} the model's {bridged.expected_reward_while_away / 10**18:,.6f}); "
        f"LBC on Ethereum {bridged.supply_ethereum / 10**18:,.4f} "
        f"{'is backed by' if backed else 'DIFFERS FROM'} the {bridged.locked_at_home / 10**18:,.4f} locked "
        "on Polygon"
    )
    if not (earned_ok and backed):
        raise click.ClickException("the bridge demo did not add up")
