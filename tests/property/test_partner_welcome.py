"""A partner's welcome grant against a Python model, step by step (hypothesis RuleBasedStateMachine).

Setup, once per test: six cubes minted to three holders, then one partner onboarded with a welcome grant
of AMOUNT per cube, funded by the admin. Every example runs from that state, in its own
``link_ops.testing.isolated(chain)``.
Steps: claims by any holder of any ids (own, foreign, repeated, unknown, minted after the snapshot), cube
transfers, new cubes, time passing (also across the deadline) and withdrawals by anyone.

After every step: the grant never pays more than it was funded; the clone holds exactly funded - paid -
withdrawn; each holder holds what the model paid it; `welcomeClaimed` matches the model's set for every
id (each cube pays at most once). A claim the model refuses reverts with the model's error and changes
nothing: transactions are sent with an explicit gas limit, so a reverting one is mined like any other (see
`Rpc`). Profiles: ``ci`` (default, 100 examples) and ``deep`` (``LINK_OPS_HYPOTHESIS_PROFILE=deep``).
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass, field

from _settings import machine_settings
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from link_ops.testing import isolated

AMOUNT = 5 * 10**18
WINDOW = 3_000  # seconds; time_passes moves up to a quarter of it or to the deadline, so examples cross it
LATE_CUBES = 3  # at most this many cubes minted after onboarding
PARTNER_ID = b"cafe-seoul".ljust(32, b"\x00")


class Rpc:
    """The machine's hot path, straight over JSON-RPC: ape's per-call overhead (and the call trace that
    ape-foundry prints for every reverted transaction) would make 100 examples take minutes.

    Transactions carry an explicit gas limit, so one that reverts is mined (as failed) like any other and
    its revert data comes from the node's trace: the assertions see what the chain did, not a preflight.
    """

    def __init__(self, chain, errors_of) -> None:
        self.provider = chain.provider.web3.provider
        self.sent = 0
        # selector -> (name, input names, input types) of every custom error in `errors_of`'s ABI.
        self.errors = {
            keccak(text=e.selector)[:4]: (
                e.name,
                [i.name for i in e.inputs],
                [i.canonical_type for i in e.inputs],
            )
            for e in errors_of.contract_type.errors
        }

    def request(self, method: str, *params: object):
        response = self.provider.make_request(method, list(params))
        assert "error" not in response, response
        return response["result"]

    @staticmethod
    def calldata(signature: str, *args: object) -> str:
        types = signature[signature.index("(") + 1 : -1]
        encoded = abi_encode([t for t in types.split(",") if t], list(args))
        return "0x" + (keccak(text=signature)[:4] + encoded).hex()

    def send(self, sender: str, to: str, data: str, timestamp: int) -> dict:
        """Mines a transaction at `timestamp`; returns its receipt (JSON-RPC form)."""
        self.request("evm_setNextBlockTimestamp", hex(timestamp))
        # Examples replay from the same snapshot, so the same call can come back with the same nonce: a
        # gas limit that never repeats keeps every transaction hash new to the node.
        self.sent += 1
        tx = {
            "from": sender,
            "to": to,
            "data": data,
            "gas": hex(2_000_000 + self.sent),
            "maxFeePerGas": hex(10**12),
            "maxPriorityFeePerGas": "0x0",
        }
        tx_hash = self.request("eth_sendTransaction", tx)
        # Anvil mines right away, but the receipt may lag the returned hash by a moment.
        for _ in range(5_000):
            if (receipt := self.request("eth_getTransactionReceipt", tx_hash)) is not None:
                block = self.request("eth_getBlockByNumber", receipt["blockNumber"], False)
                assert int(block["timestamp"], 16) == timestamp
                return receipt
            time.sleep(0.002)
        raise AssertionError(f"transaction {tx_hash} was not mined")

    @staticmethod
    def succeeded(receipt: dict) -> bool:
        return int(receipt["status"], 16) == 1

    @staticmethod
    def events(receipt: dict, emitter: str, signature: str, data_types: list[str]) -> list[tuple]:
        """(first indexed address, *data) of each `signature` event that `emitter` logged."""
        topic = "0x" + keccak(text=signature).hex()
        return [
            (
                to_checksum_address(log["topics"][1][-40:]),
                *abi_decode(data_types, HexBytes(log["data"])),
            )
            for log in receipt["logs"]
            if to_checksum_address(log["address"]) == emitter and log["topics"][0] == topic
        ]

    def revert_error(self, receipt: dict) -> tuple[str, dict]:
        """(name, inputs) of the custom error a failed transaction reverted with."""
        trace = self.request("debug_traceTransaction", receipt["transactionHash"], {"tracer": "callTracer"})
        data = HexBytes(trace.get("output", "0x"))
        assert data[:4] in self.errors, f"unknown revert data {data.to_0x_hex()}"
        error, names, types = self.errors[data[:4]]
        values = [
            to_checksum_address(v) if t == "address" else v
            for t, v in zip(types, abi_decode(types, data[4:]), strict=True)
        ]
        return error, dict(zip(names, values, strict=True))

    def views(self, calls: list[tuple[str, str]]) -> list[int]:
        """The uint256/bool result of each (to, calldata) eth_call, in one batch request."""
        responses = self.provider.make_batch_request(
            [("eth_call", [{"to": to, "data": data}, "latest"]) for to, data in calls]
        )
        assert isinstance(responses, list), responses
        responses = sorted(responses, key=lambda r: r["id"])
        assert all("error" not in r for r in responses), responses
        return [int(r["result"], 16) for r in responses]


@dataclass
class Model:
    """What the grant should look like: owners, claimed cubes and every amount moved."""

    owners: dict[int, str]
    snapshot: int
    deadline: int
    funded: int
    claimed: set[int] = field(default_factory=set)
    paid: dict[str, int] = field(default_factory=dict)
    withdrawn: int = 0

    @property
    def total_paid(self) -> int:
        return sum(self.paid.values())

    def claim(self, caller: str, ids: list[int], at: int) -> tuple[str, dict] | int:
        """The error (name, inputs) the claim must revert with, or the number of cubes it pays."""
        if at > self.deadline:
            return "ClaimWindowClosed", {"deadline": self.deadline}
        new: set[int] = set()
        for cube_id in ids:
            if cube_id == 0 or cube_id > self.snapshot:
                return "NotEntitled", {"cubeId": cube_id, "snapshotCubeId": self.snapshot}
            if self.owners.get(cube_id) != caller:
                return "NotCubeOwner", {"cubeId": cube_id, "caller": caller}
            if cube_id not in self.claimed:
                new.add(cube_id)
        return len(new)


def test_partner_welcome__any_sequence_of_claims_transfers_and_mints__matches_the_model(
    admin, accounts, chain, project, cubes
):
    holders = [accounts[1], accounts[2], accounts[3]]
    partner = accounts[5]
    everyone = [*holders, partner]
    token = project.MockERC20.deploy("Welcome", "WEL", sender=admin)
    factory = project.PartnerFactory.deploy(admin, cubes, sender=admin)
    for i, holder in enumerate(holders):
        cubes.mintBatch(holder, i, 2, sender=admin)
    snapshot = int(cubes.totalMinted())
    funded = AMOUNT * snapshot
    token.mint(admin, funded, sender=admin)
    token.approve(factory, funded, sender=admin)
    services = [b"coffee".ljust(32, b"\x00")]
    terms = (partner.address, token.address, AMOUNT, WINDOW, [100, 200, 300, 400], services)
    receipt = factory.createPartner(PARTNER_ID, terms, sender=admin)
    clone = project.PartnerBenefits.at(factory.partnerOf(PARTNER_ID))
    deadline = int(receipt.timestamp) + WINDOW
    assert int(clone.claimDeadline()) == deadline
    assert int(token.balanceOf(clone)) == funded
    # Cubes minted before this test (if any) belong to others; the model learns every owner.
    ids = list(range(1, snapshot + 1))
    initial_owners = dict(zip(ids, cubes.ownersOf(ids), strict=True))
    start_balances = {a.address: int(token.balanceOf(a)) for a in everyone}
    max_id = snapshot + LATE_CUBES
    rpc = Rpc(chain, clone)

    class WelcomeMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self._stack = ExitStack()
            self._stack.enter_context(isolated(chain))
            self.model = Model(
                owners=dict(initial_owners), snapshot=snapshot, deadline=deadline, funded=funded
            )
            self.total_minted = snapshot
            # The machine owns the clock: every transaction gets an explicit timestamp, so an example
            # replays exactly however much wall-clock time has passed.
            self.now = int(chain.blocks.head.timestamp)

        def teardown(self) -> None:
            self._stack.close()

        def _send(self, sender: str, to: str, data: str) -> dict:
            self.now += 1
            return rpc.send(sender, to, data, self.now)

        def _owned_by(self, who: str) -> list[int]:
            return sorted(i for i, owner in self.model.owners.items() if owner == who)

        # ----------------------------------------------------------------------------------- claims

        @rule(caller=st.integers(0, 2), data=st.data())
        def claim_own_cubes(self, caller: int, data: st.DataObject) -> None:
            # The caller's own cubes (entitled or not), in any order, with repeats.
            owned = self._owned_by(holders[caller].address)
            picks = data.draw(st.lists(st.sampled_from(owned), max_size=6)) if owned else []
            self._claim(caller, picks)

        @rule(caller=st.integers(0, 2), picks=st.lists(st.integers(0, max_id + 1), max_size=5))
        def claim_any_ids(self, caller: int, picks: list[int]) -> None:
            # Ids 0 .. max_id + 1: foreign cubes, id 0, cubes after the snapshot, unknown ids, repeats.
            self._claim(caller, picks)

        def _claim(self, caller: int, picks: list[int]) -> None:
            account = holders[caller].address
            expected = self.model.claim(account, picks, self.now + 1)
            receipt = self._send(account, clone.address, Rpc.calldata("claimWelcome(uint256[])", picks))
            if not Rpc.succeeded(receipt):
                error = rpc.revert_error(receipt)
                assert not isinstance(expected, int), (
                    f"claim of {picks} reverted {error}, model pays {expected}"
                )
                assert error == expected
                return  # The invariants check that it changed nothing.
            assert isinstance(expected, int), f"claim of {picks} went through, model refuses: {expected}"
            paid = expected * AMOUNT
            events = Rpc.events(
                receipt, clone.address, "WelcomeClaimed(address,uint256,uint256)", ["uint256", "uint256"]
            )
            assert events == [(account, expected, paid)]
            self.model.claimed.update(picks)
            self.model.paid[account] = self.model.paid.get(account, 0) + paid

        # ----------------------------------------------------------------------------------- cubes

        @rule(data=st.data(), to=st.integers(0, 2))
        def transfer(self, data: st.DataObject, to: int) -> None:
            ours = {h.address for h in holders}
            cube_id = data.draw(st.sampled_from(sorted(i for i, o in self.model.owners.items() if o in ours)))
            owner = self.model.owners[cube_id]
            receiver = holders[to].address
            call = Rpc.calldata("transferFrom(address,address,uint256)", owner, receiver, cube_id)
            assert Rpc.succeeded(self._send(owner, cubes.address, call))
            self.model.owners[cube_id] = receiver

        @precondition(lambda self: self.total_minted < max_id)
        @rule(holder=st.integers(0, 2), tier=st.integers(0, 3))
        def mint_late_cube(self, holder: int, tier: int) -> None:
            call = Rpc.calldata("mint(address,uint8)", holders[holder].address, tier)
            assert Rpc.succeeded(self._send(admin.address, cubes.address, call))
            self.total_minted += 1
            self.model.owners[self.total_minted] = holders[holder].address

        # ----------------------------------------------------------------------------------- time & partner

        @rule(
            step=st.one_of(
                st.integers(1, WINDOW // 4).map(lambda seconds: ("seconds", seconds)),
                st.sampled_from([-1, 0, 1]).map(lambda offset: ("deadline", offset)),
            )
        )
        def time_passes(self, step: tuple[str, int]) -> None:
            # Either some seconds pass, or the next transaction is made to land at deadline - 1, the
            # deadline itself or deadline + 1 (when that is still ahead).
            kind, value = step
            target = self.now + value if kind == "seconds" else deadline + value - 1
            if target > self.now:
                self.now = target
                chain.mine(timestamp=self.now)

        @precondition(lambda self: self.now < deadline)
        @rule(caller=st.integers(0, 2), offset=st.sampled_from([0, 1]))
        def claim_landing_on_the_deadline(self, caller: int, offset: int) -> None:
            # A claim of all the caller's cubes whose block lands exactly at the deadline (the window is
            # still open) or one second after it (closed): the edge a random walk of time rarely hits.
            target = deadline + offset - 1
            if target > self.now:
                self.now = target
                chain.mine(timestamp=self.now)
            self._claim(caller, self._owned_by(holders[caller].address))

        @rule(caller=st.sampled_from(["partner", 0, 1, 2]))
        def withdraw_unclaimed(self, caller: str | int) -> None:
            self._withdraw(partner.address if caller == "partner" else holders[caller].address)

        @precondition(lambda self: self.now + 1 >= deadline)
        @rule()
        def partner_withdraws_from_the_deadline_on(self) -> None:
            # The next block is at or after the deadline: at it the window is still open.
            self._withdraw(partner.address)

        def _withdraw(self, account: str) -> None:
            remaining = self.model.funded - self.model.total_paid - self.model.withdrawn
            expected: tuple[str, dict] | None = None
            if account != partner.address:
                expected = ("NotPartner", {"caller": account, "partner": partner.address})
            elif self.now + 1 <= deadline:
                expected = ("ClaimWindowOpen", {"deadline": deadline})
            receipt = self._send(account, clone.address, Rpc.calldata("withdrawUnclaimed()"))
            if not Rpc.succeeded(receipt):
                assert expected is not None, f"withdrawal reverted {rpc.revert_error(receipt)}"
                assert rpc.revert_error(receipt) == expected
                return
            assert expected is None, f"withdrawal went through, expected {expected}"
            events = Rpc.events(receipt, clone.address, "UnclaimedWithdrawn(address,uint256)", ["uint256"])
            assert events == [(partner.address, remaining)]
            self.model.withdrawn += remaining

        # ----------------------------------------------------------------------------------- invariants

        @invariant()
        def funds_and_claims_match_the_model(self) -> None:
            model = self.model
            # Each cube pays at most once, and the grant never pays more than it was funded.
            assert model.total_paid == AMOUNT * len(model.claimed)
            assert model.total_paid + model.withdrawn <= model.funded
            checked_ids = range(self.total_minted + 2)
            holders_of_tokens = [clone.address, *(a.address for a in everyone)]
            results = rpc.views(
                [(token.address, Rpc.calldata("balanceOf(address)", who)) for who in holders_of_tokens]
                + [(clone.address, Rpc.calldata("welcomeClaimed(uint256)", i)) for i in checked_ids]
            )
            balances = dict(zip(holders_of_tokens, results, strict=False))
            assert balances[clone.address] == model.funded - model.total_paid - model.withdrawn
            paid_on_chain = sum(balances[h.address] - start_balances[h.address] for h in holders)
            assert paid_on_chain <= model.funded
            for account in everyone:
                expected = start_balances[account.address] + model.paid.get(account.address, 0)
                if account.address == partner.address:
                    expected += model.withdrawn
                assert balances[account.address] == expected, account
            claimed_now = {
                i for i, flag in zip(checked_ids, results[len(holders_of_tokens) :], strict=True) if flag
            }
            assert claimed_now == model.claimed

    WelcomeMachine.TestCase.settings = machine_settings(ci_steps=10)
    WelcomeMachine.TestCase().runTest()
