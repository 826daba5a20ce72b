"""`ape run bridge` and `ape run relayer` as operators run them, against two local chains playing Polygon and
Ethereum: sending, relaying, and a relayer killed with SIGKILL mid-run that delivers everything once after a
restart."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import ape
from _ape import APE, ROOT, error_lines, output_of, run_ape

from link_ops.bridge.client import CrossChainBridge
from link_ops.bridge.deploy import BridgeSide, deploy_bridges
from link_ops.model.chains import chain_by_key
from link_ops.protocol.deploy import deploy_protocol
from link_ops.protocol.records import DEPLOYMENTS_DIR_ENV
from link_ops.testing.localchains import LocalChains

LBC = 10**18
POLYGON, ETHEREUM = chain_by_key("polygon"), chain_by_key("ethereum")


@dataclass
class Deployed:
    chains: LocalChains
    home: BridgeSide
    remote: BridgeSide
    bridge: CrossChainBridge
    env: dict[str, str]


@ape.fixture(scope="module", chain_isolation=False)
def deployed(accounts, tmp_path_factory) -> Iterator[Deployed]:
    admin, holder = accounts[0], accounts[1]
    signers = accounts[7:10]
    folder = tmp_path_factory.mktemp("bridge-scripts")
    records = folder / "deployments"
    with LocalChains(["polygon", "ethereum"]) as chains:
        with chains.on("polygon"):
            protocol = deploy_protocol(admin, deployments_dir=records)
            protocol.lbc.grantRole(protocol.lbc.MINTER_ROLE(), admin.address, sender=admin)
            protocol.lbc.mint(holder, 1_000 * LBC, sender=admin)
        home, remote = deploy_bridges(
            chains,
            admin,
            home=POLYGON,
            remotes=[ETHEREUM],
            lbc=protocol.lbc,
            cubes=protocol.cubes,
            signers=[s.address for s in signers],
            threshold=2,
            deployments_dir=records,
        )
        env = {
            "POLYGON_RPC_URL": chains["polygon"].url,
            "ETHEREUM_RPC_URL": chains["ethereum"].url,
            DEPLOYMENTS_DIR_ENV: str(records),
            "LINK_OPS_SIGNER_KEYS": ",".join(str(s.private_key) for s in signers[:2]),
            "LINK_OPS_DB_URL": f"sqlite:///{folder / 'ops.db'}",
            "APE_DATA_FOLDER": str(folder / "ape-data"),  # keep the stand-ins out of ~/.ape
        }
        yield Deployed(chains, home, remote, CrossChainBridge([home, remote], chains), env)


def remote_balance(deployed: Deployed, who: str) -> int:
    with deployed.chains.on("ethereum"):
        return int(deployed.remote.lbc.balanceOf(who))


def test_bridge_script_sends_and_relayer_script_delivers(deployed, accounts):
    holder = accounts[1]
    before = remote_balance(deployed, holder.address)
    sent = run_ape(
        *("run", "bridge", "--from", "polygon", "--to", "ethereum", "--asset", "LBC", "--amount", "25"),
        *("--account", "TEST::1", "--no-confirmations"),
        env=deployed.env,
    )
    assert sent.returncode == 0, output_of(sent)
    assert "waiting for the relayer" in output_of(sent) and "25 LBC" in output_of(sent)
    assert remote_balance(deployed, holder.address) == before

    relayed = run_ape(
        "run", "relayer", "--rounds", "1", "--account", "TEST::0", "--no-confirmations", env=deployed.env
    )
    assert relayed.returncode == 0, output_of(relayed)
    assert "relayer: round 1" in output_of(relayed)
    assert remote_balance(deployed, holder.address) == before + 25 * LBC


def test_bridge_script_unknown_chain_is_one_error_line(deployed):
    result = run_ape(
        *("run", "bridge", "--from", "solana", "--to", "ethereum", "--asset", "LBC", "--amount", "1"),
        *("--account", "TEST::1"),
        env=deployed.env,
    )
    assert result.returncode == 1
    assert error_lines(result) == ["Error: Unsupported chain: solana"]


def test_a_relayer_killed_with_sigkill_and_restarted_delivers_each_message_once(deployed, accounts):
    carol = accounts[3]
    with deployed.chains.on("polygon"):
        lbc = deployed.home.lbc
        lbc.transfer(carol, 10 * LBC, sender=accounts[1])
    sent = [deployed.bridge.bridge_assets("polygon", "ethereum", "LBC", LBC, carol) for _ in range(3)]
    before = remote_balance(deployed, carol.address)

    def executed() -> list[bool]:
        with deployed.chains.on("ethereum"):
            return [bool(deployed.remote.messenger.executed(s.message_id)) for s in sent]

    process = subprocess.Popen(
        [str(APE), "run", "relayer", "--interval", "0.2", "--account", "TEST::0", "--no-confirmations"],
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1", **deployed.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not any(executed()) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert any(executed()), "the relayer delivered nothing within two minutes"

    restarted = run_ape(
        "run", "relayer", "--rounds", "2", "--account", "TEST::0", "--no-confirmations", env=deployed.env
    )
    assert restarted.returncode == 0, output_of(restarted)
    assert all(executed())
    assert remote_balance(deployed, carol.address) == before + 3 * LBC
