"""partners/example.yaml works by hand, as README says: start the example health service, then onboard."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import requests
from _ape import ROOT, error_lines, output_of, run_ape

from link_ops.fork import free_port, port_is_free
from link_ops.testing.health import EXAMPLE_PORT

EXAMPLE = ROOT / "partners" / "example.yaml"


def start_health(port: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "link_ops.testing.health", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120  # a readiness wait, generous for a loaded machine
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[0]
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200:
                return process
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"the health service did not answer on port {port} within two minutes")


def test_example_config__health_service_then_onboard_partner__partner_is_active(tmp_path):
    # The example points at port 8765; should another program hold it here, the same config on a free port.
    port = EXAMPLE_PORT if port_is_free(EXAMPLE_PORT) else free_port()
    config: Path = EXAMPLE
    if port != EXAMPLE_PORT:
        config = tmp_path / "example.yaml"
        config.write_text(EXAMPLE.read_text().replace(f":{EXAMPLE_PORT}/", f":{port}/"))
    health = start_health(port)
    try:
        result = run_ape("run", "onboard_partner", "--config", str(config))
    finally:
        health.terminate()
        health.wait(timeout=60)
    output = output_of(result)
    assert result.returncode == 0, output
    assert "cafe-seoul" in output and "active" in output


def test_health_service__port_taken__one_line_and_exit_code_1():
    port = free_port()
    first = start_health(port)
    try:
        second = subprocess.run(
            [sys.executable, "-m", "link_ops.testing.health", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        first.terminate()
        first.wait(timeout=60)
    assert second.returncode == 1
    assert second.stderr.strip().splitlines() == [
        f"cannot serve on 127.0.0.1:{port} (Address already in use): pass another --port"
    ]
    assert not error_lines(second)
