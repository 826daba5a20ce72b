"""`ape run deploy` on the fork rehearses a mainnet deployment; on the live network it wants --confirm."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

from _ape import run_ape

from link_ops.model.chains import chain_name

NEW_ADMIN = "0x000000000000000000000000000000000000bEEF"


def ape_run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_ape("run", *args)


def recorded_bytes(live) -> bytes:
    assert live.record_file is not None
    return Path(live.record_file).read_bytes()


def test_a_fresh_rehearsal_prints_every_transaction_with_gas_and_pol_and_records_nothing(
    fork_session, recorded
):
    before = None if isinstance(recorded, str) else recorded_bytes(recorded)
    result = ape_run(
        "deploy",
        "--network",
        fork_session.target.fork_choice,
        "--no-record",
        "--admin",
        NEW_ADMIN,
        "--gas-price-gwei",
        "50",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"dry run on a fork of {chain_name(fork_session.target.chain_id)}: nothing was sent" in output
    for step in ("deployed LBCToken", "deployed OptimizedCubeManagement", "deployed PartnerFactory"):
        assert step in output
    assert "granted LBC MINTER_ROLE" in output and "renounced" in output
    total = re.search(r"total \((\d+) transactions\)\s*│\s*([\d,]+)\s*│\s*([\d.]+)", output)
    assert total is not None, output
    count, gas, pol = int(total[1]), int(total[2].replace(",", "")), float(total[3])
    assert count >= 8 and gas > 3_000_000
    assert abs(pol - gas * 50e9 / 1e18) < 1e-6
    assert "priced at 50.00 gwei (--gas-price-gwei)" in output
    # The hint repeats every option given (dropping --admin would make the deployer the admin).
    hint = output[output.index("deploy for real with:") :].splitlines()[1]
    assert shlex.split(hint) == [
        *("ape", "run", "deploy", "--network", f"{fork_session.target.live_choice}:node"),
        *("--no-record", "--admin", NEW_ADMIN, "--gas-price-gwei", "50", "--account", "<alias>", "--confirm"),
    ]
    assert before is None or recorded_bytes(recorded) == before


def test_a_rehearsal_of_the_recorded_deployment_reuses_it_and_sends_nothing(live, fork_session):
    before = recorded_bytes(live)
    result = ape_run("deploy", "--network", fork_session.target.fork_choice)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert str(live.cubes.address) in output
    assert "total (0 transactions)" in output
    assert "priced at" in output and "(the upstream's eth_gasPrice)" in output
    assert recorded_bytes(live) == before


def test_the_live_network_refuses_to_deploy_without_confirm(live, fork_session):
    before = recorded_bytes(live)
    target = fork_session.target
    result = ape_run("deploy", "--network", f"{target.live_choice}:{fork_session.url}")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    errors = [line for line in output.splitlines() if line.startswith("Error")]
    assert errors == [
        f"Error: {target.live_choice} is a live network ({chain_name(target.chain_id)}): this deploy spends "
        f"real funds. Rehearse it first with `ape run deploy --network {target.live_choice}-fork:foundry`, "
        "then run again with --confirm."
    ]
    assert recorded_bytes(live) == before
