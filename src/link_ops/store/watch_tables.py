"""The watchtower's tables: alerts, the incidents they form, and the outbox of their deliveries.

- ``watch_incidents``: alerts about one subject close together in time (see
  :mod:`link_ops.store.watch`): the subject, the highest severity of its live alerts, its status (open,
  acknowledged, resolved) and who moved it there, when its first and latest alerts happened;
- ``watch_alerts``: every alert ever raised, once per :attr:`~link_ops.watch.alerts.Alert.key`; an alert
  about blocks a reorganisation replaced is kept and marked retracted, never deleted;
- ``watch_deliveries``: the outbox, one row per (alert, sink): pending until the sink took it, then
  delivered; failed once its sink gave up on it; cancelled when its alert was retracted before delivery;
- ``watch_judged``: per chain, the blocks the intrusion rules have judged (from the first to the last), so
  that a restarted watch judges what it missed and never the history it chose not to judge.

Rows are written only by :class:`~link_ops.store.watch.WatchStore`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, validates

from link_ops.store.engine import Base, UTCDateTime, one_of, without_nul
from link_ops.store.index_tables import JsonColumn

IncidentStatus = Literal["open", "acknowledged", "resolved"]

DeliveryStatus = Literal["pending", "delivered", "failed", "cancelled"]

#: An incident is open until someone acknowledges it, and stays in the list until it is resolved.
INCIDENT_STATUSES: tuple[str, ...] = get_args(IncidentStatus)

#: A delivery is pending until its sink took the alert (delivered), gave up on it (failed), or the alert
#: was retracted first (cancelled).
DELIVERY_STATUSES: tuple[str, ...] = get_args(DeliveryStatus)

#: The longest alert key the store holds (a rule, a chain, a transaction hash and a log index fit ten times).
MAX_KEY_LENGTH = 512


class IncidentRow(Base):
    __tablename__ = "watch_incidents"
    __table_args__ = (
        CheckConstraint(one_of("status", INCIDENT_STATUSES), name="ck_watch_incidents_status"),
        Index("ix_watch_incidents_subject_status", "subject", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(Text)
    severity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    alert_count: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(128))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(128))
    resolution: Mapped[str | None] = mapped_column(Text)

    @validates("title", "acknowledged_by", "resolved_by", "resolution")
    def _free_text(self, _key: str, value: str | None) -> str | None:
        return without_nul(value)


class AlertRow(Base):
    __tablename__ = "watch_alerts"
    __table_args__ = (
        UniqueConstraint("key", name="uq_watch_alerts_key"),
        Index("ix_watch_alerts_at", "at"),
        Index("ix_watch_alerts_chain_block", "chain_id", "block_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    rule: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(16))
    severity: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)
    chain_id: Mapped[int | None] = mapped_column(BigInteger)
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    subject: Mapped[str | None] = mapped_column(String(128))
    values: Mapped[dict[str, Any]] = mapped_column(JsonColumn)
    action: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    incident_id: Mapped[int] = mapped_column(ForeignKey("watch_incidents.id"), index=True)
    retracted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retraction: Mapped[str | None] = mapped_column(Text)

    @validates("summary", "retraction", "subject", "rule", "action")
    def _free_text(self, _key: str, value: str | None) -> str | None:
        return without_nul(value)


class DeliveryRow(Base):
    __tablename__ = "watch_deliveries"
    __table_args__ = (
        UniqueConstraint("alert_id", "sink", name="uq_watch_deliveries_alert_sink"),
        CheckConstraint(one_of("status", DELIVERY_STATUSES), name="ck_watch_deliveries_status"),
        Index("ix_watch_deliveries_due", "sink", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("watch_alerts.id"))
    sink: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @validates("last_error")
    def _free_text(self, _key: str, value: str | None) -> str | None:
        return without_nul(value)


class JudgedRow(Base):
    """The blocks of one chain the intrusion rules have judged: `first_block` .. `last_block`."""

    __tablename__ = "watch_judged"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    first_block: Mapped[int] = mapped_column(BigInteger)
    last_block: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
