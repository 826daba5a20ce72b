"""What the watchtower says: an :class:`Alert`, raised by a rule (intrusion), the performance monitor or
the partner SLAs, and handed to the alert sinks.

An alert is a value: its :attr:`~Alert.key` names the one event it is about (a rule, a chain, a transaction
and log; a burn-rate window and the hour it fired in; ...), so raising the same alert again (the watch
restarted and read a block again, a threshold still crossed on the next tick) is recognised as the same
one and stored, counted and delivered once. :attr:`~Alert.subject` is the address the alert is about (the
account granted a role, the minter, the partner): alerts of one subject close together in time form one
incident, so that one attack in several steps pages once.

Pure: no ape, web3, network or database.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from link_ops.exceptions import ConfigurationError


class Severity(enum.IntEnum):
    """How urgent an alert is; ordered, so ``severity >= Severity.HIGH`` selects what pages someone."""

    INFO = 10
    WARNING = 20
    HIGH = 30
    CRITICAL = 40

    @classmethod
    def parse(cls, name: str) -> Severity:
        """``"high"`` (any case) as :attr:`HIGH`; one clear error for anything else."""
        try:
            return cls[name.strip().upper()]
        except KeyError:
            choices = ", ".join(s.name.lower() for s in cls)
            raise ConfigurationError(f"unknown severity {name!r}: use one of {choices}") from None

    @property
    def label(self) -> str:
        return self.name.lower()


#: Where an alert came from.
SOURCES = ("intrusion", "performance", "sla")


@dataclass(frozen=True)
class Alert:
    """One thing the watchtower noticed.

    - `rule`: the rule or threshold that fired, a short stable name (``role-granted``,
      ``performance.response-time``, ``sla.burn-rate.fast``);
    - `source`: one of :data:`SOURCES`;
    - `severity`, and `summary`: one human sentence saying what happened and, where there is one, what to
      do ("MINTER_ROLE on LBCToken granted to 0xBad… by 0xAd…: revoke it unless the Safe proposed it");
    - `key`: what makes the alert this alert and no other (see the module's doc); the same key is the same
      alert, however often it is raised;
    - `chain_id`, `block_number`, `tx_hash`: where it happened, for on-chain alerts;
    - `subject`: the address (or partner id) it is about, for correlation into incidents;
    - `values`: the measured numbers and names behind it (JSON-ready: str, int, float, bool, None);
    - `action`: what the watchtower did or recommends (``shift-weight``, ``scale-out``, ``recovery``), if
      anything;
    - `at`: when it was raised (UTC).
    """

    rule: str
    source: str
    severity: Severity
    summary: str
    key: str
    chain_id: int | None = None
    block_number: int | None = None
    tx_hash: str | None = None
    subject: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    action: str | None = None
    at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ConfigurationError(f"unknown alert source {self.source!r}: one of {', '.join(SOURCES)}")
        if not self.rule or not self.key or not self.summary:
            raise ConfigurationError("an alert needs a rule, a key and a summary")
        if self.at.tzinfo is None:
            raise ConfigurationError("an alert's time must be timezone-aware (UTC)")

    def to_json(self) -> dict[str, Any]:
        """The alert as JSON-ready values (what the JSON-lines file, the webhook and the API carry)."""
        return {
            "key": self.key,
            "rule": self.rule,
            "source": self.source,
            "severity": self.severity.label,
            "summary": self.summary,
            "chain_id": self.chain_id,
            "block_number": self.block_number,
            "tx_hash": self.tx_hash,
            "subject": self.subject,
            "values": dict(self.values),
            "action": self.action,
            "at": self.at.astimezone(timezone.utc).isoformat(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Alert:
        """The alert :meth:`to_json` wrote."""
        return cls(
            rule=str(data["rule"]),
            source=str(data["source"]),
            severity=Severity.parse(str(data["severity"])),
            summary=str(data["summary"]),
            key=str(data["key"]),
            chain_id=data.get("chain_id"),
            block_number=data.get("block_number"),
            tx_hash=data.get("tx_hash"),
            subject=data.get("subject"),
            values=dict(data.get("values") or {}),
            action=data.get("action"),
            at=datetime.fromisoformat(str(data["at"])),
        )


def onchain_key(rule: str, chain_id: int, tx_hash: str, log_index: int | None = None) -> str:
    """The key of an alert about one transaction (and one of its logs): ``role-granted:137:0xab…:4``."""
    tail = "" if log_index is None else f":{log_index}"
    return f"{rule}:{chain_id}:{tx_hash.lower()}{tail}"
