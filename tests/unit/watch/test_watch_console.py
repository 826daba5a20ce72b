"""The live console view renders the loop's snapshot: every chain and node, the performance window, the
latest alerts, and chain-supplied text shown literally (rich markup in it never interpreted)."""

from __future__ import annotations

import io

from rich.console import Console

from link_ops.watch.console import render

HOSTILE = "[bold red]fake[/] 0xBad"

SNAPSHOT = {
    "started": "2026-11-28T12:00:00+00:00",
    "steps": 3,
    "chains": [
        {
            "chain": "polygon",
            "chain_id": 137,
            "indexed": 1_234_567,
            "head": 1_234_568,
            "failures_in_a_row": 0,
            "restarts": 0,
            "last_error": None,
            "upstreams": [
                {
                    "name": "node-a:443",
                    "state": "healthy",
                    "weight": 1.0,
                    "latency_ewma_ms": 42.0,
                    "in_flight": 2,
                },
                {
                    "name": "node-b:443",
                    "state": "unhealthy",
                    "weight": 0.25,
                    "weight_reason": "p95 900 ms > 200 ms",
                    "latency_ewma_ms": 900.0,
                    "in_flight": 0,
                },
            ],
        }
    ],
    "performance": {
        "at": "2026-11-28T12:03:00+00:00",
        "targets": [
            {
                "target": "polygon/node-a:443",
                "requests": 1200,
                "errors": 3,
                "error_rate": 0.0025,
                "throughput_per_s": 20.0,
                "p50_ms": 40.0,
                "quantile_ms": 180.0,
                "mean_ms": 50.0,
                "in_flight": 2,
            }
        ],
        "active_users": 8_123,
        "in_flight": 2,
        "alerts": [],
        "actions": [],
    },
    "recent_alerts": [
        {
            "at": "2026-11-28T12:02:05+00:00",
            "severity": "critical",
            "rule": "role-granted",
            "summary": f"MINTER_ROLE on LBCToken granted to {HOSTILE}",
        }
    ],
    "alerts_by_severity": {"critical": 1, "high": 0, "warning": 0, "info": 0},
}


def shown(snapshot) -> str:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(render(snapshot))
    return console.file.getvalue()


def test_render__chains_nodes_performance_and_alerts() -> None:
    text = shown(SNAPSHOT)

    assert "1,234,567" in text and "node-a:443" in text and "node-b:443" in text
    assert "unhealthy" in text and "0.25" in text
    [slow_row] = [line for line in text.splitlines() if "node-b:443" in line]
    assert "p95 900 ms > 200 ms" in slow_row  # why its weight is lowered, on its own row
    assert "8,123 active addresses" in text and "1,200" in text and "180 ms" in text
    assert "role-granted" in text and "12:02:05" in text


def test_render__markup_from_the_chain__printed_as_is() -> None:
    assert HOSTILE in shown(SNAPSHOT)


def test_render__no_performance_window_yet__the_rest_still_shown() -> None:
    text = shown({**SNAPSHOT, "performance": None, "recent_alerts": []})
    assert "polygon" in text and "latest alerts" in text and "performance" not in text
