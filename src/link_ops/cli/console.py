"""The rich console the scripts print with: terminal width in a terminal, 120 columns in logs (CI)."""

from __future__ import annotations

from rich.console import Console

LOG_WIDTH = 120


def make_console() -> Console:
    """A console whose tables do not wrap in CI logs, where there is no terminal to measure."""
    console = Console()
    if not console.is_terminal:
        console = Console(width=LOG_WIDTH)
    return console
