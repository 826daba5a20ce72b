"""The `ape run` scripts, as users run them: bad input ends in one clear line and a failing exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APE = Path(sys.executable).with_name("ape")


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(APE), "run", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_COLOR": "1"},
    )


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
    environ = {k: v for k, v in os.environ.items() if k not in ("POLYGON_RPC_URL", "AMOY_RPC_URL")}
    result = subprocess.run(
        [str(APE), "run", "deploy", "--network", network, "--account", "TEST::0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**environ, "NO_COLOR": "1"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    errors = [line for line in output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and errors[0].startswith(message), output
