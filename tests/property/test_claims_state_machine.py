"""The contract against the pure reward model, step by step (hypothesis RuleBasedStateMachine).

After every step: LBC supply equals the sum of every cube's ``totalMined`` and the model's supply, never
passes the cap, and each cube's node data and pending reward equal the model's. Each example runs in its
own ``link_ops.testing.isolated(chain)``. Profiles: ``ci`` (default, 100 examples) and ``deep`` (set
``LINK_OPS_HYPOTHESIS_PROFILE=deep``).
"""

from __future__ import annotations

import copy
from contextlib import ExitStack

from _settings import machine_settings
from ape.exceptions import ContractLogicError
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from link_ops.model import rewards
from link_ops.model.layout import UNIT
from link_ops.protocol.deploy import deploy_protocol
from link_ops.testing import isolated

# A small cap so that sequences reach it: 2,000 LBC. Rates up to 1e15 wei/s (86.4 LBC a day).
CAP = 2_000 * 10**18
RATES = st.integers(min_value=0, max_value=1_000).map(lambda units: units * UNIT)
SECONDS = st.integers(min_value=1, max_value=3 * 86_400)
MAX_CUBES = 6

# Contract error name -> the model's exception for the same rule.
SAME_ERROR = {
    "NotCubeOwner": rewards.NotCubeOwner,
    "NonexistentCube": rewards.UnknownCube,
    "EnforcedPause": rewards.ClaimsPaused,
}


