"""`ape run deploy_bridge` rolls the bridge out one chain at a time, on two local chains playing Polygon and
Ethereum: a rehearsal on a fork records nothing and prints the real command, each side is deployed and
recorded, a route works once both sides ran, running again sends nothing, and mistakes end in one line."""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import ape
import pytest
from _ape import error_lines, output_of, run_ape, run_ape_here

from link_ops.bridge import CrossChainBridge, Relayer, load_bridge_side
from link_ops.model.chains import chain_by_key
from link_ops.protocol import DEPLOYMENTS_DIR_ENV, deploy_protocol
from link_ops.store import OpsStore
from link_ops.testing.localchains import LocalChains

LBC = 10**18
POLYGON, ETHEREUM = chain_by_key("polygon"), chain_by_key("ethereum")


@dataclass
class World:
    chains: LocalChains
    records: Path
    env: dict[str, str]
    signers: list
    folder: Path

    def network(self, key: str) -> str:
        info = chain_by_key(key)
        return f"{info.ape_network}:{self.chains[key].url}"

    def height(self, key: str) -> int:
        with self.chains.on(key) as provider:
            return int(provider.get_block("latest").number)

    def run(self, *args: str, here: bool = False) -> subprocess.CompletedProcess[str]:
        """`ape run deploy_bridge`: a process, or (`here`, for mistakes) this one (`_ape.run_ape_here`)."""
        # The stand-ins mine only on demand: no waiting for confirmations on them.
        extra = () if "-fork:" in " ".join(args) else ("--no-confirmations",)
        return (run_ape_here if here else run_ape)("run", "deploy_bridge", *args, *extra, env=self.env)


@ape.fixture(scope="module", chain_isolation=False)
def world(accounts, tmp_path_factory) -> Iterator[World]:
    admin, holder = accounts[0], accounts[1]
    folder = tmp_path_factory.mktemp("deploy-bridge")
    records = folder / "deployments"
    with LocalChains(["polygon", "ethereum"]) as chains:
        with chains.on("polygon"):
            protocol = deploy_protocol(admin, deployments_dir=records)
            protocol.lbc.grantRole(protocol.lbc.MINTER_ROLE(), admin.address, sender=admin)
            protocol.lbc.mint(holder, 100 * LBC, sender=admin)
        env = {
            "POLYGON_RPC_URL": chains["polygon"].url,
            "ETHEREUM_RPC_URL": chains["ethereum"].url,
            DEPLOYMENTS_DIR_ENV: str(records),
            "APE_DATA_FOLDER": str(folder / "ape-data"),  # keep the stand-ins out of ~/.ape
        }
        yield World(chains, records, env, list(accounts[7:10]), folder)


def signer_args(world: World) -> tuple[str, ...]:
    return ("--signers", ",".join(s.address for s in world.signers), "--threshold", "2")


def recorded(world: World, info) -> dict:
    path = world.records / f"{info.chain_id}.json"
    return json.loads(path.read_text())["contracts"] if path.exists() else {}


def test_deploy_bridge__a_mistake__one_error_line_and_nothing_sent(world):
    # Order matters in this module: these run before anything is deployed.
    cases = [
        (
            ("--network", world.network("polygon"), "--account", "TEST::0", "--confirm"),
            "Error: a new bridge on polygon needs its signers and threshold (--signers, --threshold)",
        ),
        (
            (
                "--network",
                world.network("polygon"),
                "--account",
                "TEST::0",
                "--confirm",
                "--signers",
                world.signers[0].address,
                "--threshold",
                "2",
            ),
            "Error: threshold must be between 1 and the 1 signers, got 2",
        ),
        (
            ("--network", world.network("polygon"), "--account", "TEST::0", *signer_args(world)),
            "Error: polygon:mainnet is a live network (Polygon PoS): this deploy spends real funds. "
            "Rehearse it first with `ape run deploy_bridge --network polygon:mainnet-fork:foundry --account "
            f"TEST::0 --signers {','.join(s.address for s in world.signers)} --threshold 2 "
            "--no-confirmations`, then run again with --confirm.",
        ),
        (
            (
                "--network",
                world.network("ethereum"),
                "--account",
                "TEST::0",
                "--confirm",
                *signer_args(world),
                "--peers",
                "bsc",
            ),
            "Error: ethereum to bsc: a bridge route joins a home chain and one of its remotes (ethereum's "
            "route partners: polygon)",
        ),
    ]
    for args, message in cases:
        before = (world.height("polygon"), world.height("ethereum"))
        result = world.run(*args, here=True)
        assert result.returncode != 0, output_of(result)
        assert error_lines(result) == [message], output_of(result)
        assert (world.height("polygon"), world.height("ethereum")) == before
    assert "AttestedMessenger" not in recorded(world, POLYGON)


