"""The `ape run` scripts, as users run them: bad input ends in one clear line and a failing exit code."""

from __future__ import annotations

import subprocess

import pytest
from _ape import ROOT, error_lines, output_of, run_ape


def run_script(*args: str, unset: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return run_ape("run", *args, unset=unset)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cap", "0"], "Error: lbc_cap must be a positive amount of wei, got 0"),
        (["--rates", "1,0,0,0"], "Error: invalid tier_rates: tier 0: 1 wei/s must be a multiple of"),
    ],
)
def test_deploy_script__bad_input__one_error_line_and_exit_code_1(args, message):
    record = ROOT / "deployments" / "31337.json"
    before = record.read_text() if record.exists() else None
    result = run_script("deploy", *args)
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and errors[0].startswith(message), errors
    assert "Traceback" not in result.stdout + result.stderr
    assert (record.read_text() if record.exists() else None) == before


@pytest.mark.parametrize(
    ("network", "message"),
    [
        (
            "polygon:mainnet:node",
            "Error: POLYGON_RPC_URL is not set: polygon:mainnet:node sends to the RPC URL in POLYGON_RPC_URL",
        ),
        (
            "polygon:amoy:node",
            "Error: AMOY_RPC_URL is not set: polygon:amoy:node sends to the RPC URL in AMOY_RPC_URL.",
        ),
        (
            "polygon:mainnet-fork:foundry",
            "Error: POLYGON_RPC_URL is not set: polygon:mainnet-fork:foundry forks Polygon PoS (chain 137)",
        ),
    ],
)
def test_deploy_script__polygon_network_without_its_rpc_variable__one_error_line(network, message):
    result = run_script(
        "deploy", "--network", network, "--account", "TEST::0", unset=("POLYGON_RPC_URL", "AMOY_RPC_URL")
    )
    assert result.returncode == 1, output_of(result)
    errors = error_lines(result)
    assert len(errors) == 1 and errors[0].startswith(message), output_of(result)
