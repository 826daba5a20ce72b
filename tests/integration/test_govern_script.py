"""`ape run govern` as operators run it, against a local chain playing Polygon (chain 137): Safe's canonical
1.4.1 contracts are where Polygon has them, governance and a cube contract are recorded in a deployments
folder, and the commands find them by name.

The commands run inside this process (tests/_ape.py, `run_ape_here`), the listing once more as a process.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import ape
import pytest
from _ape import error_lines, output_of, run_ape, run_ape_here
from _governance import MIN_DELAY, NEW_RATE, THRESHOLD, deploy_cubes_governed_by

from link_ops.contracts import safe as safe_contracts
from link_ops.governance import Governance, deploy_governance, operations
from link_ops.protocol.records import DEPLOYMENTS_DIR_ENV, ContractRecord, load_record, save_record
from link_ops.testing.localchains import LocalChains, advance_clock

SIGNERS = ("--signer", "TEST::6", "--signer", "TEST::7")


@dataclass
class Stage:
    chains: LocalChains
    governance: Governance
    cubes: object
    records: Path

    @property
    def network(self) -> str:
        return f"polygon:mainnet:{self.chains['polygon'].url}"

    @property
    def env(self) -> dict[str, str]:
        return {DEPLOYMENTS_DIR_ENV: str(self.records)}

    def height(self) -> int:
        with self.chains.on("polygon") as provider:
            return int(provider.get_block("latest").number)

    def tier_rate(self, tier: int) -> int:
        with self.chains.on("polygon"):
            return int(self.cubes.tierRate(tier))  # type: ignore[attr-defined]

    def advance(self, seconds: int) -> None:
        with self.chains.on("polygon") as provider:
            advance_clock(provider, seconds)

    def operation_ids(self) -> list[str]:
        with self.chains.on("polygon"):
            return [op.id_hex for op in operations(self.governance) if op.pending]


@ape.fixture(scope="module", chain_isolation=False)
def stage(accounts, tmp_path_factory) -> Iterator[Stage]:
    admin, owners = accounts[0], [accounts[6], accounts[7], accounts[8]]
    records = tmp_path_factory.mktemp("govern") / "deployments"
    with LocalChains(["polygon"]) as chains:
        with chains.on("polygon") as provider:
            for name in (safe_contracts.SINGLETON, safe_contracts.PROXY_FACTORY):
                runtime = safe_contracts.contract_type(name).get_runtime_bytecode()
                provider.make_request(
                    "anvil_setCode", [safe_contracts.CANONICAL[name], "0x" + bytes(runtime).hex()]
                )
            governance = deploy_governance(
                admin, owners=owners, threshold=THRESHOLD, min_delay=MIN_DELAY, deployments_dir=records
            )
            _lbc, cubes = deploy_cubes_governed_by(governance.timelock.address, admin)
            rec = load_record(records, 137)
            assert rec is not None
            save_record(
                records, rec.with_contract("OptimizedCubeManagement", ContractRecord(address=cubes.address))
            )
        yield Stage(chains, governance, cubes, records)


def govern(stage: Stage, *args: str) -> object:
    return run_ape_here("run", "govern", *args, "--network", stage.network, env=stage.env)


def test_govern__propose_pending_execute__the_rate_changes_after_the_delay(stage):
    proposed = govern(
        stage,
        "propose",
        "OptimizedCubeManagement",
        "setTierRate",
        "1",
        "23e12",
        *SIGNERS,
        "--account",
        "TEST::0",
        "--confirm",
    )
    assert proposed.returncode == 0, output_of(proposed)
    assert "OptimizedCubeManagement.setTierRate(1, 23000000000000)" in output_of(proposed)
    [operation_id] = stage.operation_ids()
    assert f"operation id: {operation_id}" in output_of(proposed)

    listed = govern(stage, "pending")
    assert listed.returncode == 0, output_of(listed)
    table = output_of(listed)
    assert operation_id[:12] in table and "setTierRate(1, 23000000000000)" in table and "waiting" in table
    assert "OptimizedCubeManagement" in table and "(in 1 h)" in table

    early = govern(stage, "execute", operation_id[:10], "--account", "TEST::3", "--confirm")
    assert early.returncode == 1, output_of(early)
    assert error_lines(early)[0].startswith(
        f"Error: operation {operation_id} is not ready: it may execute from"
    )

    stage.advance(MIN_DELAY)
    # On the live network a dry run is a simulated call (no --account needed: anyone may execute) ...
    dry = govern(stage, "execute", operation_id[:10], "--dry-run")
    assert dry.returncode == 0, output_of(dry)
    assert "execute (dry run: nothing was sent)" in output_of(dry) and "would use about" in output_of(dry)
    # ... on a fork of it, the transaction runs and its events are listed (a process: ape reads
    # POLYGON_RPC_URL, the fork's upstream, once per process).
    height = stage.height()
    forked = run_ape(
        *("run", "govern", "execute", operation_id[:10], "--dry-run"),
        *("--network", "polygon:mainnet-fork:foundry"),
        env={**stage.env, "POLYGON_RPC_URL": stage.chains["polygon"].url},
    )
    assert forked.returncode == 0, output_of(forked)
    assert "events it would emit:" in forked.stdout
    rate_set = (
        "OptimizedCubeManagement.TierRateSet(tier=1, previousWeiPerSecond=0, weiPerSecond=23000000000000)"
    )
    assert rate_set in forked.stdout
    assert stage.tier_rate(1) == 0 and stage.height() == height

    executed = govern(stage, "execute", operation_id[:10], "--account", "TEST::3", "--confirm")
    assert executed.returncode == 0, output_of(executed)
    assert stage.tier_rate(1) == NEW_RATE
    assert stage.operation_ids() == []


def test_govern__cancel__removes_the_operation_from_pending(stage):
    proposed = govern(
        stage, "propose", "OptimizedCubeManagement", "setTierRate(uint8,uint256)", "2", "1e12", *SIGNERS
    )
    assert proposed.returncode == 1  # a live network: nothing sent without --confirm
    assert "Try it with --dry-run first, then run again with --confirm" in error_lines(proposed)[0]
    proposed = govern(
        stage,
        "propose",
        "OptimizedCubeManagement",
        "setTierRate(uint8,uint256)",
        "2",
        "1e12",
        *SIGNERS,
        *("--account", "TEST::0", "--confirm"),
    )
    assert proposed.returncode == 0, output_of(proposed)
    [operation_id] = stage.operation_ids()

    cancelled = govern(
        stage,
        "cancel",
        operation_id,
        "--signer",
        "TEST::8",
        "--signer",
        "TEST::6",
        "--account",
        "TEST::1",
        "--confirm",
    )
    assert cancelled.returncode == 0, output_of(cancelled)
    assert stage.operation_ids() == []
    listed = govern(stage, "pending", "--all", "--full-ids")
    assert "cancelled" in output_of(listed) and operation_id in output_of(listed)


def test_govern__pending_as_a_process__prints_the_table(stage):
    """As users run it: a new interpreter, ape's own start-up, the table on stdout."""
    done = run_ape("run", "govern", "pending", "--all", "--network", stage.network, env=stage.env)
    assert done.returncode == 0, output_of(done)
    assert f"operations of the timelock {stage.governance.timelock.address} on Polygon PoS" in done.stdout