def test_deploy_bridge__on_a_fork__rehearses_records_nothing_and_prints_the_real_command(world):
    before = world.height("polygon")
    result = world.run(
        "--network", "polygon:mainnet-fork:foundry", *signer_args(world), "--gas-price-gwei", "40"
    )
    output = output_of(result)
    assert result.returncode == 0, output
    assert "dry run on a fork of Polygon PoS: nothing was recorded" in output
    hint = output[output.index("deploy for real with:") :].splitlines()[1]
    assert shlex.split(hint) == [
        *("ape", "run", "deploy_bridge", "--network", "polygon:mainnet:node", *signer_args(world)),
        *("--gas-price-gwei", "40", "--account", "<alias>", "--confirm"),
    ]
    assert "AttestedMessenger" not in recorded(world, POLYGON)
    assert world.height("polygon") == before  # the fork's transactions never reach the upstream


def test_deploy_bridge__each_side_then_home_again__route_works_and_a_rerun_sends_nothing(world, accounts):
    home = world.run(
        "--network", world.network("polygon"), "--account", "TEST::0", "--confirm", *signer_args(world)
    )
    assert home.returncode == 0, output_of(home)
    assert "deployed; wiring already in place" in output_of(home)  # no remote recorded yet
    assert {"AttestedMessenger", "LBCBridge", "CubeBridge"} <= set(recorded(world, POLYGON))

    remote = world.run(
        "--network", world.network("ethereum"), "--account", "TEST::0", "--confirm", *signer_args(world)
    )
    assert remote.returncode == 0, output_of(remote)
    assert "4 wiring transaction(s)" in output_of(remote)  # messenger, two peers, limits: toward polygon
    assert {"AttestedMessenger", "LBCBridge", "CubeBridge", "RemoteLBCToken"} <= set(
        recorded(world, ETHEREUM)
    )

    again = world.run("--network", world.network("polygon"), "--account", "TEST::0", "--confirm")
    assert again.returncode == 0, output_of(again)
    assert "reused the recorded side; 4 wiring transaction(s)" in output_of(again)  # toward ethereum

    before = (world.height("polygon"), world.height("ethereum"))
    for key in ("polygon", "ethereum"):
        rerun = world.run("--network", world.network(key), "--account", "TEST::0", "--confirm")
        assert rerun.returncode == 0 and "wiring already in place; 0 transaction(s) sent" in output_of(rerun)
    assert (world.height("polygon"), world.height("ethereum")) == before

    sides = []
    for info in (POLYGON, ETHEREUM):
        with world.chains.on(info.key):
            sides.append(load_bridge_side(info, world.records))
    holder = accounts[1]
    CrossChainBridge(sides, world.chains).bridge_assets("polygon", "ethereum", "LBC", 25 * LBC, holder)
    with OpsStore(f"sqlite:///{world.folder / 'ops.db'}") as store:
        keys = [s.private_key for s in world.signers[:2]]
        report = Relayer(sides, world.chains, keys, store, accounts[0]).poll()
    assert len(report.delivered) == 1
    with world.chains.on("ethereum"):
        assert sides[1].lbc.balanceOf(holder) == 25 * LBC


def test_deploy_bridge__a_recorded_side_with_other_signers__refused(world):
    others = ",".join(a for a in ("0x" + "11" * 20, "0x" + "22" * 20))
    before = world.height("polygon")
    result = world.run(
        *("--network", world.network("polygon"), "--account", "TEST::0", "--confirm", "--signers", others),
        here=True,
    )
    assert result.returncode == 1, output_of(result)
    [line] = error_lines(result)
    assert line.startswith("Error: the recorded messenger on polygon has signers ") and line.endswith(
        ": change them with setSigners (an admin call), not here"
    )
    assert world.height("polygon") == before


@pytest.mark.parametrize("network", ["arbitrum:mainnet:node", "ethereum:mainnet:node"])
def test_deploy_bridge__a_network_without_a_known_chain_or_rpc__one_error_line(world, network):
    result = run_ape_here(
        "run",
        "deploy_bridge",
        "--network",
        network,
        "--account",
        "TEST::0",
        env={**world.env, "ETHEREUM_RPC_URL": ""},
    )
    assert result.returncode == 1, output_of(result)
    [line] = error_lines(result)
    expected = (
        "Error: Unsupported chain: arbitrum:mainnet: use one of:"
        if network.startswith("arbitrum")
        else "Error: ETHEREUM_RPC_URL is not set: ethereum:mainnet:node sends to the RPC URL in "
        "ETHEREUM_RPC_URL"
    )
    assert line.startswith(expected), line
