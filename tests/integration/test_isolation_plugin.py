"""`link_ops.testing.pytest_isolation`: a test whose chain changes outlive it is an error, where ape alone
lets it pass and leaves the changes to the tests after it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from _ape import output_of, run_ape_test

LEAKING = """
def test_consumes_apes_snapshot(chain):
    chain.restore()  # goes back to ape's snapshot of this test, and consumes it
    chain.mine(2)    # so ape has nothing to restore: these blocks outlive the test


def test_after_it(chain):
    chain.mine(1)
"""


def run_leaking(tmp_path: Path, *plugins: str) -> subprocess.CompletedProcess[str]:
    test_file = tmp_path / "test_leaking.py"
    test_file.write_text(LEAKING)
    options = [arg for plugin in plugins for arg in ("-p", plugin)]
    return run_ape_test(str(test_file), "-q", "-p", "no:cacheprovider", *options)


def test_without_the_plugin__ape_lets_a_test_that_broke_its_isolation_pass(tmp_path):
    result = run_leaking(tmp_path)
    assert result.returncode == 0, output_of(result)
    assert "2 passed" in output_of(result)


def test_with_the_plugin__the_test_that_broke_its_isolation_errors_at_teardown(tmp_path):
    result = run_leaking(tmp_path, "link_ops.testing.pytest_isolation")
    output = output_of(result)
    assert result.returncode == 1, output
    assert "2 passed, 1 error" in output, output
    assert "ERROR at teardown of test_consumes_apes_snapshot" in output
    assert "test_consumes_apes_snapshot left the chain at block" in output
    assert "ape did not restore its snapshot" in output
