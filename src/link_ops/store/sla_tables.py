"""The partner SLA tables: what the probes saw and the partners' process terms.

- ``sla_probes``: one row per GET of a partner's endpoint: when, whether it answered OK (2xx within the
  timeout), the HTTP status (None without an answer), the seconds it took (None without an answer) and what
  went wrong;
- ``sla_benefit_applications``: a granted benefit (a ``WelcomeClaimed`` of the event index: the holder and
  the claim's transaction) the partner reported applied, and when;
- ``sla_support_tickets``: a support ticket of a partner: when it was opened, when it was first answered.

:class:`~link_ops.store.sla.SlaStore` writes and reads them; each row belongs to a partner on a chain
(``partners``), and forgetting the partner deletes its rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, validates

from link_ops.store.engine import Base, UTCDateTime, without_nul
from link_ops.store.partner_tables import _partner_fk


class ProbeRow(Base):
    __tablename__ = "sla_probes"
    __table_args__ = (_partner_fk(), Index("ix_sla_probes_partner_at", "partner_id", "chain_id", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(String(32))
    chain_id: Mapped[int] = mapped_column(BigInteger)
    endpoint: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_s: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)

    @validates("error")
    def _free_text(self, _key: str, value: str | None) -> str | None:
        return without_nul(value)


class BenefitApplicationRow(Base):
    __tablename__ = "sla_benefit_applications"
    __table_args__ = (_partner_fk(),)

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    claim_tx: Mapped[str] = mapped_column(String(66), primary_key=True)
    holder: Mapped[str] = mapped_column(String(42), primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(32))
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SupportTicketRow(Base):
    __tablename__ = "sla_support_tickets"
    __table_args__ = (_partner_fk(),)

    partner_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ticket_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
