"""The gas report: what the benchmark measured, priced, written out, and checked against a snapshot.

Pure: no ape and no chain. :mod:`link_ops.gas` measures on a chain and returns a :class:`GasReport`; this
module fits the batch curves, names every figure, prices them in POL and USD, writes ``gas.json``,
``gas.md`` and ``gas.png``, and compares a run with the committed ``gas-snapshot.json`` the way
``forge snapshot --check`` does: a figure more than 1% dearer fails, a cheaper one asks for a new snapshot.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import Enum
from fractions import Fraction
from pathlib import Path
from typing import Any

from .exceptions import ConfigurationError

#: Goals of the core-protocol issue, in gas.
GOAL_MARGINAL_PER_CUBE = 5_600
GOAL_ONE_CUBE_CLAIM = 48_000
STRETCH_ONE_CUBE_CLAIM = 45_000
#: Goals of the partner-onboarding issue, in gas.
GOAL_PARTNER_CREATE = 150_000
GOAL_WELCOME_PER_CUBE = 3_500
#: The legs of a bridge round trip, in order (home to the remote chain and back), with what each does.
BRIDGE_LEGS = {
    "send_out": "send home → remote (lock)",
    "deliver_in": "deliver at remote (mint)",
    "send_home": "send remote → home (burn)",
    "deliver_home": "deliver at home (release)",
}
#: The deliveries among them.
BRIDGE_DELIVERIES = ("deliver_in", "deliver_home")
#: What a delivery costs at least beyond its receiver's ``receiveMessage``: the transaction's base cost,
#: its calldata (:func:`calldata_gas`), marking the message executed (its replay guard: a cold slot set
#: from zero, 2,100 + 20,000) and, per signature, its recovery (ecrecover, 3,000) and the cold read of
#: whether its signer is in the set (2,100).
TX_BASE_GAS = 21_000
REPLAY_GUARD_GAS = 22_100
SIGNATURE_FLOOR_GAS = 3_000 + 2_100
#: Polygon PoS block gas limit the "largest batch" is computed against.
BLOCK_GAS_LIMIT = 30_000_000
#: The least one more cube in a claim can cost: a cold read (2,100) and a rewrite (2,900) of its slot, and
#: its 32 bytes of calldata (140 for an id below 256: 31 zero bytes at 4, one byte at 16).
FLOOR_GAS_PER_CUBE = 5_140
#: Prices the costs are shown at unless given: assumptions, not quotes.
DEFAULT_GAS_PRICE_GWEI = 30.0
DEFAULT_POL_USD = 0.25
#: How much dearer than the snapshot a figure may get before the check fails (1%).
SNAPSHOT_TOLERANCE = 0.01
SNAPSHOT_FILE = "gas-snapshot.json"
SNAPSHOT_ABOUT = (
    "Gas of every operation the benchmark measures (lower is better), written by `ape run gas_bench "
    "--snapshot`. `ape run gas_bench --check` fails when a figure gets more than 1% dearer."
)

Figures = dict[str, float]


# ------------------------------------------------------------------------------------------- prices
@dataclass(frozen=True)
class Prices:
    """The gas price and the POL price costs are shown at, and whether each was given or assumed."""

    gas_price_gwei: float = DEFAULT_GAS_PRICE_GWEI
    pol_usd: float = DEFAULT_POL_USD
    gas_price_assumed: bool = True
    pol_usd_assumed: bool = True

    @classmethod
    def from_options(cls, gas_price_gwei: float | None, pol_usd: float | None) -> Prices:
        """Prices from optional command-line values: a missing one is the assumed default."""
        problems = [
            f"{name} must be a positive number, got {value}"
            for name, value in (("--gas-price-gwei", gas_price_gwei), ("--pol-usd", pol_usd))
            if value is not None and not (math.isfinite(value) and value > 0)
        ]
        if problems:
            raise ConfigurationError("; ".join(problems))
        return cls(
            DEFAULT_GAS_PRICE_GWEI if gas_price_gwei is None else gas_price_gwei,
            DEFAULT_POL_USD if pol_usd is None else pol_usd,
            gas_price_assumed=gas_price_gwei is None,
            pol_usd_assumed=pol_usd is None,
        )

    def pol(self, gas: float) -> float:
        """What `gas` costs in POL at this gas price."""
        return gas * self.gas_price_gwei / 1e9

    def usd(self, gas: float) -> float:
        """What `gas` costs in US dollars at this gas price and POL price."""
        return self.pol(gas) * self.pol_usd

    def describe(self) -> str:
        """One sentence saying which prices the costs use and which of them are assumptions."""
        gas, pol = f"{self.gas_price_gwei:g} gwei", f"{self.pol_usd:g} USD/POL"
        if self.gas_price_assumed and self.pol_usd_assumed:
            return (
                f"Costs at {gas} and {pol}: both assumed defaults, not today's prices (pass --gas-price-gwei "
                "and --pol-usd)."
            )
        if self.gas_price_assumed:
            return f"Costs at {gas} (an assumed default, not today's price: pass --gas-price-gwei) and {pol}."
        if self.pol_usd_assumed:
            return f"Costs at {gas} and {pol} (an assumed default, not today's price: pass --pol-usd)."
        return f"Costs at {gas} and {pol}, as given."

    def to_json(self) -> dict[str, Any]:
        return {
            "gas_price_gwei": self.gas_price_gwei,
            "gas_price_assumed": self.gas_price_assumed,
            "pol_usd": self.pol_usd,
            "pol_usd_assumed": self.pol_usd_assumed,
        }


# ------------------------------------------------------------------------------------------ measured
@dataclass
class BatchCurve:
    """Gas of one batch operation of one design by batch size, fitted as fixed + marginal * size.

    The fit runs through the smallest and the largest batch measured.
    """

    design: str
    gas_by_batch: dict[int, int]
    fixed: int = field(init=False)
    marginal: float = field(init=False)
    max_batch_in_block: int = field(init=False)

    def __post_init__(self) -> None:
        sizes = sorted(self.gas_by_batch)
        if len(sizes) < 2:
            raise ValueError(f"{self.design}: a batch curve needs two batch sizes, got {sizes}")
        lo, hi = sizes[0], sizes[-1]
        self.marginal = (self.gas_by_batch[hi] - self.gas_by_batch[lo]) / (hi - lo)
        self.fixed = round(self.gas_by_batch[lo] - self.marginal * lo)
        self.max_batch_in_block = int((BLOCK_GAS_LIMIT - self.fixed) // self.marginal)

    @property
    def smallest(self) -> int:
        """Gas of the smallest batch measured."""
        return self.gas_by_batch[min(self.gas_by_batch)]


@dataclass
class DesignGas:
    """Every user-facing cube operation of one design."""

    design: str
    claim: BatchCurve
    mint: BatchCurve
    #: Minting one cube the cheapest way the design offers (`mint_one_call`).
    mint_one: int
    mint_one_call: str
    #: ERC-721 ``transferFrom`` of a cube, held in the steady state, to an address that holds none.
    transfer: int

    @property
    def one_cube_claim(self) -> int:
        return self.claim.smallest


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
    def plain_create(self) -> int:
        """Deploying the plain contract and funding it: what `create` replaces."""
        return self.plain_deploy + self.plain_fund

    @property
    def welcome_marginal(self) -> float:
        return self._marginal(self.welcome_by_batch)

    @property
    def plain_welcome_marginal(self) -> float:
        return self._marginal(self.plain_welcome_by_batch)


def calldata_gas(data: bytes) -> int:
    """What a transaction's input costs: 16 gas per non-zero byte, 4 per zero byte (EIP-2028)."""
    zeros = data.count(0)
    return 4 * zeros + 16 * (len(data) - zeros)


