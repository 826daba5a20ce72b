"""The gas report: every figure the benchmark measured, each operation beside its reference and its goal.

:class:`GasReport` is what ``ape run gas_bench`` builds and what :mod:`link_ops.gas.render` draws and
:mod:`link_ops.gas.snapshot` compares. Pure: no ape.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from link_ops.gas.models import (
    BLOCK_GAS_LIMIT,
    BRIDGE_LEGS,
    FLOOR_GAS_PER_CUBE,
    GOAL_MARGINAL_PER_CUBE,
    GOAL_ONE_CUBE_CLAIM,
    GOAL_PARTNER_CREATE,
    GOAL_WELCOME_PER_CUBE,
    STRETCH_ONE_CUBE_CLAIM,
    BridgeGas,
    DesignGas,
    Figures,
    PartnerGas,
    Prices,
)
from link_ops.gas.snapshot import Snapshot


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
