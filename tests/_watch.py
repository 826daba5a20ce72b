"""Alerts for the watch tests: `alert(...)` with sensible defaults, times relative to a fixed start."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from link_ops.watch.alerts import Alert, Severity

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
STRANGER = "0x00000000000000000000000000000000000000bA"


def alert(key: str, *, minutes: float = 0, severity: Severity = Severity.HIGH, **fields: Any) -> Alert:
    values: dict[str, Any] = {
        "rule": "role-granted",
        "source": "intrusion",
        "severity": severity,
        "summary": f"alert {key}",
        "key": key,
        "subject": STRANGER,
        "chain_id": 137,
        "block_number": 100,
        "at": T0 + timedelta(minutes=minutes),
    }
    values.update(fields)
    return Alert(**values)
