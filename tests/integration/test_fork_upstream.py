"""The fork's upstream: a checked $POLYGON_RPC_URL, or a local stand-in that always goes away afterwards."""

from __future__ import annotations

import concurrent.futures
import os
import subprocess
import textwrap
from pathlib import Path

import pytest
from _ape import ROOT, output_of, run_ape, run_ape_test
from hypothesis import given
from hypothesis import strategies as st

from link_ops.exceptions import UpstreamError
from link_ops.fork import (
    FORK_TARGETS,
    _rpc,
    fork_target,
    free_port,
    port_is_free,
    redact,
    rpc_chain_id,
    upstream_from_env,
)
from link_ops.protocol.records import DEPLOYMENTS_DIR_ENV
from link_ops.testing.standin import LocalUpstream, open_fork_session

POLYGON = FORK_TARGETS["mainnet"]

#: An address whose balance marks which anvil answered.
MARKED = "0x00000000000000000000000000000000000b0b00"


def process_is_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("polygon:mainnet-fork:foundry", "mainnet"),
        ("polygon:mainnet-fork", "mainnet"),
        ("polygon:amoy-fork:foundry", "amoy"),
        ("polygon:local:foundry", None),
        ("polygon:mainnet:node", None),
        ("ethereum:mainnet-fork:foundry", None),
        ("polygon:unknown-fork:foundry", None),
        ("", None),
        (None, None),
    ],
)
def test_fork_target_knows_which_network_a_choice_forks(choice, expected):
    target = fork_target(choice)
    assert (target.network if target else None) == expected


@given(key=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=12, max_size=40))
def test_redacted_urls_never_show_the_api_key(key):
    for url in (
        f"https://polygon-mainnet.g.alchemy.com/v2/{key}",
        f"https://rpc.example.org/?apikey={key}",
        f"https://user:{key}@rpc.example.org",
    ):
        shown = redact(url)
        assert key not in shown
        assert shown.startswith("https://")


@pytest.mark.parametrize("environ", [{}, {"POLYGON_RPC_URL": "   "}])
def test_a_missing_rpc_url_is_one_error_naming_the_variable_and_the_chain(environ):
    with pytest.raises(UpstreamError) as excinfo:
        upstream_from_env(POLYGON, environ)
    message = str(excinfo.value)
    assert message.startswith("POLYGON_RPC_URL is not set: polygon:mainnet-fork:foundry forks Polygon PoS")
    assert "(chain 137)" in message and "Export POLYGON_RPC_URL=" in message


def test_an_rpc_url_of_another_chain_is_refused_naming_the_variable_and_the_chain_it_got():
    with LocalUpstream(chain_id=1) as ethereum, pytest.raises(UpstreamError) as excinfo:
        upstream_from_env(POLYGON, {"POLYGON_RPC_URL": ethereum.url})
    assert str(excinfo.value) == (
        "POLYGON_RPC_URL points at chain 1 (Ethereum), but polygon:mainnet is chain 137 (Polygon PoS): "
        "set POLYGON_RPC_URL to an RPC URL of Polygon PoS."
    )


def test_an_rpc_url_that_does_not_answer_is_one_error_without_its_api_key():
    url = f"http://127.0.0.1:{free_port()}/v2/secret-api-key-123"
    with pytest.raises(UpstreamError) as excinfo:
        upstream_from_env(POLYGON, {"POLYGON_RPC_URL": url}, timeout=2)
    message = str(excinfo.value)
    assert message.startswith("POLYGON_RPC_URL (http://127.0.0.1:")
    assert "did not answer eth_chainId (connection failed)" in message
    assert "secret-api-key-123" not in message


def test_a_matching_rpc_url_is_returned_as_is():
    with LocalUpstream(chain_id=137) as polygon:
        assert upstream_from_env(POLYGON, {"POLYGON_RPC_URL": polygon.url}) == polygon.url


def test_the_stand_in_stops_and_frees_its_port_even_when_the_block_inside_raises():
    upstream = LocalUpstream(chain_id=137)
    with pytest.raises(RuntimeError, match="a test failed"), upstream:
        pid, port = upstream.pid, upstream.port
        assert pid is not None and port is not None
        assert rpc_chain_id(upstream.url) == 137
        raise RuntimeError("a test failed")
    assert not upstream.running
    assert process_is_gone(pid)
    assert port_is_free(port)


def test_a_stand_in_that_cannot_start_says_how_to_get_anvil():
    with pytest.raises(UpstreamError, match=r"`no-such-anvil` is not on PATH.*make setup"):
        LocalUpstream(anvil="no-such-anvil").start()


def test_a_stand_in_whose_anvil_exits_before_listening__one_error_with_its_output(tmp_path):
    fake = tmp_path / "broken-anvil"
    fake.write_text("#!/bin/sh\necho 'error: unexpected argument' >&2\nexit 2\n")
    fake.chmod(0o755)
    upstream = LocalUpstream(anvil=str(fake))

    with pytest.raises(
        UpstreamError, match=r"did not start: anvil exited with 2: error: unexpected argument"
    ):
        upstream.start()
    assert not upstream.running and upstream.port is None


