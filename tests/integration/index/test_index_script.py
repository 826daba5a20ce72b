"""`ape run index` as operators run it, on Polygon and Ethereum stand-ins: --once, /metrics scraped while it
follows the chains, a clean stop, and the mistakes it refuses in one line."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator

import ape
import pytest
import requests
from _ape import APE, ROOT, error_lines, output_of, run_ape, run_ape_here
from _index_world import LBC, World, build_world, mint_cubes
from prometheus_client.parser import text_string_to_metric_families

from link_ops.bridge.client import CrossChainBridge
from link_ops.fork import free_port
from link_ops.store import OpsStore

DEADLINE = 180  # seconds: generous, the machine may be loaded


@ape.fixture(scope="module", chain_isolation=False)
def world(accounts, tmp_path_factory) -> Iterator[World]:
    chains, built = build_world(accounts, tmp_path_factory.mktemp("index-script"), bridge=True)
    with chains:
        mint_cubes(built, accounts[1], 4)
        with chains.on("polygon"):
            built.protocol.lbc.mint(accounts[1], 50 * LBC, sender=accounts[0])
        CrossChainBridge(built.sides, chains).bridge_assets(
            "polygon", "ethereum", "LBC", 5 * LBC, accounts[1]
        )
        yield built


@pytest.fixture(scope="module")
def reference(world, tmp_path_factory) -> dict[str, dict]:
    """Both chains indexed in this process: what every run of the script must end with."""
    with OpsStore(f"sqlite:///{tmp_path_factory.mktemp('reference') / 'ref.db'}") as store:
        for key in ("polygon", "ethereum"):
            world.indexer(key, store).round()
        return {key: store.index.dump(world.chains[key].info.chain_id) for key in ("polygon", "ethereum")}


def dumps(url: str, world: World) -> dict[str, dict]:
    with OpsStore(url) as store:
        return {key: store.index.dump(world.chains[key].info.chain_id) for key in ("polygon", "ethereum")}


def test_index_once__both_chains_indexed_as_the_library_does_with_a_summary(world, reference, index_db_url):
    done = run_ape(
        "run", "index", "--chains", "polygon,ethereum", "--once", "--db", index_db_url, env=world.env()
    )
    assert done.returncode == 0, output_of(done)
    assert "event index" in done.stdout and "Polygon PoS" in done.stdout and "Ethereum" in done.stdout
    assert dumps(index_db_url, world) == reference
    again = run_ape("run", "index", "--chains", "polygon", "--once", "--db", index_db_url, env=world.env())
    assert again.returncode == 0, output_of(again)
    assert dumps(index_db_url, world) == reference


def test_index_once__through_a_pool_with_a_dead_node__indexes_everything_once(world, reference, index_db_url):
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: the pool leaves it out and reads elsewhere
    env = {
        **world.env(),
        "POLYGON_RPC_URL": f"{dead},{world.url('polygon')}",
        "ETHEREUM_RPC_URL": f"{world.url('ethereum')},{dead}",
    }
    done = run_ape("run", "index", "--chains", "polygon,ethereum", "--once", "--db", index_db_url, env=env)
    assert done.returncode == 0, output_of(done)
    assert dumps(index_db_url, world) == reference


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics__scraped_while_following__events_heads_and_lag_match_the_chains(world, index_db_url):
    port = free_port()
    process = subprocess.Popen(
        [
            *(str(APE), "run", "index", "--chains", "polygon,ethereum", "--db", index_db_url),
            *("--interval", "0.2", "--metrics-port", str(port)),
        ],
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "160", **world.env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    heads = {key: world.head(key) for key in ("polygon", "ethereum")}
    try:
        deadline = time.monotonic() + DEADLINE
        samples: dict = {}
        while time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()[0]
            try:
                samples = scrape(port)
            except requests.ConnectionError:
                time.sleep(0.1)
                continue
            lag = [samples.get(("link_ops_index_lag_blocks", (("chain", k),))) for k in heads]
            indexed = [samples.get(("link_ops_index_indexed_block", (("chain", k),))) for k in heads]
            if lag == [0, 0] and indexed == [heads["polygon"], heads["ethereum"]]:
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"the index did not catch up within {DEADLINE} s: {samples}")
        with OpsStore(index_db_url) as store:
            counts = store.index.event_counts()
        for (chain_id, event), count in counts.items():
            key = "polygon" if chain_id == 137 else "ethereum"
            assert samples[("link_ops_index_events_total", (("chain", key), ("event", event)))] == count
        assert samples[("link_ops_index_chain_head_block", (("chain", "polygon"),))] == heads["polygon"]
        assert samples[("link_ops_index_batches_total", (("chain", "ethereum"),))] >= 1
        assert samples[("link_ops_index_reorgs_total", (("chain", "polygon"),))] == 0
        assert samples[("link_ops_index_phase_seconds_total", (("chain", "polygon"), ("phase", "fetch")))] > 0
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=60)[0]
    assert process.returncode == 0, output
    assert "stopped: every batch written is kept" in output
    assert f"metrics on http://127.0.0.1:{port}/metrics" in output


@pytest.mark.parametrize(
    ("args", "unset", "message"),
    [
        (
            ["--chains", "polygon,ethereum"],
            ["ETHEREUM_RPC_URL"],
            "Error: ETHEREUM_RPC_URL is not set: export",
        ),
        (["--chains", "solana"], [], "Error: Invalid value for '--chains': Unsupported chain: solana"),
        (
            ["--chains", "polygon", "--confirmations", "polygon=deep"],
            [],
            "Error: --confirmations takes KEY=BLOCKS",
        ),
        (["--chains", "polygon", "--confirmations", "solana=3"], [], "confirmations: unknown chain solana"),
        (["--chains", "local"], [], "Error: local is a local chain without an RPC variable"),
    ],
)
def test_index_script__a_mistake__one_error_line(world, index_db_url, args, unset, message):
    done = run_ape_here("run", "index", "--once", "--db", index_db_url, *args, env=world.env(), unset=unset)
    lines = error_lines(done)
    assert done.returncode != 0 and len(lines) == 1, output_of(done)
    assert lines[0].startswith(message) or message in lines[0], lines


def test_index_script__no_records_for_the_chain__one_error_line(world, index_db_url, tmp_path):
    env = {**world.env(), "LINK_OPS_DEPLOYMENTS_DIR": str(tmp_path / "empty")}
    done = run_ape_here("run", "index", "--chains", "polygon", "--once", "--db", index_db_url, env=env)
    assert error_lines(done) == [
        f"Error: nothing recorded for Polygon PoS (137) in {tmp_path / 'empty'}: deploy there first "
        "(`ape run deploy`, `ape run deploy_bridge`), or point LINK_OPS_DEPLOYMENTS_DIR at the records"
    ], output_of(done)


def test_index_script__node_of_another_chain__one_error_line(world, index_db_url):
    env = {**world.env(), "POLYGON_RPC_URL": world.url("ethereum")}
    done = run_ape_here("run", "index", "--chains", "polygon", "--once", "--db", index_db_url, env=env)
    lines = error_lines(done)
    assert len(lines) == 1, output_of(done)
    assert "serves chain 1 (Ethereum), not 137" in lines[0] and "Check POLYGON_RPC_URL" in lines[0], lines


def test_index_script__metrics_port_taken__one_error_line(world, index_db_url):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_ape_here(
            "run",
            "index",
            "--chains",
            "polygon",
            "--once",
            "--db",
            index_db_url,
            "--metrics-port",
            str(port),
            env=world.env(),
        )
    lines = error_lines(done)
    assert len(lines) == 1 and f"cannot serve /metrics on 127.0.0.1:{port}" in lines[0], output_of(done)
