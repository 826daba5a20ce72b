"""Running ape commands the way users do: a subprocess in the project root, plain output; or, for a command
that ends before it sends anything, the same command line inside the test process."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import traceback
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APE = Path(sys.executable).with_name("ape")


def run_ape(
    *args: str,
    env: Mapping[str, str] | None = None,
    unset: Iterable[str] = (),
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """``ape <args>`` from the project root with this environment, minus `unset`, plus `env`."""
    dropped = set(unset)
    environ = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [str(APE), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**environ, "NO_COLOR": "1", "COLUMNS": "160", **(env or {})},
    )


def run_ape_test(
    *args: str, env: Mapping[str, str] | None = None, unset: Iterable[str] = ()
) -> subprocess.CompletedProcess[str]:
    """``ape test <args>`` as a process, for a probe file outside tests/ (which the suite's conftest does not
    reach): the suite's ape speed-ups load as a plugin (tests/_ape_speed.py; without them ape alone spends
    about 15 s ending each session)."""
    speed = {"PYTHONPATH": str(ROOT / "tests"), **(env or {})}
    return run_ape("test", *args, "-p", "_ape_speed", env=speed, unset=unset)


def run_ape_here(
    *args: str,
    env: Mapping[str, str] | None = None,
    unset: Iterable[str] = (),
) -> subprocess.CompletedProcess[str]:
    """``ape <args>`` run by ape's own command group inside this process (click's runner), in the project
    root, with `env` set and `unset` removed for the call.

    The same parsing, option checks, connection and messages as :func:`run_ape`, without a new interpreter
    importing ape and every script (about 5 s of CPU each). For the mistakes a command refuses before it
    reaches a second chain: ape expands the environment in its config (the node URLs of
    ``ape-config.yaml``) once per process, so a command that connects to another chain by its variable,
    and the runs that send, stay subprocesses. An exception that escaped the command comes back as its
    traceback in ``stderr``, as a process would print it."""
    from ape._cli import cli
    from click.testing import CliRunner

    environ: dict[str, str | None] = {"NO_COLOR": "1", "COLUMNS": "160", **(env or {})}
    environ.update(dict.fromkeys(unset))
    environ.pop("APE_DATA_FOLDER", None)  # read once, when ape is imported: this process keeps its own
    argv = sys.argv
    sys.argv = ["ape", *args]  # what a command reads of its own command line (the hints that repeat it)
    try:
        with contextlib.chdir(ROOT):
            result = CliRunner().invoke(cli, list(args), env=environ, catch_exceptions=True)
    finally:
        sys.argv = argv
    escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
    stderr = "".join(traceback.format_exception(result.exception)) if escaped else ""
    return subprocess.CompletedProcess(["ape", *args], result.exit_code, result.output, stderr)


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The lines a click command printed as errors (``Error: …``)."""
    return [line for line in output_of(result).splitlines() if line.startswith("Error")]