def test_stand_ins_of_one_chain_started_at_once__each_answers_with_its_own_chain():
    """Each anvil binds the port it reports (no probe-then-bind race): two stand-ins of chain 137 started
    together never share a port, and a balance set on one is not seen on the other."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        upstreams = list(pool.map(lambda _: LocalUpstream(chain_id=137).start(), range(4)))
    try:
        assert len({u.port for u in upstreams}) == 4
        for n, upstream in enumerate(upstreams):
            _rpc(upstream.url, "anvil_setBalance", [MARKED, hex(n + 1)])
        for n, upstream in enumerate(upstreams):
            assert int(_rpc(upstream.url, "eth_getBalance", [MARKED, "latest"]), 16) == n + 1
    finally:
        for upstream in upstreams:
            upstream.stop()
    assert all(not u.running for u in upstreams)


def test_a_fork_session_without_rpc_url_starts_a_stand_in_and_restores_the_environment(monkeypatch):
    monkeypatch.delenv("POLYGON_RPC_URL", raising=False)
    monkeypatch.delenv(DEPLOYMENTS_DIR_ENV, raising=False)
    with open_fork_session(POLYGON, project_path=ROOT, deploy=False) as session:
        assert session.stand_in is not None and session.stand_in.running
        assert os.environ["POLYGON_RPC_URL"] == session.url
        assert rpc_chain_id(session.url) == 137
        pid = session.stand_in.pid
        assert session.deployments_dir is None
    assert "POLYGON_RPC_URL" not in os.environ
    assert pid is not None and process_is_gone(pid)


def test_a_fork_session_with_an_rpc_url_uses_it_and_starts_nothing(monkeypatch):
    with LocalUpstream(chain_id=137) as polygon:
        monkeypatch.setenv("POLYGON_RPC_URL", polygon.url)
        with open_fork_session(POLYGON, project_path=ROOT) as session:
            assert session.stand_in is None
            assert session.url == polygon.url
        assert os.environ["POLYGON_RPC_URL"] == polygon.url


# --------------------------------------------------------------- the pytest plugin, in a real ape test run

FAILING_TEST = textwrap.dedent(
    """
    import os
    from pathlib import Path

    def test_that_fails(fork_session, chain):
        assert chain.chain_id == 137 and chain.provider.network.is_fork
        up = fork_session.stand_in
        Path(os.environ["STAND_IN_FILE"]).write_text(f"{up.pid} {up.port}")
        assert False, "this test fails on purpose"
    """
)


def run_failing_fork_test(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    test_file = tmp_path / "test_fails_on_fork.py"
    test_file.write_text(FAILING_TEST)
    return run_ape_test(
        *(str(test_file), "--network", "polygon:mainnet-fork:foundry"),
        *("-p", "link_ops.testing.pytest_fork", "-q", "-p", "no:cacheprovider"),
        env={"STAND_IN_FILE": str(tmp_path / "stand_in"), **env},
        unset=("POLYGON_RPC_URL",),
    )


def test_the_plugin_stops_the_stand_in_and_frees_its_port_when_a_test_fails(tmp_path):
    result = run_failing_fork_test(tmp_path)
    output = output_of(result)
    assert result.returncode == 1, output  # 1: tests failed (not a crash)
    assert "this test fails on purpose" in output
    pid, port = (int(v) for v in (tmp_path / "stand_in").read_text().split())
    assert process_is_gone(pid)
    assert port_is_free(port)


def test_ape_test_on_a_fork_of_the_wrong_chain_stops_with_one_clear_error(tmp_path):
    with LocalUpstream(chain_id=56) as bsc:
        result = run_failing_fork_test(tmp_path, POLYGON_RPC_URL=bsc.url)
    output = output_of(result)
    assert result.returncode != 0
    message = "POLYGON_RPC_URL points at chain 56 (BNB Smart Chain), but polygon:mainnet is chain 137"
    assert output.count(message) == 1, output
    assert not (tmp_path / "stand_in").exists()  # no test ran


def test_without_a_recorded_deployment_the_fork_suite_skips_saying_why(tmp_path):
    with LocalUpstream(chain_id=137) as bare_polygon:
        result = run_ape(
            *("test", "tests/fork/test_live_deployment.py", "-rs", "-p", "no:cacheprovider"),
            *("--network", "polygon:mainnet-fork:foundry"),
            env={DEPLOYMENTS_DIR_ENV: str(tmp_path / "no-records"), "POLYGON_RPC_URL": bare_polygon.url},
        )
    output = output_of(result)
    assert result.returncode == 0, output
    assert " passed" not in output and "6 skipped" in output, output
    reason = "no live deployment to test on this fork: no complete deployment recorded for Polygon PoS"
    assert reason in output
    assert "commit the deployment's deployments/137.json" in output
