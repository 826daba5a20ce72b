"""`ape run gas_bench`: the gas report, every user-facing operation beside the seed-literal reference.

The bridge (LBC and CUBE round trips home → remote → home, both sides on the one chain) has no reference.

Measures on a Polygon fork (`polygon:mainnet-fork:foundry`: $POLYGON_RPC_URL when set, else a local anvil as
chain 137 plays the upstream) or, with `--network polygon:local:foundry`, on a local anvil. Prints the tables
with costs in POL and USD, writes reports/gas.json, gas.md and gas.png. `--snapshot` writes gas-snapshot.json
(and docs/gas.png); `--check` fails when a figure is more than 1% above the snapshot.

Not a ConnectedProviderCommand: a fork's upstream has to be up before ape connects to the fork.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from pathlib import Path
from typing import Any

import click
from ape import accounts, networks, project
from ape.cli.choices import NetworkChoice
from ape.exceptions import NetworkError
from ape.logging import LogLevel, logger
from rich.console import Console
from rich.table import Table

from link_ops.cli.console import make_console
from link_ops.cli.network import patient_anvil_start
from link_ops.exceptions import LinkOpsError
from link_ops.fork import fork_target
from link_ops.gas.bench import DEFAULT_BATCH_SIZES, run_benchmark
from link_ops.gas.models import (
    BLOCK_GAS_LIMIT,
    BRIDGE_LEGS,
    DEFAULT_GAS_PRICE_GWEI,
    DEFAULT_POL_USD,
    Prices,
    format_cost,
    format_gas,
)
from link_ops.gas.render import write_reports
from link_ops.gas.report import GasReport
from link_ops.gas.snapshot import (
    SNAPSHOT_FILE,
    SNAPSHOT_TOLERANCE,
    Change,
    Finding,
    compare_snapshot,
    read_snapshot,
    write_snapshot,
)
from link_ops.testing.standin import open_fork_session

FORK_NETWORK = "polygon:mainnet-fork:foundry"
LOCAL_NETWORK = "polygon:local:foundry"


def _sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(s) for s in text.split(",") if s.strip()})
    except ValueError:
        raise click.BadParameter(
            f"comma-separated whole numbers, like 1,10,100,500, got {text!r}", param_hint="--sizes"
        ) from None
    if len(sizes) < 2 or sizes[0] < 1:
        raise click.BadParameter(
            f"at least two different positive batch sizes, got {text!r}", param_hint="--sizes"
        )
    return sizes


def _measure(choice: str, sizes: list[int], console: Console) -> GasReport:
    target = fork_target(choice)
    deployer, holder = accounts.test_accounts[0], accounts.test_accounts[1]
    with contextlib.ExitStack() as stack:
        if target is not None:

            def say(line: str) -> None:
                console.print(f"  {line}")

            stack.enter_context(
                open_fork_session(target, project_path=Path(project.path), deploy=False, say=say)
            )
        status = stack.enter_context(console.status(f"connecting to {choice}…"))
        stack.enter_context(networks.parse_network_choice(choice, disconnect_after=True))
        if logger.level == LogLevel.INFO.value:  # one line per transaction would bury the tables
            stack.enter_context(logger.at_level(LogLevel.WARNING))
        return run_benchmark(deployer, holder, sizes, say=status.update)


def _print_report(console: Console, report: GasReport, prices: Prices) -> None:
    ops = Table(title=f"gas per operation, optimized beside the seed-literal reference ({report.network})")
    for col in ("operation", "optimized", "POL", "USD", "reference", "POL", "USD", "ratio"):
        ops.add_column(col, justify="left" if col == "operation" else "right")
    for op in report.operations():
        ref = op.reference
        ops.add_row(
            op.name,
            format_gas(op.optimized),
            format_cost(prices.pol(op.optimized)),
            format_cost(prices.usd(op.optimized)),
            format_gas(ref),
            "-" if ref is None else format_cost(prices.pol(ref)),
            "-" if ref is None else format_cost(prices.usd(ref)),
            "-" if op.ratio is None else f"{op.ratio:.3f}",
        )
    console.print(ops)
    console.print(f"[yellow]{prices.describe()}")

    o, r = report.optimized.claim, report.reference.claim
    claims = Table(title="batchClaimRewards gas (steady state, holder already has LBC)")
    for col in ("cubes", "optimized", "per cube", "reference", "per cube", "ratio"):
        claims.add_column(col, justify="right")
    for size in sorted(o.gas_by_batch):
        og, rg = o.gas_by_batch[size], r.gas_by_batch[size]
        claims.add_row(
            f"{size:,}", f"{og:,}", f"{og / size:,.0f}", f"{rg:,}", f"{rg / size:,.0f}", f"{og / rg:.3f}"
        )
    claims.add_section()
    claims.add_row("fixed", f"{o.fixed:,}", "", f"{r.fixed:,}", "", f"{o.fixed / r.fixed:.3f}")
    claims.add_row("per cube", f"{o.marginal:,.1f}", "", f"{r.marginal:,.1f}", "", f"{report.ratio:.3f}")
    claims.add_row(
        f"max in {BLOCK_GAS_LIMIT:,}", f"{o.max_batch_in_block:,}", "", f"{r.max_batch_in_block:,}"
    )
    console.print(claims)

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

    if report.bridge is not None:
        b = report.bridge
        sizes = sorted(b.cubes)
        bridge = Table(
            title=f"bridge round trip, steady state (deliveries signed by {b.threshold} of {b.signers})"
        )
        bridge.add_column("leg", justify="left")
        for col in ("LBC", *(f"{n:,} cube{'s' if n > 1 else ''}" for n in sizes), "per cube"):
            bridge.add_column(col, justify="right")
        for leg, what in BRIDGE_LEGS.items():
            bridge.add_row(
                what,
                f"{b.lbc[leg]:,}",
                *(f"{b.cubes[n][leg]:,}" for n in sizes),
                f"{b.cube_curve(leg).marginal:,.1f}",
            )
        bridge.add_section()
        bridge.add_row(
            "messenger per delivery",
            f"{b.messenger_overhead:,}",
            *([""] * len(sizes)),
            f"floor {b.messenger_floor:,}",
        )
        bridge.add_row("per extra signature", f"{b.extra_signature:,}", *([""] * (len(sizes) + 1)))
        console.print(bridge)

    goals = Table(title="goals")
    for col in ("goal", "measured", "limit", ""):
        goals.add_column(col, justify="right" if col else "left")
    for goal, measured, limit, met in report.goals():
        goals.add_row(goal, f"{measured:,.1f}", f"{limit:,}", "[green]met" if met else "[red]not met")
    console.print(goals)


def _print_check(console: Console, findings: list[Finding], source: str) -> None:
    shown = [f for f in findings if f.change is not Change.UNCHANGED]
    if shown:
        table = Table(title=f"against {source}")
        for col in ("figure", "snapshot", "now", "change", ""):
            table.add_column(col, justify="left" if col in ("figure", "") else "right")
        colour = {Change.WORSE: "red", Change.MISSING: "red", Change.IMPROVED: "green"}
        for f in shown:
            rel = f.relative
            verdict = f.change.value + (" (fails)" if f.failed else "")
            table.add_row(
                f.name,
                format_gas(f.old),
                format_gas(f.new),
                "" if rel is None else f"{rel:+.2%}",
                f"[{colour.get(f.change, 'yellow')}]{verdict}",
            )
        console.print(table)
    counts = {change: sum(f.change is change for f in findings) for change in Change}
    console.print(
        ", ".join(f"{n} {change.value}" for change, n in counts.items() if n)
        + f" (of {len(findings)} figures)"
    )
    changed = counts[Change.IMPROVED] or counts[Change.NEW] or counts[Change.WITHIN_TOLERANCE]
    if changed and not any(f.failed for f in findings):
        console.print("[yellow]figures changed: refresh the snapshot with `ape run gas_bench --snapshot`")


@click.command()
@click.option(
    "--network",
    type=NetworkChoice(case_sensitive=False),  # checked like `ape networks list`, given as a provider
    default=FORK_NETWORK,
    show_default=True,
    help=f"the ape network to measure on: the Polygon fork, or {LOCAL_NETWORK}",
)
@click.option(
    "--sizes", default=",".join(map(str, DEFAULT_BATCH_SIZES)), show_default=True, help="claim batch sizes"
)
@click.option(
    "--gas-price-gwei",
    type=float,
    default=None,
    help=f"gas price to cost at (default {DEFAULT_GAS_PRICE_GWEI:g}, an assumption: pass today's)",
)
@click.option(
    "--pol-usd",
    type=float,
    default=None,
    help=f"POL price in USD (default {DEFAULT_POL_USD:g}, an assumption: pass today's)",
)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="where gas.json, gas.md and gas.png go (default reports/)",
)
@click.option("--snapshot", "take_snapshot", is_flag=True, help="write the snapshot file and docs/gas.png")
@click.option(
    "--check",
    is_flag=True,
    help=f"fail when a figure is more than {SNAPSHOT_TOLERANCE:.0%} above the snapshot, or missing",
)
@click.option(
    "--snapshot-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"the snapshot --snapshot writes and --check reads (default {SNAPSHOT_FILE})",
)
def cli(
    network: Any,
    sizes: str,
    gas_price_gwei: float | None,
    pol_usd: float | None,
    out_dir: Path | None,
    take_snapshot: bool,
    check: bool,
    snapshot_file: Path | None,
) -> None:
    """Measure gas beside the references.

    Every user-facing operation, priced, written to reports/, and checked against the snapshot.
    """
    patient_anvil_start()
    if take_snapshot and check:
        raise click.UsageError("give --snapshot (write it) or --check (compare with it), not both")
    # Not connected yet (a fork's upstream must be up first): the provider only names the network.
    choice = f"{network.network.ecosystem.name}:{network.network.name}:{network.name}"
    batch_sizes = _sizes(sizes)
    root = Path(project.path)
    snapshot_path = snapshot_file or root / SNAPSHOT_FILE
    console = make_console()
    started = time.monotonic()
    try:
        prices = Prices.from_options(gas_price_gwei, pol_usd)
        baseline = read_snapshot(snapshot_path) if check else None
        report = _measure(choice, batch_sizes, console)
    except (LinkOpsError, NetworkError) as exc:
        raise click.ClickException(str(exc)) from None
    elapsed = time.monotonic() - started

    _print_report(console, report, prices)
    files = write_reports(report, out_dir or root / "reports", prices)
    console.print(f"measured in {elapsed:.0f} s; written {files.json}, {files.markdown}, {files.plot}")
    if take_snapshot:
        write_snapshot(report.snapshot(), snapshot_path)
        docs_plot = root / "docs" / "gas.png"
        docs_plot.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(files.plot, docs_plot)
        console.print(f"snapshot written: {snapshot_path} and {docs_plot}")
    if baseline is not None:
        if baseline.network != report.network:
            console.print(
                f"[yellow]the snapshot was measured on {baseline.network}, this run on {report.network}"
            )
        findings = compare_snapshot(baseline.figures, report.figures())
        _print_check(console, findings, str(snapshot_path))
        failed = [f for f in findings if f.failed]
        if failed:
            raise click.ClickException(
                f"gas check failed, {len(failed)} figure(s) worse than {snapshot_path.name} by more than "
                f"{SNAPSHOT_TOLERANCE:.0%} or missing: " + "; ".join(f.describe() for f in failed)
            )
        console.print(f"[green]gas check passed against {snapshot_path}")
