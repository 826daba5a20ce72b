"""The partner records: each partner's onboarding steps, status and monitoring registration.

Onboarding records each step here as it finishes, so an interrupted onboarding resumes where it stopped
(:meth:`PartnerStore.completed_steps`), and step 4 registers the partner for monitoring
(:meth:`PartnerStore.activate`). A partner is keyed by ``(partner_id, chain_id)``: the same partner can live
on Amoy and on mainnet.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from sqlalchemy import (
    delete,
    select,
)
from sqlalchemy.exc import IntegrityError

from link_ops.exceptions import ConfigurationError
from link_ops.model.partner_config import PartnerConfig
from link_ops.store.engine import (
    Database,
    OpsStoreError,
    as_utc,
    as_utc_required,
    check_address,
    check_chain_id,
    utcnow,
)
from link_ops.store.partner_tables import (
    STEP_STATUSES,
    STEPS,
    ConfigMismatchError,
    MonitoringRow,
    PartnerRow,
    PartnerStateError,
    StepRow,
    _done_steps,
    _endpoints,
    _partner_row,
    _sla,
    _upsert_step,
    _who,
)
from link_ops.store.sla_tables import BenefitApplicationRow, ProbeRow, SupportTicketRow


@dataclass(frozen=True)
class PartnerRecord:
    """A partner on one chain, as stored."""

    partner_id: str
    chain_id: int
    name: str
    status: str
    contract_address: str | None
    integration_time: datetime | None
    config_json: str
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def config(self) -> PartnerConfig:
        """The config the partner was (last) onboarded with."""
        return PartnerConfig.model_validate_json(self.config_json)


@dataclass(frozen=True)
class StepRecord:
    """One onboarding step of a partner on one chain: its last outcome."""

    partner_id: str
    chain_id: int
    step: str
    status: str
    detail: str | None
    gas_used: int | None
    at: datetime


@dataclass(frozen=True)
class MonitoringRecord:
    """What monitoring watches for a partner on one chain."""

    partner_id: str
    chain_id: int
    endpoints: tuple[str, ...]
    sla: Mapping[str, float]
    registered_at: datetime


def _partner_record(row: PartnerRow) -> PartnerRecord:
    return PartnerRecord(
        partner_id=row.partner_id,
        chain_id=row.chain_id,
        name=row.name,
        status=row.status,
        contract_address=row.contract_address,
        integration_time=as_utc(row.integration_time),
        config_json=row.config_json,
        failure_reason=row.failure_reason,
        created_at=as_utc_required(row.created_at),
        updated_at=as_utc_required(row.updated_at),
    )


def _step_record(row: StepRow) -> StepRecord:
    return StepRecord(
        partner_id=row.partner_id,
        chain_id=row.chain_id,
        step=row.step,
        status=row.status,
        detail=row.detail,
        gas_used=row.gas_used,
        at=as_utc_required(row.at),
    )


class PartnerStore:
    """Partners, onboarding steps and monitoring registrations in `database`; each method is one
    transaction."""

    def __init__(self, database: Database) -> None:
        self._sessions = database.sessions
        self._byte_order = database.byte_order

    # -- onboarding

    def begin_onboarding(self, config: PartnerConfig, chain_id: int) -> PartnerRecord:
        """The partner of `config` on `chain_id`, created with status "onboarding" when new.

        A partner that failed goes back to "onboarding" (a retry keeps its done steps); an "active" partner
        is returned unchanged. Raises :class:`ConfigMismatchError` when steps are already done with a
        different config: resuming with it would mix two configs.
        """
        chain_id = check_chain_id(chain_id)
        config_json = config.model_dump_json()
        now = utcnow()
        with self._sessions.begin() as session:
            row = session.get(PartnerRow, (config.partner_id, chain_id))
            if row is None:
                row = PartnerRow(
                    partner_id=config.partner_id,
                    chain_id=chain_id,
                    name=config.name,
                    status="onboarding",
                    config_json=config_json,
                    created_at=now,
                    updated_at=now,
                )
                session.add(row)
            else:
                done = _done_steps(session, config.partner_id, chain_id)
                if done and row.config_json != config_json:
                    raise ConfigMismatchError(
                        f"{_who(config.partner_id, chain_id)} has done steps ({', '.join(done)}) with "
                        "another config than the one given. Restore the config it was onboarded with (stored "
                        "as get_partner(...).config), or onboard the changed partner under a new partner_id."
                    )
                if row.status != "active":
                    row.name = config.name
                    row.config_json = config_json
                    row.status = "onboarding"
                    row.failure_reason = None
                    row.updated_at = now
            session.flush()
            return _partner_record(row)

    def record_step(
        self,
        partner_id: str,
        chain_id: int,
        step: str,
        *,
        status: str = "done",
        detail: str | None = None,
        gas_used: int | None = None,
    ) -> StepRecord:
        """Records the outcome of an onboarding `step` ("validate", "deploy", "fund" or "monitor").

        `detail` says what happened (a transaction hash, an error); `gas_used` is the gas the step cost. A
        failed attempt is overwritten by the next one; a done step is final (:class:`StepAlreadyDoneError`).
        The "monitor" step is recorded done by :meth:`activate`, not here.
        """
        chain_id = check_chain_id(chain_id)
        if step not in STEPS:
            raise ConfigurationError(f"unknown onboarding step {step!r}: use one of {', '.join(STEPS)}")
        if status not in STEP_STATUSES:
            raise ConfigurationError(f"unknown step status {status!r}: use one of {', '.join(STEP_STATUSES)}")
        if step == "monitor" and status == "done":
            raise ConfigurationError(
                "the monitor step is done only together with the activation: call activate() instead"
            )
        if gas_used is not None and (
            isinstance(gas_used, bool) or not isinstance(gas_used, int) or gas_used < 0
        ):
            raise ConfigurationError(f"gas_used must be a whole number of gas >= 0, got {gas_used!r}")
        try:
            with self._sessions.begin() as session:
                _partner_row(session, partner_id, chain_id)
                row = _upsert_step(session, partner_id, chain_id, step, status, detail, gas_used)
                session.flush()
                return _step_record(row)
        except IntegrityError as exc:
            raise OpsStoreError(
                f"step {step!r} of {_who(partner_id, chain_id)} was recorded by someone else at the same "
                "time (is another onboarding of this partner running?). Check completed_steps() before "
                "retrying."
            ) from exc

    def completed_steps(self, partner_id: str, chain_id: int) -> dict[str, StepRecord]:
        """The done steps of the partner, by name, in onboarding order (empty when none or no partner)."""
        return {r.step: r for r in self.list_steps(partner_id, chain_id) if r.status == "done"}

    def list_steps(self, partner_id: str, chain_id: int) -> list[StepRecord]:
        """Every recorded step of the partner, done or failed, in onboarding order."""
        with self._sessions.begin() as session:
            rows = session.scalars(
                select(StepRow).where(StepRow.partner_id == partner_id, StepRow.chain_id == chain_id)
            ).all()
            return sorted((_step_record(r) for r in rows), key=lambda r: STEPS.index(r.step))

    def activate(
        self,
        partner_id: str,
        chain_id: int,
        contract_address: str,
        integration_time: datetime,
        endpoints: Sequence[str],
        sla: Mapping[str, float] | None = None,
    ) -> PartnerRecord:
        """Onboarding step 4: registers the partner for monitoring and makes it "active", in ONE transaction.

        Writes the monitoring row (`endpoints`, and `sla` over :data:`DEFAULT_SLA`), records the "monitor"
        step done, and sets the status, `contract_address` and `integration_time` (timezone-aware). Either
        all of it is stored or none: a partner is never active without monitoring, nor monitored while not
        active. Activating an active partner again with the same contract changes nothing.
        """
        chain_id = check_chain_id(chain_id)
        address = check_address(contract_address)
        if not isinstance(integration_time, datetime) or integration_time.utcoffset() is None:
            raise ConfigurationError(
                f"integration_time must be a timezone-aware datetime, got {integration_time!r}: "
                "use e.g. datetime.now(timezone.utc)"
            )
        urls = _endpoints(endpoints)
        levels = _sla(sla)
        now = utcnow()
        with self._sessions.begin() as session:
            partner = _partner_row(session, partner_id, chain_id)
            if partner.status == "active":
                if partner.contract_address == address:
                    return _partner_record(partner)
                raise PartnerStateError(
                    f"{_who(partner_id, chain_id)} is already active with contract "
                    f"{partner.contract_address}, not {address}: a partner is activated once per chain."
                )
            if partner.status == "failed":
                raise PartnerStateError(
                    f"{_who(partner_id, chain_id)} is marked failed ({partner.failure_reason}): resume its "
                    "onboarding with begin_onboarding() before activating it."
                )
            session.add(
                MonitoringRow(
                    partner_id=partner_id,
                    chain_id=chain_id,
                    endpoints_json=json.dumps(list(urls)),
                    sla_json=json.dumps(levels, sort_keys=True),
                    registered_at=now,
                )
            )
            _upsert_step(
                session, partner_id, chain_id, "monitor", "done", f"monitoring {len(urls)} endpoints", None
            )
            session.flush()
            partner.status = "active"
            partner.contract_address = address
            partner.integration_time = integration_time
            partner.failure_reason = None
            partner.updated_at = now
            session.flush()
            return _partner_record(partner)

    def mark_failed(self, partner_id: str, chain_id: int, reason: str) -> PartnerRecord:
        """Marks the partner's onboarding failed because of `reason`; its done steps stay recorded.

        Raises :class:`PartnerStateError` for an active partner: its onboarding is over.
        """
        chain_id = check_chain_id(chain_id)
        with self._sessions.begin() as session:
            partner = _partner_row(session, partner_id, chain_id)
            if partner.status == "active":
                raise PartnerStateError(
                    f"{_who(partner_id, chain_id)} is active: its onboarding is over and cannot fail "
                    f"({reason}). Look into it through monitoring instead."
                )
            partner.status = "failed"
            partner.failure_reason = reason
            partner.updated_at = utcnow()
            session.flush()
            return _partner_record(partner)

    def forget(self, partner_id: str, chain_id: int) -> bool:
        """Deletes every record of the partner on `chain_id` (monitoring, steps, SLA records, partner) in one
        transaction.

        For records that no longer match their chain, e.g. a restarted local node under the same chain id.
        Returns whether there was a partner to forget.
        """
        with self._sessions.begin() as session:
            row = session.get(PartnerRow, (partner_id, chain_id))
            if row is None:
                return False
            for table in (MonitoringRow, StepRow, ProbeRow, BenefitApplicationRow, SupportTicketRow):
                session.execute(
                    delete(table).where(table.partner_id == partner_id, table.chain_id == chain_id)
                )
            session.delete(row)
            return True

    # -- reading

    def get_partner(self, partner_id: str, chain_id: int) -> PartnerRecord | None:
        """The partner on `chain_id`, or None."""
        with self._sessions.begin() as session:
            row = session.get(PartnerRow, (partner_id, chain_id))
            return None if row is None else _partner_record(row)

    def list_partners(self, chain_id: int | None = None) -> list[PartnerRecord]:
        """Every partner (on `chain_id` when given), by chain then partner id."""
        query = select(PartnerRow).order_by(PartnerRow.chain_id, self._byte_order(PartnerRow.partner_id))
        if chain_id is not None:
            query = query.where(PartnerRow.chain_id == chain_id)
        with self._sessions.begin() as session:
            return [_partner_record(row) for row in session.scalars(query)]

    def get_monitoring(self, partner_id: str, chain_id: int) -> MonitoringRecord | None:
        """What monitoring watches for the partner on `chain_id`, or None when it is not registered."""
        with self._sessions.begin() as session:
            row = session.get(MonitoringRow, (partner_id, chain_id))
            if row is None:
                return None
            return MonitoringRecord(
                partner_id=row.partner_id,
                chain_id=row.chain_id,
                endpoints=tuple(json.loads(row.endpoints_json)),
                sla=MappingProxyType(json.loads(row.sla_json)),
                registered_at=row.registered_at,
            )
