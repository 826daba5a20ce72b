"""Running ape commands the way users do: a subprocess in the project root, plain output."""

from __future__ import annotations

import os
import subprocess
import sys
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


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The lines a click command printed as errors (``Error: …``)."""
    return [line for line in output_of(result).splitlines() if line.startswith("Error")]
