"""The partner tables: statuses, rows, the errors their rules raise, and the row-level helpers.

:mod:`link_ops.store.partners` builds the store on them; a row never leaves the store (its methods return
the frozen records).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Literal, get_args

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKeyConstraint,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, validates

from link_ops.exceptions import ConfigurationError
from link_ops.store.engine import (
    Base,
    OpsStoreError,
    UTCDateTime,
    one_of,
    utcnow,
    without_nul,
)

PartnerStatus = Literal["onboarding", "active", "failed"]


StepName = Literal["validate", "deploy", "fund", "monitor"]


StepStatus = Literal["done", "failed"]


PARTNER_STATUSES: tuple[str, ...] = get_args(PartnerStatus)


#: The onboarding steps, in the order they run.
STEPS: tuple[str, ...] = get_args(StepName)


STEP_STATUSES: tuple[str, ...] = get_args(StepStatus)


#: The service levels a partner is monitored against unless :meth:`OpsStore.activate` is given others.
DEFAULT_SLA: Mapping[str, float] = MappingProxyType(
    {
        "availability": 99.5,  # percent of time the endpoints answer
        "response_time_s": 2.0,  # seconds per answer
        "error_rate": 0.005,  # share of requests that fail
        "benefit_apply_hours": 24,  # hours until a granted benefit applies at the partner
        "support_response_hours": 4,  # hours until the partner answers a support request
    }
)


class UnknownPartnerError(OpsStoreError):
    """No partner of that id on that chain: its onboarding has not begun."""


class StepAlreadyDoneError(OpsStoreError):
    """The onboarding step is already recorded as done; a done step is never recorded again."""


class PartnerStateError(OpsStoreError):
    """The partner's status does not allow the operation (e.g. failing an active partner)."""


class ConfigMismatchError(OpsStoreError):
    """Onboarding resumed with a config that differs from the one its done steps were carried out with."""


def _partner_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["partner_id", "chain_id"], ["partners.partner_id", "partners.chain_id"])


class PartnerRow(Base):
    __tablename__ = "partners"
    __table_args__ = (CheckConstraint(one_of("status", PARTNER_STATUSES), name="ck_partners_status"),)

    partner_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(64))
    contract_address: Mapped[str | None] = mapped_column(String(42))
    status: Mapped[str] = mapped_column(String(16))
    integration_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    config_json: Mapped[str] = mapped_column(Text)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @validates("failure_reason")
    def _free_text(self, _key: str, value: str | None) -> str | None:
        return without_nul(value)


class StepRow(Base):
    __tablename__ = "onboarding_steps"
    __table_args__ = (
        _partner_fk(),
        UniqueConstraint("partner_id", "chain_id", "step", name="uq_onboarding_steps_step"),
        CheckConstraint(one_of("step", STEPS), name="ck_onboarding_steps_step"),
        CheckConstraint(one_of("status", STEP_STATUSES), name="ck_onboarding_steps_status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(String(32))
    chain_id: Mapped[int] = mapped_column(BigInteger)
    step: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    gas_used: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    @validates("detail")
    def _free_text(self, _key: str, value: str | None) -> str | None:
        return without_nul(value)


class MonitoringRow(Base):
    __tablename__ = "monitoring"
    __table_args__ = (_partner_fk(),)

    partner_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    endpoints_json: Mapped[str] = mapped_column(Text)
    sla_json: Mapped[str] = mapped_column(Text)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())


def _who(partner_id: str, chain_id: int) -> str:
    return f"partner {partner_id!r} on chain {chain_id}"


def _endpoints(endpoints: Sequence[str]) -> tuple[str, ...]:
    if isinstance(endpoints, str) or not endpoints or not all(isinstance(e, str) and e for e in endpoints):
        raise ConfigurationError(
            f"endpoints must be a non-empty list of URLs (e.g. the config's api_endpoints), got {endpoints!r}"
        )
    return tuple(endpoints)


def _sla(sla: Mapping[str, float] | None) -> dict[str, float]:
    given = dict(sla or {})
    unknown = sorted(set(given) - set(DEFAULT_SLA))
    if unknown:
        raise ConfigurationError(
            f"unknown SLA field(s) {', '.join(unknown)}: the SLA has {', '.join(DEFAULT_SLA)}"
        )
    bad = [
        f"{k}={v!r}"
        for k, v in given.items()
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0
    ]
    if bad:
        raise ConfigurationError(f"SLA values must be numbers >= 0, got {', '.join(bad)}")
    return {**DEFAULT_SLA, **given}


def _partner_row(session: Session, partner_id: str, chain_id: int) -> PartnerRow:
    row = session.get(PartnerRow, (partner_id, chain_id))
    if row is None:
        raise UnknownPartnerError(
            f"no {_who(partner_id, chain_id)} in the operations store: call begin_onboarding() with its "
            "config first (or check the partner id and the network)"
        )
    return row


def _done_steps(session: Session, partner_id: str, chain_id: int) -> list[str]:
    done = session.scalars(
        select(StepRow.step).where(
            StepRow.partner_id == partner_id, StepRow.chain_id == chain_id, StepRow.status == "done"
        )
    ).all()
    return sorted(done, key=STEPS.index)


def _upsert_step(
    session: Session,
    partner_id: str,
    chain_id: int,
    step: str,
    status: str,
    detail: str | None,
    gas_used: int | None,
) -> StepRow:
    """The step's row, created or (when its last attempt failed) overwritten with this outcome."""
    row = session.scalars(
        select(StepRow).where(
            StepRow.partner_id == partner_id, StepRow.chain_id == chain_id, StepRow.step == step
        )
    ).one_or_none()
    if row is not None and row.status == "done":
        raise StepAlreadyDoneError(
            f"step {step!r} of {_who(partner_id, chain_id)} is already done ({row.detail or 'no detail'}, at "
            f"{row.at.isoformat()}): a resumed onboarding skips it (see completed_steps())"
        )
    if row is None:
        row = StepRow(partner_id=partner_id, chain_id=chain_id, step=step)
        session.add(row)
    row.status = status
    row.detail = detail
    row.gas_used = gas_used
    row.at = utcnow()
    return row