def messenger_floor(signatures: int, calldata: int) -> int:
    """The least a delivery with `signatures` signatures and `calldata` gas of input costs beyond the
    receiver's ``receiveMessage``."""
    return TX_BASE_GAS + calldata + REPLAY_GUARD_GAS + signatures * SIGNATURE_FLOOR_GAS


@dataclass
class BridgeGas:
    """A round trip of LBC and of cubes between the home bridges and a remote chain's, in the steady state.

    Each leg (:data:`BRIDGE_LEGS`) is one transaction: a bridge's ``send``, or the messenger's ``deliver``
    with `threshold` signatures of a set of `signers`. The seed has no bridge to compare with.
    """

    #: Gas by leg, moving LBC.
    lbc: dict[str, int]
    #: Gas by number of cubes moved at once, by leg.
    cubes: dict[int, dict[str, int]]
    #: A delivery of LBC at remote less its receiver's ``receiveMessage``: what the messenger adds (the
    #: transaction's base cost, calldata, the signature checks, the replay guard, the event).
    messenger_overhead: int
    #: The calldata gas of that delivery (part of the overhead).
    messenger_calldata: int
    #: The same delivery with one signature more than the threshold, less it with the threshold.
    extra_signature: int
    signers: int
    threshold: int
    #: LBC moved per trip, in wei.
    lbc_amount: int

    def __post_init__(self) -> None:
        legs = [self.lbc, *self.cubes.values()]
        missing = sorted({leg for leg in BRIDGE_LEGS for by_leg in legs if leg not in by_leg})
        if missing:
            raise ValueError(f"bridge gas without the legs {', '.join(missing)}")
        if len(self.cubes) < 2:
            raise ValueError(f"bridge gas needs cubes moved in two batch sizes, got {sorted(self.cubes)}")

    def cube_curve(self, leg: str) -> BatchCurve:
        """Gas of `leg` by number of cubes: one cube, and what each further cube adds."""
        return BatchCurve(f"cube {leg}", {n: by_leg[leg] for n, by_leg in self.cubes.items()})

    @property
    def lbc_round_trip(self) -> int:
        return sum(self.lbc[leg] for leg in BRIDGE_LEGS)

    def cube_round_trip(self, cubes: int) -> int:
        return sum(self.cubes[cubes][leg] for leg in BRIDGE_LEGS)

    @property
    def messenger_floor(self) -> int:
        """The least :attr:`messenger_overhead` can be, with `threshold` signatures and its calldata."""
        return messenger_floor(self.threshold, self.messenger_calldata)


