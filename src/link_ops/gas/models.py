"""What the gas report is made of: goals, floors, prices, the fitted batch curves and each area's figures.

Pure: no ape and no chain. :mod:`link_ops.gas.bench` measures on a chain and fills these in;
:mod:`link_ops.gas.report` names every figure, :mod:`link_ops.gas.render` writes them out and
:mod:`link_ops.gas.snapshot` compares them with the committed snapshot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from link_ops.exceptions import ConfigurationError


def format_gas(value: float | None) -> str:
    """Gas as 47,782 (whole) or 5,447.9 (a fit); "-" when there is none."""
    if value is None:
        return "-"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def format_cost(value: float) -> str:
    """POL or USD with six decimals: a one-cube claim costs fractions of a cent."""
    return f"{value:.6f}"


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
