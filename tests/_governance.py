"""A governed world for the governance tests: a 2-of-3 Safe proposes to a timelock that administers a cube
contract.

The owners are ape test accounts 6, 7 and 8 (the first two sign unless a test says otherwise); the
timelock waits :data:`MIN_DELAY` seconds and lets anyone execute. :func:`deploy_cubes_governed_by` is the
one place that knows the cube contract's constructor (it is about to change): the rest of the tests reach
the cubes through the world.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from link_ops import contracts
from link_ops.governance import Governance, deploy_safe, deploy_timelock

#: The timelock's minimum delay in the tests: an hour.
MIN_DELAY = 3_600
THRESHOLD = 2
#: Tier 1's new rate in the tests' proposals (the default is 23e12 too, so the world starts tier 1 at 0).
NEW_RATE = 23 * 10**12
LBC_CAP = 10**9 * 10**18


def deploy_cubes_governed_by(admin: str, deployer: Any) -> tuple[Any, Any]:
    """An LBC token and a cube contract whose constructor makes `admin` (the timelock) its admin, deployed
    by `deployer`, which gets no role on the cubes. Returns (lbc, cubes)."""
    lbc = contracts.deploy("LBCToken", deployer, deployer.address, LBC_CAP)
    cubes = contracts.deploy("OptimizedCubeManagement", deployer, admin, lbc.address)
    return lbc, cubes


@dataclass
class GovernedWorld:
    owners: list[Any]
    safe: Any
    timelock: Any
    lbc: Any
    cubes: Any
    governance: Governance

    @property
    def signers(self) -> list[Any]:
        """The two owners who sign by default."""
        return self.owners[:THRESHOLD]


def build_governed_world(deployer: Any, owners: list[Any], *, min_delay: int = MIN_DELAY) -> GovernedWorld:
    safe = deploy_safe(deployer, owners, THRESHOLD)
    timelock = deploy_timelock(deployer, min_delay=min_delay, proposers=[safe.address])
    lbc, cubes = deploy_cubes_governed_by(timelock.address, deployer)
    names = {
        str(timelock.address): "LinkTimelock",
        str(safe.address): "GovernanceSafe",
        str(cubes.address): "OptimizedCubeManagement",
        str(lbc.address): "LBCToken",
    }
    governance = Governance(timelock, safe, from_block=0, names=names)
    return GovernedWorld(list(owners), safe, timelock, lbc, cubes, governance)


def place_safe_contracts(provider: Any) -> None:
    """Puts Safe 1.4.1's singleton and proxy factory at their canonical addresses on a local stand-in of a
    public chain (anvil_setCode), where link_ops finds them as on the real chain."""
    from link_ops.contracts import safe as safe_contracts

    for name in (safe_contracts.SINGLETON, safe_contracts.PROXY_FACTORY):
        runtime = safe_contracts.contract_type(name).get_runtime_bytecode()
        provider.make_request("anvil_setCode", [safe_contracts.CANONICAL[name], "0x" + bytes(runtime).hex()])
