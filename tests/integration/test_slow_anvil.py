"""A loaded machine starts anvil slowly: ape-foundry's fixed 20 s wait failed a CI run. Every `ape run`
script (and the test session) waits for anvil to answer instead (link_ops.cli.network.patient_anvil_start)."""

from __future__ import annotations

import os
import shutil

from _ape import output_of, run_ape
from ape import networks

import link_ops.cli.network as network_module
from link_ops.cli.network import ANVIL_START_TIMEOUT
from link_ops.fork import free_port, port_is_free
from link_ops.protocol import DEPLOYMENTS_DIR_ENV

SLOW_START_SECONDS = 25  # past ape-foundry's own 20 s


def test_a_script_on_a_local_chain__anvil_answers_after_25_s__waits_and_succeeds(tmp_path):
    real = shutil.which("anvil")
    assert real is not None, "anvil is not on PATH: run make setup"
    slow = tmp_path / "bin" / "anvil"
    slow.parent.mkdir()
    slow.write_text(
        "#!/bin/sh\n"
        f'case "$1" in --version|-V) ;; *) sleep {SLOW_START_SECONDS} ;; esac\n'
        f'exec "{real}" "$@"\n'
    )
    slow.chmod(0o755)
    result = run_ape(
        *("run", "deploy", "--network", "polygon:local:foundry"),
        env={
            "PATH": f"{slow.parent}{os.pathsep}{os.environ['PATH']}",
            DEPLOYMENTS_DIR_ENV: str(tmp_path / "deployments"),
        },
    )
    assert result.returncode == 0, output_of(result)
    assert "deployment complete" in output_of(result)


def test_the_wait_is_long_enough_for_a_loaded_machine():
    assert ANVIL_START_TIMEOUT >= 4 * SLOW_START_SECONDS


def test_a_local_anvil__gets_a_port_the_kernel_handed_out_as_free(monkeypatch):
    """ape-foundry's own choice is a random port nobody checked; a program already there broke runs."""
    chosen = free_port()
    monkeypatch.setattr(network_module, "free_port", lambda: chosen)
    provider = networks.get_provider_from_choice("polygon:local:foundry")
    assert provider.settings.host == "auto"
    provider.connect()
    try:
        assert provider.uri == f"http://127.0.0.1:{chosen}" and provider.is_connected
        assert not port_is_free(chosen)
    finally:
        provider.disconnect()