def test_cubes__any_sequence_of_operations__match_the_reward_model(admin, accounts, chain, project):
    protocol = deploy_protocol(admin, lbc_cap=CAP, tier_rates=(0, 0, 0, 0), record=False)
    cubes, lbc = protocol.cubes, protocol.lbc
    lens = project.CubeLens.deploy(sender=admin)  # testing only: all cubes' views in one call
    deployed_at = int(chain.provider.get_receipt(cubes.txn_hash).timestamp)
    holders = [accounts[1], accounts[2], accounts[3]]

    class CubeMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self._stack = ExitStack()
            self._stack.enter_context(isolated(chain))
            self.model = rewards.RewardModel(deployed_at=deployed_at)
            # The machine owns the clock: every block gets an explicit timestamp, so an example replays
            # exactly (hypothesis shrinks by replaying) however much wall-clock time has passed.
            self.now = int(chain.blocks.head.timestamp)

        def teardown(self) -> None:
            self._stack.close()

        def _ids(self) -> list[int]:
            return list(range(1, self.model.total_minted + 1))

        def _next_block(self) -> int:
            self.now += 1
            chain.pending_timestamp = self.now
            return self.now

        def _owned_by(self, holder: int) -> list[int]:
            who = holders[holder].address.lower()
            return [i for i in self._ids() if self.model.owner_of(i) == who]

        @initialize(
            rates=st.lists(RATES.filter(bool), min_size=4, max_size=4),
            tiers=st.lists(st.integers(0, 3), min_size=2, max_size=2),
        )
        def start(self, rates: list[int], tiers: list[int]) -> None:
            # Every example starts with paying tiers and a cube for each of two holders.
            for tier, rate in enumerate(rates):
                self.set_tier_rate(tier, rate)
            for holder, tier in enumerate(tiers):
                self.mint(holder, tier)

        @precondition(lambda self: self.model.total_minted < MAX_CUBES)
        @rule(holder=st.integers(0, 2), tier=st.integers(0, 3))
        def mint(self, holder: int, tier: int) -> None:
            self._next_block()
            receipt = cubes.mint(holders[holder], tier, sender=admin)
            self.model.mint(holders[holder].address, tier, int(receipt.timestamp))

        @rule(tier=st.integers(0, 3), rate=RATES)
        def set_tier_rate(self, tier: int, rate: int) -> None:
            self._next_block()
            receipt = cubes.setTierRate(tier, rate, sender=admin)
            self.model.set_tier_rate(tier, rate, int(receipt.timestamp))

        @rule(seconds=SECONDS)
        def time_passes(self, seconds: int) -> None:
            self.now += seconds
            chain.mine(timestamp=self.now)

        @precondition(lambda self: self.model.total_minted > 0)
        @rule(data=st.data(), active=st.booleans())
        def set_active(self, data: st.DataObject, active: bool) -> None:
            cube_id = data.draw(st.sampled_from(self._ids()))
            self._next_block()
            receipt = cubes.setActive(cube_id, active, sender=admin)
            self.model.set_active(cube_id, active, int(receipt.timestamp))

        @precondition(lambda self: self.model.total_minted > 0)
        @rule(data=st.data(), to=st.integers(0, 2))
        def transfer(self, data: st.DataObject, to: int) -> None:
            cube_id = data.draw(st.sampled_from(self._ids()))
            owner = next(h for h in holders if h.address.lower() == self.model.owner_of(cube_id))
            self._next_block()
            cubes.transferFrom(owner, holders[to], cube_id, sender=owner)
            self.model.transfer(cube_id, holders[to].address)

        @rule()
        def pause_or_unpause(self) -> None:
            if self.model.paused:
                self._next_block()
                cubes.unpause(sender=admin)
                self.model.unpause()
            else:
                self._next_block()
                cubes.pause(sender=admin)
                self.model.pause()

        @rule(caller=st.integers(0, 2), data=st.data())
        def claim_own_cubes(self, caller: int, data: st.DataObject) -> None:
            # The caller's own cubes, in any order, with repeats.
            owned = self._owned_by(caller)
            picks = data.draw(st.lists(st.sampled_from(owned), max_size=6)) if owned else []
            self._claim(caller, picks)

        @rule(caller=st.integers(0, 2), picks=st.lists(st.integers(0, MAX_CUBES + 1), max_size=4))
        def claim_any_ids(self, caller: int, picks: list[int]) -> None:
            # Ids from 0 .. MAX_CUBES + 1: unknown ids, foreign cubes and duplicates.
            self._claim(caller, picks)

        def _claim(self, caller: int, picks: list[int]) -> None:
            account = holders[caller]
            claim_at = self.now + 1
            expected: Exception | int
            trial = copy.deepcopy(self.model)
            try:
                expected = trial.claim(account.address, picks, claim_at)
            except rewards.RewardModelError as exc:
                expected = exc
            over_cap = isinstance(expected, int) and int(lbc.totalSupply()) + expected > CAP
            before = int(lbc.balanceOf(account))
            self._next_block()
            try:
                cubes.batchClaimRewards(picks, sender=account)
            except ContractLogicError as err:
                name = type(err).__name__
                if over_cap:
                    assert name == "ERC20ExceededCap", name
                else:
                    assert isinstance(expected, Exception), f"contract reverted {name}, model paid {expected}"
                    assert isinstance(expected, SAME_ERROR[name]), (name, expected)
                return
            assert not over_cap, "a claim past the cap went through"
            assert isinstance(expected, int), f"model refused ({expected}) but the contract paid"
            assert int(lbc.balanceOf(account)) - before == expected
            self.model = trial

        @invariant()
        def supply_and_every_cube_match_the_model(self) -> None:
            assert int(chain.blocks.head.timestamp) == self.now
            supply = int(lbc.totalSupply())
            assert supply == self.model.total_supply_units * UNIT
            assert supply <= CAP
            views = lens.inspect(cubes.address)
            assert len(views) == self.model.total_minted
            assert supply == sum(int(v.totalMined) for v in views)
            for cube_id, v in enumerate(views, start=1):
                total_mined, last_claim, _, active = self.model.node_data(cube_id)
                assert (int(v.totalMined), int(v.lastClaimTime), v.isActive) == (
                    total_mined,
                    last_claim,
                    active,
                )
                assert int(v.pending) == self.model.pending(cube_id, self.now)
                assert v.owner.lower() == self.model.owner_of(cube_id)

    CubeMachine.TestCase.settings = machine_settings(ci_steps=12)
    CubeMachine.TestCase().runTest()
