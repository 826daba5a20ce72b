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
import pytest
from _ape import APE, ROOT, error_lines, output_of, run_ape, run_ape_here

from link_ops.bridge.client import CrossChainBridge
from link_ops.bridge.deploy import BridgeSide, deploy_bridges
from link_ops.model.attest import attest
from link_ops.model.chains import chain_by_key
from link_ops.protocol.deploy import deploy_protocol
from link_ops.protocol.records import DEPLOYMENTS_DIR_ENV
from link_ops.testing.localchains import LocalChains

LBC = 10**18
POLYGON, ETHEREUM = chain_by_key("polygon"), chain_by_key("ethereum")
# The test accounts: TEST::1 holds LBC (1,000 at first) and cube #1 at home; TEST::2 holds nothing.
HOLDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
STRANGER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


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
            protocol.cubes.mintBatch(holder, 0, 1, sender=admin)
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


def polygon(deployed: Deployed) -> str:
    """The `--network` of the Polygon stand-in."""
    return f"polygon:mainnet:{deployed.chains['polygon'].url}"


def heights(deployed: Deployed) -> dict[str, int]:
    """Each stand-in's block height: anvil mines a block per transaction, so equal heights = nothing sent."""
    out = {}
    for key in ("polygon", "ethereum"):
        with deployed.chains.on(key) as provider:
            out[key] = int(provider.get_block("latest").number)
    return out


def bridge(deployed: Deployed, *args: str, here: bool = False) -> subprocess.CompletedProcess[str]:
    """`ape run bridge` on the Polygon stand-in: a process, or (`here`) this one (see `_ape.run_ape_here`)."""
    run = run_ape_here if here else run_ape
    return run("run", "bridge", "--network", polygon(deployed), *args, env=deployed.env)


def test_bridge_script_sends_and_relayer_script_delivers(deployed, accounts):
    holder = accounts[1]
    before = remote_balance(deployed, holder.address)
    sent = bridge(
        deployed,
        *(
            "--to",
            "ethereum",
            "--asset",
            "LBC",
            "--amount",
            "25",
            "--account",
            "TEST::1",
            "--no-confirmations",
        ),
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


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ("--to", "solana", "--asset", "LBC", "--amount", "1", "--account", "TEST::1"),
            "Error: Unsupported chain: solana",
            id="unknown destination",
        ),
        pytest.param(
            ("--to", "ethereum", "--asset", "LBC", "--amount", "5000", "--account", "TEST::1"),
            f"Error: {HOLDER} holds {{balance}} LBC on Polygon PoS, less than the 5000 LBC to send: send at "
            "most what it holds",
            id="more LBC than the balance",
        ),
        pytest.param(
            ("--to", "ethereum", "--asset", "CUBE", "--amount", "999", "--account", "TEST::1"),
            "Error: cube #999 does not exist on Polygon PoS: check the id",
            id="unknown cube id",
        ),
        pytest.param(
            ("--to", "ethereum", "--asset", "CUBE", "--amount", "1", "--account", "TEST::2"),
            f"Error: cube #1 on Polygon PoS is held by {HOLDER}, not by {STRANGER}: send only the holder's "
            "own cubes",
            id="someone else's cube",
        ),
        pytest.param(
            ("--to", "bsc", "--asset", "LBC", "--amount", "1", "--account", "TEST::1"),
            "Error: set BSC_RPC_URL to the RPC URL of BNB Smart Chain",
            id="a destination with no RPC",
        ),
    ],
)
def test_bridge_script__a_mistake__one_error_line_and_nothing_sent(deployed, args, message):
    before = heights(deployed)
    with deployed.chains.on("polygon"):
        balance = int(deployed.home.lbc.balanceOf(HOLDER)) // LBC  # whole: earlier tests send whole LBC
    result = bridge(deployed, *args, "--no-confirmations", here=True)
    assert result.returncode != 0, output_of(result)
    assert error_lines(result) == [message.format(balance=balance)], output_of(result)
    assert "Traceback" not in output_of(result)
    assert heights(deployed) == before


def test_bridge_script__an_unknown_account_alias__one_error_line_from_the_process_and_nothing_sent(deployed):
    # As a process: the exit code and output a shell sees (the other mistakes run in this process).
    before = heights(deployed)
    args = ("--to", "ethereum", "--asset", "LBC", "--amount", "1", "--account", "holder")
    result = bridge(deployed, *args, "--no-confirmations")
    assert result.returncode == 2, output_of(result)
    assert error_lines(result) == [
        "Error: Invalid value for '--account': Account with alias 'holder' not found. See `ape accounts "
        "list`; add the account with `ape accounts import <alias>`."
    ]
    assert "Traceback" not in output_of(result)
    assert heights(deployed) == before


