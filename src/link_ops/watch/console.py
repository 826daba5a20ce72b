"""The watchtower's live console view: :func:`render` turns :meth:`Watchtower.snapshot` (plus the open
incidents, when given) into rich tables: the chains and their nodes, the performance window, the latest
alerts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

#: Colour of each severity, everywhere the watchtower prints one.
SEVERITY_STYLE = {"critical": "bold red", "high": "red", "warning": "yellow", "info": "cyan"}


def _ms(value: Any) -> str:
    return "-" if value is None else f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"


def chains_table(snapshot: Mapping[str, Any]) -> Table:
    table = Table(title="chains", expand=True)
    for column in ("chain", "indexed", "head", "node", "state", "weight", "latency", "in flight", "note"):
        table.add_column(column, justify="left" if column in ("chain", "node", "state", "note") else "right")
    for chain in snapshot["chains"]:
        indexed = "-" if chain["indexed"] is None else f"{chain['indexed']:,}"
        head = "-" if chain["head"] is None else f"{chain['head']:,}"
        note = chain["last_error"] if chain["failures_in_a_row"] else ""
        for i, node in enumerate(chain["upstreams"] or [{}]):
            state = str(node.get("state", "-"))
            table.add_row(
                chain["chain"] if i == 0 else "",
                indexed if i == 0 else "",
                head if i == 0 else "",
                Text(str(node.get("name", "-"))),
                Text(state, style="green" if state == "healthy" else "red"),
                f"{node.get('weight', 1.0):g}",
                _ms(node.get("latency_ewma_ms")),
                str(node.get("in_flight", 0)),
                Text(str((note if i == 0 else "") or node.get("weight_reason") or "")),
            )
    return table


def performance_table(snapshot: Mapping[str, Any]) -> Table | None:
    window = snapshot.get("performance")
    if not window:
        return None
    users = window.get("active_users")
    title = "performance, last window" + ("" if users is None else f" ({users:,} active addresses)")
    table = Table(title=title, expand=True)
    for column in ("target", "requests", "errors", "req/s", "p50", "p95"):
        table.add_column(column, justify="left" if column == "target" else "right")
    for target in window["targets"]:
        table.add_row(
            Text(target["target"]),
            f"{target['requests']:,}",
            f"{target['error_rate'] * 100:.2f} %",
            f"{target['throughput_per_s']:,.1f}",
            _ms(target["p50_ms"]),
            _ms(target["quantile_ms"]),
        )
    return table


def alerts_table(alerts: Sequence[Mapping[str, Any]], title: str = "latest alerts") -> Table:
    table = Table(title=title, expand=True)
    for column in ("when", "severity", "rule", "what"):
        table.add_column(column, overflow="fold")
    for alert in alerts:
        severity = str(alert["severity"])
        table.add_row(
            str(alert["at"])[11:19],
            Text(severity, style=SEVERITY_STYLE.get(severity, "")),
            Text(str(alert["rule"])),
            Text(str(alert["summary"])),
        )
    return table


def render(snapshot: Mapping[str, Any], *, alerts: int = 10) -> RenderableType:
    """The whole view (markup in chain-supplied text is never interpreted: it is shown as is)."""
    parts: list[RenderableType] = [chains_table(snapshot)]
    performance = performance_table(snapshot)
    if performance is not None:
        parts.append(performance)
    parts.append(alerts_table(snapshot["recent_alerts"][:alerts]))
    return Group(*parts)