@dataclass(frozen=True)
class Operation:
    """One row of the operations table: an operation's gas in both designs."""

    name: str
    optimized: float
    reference: float | None
    #: What was measured on each side.
    how: str

    @property
    def ratio(self) -> float | None:
        return None if not self.reference else self.optimized / self.reference


@dataclass
class GasReport:
    """The optimized design against the reference, with the goals, and where it was measured."""

    optimized: DesignGas
    reference: DesignGas
    partner: PartnerGas | None = None
    network: str = "unknown"
    chain_id: int | None = None
    bridge: BridgeGas | None = None

    @property
    def ratio(self) -> float:
        """Marginal claim gas per cube, optimized over reference."""
        return self.optimized.claim.marginal / self.reference.claim.marginal

    def goals(self) -> list[tuple[str, float, float, bool]]:
        """(goal, measured, limit, met) rows."""
        o = self.optimized.claim
        rows: list[tuple[str, float, float, bool]] = [
            (
                "marginal gas per cube",
                o.marginal,
                GOAL_MARGINAL_PER_CUBE,
                o.marginal <= GOAL_MARGINAL_PER_CUBE,
            ),
            (
                "one-cube claim transaction",
                o.smallest,
                GOAL_ONE_CUBE_CLAIM,
                o.smallest <= GOAL_ONE_CUBE_CLAIM,
            ),
            (
                "one-cube claim (stretch)",
                o.smallest,
                STRETCH_ONE_CUBE_CLAIM,
                o.smallest <= STRETCH_ONE_CUBE_CLAIM,
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

    def operations(self) -> list[Operation]:
        """Every user-facing operation, optimized beside its reference, in the order a cube lives them."""
        o, r = self.optimized, self.reference
        biggest_mint = max(o.mint.gas_by_batch)
        rows = [
            Operation("mint one cube", o.mint_one, r.mint_one, f"`{o.mint_one_call}` / `{r.mint_one_call}`"),
            Operation(
                f"mintBatch of {biggest_mint:,} cubes",
                o.mint.gas_by_batch[biggest_mint],
                r.mint.gas_by_batch.get(biggest_mint),
                "`mintBatch`",
            ),
            Operation(
                "mintBatch, per additional cube", o.mint.marginal, r.mint.marginal, "fit, smallest to largest"
            ),
            Operation("transfer a cube to a new holder", o.transfer, r.transfer, "ERC-721 `transferFrom`"),
        ]
        for size in sorted(o.claim.gas_by_batch):
            rows.append(
                Operation(
                    f"claim {size:,} cube{'s' if size > 1 else ''}",
                    o.claim.gas_by_batch[size],
                    r.claim.gas_by_batch.get(size),
                    "`batchClaimRewards`, steady state",
                )
            )
        rows.append(
            Operation(
                "claim, per additional cube", o.claim.marginal, r.claim.marginal, "fit, smallest to largest"
            )
        )
        if self.partner is not None:
            pg = self.partner
            rows.append(
                Operation(
                    "onboard a partner (create + fund)",
                    pg.create,
                    pg.plain_create,
                    "factory clone, dearest of "
                    + " and ".join(f"{n:,}" for n in sorted(pg.create_by_cubes))
                    + " cubes / plain contract deploy + fund",
                )
            )
            rows.append(
                Operation(
                    "claimWelcome, per cube",
                    pg.welcome_marginal,
                    pg.plain_welcome_marginal,
                    "contiguous ids, fit",
                )
            )
        if self.bridge is not None:
            rows += self.bridge_operations()
        return rows

    def bridge_operations(self) -> list[Operation]:
        """Each leg of the LBC and the one-cube round trips (no reference: the seed has no bridge)."""
        b = self.bridge
        if b is None:
            return []
        signed = f"`AttestedMessenger.deliver`, {b.threshold} of {b.signers} signatures"
        one = min(b.cubes)
        assets = (
            ("LBC", b.lbc, "`LBCBridge.send` at home (lockbox)", "`LBCBridge.send` at remote"),
            (f"{one} cube", b.cubes[one], "`CubeBridge.send` at home", "`RemoteCubeBridge.send` at remote"),
        )
        rows = []
        for asset, by_leg, send_out, send_home in assets:
            how = {"send_out": send_out, "deliver_in": signed, "send_home": send_home, "deliver_home": signed}
            rows += [
                Operation(f"bridge {asset}: {what}", by_leg[leg], None, how[leg])
                for leg, what in BRIDGE_LEGS.items()
            ]
        return rows

    def figures(self) -> Figures:
        """Every measured figure by a flat, dotted name, in gas (what the snapshot holds)."""
        out: Figures = {}
        for side, d in (("optimized", self.optimized), ("reference", self.reference)):
            for op, curve in (("claim", d.claim), ("mint", d.mint)):
                for size, gas in curve.gas_by_batch.items():
                    out[f"{op}.{side}.batch_{size}"] = gas
                out[f"{op}.{side}.fixed"] = curve.fixed
                out[f"{op}.{side}.marginal"] = round(curve.marginal, 1)
            out[f"mint.{side}.one"] = d.mint_one
            out[f"transfer.{side}"] = d.transfer
        if self.partner is not None:
            pg = self.partner
            for cubes, gas in pg.create_by_cubes.items():
                out[f"partner_create.optimized.cubes_{cubes}"] = gas
            out["partner_create.reference.deploy"] = pg.plain_deploy
            out["partner_create.reference.fund"] = pg.plain_fund
            for side, by_batch in (
                ("optimized", pg.welcome_by_batch),
                ("reference", pg.plain_welcome_by_batch),
            ):
                for size, gas in by_batch.items():
                    out[f"welcome.{side}.batch_{size}"] = gas
                out[f"welcome.{side}.marginal"] = round(PartnerGas._marginal(by_batch), 1)
        if self.bridge is not None:
            b = self.bridge
            for leg in BRIDGE_LEGS:
                out[f"bridge.lbc.{leg}"] = b.lbc[leg]
                for cubes, by_leg in b.cubes.items():
                    out[f"bridge.cube.{leg}.batch_{cubes}"] = by_leg[leg]
                out[f"bridge.cube.{leg}.marginal"] = round(b.cube_curve(leg).marginal, 1)
            out["bridge.messenger.overhead"] = b.messenger_overhead
            out["bridge.messenger.extra_signature"] = b.extra_signature
        return dict(sorted(out.items()))

    def snapshot(self) -> Snapshot:
        return Snapshot(self.figures(), self.network, self.chain_id)

    def to_json(self, prices: Prices | None = None) -> dict[str, Any]:
        p = prices or Prices()

        def cost(gas: float | None) -> dict[str, float] | None:
            return None if gas is None else {"gas": gas, "pol": p.pol(gas), "usd": p.usd(gas)}

        return {
            "network": self.network,
            "chain_id": self.chain_id,
            "block_gas_limit": BLOCK_GAS_LIMIT,
            "floor_gas_per_cube": FLOOR_GAS_PER_CUBE,
            "prices": {**p.to_json(), "note": p.describe()},
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
            "bridge": None
            if self.bridge is None
            else {
                **asdict(self.bridge),
                "cube_marginal": {leg: self.bridge.cube_curve(leg).marginal for leg in BRIDGE_LEGS},
                "lbc_round_trip": self.bridge.lbc_round_trip,
                "cube_round_trip": {n: self.bridge.cube_round_trip(n) for n in sorted(self.bridge.cubes)},
                "messenger_floor": self.bridge.messenger_floor,
            },
            "operations": [
                {
                    "operation": op.name,
                    "measured": op.how,
                    "optimized": cost(op.optimized),
                    "reference": cost(op.reference),
                    "ratio": None if op.ratio is None else round(op.ratio, 4),
                }
                for op in self.operations()
            ],
            "goals": [
                {"goal": g, "measured": m, "limit": limit, "met": met} for g, m, limit, met in self.goals()
            ],
            "figures": self.figures(),
        }


# ------------------------------------------------------------------------------------------- outputs
def format_gas(value: float | None) -> str:
    """Gas as 47,782 (whole) or 5,447.9 (a fit); "-" when there is none."""
    if value is None:
        return "-"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def format_cost(value: float) -> str:
    """POL or USD with six decimals: a one-cube claim costs fractions of a cent."""
    return f"{value:.6f}"


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
    """Claim gas against batch size for both designs, with the floor, as a PNG (no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

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


# ------------------------------------------------------------------------------------------ snapshot
@dataclass(frozen=True)
class Snapshot:
    """Figures of one run by name, and the network they were measured on."""

    figures: Figures
    network: str
    chain_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "about": SNAPSHOT_ABOUT,
            "network": self.network,
            "chain_id": self.chain_id,
            "unit": "gas",
            "figures": dict(sorted(self.figures.items())),
        }

    @classmethod
    def from_json(cls, data: Any, source: str = "the snapshot") -> Snapshot:
        if not isinstance(data, dict) or not isinstance(data.get("figures"), dict):
            raise ConfigurationError(f"{source} holds no `figures` object: write it with --snapshot")
        bad = [
            name
            for name, value in data["figures"].items()
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
        ]
        if bad:
            raise ConfigurationError(f"{source}: figures that are not numbers: {', '.join(sorted(bad))}")
        chain_id = data.get("chain_id")
        return cls(
            dict(data["figures"]),
            str(data.get("network", "unknown")),
            chain_id if isinstance(chain_id, int) else None,
        )


def write_snapshot(snapshot: Snapshot, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(snapshot.to_json(), indent=2, sort_keys=True) + "\n")
    return path


def read_snapshot(path: Path) -> Snapshot:
    """The snapshot at `path`; a :class:`ConfigurationError` saying what to do when it is missing or bad."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigurationError(
            f"no gas snapshot at {path}: write one with `ape run gas_bench --snapshot` and commit it"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{path} is not JSON ({exc}): write it again with --snapshot") from None
    return Snapshot.from_json(data, str(path))


class Change(str, Enum):
    """How a figure compares with its snapshot."""

    WORSE = "worse"
    WITHIN_TOLERANCE = "worse, within tolerance"
    IMPROVED = "improved"
    UNCHANGED = "unchanged"
    MISSING = "missing"
    NEW = "new"


@dataclass(frozen=True)
class Finding:
    """One figure of the fresh run against the snapshot."""

    name: str
    old: float | None
    new: float | None
    change: Change

    @property
    def failed(self) -> bool:
        """Worse by more than the tolerance, or no longer measured."""
        return self.change in (Change.WORSE, Change.MISSING)

    @property
    def relative(self) -> float | None:
        """(new - old) / old, when both exist and old is not zero."""
        if self.old is None or self.new is None or self.old == 0:
            return None
        return (self.new - self.old) / self.old

    def describe(self) -> str:
        if self.change is Change.MISSING:
            return f"{self.name}: in the snapshot ({format_gas(self.old)}) but not measured by this run"
        if self.change is Change.NEW:
            return f"{self.name}: new figure ({format_gas(self.new)}), not in the snapshot"
        rel = self.relative
        pct = "" if rel is None else f" ({rel:+.2%})"
        return f"{self.name}: {format_gas(self.old)} → {format_gas(self.new)}{pct} {self.change.value}"


def _exact(value: float) -> Fraction:
    # repr gives the shortest decimal that reads back as `value`: 0.01 is 1/100 here, not the binary float.
    return Fraction(repr(float(value))) if isinstance(value, float) else Fraction(value)


def compare_snapshot(
    old: Mapping[str, float], new: Mapping[str, float], tolerance: float = SNAPSHOT_TOLERANCE
) -> list[Finding]:
    """Each figure of `old` (the snapshot) and `new` (a fresh run), by name.

    A figure more than `tolerance` (a fraction: 0.01 is 1%) above its snapshot is WORSE, and one the run no
    longer measures is MISSING: both fail. Exactly at the tolerance passes. Cheaper figures are IMPROVED
    (they pass, and ask for a new snapshot), figures only the run has are NEW.
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must not be negative, got {tolerance}")
    limit = _exact(tolerance)
    findings = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if after is None:
            change = Change.MISSING
        elif before is None:
            change = Change.NEW
        else:
            a, b = _exact(before), _exact(after)
            if b == a:
                change = Change.UNCHANGED
            elif b < a:
                change = Change.IMPROVED
            elif b - a > limit * abs(a):
                change = Change.WORSE
            else:
                change = Change.WITHIN_TOLERANCE
        findings.append(Finding(name, before, after, change))
    return findings
