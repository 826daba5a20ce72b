"""`ape run watch` end to end on the scenario world (two anvils, the governed protocol and the bridge, both
recorded): --once catches up, raises an attack's alert into the JSON-lines file and the store, and a second
run raises nothing again; the long-running watch serves its status page and API, raises an attack made
while it runs, and stops cleanly on SIGTERM. Waits are for readiness (bounded), never for speed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import ape
import requests
from _ape import APE, ROOT, error_lines, output_of, run_ape, run_ape_here
from _intrusion_world import WatchWorld, build_world, calldata, role

from link_ops.fork import free_port
from link_ops.protocol.records import DEPLOYMENTS_DIR_ENV


@ape.fixture(scope="module", chain_isolation=False)
def world(accounts, tmp_path_factory) -> Iterator[WatchWorld]:
    built = build_world(accounts, tmp_path_factory.mktemp("watch-script"))
    built.close_watch()  # the script keeps its own store
    try:
        yield built
    finally:
        built.chains.stop()


def env_of(world: WatchWorld) -> dict[str, str]:
    return {
        DEPLOYMENTS_DIR_ENV: str(world.records),
        "POLYGON_RPC_URL": world.chains["polygon"].url,
        "ETHEREUM_RPC_URL": world.chains["ethereum"].url,
    }


def grant_minter_to_attacker(world: WatchWorld) -> str:
    """A compromised admin (the timelock, impersonated) grants MINTER_ROLE on LBC to the attacker."""
    grant = calldata(
        "grantRole(bytes32,address)", ["bytes32", "address"], [role("MINTER_ROLE"), world.attacker.address]
    )
    return world.send_as("polygon", world.timelock("polygon"), world.protocol.lbc, grant).tx_hash


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_watch_once__reads_history_without_judging_it_then_raises_a_new_attack_once(world, tmp_path):
    world.rewind()
    db, alerts = f"sqlite:///{tmp_path / 'ops.db'}", tmp_path / "alerts.jsonl"
    args = ("run", "watch", "--chains", "polygon,ethereum", "--once", "--no-live", "--port", "0")
    args += ("--db", db, "--jsonl", str(alerts))

    history = run_ape(*args, env=env_of(world), timeout=600)

    assert history.returncode == 0, output_of(history)
    assert lines(alerts) == []  # the deployment's history is indexed, not news
    assert "watchtower" in history.stdout and "polygon" in history.stdout  # the summary table
    assert "status page http://127.0.0.1:" in history.stdout

    tx = grant_minter_to_attacker(world)
    attacked = run_ape(*args, env=env_of(world), timeout=600)

    assert attacked.returncode == 0, output_of(attacked)
    written = lines(alerts)
    [grant] = [a for a in written if a["rule"] == "role-granted" and a["tx_hash"] == tx]
    assert grant["severity"] == "critical" and grant["subject"] == world.attacker.address
    assert "MINTER_ROLE" in grant["summary"]
    assert "alerts raised in this run" in attacked.stdout

    again = run_ape(*args, env=env_of(world), timeout=600)

    assert again.returncode == 0, output_of(again)
    assert lines(alerts) == written  # the same keys: nothing raised or written twice


def test_watch__bad_config__one_error_line_naming_every_bad_value(tmp_path):
    config = tmp_path / "watch.yaml"
    config.write_text(
        "monitor: {error_rate: 2}\nsinks: {webhooks: [{url: 'ftp://x'}]}\nhttp: {port: 70000}\n"
    )

    done = run_ape_here("run", "watch", "--chains", "polygon", "--config", str(config), "--once")

    assert done.returncode != 0
    [line] = error_lines(done)
    assert str(config) in line
    assert "monitor.error_rate" in line and "sinks.webhooks.0.url" in line and "http.port" in line


def test_watch__missing_config_file__one_error_line(tmp_path):
    done = run_ape_here("run", "watch", "--chains", "polygon", "--config", str(tmp_path / "nope.yaml"))
    missing = tmp_path / "nope.yaml"
    assert error_lines(done) == [f"Error: no watch configuration at {missing}: give a YAML file"]


def wait_for(what: str, check, *, patience: float = 240.0):
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        try:
            found = check()
        except (requests.RequestException, ValueError, KeyError, TypeError):  # not up, or not there yet
            found = None
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{what} within {patience:g} s")


def test_watch_running__serves_the_page_raises_a_live_attack_and_stops_on_sigterm(world, tmp_path):
    world.rewind()
    port = free_port()
    environ = {**os.environ, **env_of(world)}
    process = subprocess.Popen(
        [
            str(APE),
            "run",
            "watch",
            "--chains",
            "polygon,ethereum",
            "--no-live",
            "--port",
            str(port),
            "--db",
            f"sqlite:///{tmp_path / 'ops.db'}",
        ],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for("/api/health answering", lambda: requests.get(f"{base}/api/health", timeout=5).ok)
        # Its first step has read both chains to their heads (a new index's history is not judged).
        wait_for(
            "the watch's first step",
            lambda: requests.get(f"{base}/api/status", timeout=5).json()["watch"]["steps"] >= 1,
        )
        tx = grant_minter_to_attacker(world)

        def raised():
            alerts = requests.get(f"{base}/api/alerts", timeout=5).json()["alerts"]
            return [a for a in alerts if a["rule"] == "role-granted" and a["tx_hash"] == tx]

        [alert] = wait_for("the attack's alert in /api/alerts", raised)
        assert alert["severity"] == "critical"
        page = requests.get(f"{base}/", timeout=5).text
        assert "role-granted" in page or "MINTER_ROLE" in page
        metrics = requests.get(f"{base}/metrics", timeout=5).text
        assert "link_ops_watch_alerts_total" in metrics and "link_ops_rpc_requests_total" in metrics
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=120)
    assert process.returncode == 0, out + err
    assert "stopped: what was indexed and raised is kept" in out


def test_watch__a_bad_webhook_url_on_the_command_line__one_error_line_naming_it():
    done = run_ape_here("run", "watch", "--chains", "polygon", "--webhook", "ftp://hooks.example/x", "--once")

    assert done.returncode != 0
    [line] = error_lines(done)
    assert "sinks.webhooks.0.url" in line and "must be http(s)://host[:port]/path" in line
