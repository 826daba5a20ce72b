"""`ape run gas_bench`: claim gas of the optimized collection beside the seed-literal reference.

Prints fixed and marginal cost, the ratio to the reference and the largest batch in a Polygon block, with
the goals, and writes reports/gas.json.
"""

from pathlib import Path

import click
from ape import accounts, project
from ape.cli import ConnectedProviderCommand, network_option
from rich.table import Table

from link_ops.console import make_console
from link_ops.gas import BLOCK_GAS_LIMIT, DEFAULT_BATCH_SIZES, run_benchmark


@click.command(cls=ConnectedProviderCommand)
@network_option()
@click.option("--sizes", default=",".join(map(str, DEFAULT_BATCH_SIZES)), help="batch sizes, comma-separated")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="JSON report (reports/gas.json)")
def cli(sizes: str, out: Path | None) -> None:
    console = make_console()
    batch_sizes = [int(s) for s in sizes.split(",") if s.strip()]
    deployer, holder = accounts.test_accounts[0], accounts.test_accounts[1]
    with console.status("measuring claims…") as status:
        report = run_benchmark(deployer, holder, batch_sizes, say=lambda line: status.update(line))

    table = Table(title="batchClaimRewards gas (steady state, holder already has LBC)")
    table.add_column("cubes", justify="right")
    table.add_column("optimized", justify="right")
    table.add_column("reference", justify="right")
    table.add_column("ratio", justify="right")
    for size in sorted(report.optimized.gas_by_batch):
        o, r = report.optimized.gas_by_batch[size], report.reference.gas_by_batch[size]
        table.add_row(str(size), f"{o:,}", f"{r:,}", f"{o / r:.3f}")
    o, r = report.optimized, report.reference
    table.add_section()
    table.add_row("fixed", f"{o.fixed:,}", f"{r.fixed:,}", f"{o.fixed / r.fixed:.3f}")
    table.add_row("per cube", f"{o.marginal:,.1f}", f"{r.marginal:,.1f}", f"{report.ratio:.3f}")
    table.add_row(f"max in {BLOCK_GAS_LIMIT:,}", f"{o.max_batch_in_block:,}", f"{r.max_batch_in_block:,}", "")
    console.print(table)

    if report.partner is not None:
        pg = report.partner
        partners = Table(title="partner onboarding (clone + terms in code + funding) vs a plain deployment")
        for col in ("", "factory clone", "plain contract"):
            partners.add_column(col, justify="right")
        for cubes, gas in sorted(pg.create_by_cubes.items()):
            partners.add_row(f"create + fund, {cubes:,} cubes exist", f"{gas:,}", "")
        partners.add_row("plain deploy + fund", "", f"{pg.plain_deploy:,} + {pg.plain_fund:,}")
        partners.add_row(
            "claimWelcome per cube (contiguous)",
            f"{pg.welcome_marginal:,.1f}",
            f"{pg.plain_welcome_marginal:,.1f}",
        )
        console.print(partners)

    goals = Table(title="goals")
    for col in ("goal", "measured", "limit", ""):
        goals.add_column(col, justify="right" if col else "left")
    for goal, measured, limit, met in report.goals():
        goals.add_row(goal, f"{measured:,.1f}", f"{limit:,}", "[green]met" if met else "[red]not met")
    console.print(goals)
    path = report.write(out or Path(project.path) / "reports" / "gas.json")
    console.print(f"written {path}")
