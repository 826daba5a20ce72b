"""The gas report rendered: ``reports/gas.json``, ``gas.md`` and ``gas.png``.

matplotlib (the ``[report]`` extra) is imported only by :func:`write_plot`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from link_ops.exceptions import ConfigurationError
from link_ops.gas.models import (
    BLOCK_GAS_LIMIT,
    BRIDGE_LEGS,
    FLOOR_GAS_PER_CUBE,
    REPLAY_GUARD_GAS,
    SIGNATURE_FLOOR_GAS,
    TX_BASE_GAS,
    Prices,
    format_cost,
    format_gas,
)
from link_ops.gas.report import GasReport


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _table(header: list[str], rows: list[list[str]], align: list[str]) -> str:
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(report: GasReport, prices: Prices | None = None) -> str:
    """The report as markdown tables, ready to paste into the README."""
    p = prices or Prices()
    o, r = report.optimized, report.reference
    chain = f" (chain {report.chain_id})" if report.chain_id is not None else ""
    parts = [
        "# Gas report",
        f"Measured by `ape run gas_bench` on `{report.network}`{chain}: {o.design} (optimized) beside the "
        f"seed's design taken literally, {r.design} (reference), both compiled with the project's settings "
        "and deployed fresh. " + p.describe(),
        "## Operations",
        _table(
            ["operation", "optimized gas", "POL", "USD", "reference gas", "POL", "USD", "ratio", "measured"],
            [
                [
                    op.name,
                    format_gas(op.optimized),
                    format_cost(p.pol(op.optimized)),
                    format_cost(p.usd(op.optimized)),
                    format_gas(op.reference),
                    "-" if op.reference is None else format_cost(p.pol(op.reference)),
                    "-" if op.reference is None else format_cost(p.usd(op.reference)),
                    _ratio(op.ratio),
                    op.how,
                ]
                for op in report.operations()
            ],
            ["l", "r", "r", "r", "r", "r", "r", "r", "l"],
        ),
        "## batchClaimRewards by batch size",
        "Steady state: every cube claimed before, the holder already holds LBC.",
        _table(
            ["cubes", "optimized", "per cube", "reference", "per cube", "ratio"],
            [
                [
                    f"{size:,}",
                    format_gas(o.claim.gas_by_batch[size]),
                    format_gas(round(o.claim.gas_by_batch[size] / size, 1)),
                    format_gas(r.claim.gas_by_batch.get(size)),
                    "-"
                    if size not in r.claim.gas_by_batch
                    else format_gas(round(r.claim.gas_by_batch[size] / size, 1)),
                    _ratio(o.claim.gas_by_batch[size] / r.claim.gas_by_batch[size])
                    if size in r.claim.gas_by_batch
                    else "-",
                ]
                for size in sorted(o.claim.gas_by_batch)
            ]
            + [
                [
                    "fixed",
                    format_gas(o.claim.fixed),
                    "",
                    format_gas(r.claim.fixed),
                    "",
                    _ratio(o.claim.fixed / r.claim.fixed),
                ],
                [
                    "per additional cube",
                    format_gas(round(o.claim.marginal, 1)),
                    "",
                    format_gas(round(r.claim.marginal, 1)),
                    "",
                    _ratio(report.ratio),
                ],
                [
                    f"largest batch in a {BLOCK_GAS_LIMIT:,}-gas block",
                    f"{o.claim.max_batch_in_block:,}",
                    "",
                    f"{r.claim.max_batch_in_block:,}",
                    "",
                    "",
                ],
            ],
            ["l", "r", "r", "r", "r", "r"],
        ),
        f"The floor is {FLOOR_GAS_PER_CUBE:,} gas per cube: a cold read and a rewrite of its slot, and its "
        "calldata.",
        *_bridge_markdown(report, p),
        "## Goals",
        _table(
            ["goal", "measured", "limit", "met"],
            [
                [g, format_gas(round(m, 1)), f"{limit:,.0f}", "yes" if met else "no"]
                for g, m, limit, met in report.goals()
            ],
            ["l", "r", "r", "l"],
        ),
    ]
    return "\n\n".join(parts) + "\n"


def _bridge_markdown(report: GasReport, p: Prices) -> list[str]:
    """The bridge section: every leg for LBC and by number of cubes, and the messenger's part."""
    b = report.bridge
    if b is None:
        return []
    sizes = sorted(b.cubes)
    curves = {leg: b.cube_curve(leg) for leg in BRIDGE_LEGS}
    on = f"chain {report.chain_id}" if report.chain_id is not None else "the one chain"
    lbc = b.lbc_amount / 10**18
    header = ["leg", f"LBC ({lbc:,g} LBC)", *(f"{n:,} cube{'s' if n > 1 else ''}" for n in sizes)]
    rows = [
        [
            what,
            format_gas(b.lbc[leg]),
            *(format_gas(b.cubes[n][leg]) for n in sizes),
            format_gas(round(curves[leg].marginal, 1)),
        ]
        for leg, what in BRIDGE_LEGS.items()
    ]
    trips = [b.lbc_round_trip, *(b.cube_round_trip(n) for n in sizes)]
    marginal_trip = round(sum(c.marginal for c in curves.values()), 1)
    rows += [
        ["round trip", *(format_gas(g) for g in trips), format_gas(marginal_trip)],
        ["round trip, POL", *(format_cost(p.pol(g)) for g in trips), format_cost(p.pol(marginal_trip))],
        ["round trip, USD", *(format_cost(p.usd(g)) for g in trips), format_cost(p.usd(marginal_trip))],
    ]
    floor = (
        f"{TX_BASE_GAS:,} base + {b.messenger_calldata:,} calldata + {REPLAY_GUARD_GAS:,} replay guard + "
        f"{b.threshold} x {SIGNATURE_FLOOR_GAS:,} (ecrecover and the signer's membership)"
    )
    return [
        "## Bridge",
        "Moving LBC and CUBEs from home to a remote chain and back. Home: `LBCBridge` (a lockbox) and "
        "`CubeBridge` (locks cubes); remote: `LBCBridge` (burns and mints its own LBC) and "
        "`RemoteCubeBridge` (burns and mints `RemoteCube`s); an `AttestedMessenger` on each side. Both "
        f"sides are deployed on {on}, the messengers wired to each other for it. Every delivery carries the "
        f"signatures of {b.threshold} of the {b.signers} signers (threshold {b.threshold}). Steady state: "
        "the holder already holds LBC on both sides, each bridge and the remote collection already hold "
        "some, and every measured amount or cube has made the same trip once before: each figure is the "
        "second trip. The holder pays for a send, whoever relays it for a delivery. The seed declared only "
        "`bridgeAssets(...)`, so there is no reference.",
        _table(
            [*header, "per additional cube"],
            rows,
            ["l", *(["r"] * (len(header) - 1)), "r"],
        ),
        _table(
            ["messenger", "gas"],
            [
                [
                    f"a delivery beyond its receiver's `receiveMessage` (LBC at remote, {b.threshold} "
                    "signatures): base cost, calldata, signature checks, replay guard, event",
                    format_gas(b.messenger_overhead),
                ],
                [f"its floor: {floor}", format_gas(b.messenger_floor)],
                ["each signature beyond the threshold", format_gas(b.extra_signature)],
            ],
            ["l", "r"],
        ),
    ]