# ---------------------------------------------------------------------------------------- mistakes


def test_govern_propose__one_signer_of_two__one_error_line_and_nothing_sent(stage):
    height = stage.height()
    result = govern(
        stage,
        "propose",
        "OptimizedCubeManagement",
        "setTierRate",
        "1",
        "5e12",
        "--signer",
        "TEST::6",
        *("--account", "TEST::0", "--confirm"),
    )
    assert result.returncode == 1, output_of(result)
    assert error_lines(result) == [
        f"Error: the Safe {stage.governance.safe.address} needs the signatures of 2 of its 3 owners, got 1: "
        "add --signer for 1 more owner"
    ]
    assert stage.height() == height


def test_govern_propose__without_signers__a_usage_error(stage):
    result = govern(stage, "propose", "OptimizedCubeManagement", "setTierRate", "1", "5e12")
    assert result.returncode == 2
    assert error_lines(result) == [
        "Error: give the Safe owners who sign: --signer <alias> for each (at least the threshold)"
    ]


def test_govern_propose__an_unknown_contract_name__names_what_is_recorded(stage):
    result = govern(stage, "propose", "Cubes", "pause()", *SIGNERS, "--dry-run")
    assert result.returncode == 1
    assert error_lines(result) == [
        "Error: 'Cubes' is neither a 0x address nor a contract recorded for Polygon PoS (recorded: "
        "GovernanceSafe, LinkTimelock, OptimizedCubeManagement)"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--salt", "0x1234"], "Error: Invalid value for '--salt': a 0x salt is 32 bytes"),
        (
            ["--delay", "-5"],
            "Error: Invalid value for '--delay': the delay is in seconds and cannot be negative",
        ),
        (["--timelock", "0x12"], "Error: Invalid value for '--timelock': '0x12' is not an address"),
        (["--data", "zz"], "Error: Invalid value for '--data': 'zz' is not calldata"),
    ],
)
def test_govern_propose__bad_options__refused_before_connecting(stage, args, message):
    result = run_ape_here("run", "govern", "propose", "OptimizedCubeManagement", *args, *SIGNERS)
    assert result.returncode == 2, output_of(result)
    assert error_lines(result)[0].startswith(message)


def test_govern_pending__a_timelock_address_without_code__one_error_line(stage, accounts):
    result = govern(stage, "pending", "--timelock", accounts[4].address)
    assert result.returncode == 1
    assert error_lines(result) == [
        f"Error: there is no contract at {accounts[4].address} on Polygon PoS: check the timelock's address "
        "and --network"
    ]


def test_govern_execute__an_unknown_operation__one_error_line(stage):
    result = govern(stage, "execute", "0xdeadbeef", "--account", "TEST::3", "--confirm")
    assert result.returncode == 1
    assert error_lines(result)[0].startswith(
        f"Error: the timelock {stage.governance.timelock.address} never scheduled an operation 0xdeadbeef"
    )


def test_govern_cancel__a_done_operation__one_error_line(stage):
    with stage.chains.on("polygon"):
        done = [op.id_hex for op in operations(stage.governance) if op.status == "done"]
    assert done, "the story test executes one operation first"
    result = govern(stage, "cancel", done[0], *SIGNERS, "--account", "TEST::3", "--confirm")
    assert result.returncode == 1
    assert error_lines(result) == [
        f"Error: operation {done[0]} is done: only a waiting or ready operation can be cancelled"
    ]
