"""The committed gas snapshot (``gas-snapshot.json``) and the check against it, like ``forge snapshot``.

A figure more than :data:`SNAPSHOT_TOLERANCE` dearer than its snapshot, or missing, fails the check; a
cheaper one asks for a deliberate refresh. Pure: no ape.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from pathlib import Path
from typing import Any

from link_ops.exceptions import ConfigurationError
from link_ops.gas.models import Figures, format_gas

#: How much dearer than the snapshot a figure may get before the check fails (1%).
SNAPSHOT_TOLERANCE = 0.01


SNAPSHOT_FILE = "gas-snapshot.json"


SNAPSHOT_ABOUT = (
    "Gas of every operation the benchmark measures (lower is better), written by `ape run gas_bench "
    "--snapshot`. `ape run gas_bench --check` fails when a figure gets more than 1% dearer."
)


# ------------------------------------------------------------------------------------------ snapshot
@dataclass(frozen=True)
class Snapshot:
    """Figures of one run by name, and the network they were measured on."""

    figures: Figures
    network: str
    chain_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "about": SNAPSHOT_ABOUT,
            "network": self.network,
            "chain_id": self.chain_id,
            "unit": "gas",
            "figures": dict(sorted(self.figures.items())),
        }

    @classmethod
    def from_json(cls, data: Any, source: str = "the snapshot") -> Snapshot:
        if not isinstance(data, dict) or not isinstance(data.get("figures"), dict):
            raise ConfigurationError(f"{source} holds no `figures` object: write it with --snapshot")
        bad = [
            name
            for name, value in data["figures"].items()
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
        ]
        if bad:
            raise ConfigurationError(f"{source}: figures that are not numbers: {', '.join(sorted(bad))}")
        chain_id = data.get("chain_id")
        return cls(
            dict(data["figures"]),
            str(data.get("network", "unknown")),
            chain_id if isinstance(chain_id, int) else None,
        )


def write_snapshot(snapshot: Snapshot, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(snapshot.to_json(), indent=2, sort_keys=True) + "\n")
    return path


def read_snapshot(path: Path) -> Snapshot:
    """The snapshot at `path`; a :class:`ConfigurationError` saying what to do when it is missing or bad."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigurationError(
            f"no gas snapshot at {path}: write one with `ape run gas_bench --snapshot` and commit it"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{path} is not JSON ({exc}): write it again with --snapshot") from None
    return Snapshot.from_json(data, str(path))


class Change(str, Enum):
    """How a figure compares with its snapshot."""

    WORSE = "worse"
    WITHIN_TOLERANCE = "worse, within tolerance"
    IMPROVED = "improved"
    UNCHANGED = "unchanged"
    MISSING = "missing"
    NEW = "new"


@dataclass(frozen=True)
class Finding:
    """One figure of the fresh run against the snapshot."""

    name: str
    old: float | None
    new: float | None
    change: Change

    @property
    def failed(self) -> bool:
        """Worse by more than the tolerance, or no longer measured."""
        return self.change in (Change.WORSE, Change.MISSING)

    @property
    def relative(self) -> float | None:
        """(new - old) / old, when both exist and old is not zero."""
        if self.old is None or self.new is None or self.old == 0:
            return None
        return (self.new - self.old) / self.old

    def describe(self) -> str:
        if self.change is Change.MISSING:
            return f"{self.name}: in the snapshot ({format_gas(self.old)}) but not measured by this run"
        if self.change is Change.NEW:
            return f"{self.name}: new figure ({format_gas(self.new)}), not in the snapshot"
        rel = self.relative
        pct = "" if rel is None else f" ({rel:+.2%})"
        return f"{self.name}: {format_gas(self.old)} → {format_gas(self.new)}{pct} {self.change.value}"


def _exact(value: float) -> Fraction:
    # repr gives the shortest decimal that reads back as `value`: 0.01 is 1/100 here, not the binary float.
    return Fraction(repr(float(value))) if isinstance(value, float) else Fraction(value)


def compare_snapshot(
    old: Mapping[str, float], new: Mapping[str, float], tolerance: float = SNAPSHOT_TOLERANCE
) -> list[Finding]:
    """Each figure of `old` (the snapshot) and `new` (a fresh run), by name.

    A figure more than `tolerance` (a fraction: 0.01 is 1%) above its snapshot is WORSE, and one the run no
    longer measures is MISSING: both fail. Exactly at the tolerance passes. Cheaper figures are IMPROVED
    (they pass, and ask for a new snapshot), figures only the run has are NEW.
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must not be negative, got {tolerance}")
    limit = _exact(tolerance)
    findings = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if after is None:
            change = Change.MISSING
        elif before is None:
            change = Change.NEW
        else:
            a, b = _exact(before), _exact(after)
            if b == a:
                change = Change.UNCHANGED
            elif b < a:
                change = Change.IMPROVED
            elif b - a > limit * abs(a):
                change = Change.WORSE
            else:
                change = Change.WITHIN_TOLERANCE
        findings.append(Finding(name, before, after, change))
    return findings