def write_plot(report: GasReport, path: Path) -> Path:
    """Claim gas against batch size for both designs, with the floor, as a PNG (no display needed).

    Needs matplotlib: ``pip install 'link-ops[report]'``.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import FuncFormatter
    except ImportError as exc:
        raise ConfigurationError(
            f"the gas plot needs matplotlib ({exc}): install it with pip install 'link-ops[report]'"
        ) from exc

    fig = Figure(figsize=(11, 4.6), dpi=120, layout="constrained")
    FigureCanvasAgg(fig)
    total, per_cube = fig.subplots(1, 2)
    sizes = sorted(report.optimized.claim.gas_by_batch)
    span = [*range(0, max(sizes) + 1, max(1, max(sizes) // 100)), max(sizes)]
    floor_label = f"floor: {FLOOR_GAS_PER_CUBE:,} gas/cube (no fixed cost)"
    styles = (
        ("optimized", report.optimized, "tab:blue", "o"),
        ("seed-literal reference", report.reference, "tab:red", "s"),
    )
    for role, design, colour, marker in styles:
        curve = design.claim
        points = sorted(curve.gas_by_batch.items())
        xs = [n for n, _ in points]
        label = f"{role}: {design.design}, {curve.marginal:,.0f} gas/cube"
        total.plot(xs, [g for _, g in points], marker=marker, color=colour, label=label)
        per_cube.plot(xs, [g / n for n, g in points], marker=marker, color=colour, label=role)
    total.plot(span, [FLOOR_GAS_PER_CUBE * n for n in span], "--", color="0.35", label=floor_label)
    per_cube.axhline(
        FLOOR_GAS_PER_CUBE, linestyle="--", color="0.35", label=f"floor: {FLOOR_GAS_PER_CUBE:,} gas/cube"
    )

    thousands = FuncFormatter(lambda value, _pos: f"{value:,.0f}")
    total.set_title("gas of one batchClaimRewards transaction")
    total.set_xlabel("cubes claimed in the transaction")
    total.set_ylabel("gas")
    total.yaxis.set_major_formatter(thousands)
    total.set_xlim(0, max(sizes) * 1.03)
    total.set_ylim(0, None)
    per_cube.set_title("gas per cube claimed")
    per_cube.set_xlabel("cubes claimed in the transaction (log scale)")
    per_cube.set_ylabel("gas per cube (log scale)")
    per_cube.set_xscale("log")
    per_cube.set_yscale("log")
    per_cube.xaxis.set_major_formatter(thousands)
    per_cube.yaxis.set_major_formatter(thousands)
    per_cube.yaxis.set_minor_formatter(thousands)
    for ax in (total, per_cube):
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize="small", loc="upper left" if ax is total else "upper right")
    fig.suptitle(f"Claim gas against batch size (steady state), measured on {report.network}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path


@dataclass(frozen=True)
class ReportFiles:
    json: Path
    markdown: Path
    plot: Path


def write_reports(report: GasReport, out_dir: Path, prices: Prices | None = None) -> ReportFiles:
    """Writes ``gas.json``, ``gas.md`` and ``gas.png`` into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "gas.json"
    json_path.write_text(json.dumps(report.to_json(prices), indent=2, sort_keys=True) + "\n")
    md_path = out_dir / "gas.md"
    md_path.write_text(render_markdown(report, prices))
    return ReportFiles(json_path, md_path, write_plot(report, out_dir / "gas.png"))
