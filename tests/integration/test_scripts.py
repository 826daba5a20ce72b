"""The `ape run` scripts, as users run them: bad input ends in one clear line and a failing exit code."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import ape
import pytest
from _ape import ROOT, error_lines, output_of, run_ape, run_ape_here

from link_ops.protocol import DEPLOYMENTS_DIR_ENV
from link_ops.testing.localchains import LocalChains


def run_script(*args: str, unset: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """A script's mistake, in this process (see :func:`_ape.run_ape_here`)."""
    return run_ape_here("run", *args, unset=unset)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--cap", "0"],
            "Error: Invalid value for '--cap': the cap is in whole LBC and must be positive, got 0",
        ),
        (
            ["--rates", "1,0,0,0"],
            "Error: Invalid value for '--rates': invalid tier_rates: tier 0: 1 wei/s must be a multiple of",
        ),
        (["--rates", "11e12"], "Error: Invalid value for '--rates': integers in wei/s, like 11000000000000"),
        (["--admin", "0x12"], "Error: Invalid value for '--admin': '0x12' is not an address: give the 0x"),
        (
            ["--governance", "0x12", "--guardian", "0x" + "11" * 20],
            "Error: Invalid value for '--governance': '0x12' is not an address: give the 0x address of the "
            "governance Safe",
        ),
        (
            ["--governance", "0x" + "11" * 20],
            "Error: --governance and --guardian go together: the Safe governs, the guardian pauses",
        ),
        (
            ["--admin", "0x" + "22" * 20, "--governance", "0x" + "11" * 20, "--guardian", "0x" + "33" * 20],
            "Error: give --admin or --governance, not both",
        ),
        (
            ["--delay", "5"],
            "Error: Invalid value for '--delay': the timelock's delay is in seconds and at least 60",
        ),
    ],
)
def test_deploy_script__bad_input__one_error_line_before_connecting(args, message, chain):
    record = ROOT / "deployments" / "31337.json"
    before = record.read_text() if record.exists() else None
    height = chain.blocks.height
    result = run_script("deploy", *args)
    assert result.returncode == 2, output_of(result)  # click's usage error: the options, before any network
    errors = error_lines(result)
    assert len(errors) == 1 and errors[0].startswith(message), errors
    assert "Traceback" not in output_of(result)
    assert (record.read_text() if record.exists() else None) == before
    assert chain.blocks.height == height


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


def test_deploy_script__a_network_outside_the_registry__one_error_line():
    # As a process: the exit code and output a shell sees (the other mistakes run in this process).
    result = run_ape("run", "deploy", "--network", "arbitrum:mainnet:node", "--account", "TEST::0")
    assert result.returncode == 1, output_of(result)
    assert error_lines(result) == [
        "Error: Unsupported chain: arbitrum:mainnet: use one of: polygon, ethereum, bsc, amoy, sepolia, "
        "bsc-testnet, local, ethereum-local"
    ]


@ape.fixture(scope="module", chain_isolation=False)
def ethereum_stand_in() -> Iterator[LocalChains]:
    with LocalChains(["ethereum"]) as chains:
        yield chains


def test_deploy_script__on_a_remote_chain__refused_before_anything_is_sent(ethereum_stand_in, tmp_path):
    """The core belongs on Polygon: `deploy` on Ethereum used to deploy LBCToken there and leave 1.json."""
    stand_in = ethereum_stand_in["ethereum"]
    with ethereum_stand_in.on("ethereum") as provider:
        before = int(provider.get_block("latest").number)
    result = run_ape_here(
        *("run", "deploy", "--network", f"ethereum:mainnet:{stand_in.url}", "--account", "TEST::0"),
        "--confirm",
        env={DEPLOYMENTS_DIR_ENV: str(tmp_path)},
    )
    assert result.returncode == 1, output_of(result)
    assert error_lines(result) == [
        "Error: the protocol's core (LBC, CUBE, the partner factory) lives on the home chains (polygon, "
        "amoy); Ethereum (1) is a remote chain, bridged to polygon. Deploy the core on polygon, and the "
        "bridge's side on ethereum with `ape run deploy_bridge`."
    ]
    assert not (tmp_path / "1.json").exists()
    with ethereum_stand_in.on("ethereum") as provider:
        assert int(provider.get_block("latest").number) == before