def test_bridge_script__a_network_outside_the_registry__one_error_line(deployed):
    result = run_ape_here(
        *("run", "bridge", "--network", "arbitrum:mainnet:node", "--to", "ethereum", "--asset", "LBC"),
        *("--amount", "1", "--account", "TEST::1"),
        env=deployed.env,
    )
    assert result.returncode == 1, output_of(result)
    assert error_lines(result) == [
        "Error: Unsupported chain: arbitrum:mainnet: use one of: polygon, ethereum, bsc, amoy, sepolia, "
        "bsc-testnet, local, ethereum-local"
    ]


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


def ethereum(deployed: Deployed) -> str:
    """The `--network` of the Ethereum stand-in."""
    return f"ethereum:mainnet:{deployed.chains['ethereum'].url}"


@pytest.fixture
def held_transfer(deployed, accounts) -> Iterator[str]:
    """5 LBC sent from Polygon to Ethereum and held there (the route receives at most 1 LBC a day for the
    test): its transfer id."""
    with deployed.chains.on("ethereum"):
        deployed.remote.lbc_bridge.setLimits(POLYGON.chain_id, 10**24, LBC, sender=accounts[0])
    sent = deployed.bridge.bridge_assets("polygon", "ethereum", "LBC", 5 * LBC, accounts[1])
    keys = [bytes.fromhex(str(s.private_key).removeprefix("0x")) for s in accounts[7:9]]
    with deployed.chains.on("ethereum"):
        messenger = deployed.remote.messenger
        receipt = messenger.deliver(
            sent.message.as_tuple(), attest(sent.message, str(messenger.address), keys), sender=accounts[0]
        )
        (log,) = deployed.remote.lbc_bridge.TransferHeld.from_receipt(receipt)
    yield "0x" + bytes(log.transferId).hex()
    with deployed.chains.on("ethereum"):
        deployed.remote.lbc_bridge.setLimits(POLYGON.chain_id, 10**24, 10**24, sender=accounts[0])


def held(deployed: Deployed, *args: str, here: bool = True) -> subprocess.CompletedProcess[str]:
    run = run_ape_here if here else run_ape
    return run("run", "held", "--network", ethereum(deployed), *args, env=deployed.env)


def test_held_script_lists_a_held_transfer_refuses_a_retry_that_would_fail_and_refunds_it(
    deployed, held_transfer
):
    listed = held(deployed)
    assert listed.returncode == 0, output_of(listed)
    assert held_transfer in output_of(listed) and "LimitExceeded" in output_of(listed)

    retried = held(deployed, "--retry", held_transfer, "--account", "TEST::1")
    assert retried.returncode == 1, output_of(retried)
    (line,) = error_lines(retried)
    assert line.startswith(f"Error: transfer {held_transfer[:10]}… still cannot execute on ethereum: ")
    assert "LimitExceeded(" in line and line.endswith("retry later, or refund it to its sender")

    by_stranger = held(deployed, "--refund", held_transfer, "--account", "TEST::2")
    assert by_stranger.returncode == 1, output_of(by_stranger)
    assert error_lines(by_stranger) == [
        f"Error: {STRANGER} may not refund transfer {held_transfer[:10]}…: only its sender {HOLDER} or "
        f"recipient {HOLDER} may (--account)"
    ]

    before = heights(deployed)
    refunded = held(
        deployed, "--refund", held_transfer, "--account", "TEST::1", "--no-confirmations", here=False
    )
    assert refunded.returncode == 0, output_of(refunded)
    assert "on its way back" in output_of(refunded)
    assert heights(deployed)["ethereum"] == before["ethereum"] + 1
    assert "no transfer is held on Ethereum" in output_of(held(deployed))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--retry", "0x1234"), "Error: Invalid value for '--retry': '0x1234' is not a transfer id"),
        (
            ("--retry", "0x" + "ab" * 32, "--refund", "0x" + "ab" * 32),
            "Error: give --retry or --refund, not both",
        ),
        (("--retry", "0x" + "ab" * 32), f"Error: no transfer 0x{'ab' * 32} is held on ethereum"),
    ],
)
def test_held_script__a_mistake__one_error_line_and_nothing_sent(deployed, args, message):
    before = heights(deployed)
    result = held(deployed, *args, "--account", "TEST::1")
    assert result.returncode != 0, output_of(result)
    (line,) = error_lines(result)
    assert line.startswith(message), output_of(result)
    assert heights(deployed) == before
