"""The partner SLA records: probes of the partners' endpoints, benefits applied and support tickets.

:class:`SlaStore` (``OpsStore().sla``) keeps what :mod:`link_ops.watch.sla` measures a partner with:

- the **probes** the watchtower makes (:meth:`~SlaStore.record_probes`, written by
  :mod:`link_ops.watch.probes`);
- the **benefits applied**: a benefit is granted on chain (a ``WelcomeClaimed`` at the partner's contract,
  read from the event index) and the partner reports when it applied it (:meth:`~SlaStore.report_benefit_
  applied`, behind ``POST /api/partners/<id>/benefits``); :meth:`~SlaStore.benefits` joins the two;
- the **support tickets**: opened (:meth:`~SlaStore.open_ticket`) and first answered
  (:meth:`~SlaStore.record_first_response`).

Reports are idempotent: the same application, ticket or first response reported again changes nothing and
returns what is stored (the first report's times stand: a retried request carries a later clock). Bad input
(an unknown partner or ticket, a benefit the index never saw, an answer before its ticket was opened, a
time in the future) raises one error that says what to do, and writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from link_ops.exceptions import ConfigurationError
from link_ops.model.partner_config import is_valid_address
from link_ops.store.engine import (
    Database,
    OpsStoreError,
    as_utc_required,
    check_chain_id,
    utcnow,
)
from link_ops.store.index_tables import IndexEventRow
from link_ops.store.partner_tables import PartnerRow, _partner_row, _who
from link_ops.store.sla_tables import BenefitApplicationRow, ProbeRow, SupportTicketRow

#: How far ahead of the store's clock a reported time may be (the reporter's clock may run a little fast).
FUTURE_SKEW = timedelta(minutes=5)

_TX_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")
_TICKET_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:#/-]{0,63}$")


class SlaRecordError(OpsStoreError):
    """A partner's SLA report was refused (nothing was written): the message says why and what to do."""


class UnknownTicketError(SlaRecordError):
    """No support ticket of that id for that partner: open it first."""


class BenefitNotGrantedError(SlaRecordError):
    """The event index holds no welcome claim of that holder in that transaction at the partner's
    contract."""


@dataclass(frozen=True)
class ProbeRecord:
    """One GET of a partner's endpoint: `ok` only for a 2xx answer within the timeout; `status_code` and
    `latency_s` (seconds) are None when no answer came; `error` says what went wrong."""

    partner_id: str
    chain_id: int
    endpoint: str
    at: datetime
    ok: bool
    status_code: int | None = None
    latency_s: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class BenefitRecord:
    """A benefit granted on chain (`holder`'s welcome claim in `claim_tx`, at block time `granted_at`) and
    when the partner reported it applied (None: not yet)."""

    partner_id: str
    chain_id: int
    holder: str
    claim_tx: str
    granted_at: datetime
    applied_at: datetime | None = None
    reported_at: datetime | None = None


@dataclass(frozen=True)
class TicketRecord:
    """A support ticket of a partner: opened at `opened_at`, first answered at `first_response_at`."""

    partner_id: str
    chain_id: int
    ticket_id: str
    opened_at: datetime
    first_response_at: datetime | None = None


def _aware(name: str, value: datetime) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ConfigurationError(
            f"{name} must be a timezone-aware datetime, got {value!r}: e.g. datetime.now(timezone.utc), or "
            "an ISO 8601 time with its offset (2026-11-28T09:30:00+00:00)"
        )
    return value.astimezone(timezone.utc)


def _claim_tx(value: str) -> str:
    if not isinstance(value, str) or not _TX_HASH.match(value.strip()):
        raise ConfigurationError(
            f"claim_tx must be the 0x… 32-byte hash of the welcome claim's transaction, got {value!r}"
        )
    return value.strip().lower()


def _holder(value: str) -> str:
    if not isinstance(value, str) or not is_valid_address(value.strip()):
        raise ConfigurationError(f"holder must be the 0x address of the cube holder, got {value!r}")
    return value.strip()


def _ticket_id(value: str) -> str:
    if not isinstance(value, str) or not _TICKET_ID.match(value.strip()):
        raise ConfigurationError(
            f"ticket id {value!r} is not usable: give 1 to 64 letters, digits or ._:#/- (the helpdesk's id), "
            "starting with a letter or digit"
        )
    return value.strip()


def _ticket_record(row: SupportTicketRow) -> TicketRecord:
    return TicketRecord(
        partner_id=row.partner_id,
        chain_id=row.chain_id,
        ticket_id=row.ticket_id,
        opened_at=as_utc_required(row.opened_at),
        first_response_at=None if row.first_response_at is None else as_utc_required(row.first_response_at),
    )


class SlaStore:
    """Probes, benefit applications and support tickets in `database`; each method is one transaction.
    `clock` (a callable returning an aware datetime) gives the default times of reports."""

    def __init__(self, database: Database, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._engine = database.engine
        self._sessions = database.sessions
        self.clock = clock

    def _now(self) -> datetime:
        return _aware("the clock's time", self.clock())

    def _not_future(self, name: str, value: datetime) -> datetime:
        value = _aware(name, value)
        now = self._now()
        if value > now + FUTURE_SKEW:
            raise SlaRecordError(
                f"{name} {value.isoformat()} is in the future (it is {now.isoformat()} now): report what has "
                "happened, with its time in UTC or with its offset"
            )
        return value

    # -- probes -------------------------------------------------------------------------------------------

    def record_probes(self, probes: Sequence[ProbeRecord]) -> int:
        """Stores `probes` in one transaction; returns how many. Raises
        :class:`~link_ops.store.partner_tables.UnknownPartnerError` (storing none) when one is of a partner
        the store does not hold."""
        rows: list[dict[str, Any]] = []
        for probe in probes:
            rows.append(
                {
                    "partner_id": probe.partner_id,
                    "chain_id": check_chain_id(probe.chain_id),
                    "endpoint": probe.endpoint,
                    "at": _aware("a probe's time", probe.at),
                    "ok": bool(probe.ok),
                    "status_code": probe.status_code,
                    "latency_s": probe.latency_s,
                    "error": None if probe.error is None else probe.error.replace("\x00", "\ufffd"),
                }
            )
        if not rows:
            return 0
        with self._sessions.begin() as session:
            for partner_id, chain_id in sorted({(p.partner_id, p.chain_id) for p in probes}):
                _partner_row(session, partner_id, chain_id)
            session.execute(insert(ProbeRow), rows)
        return len(rows)

    def probes(
        self,
        partner_id: str,
        chain_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[ProbeRecord]:
        """The partner's probes with `since` < time <= `until` (each bound optional), oldest first."""
        query = select(ProbeRow).where(ProbeRow.partner_id == partner_id, ProbeRow.chain_id == chain_id)
        if since is not None:
            query = query.where(ProbeRow.at > _aware("since", since))
        if until is not None:
            query = query.where(ProbeRow.at <= _aware("until", until))
        with self._sessions.begin() as session:
            return [
                ProbeRecord(
                    partner_id=r.partner_id,
                    chain_id=r.chain_id,
                    endpoint=r.endpoint,
                    at=as_utc_required(r.at),
                    ok=r.ok,
                    status_code=r.status_code,
                    latency_s=r.latency_s,
                    error=r.error,
                )
                for r in session.scalars(query.order_by(ProbeRow.at, ProbeRow.id))
            ]

    def prune_probes(self, before: datetime) -> int:
        """Deletes every probe older than `before` (of every partner); returns how many. The SLA looks back
        :attr:`link_ops.watch.sla.SlaSettings.lookback`: older probes only take room."""
        with self._sessions.begin() as session:
            result = session.execute(delete(ProbeRow).where(ProbeRow.at < _aware("before", before)))
            return int(getattr(result, "rowcount", 0) or 0)

    # -- benefits -----------------------------------------------------------------------------------------

    def _welcome_claims(
        self, session: Session, partner: PartnerRow, *, claim_tx: str | None = None, since: int | None = None
    ) -> list[IndexEventRow]:
        """The ``WelcomeClaimed`` events indexed at the partner's contract (in `claim_tx`, after block time
        `since`), in chain order."""
        if partner.contract_address is None:
            return []
        query = select(IndexEventRow).where(
            IndexEventRow.event == "WelcomeClaimed",
            IndexEventRow.chain_id == partner.chain_id,
            func.lower(IndexEventRow.address) == partner.contract_address.lower(),
        )
        if claim_tx is not None:
            query = query.where(func.lower(IndexEventRow.tx_hash) == claim_tx)
        if since is not None:
            query = query.where(IndexEventRow.block_time > since)
        order = (IndexEventRow.block_number, IndexEventRow.log_index)
        return list(session.scalars(query.order_by(*order)))

    def report_benefit_applied(
        self,
        partner_id: str,
        chain_id: int,
        holder: str,
        claim_tx: str,
        applied_at: datetime | None = None,
    ) -> BenefitRecord:
        """The partner applied the benefit `holder` claimed in transaction `claim_tx`, at `applied_at`
        (default: now). Returns the benefit as stored.

        Idempotent: a benefit reported again returns the first report unchanged. Raises
        :class:`~link_ops.store.partner_tables.UnknownPartnerError` for an unknown partner,
        :class:`BenefitNotGrantedError` when the event index holds no such welcome claim (yet), and
        :class:`SlaRecordError` for a time before the claim's block or in the future.
        """
        chain_id = check_chain_id(chain_id)
        holder = _holder(holder)
        claim_tx = _claim_tx(claim_tx)
        applied = self._not_future("applied_at", applied_at if applied_at is not None else self._now())
        with self._sessions.begin() as session:
            partner = _partner_row(session, partner_id, chain_id)
            claims = [
                e
                for e in self._welcome_claims(session, partner, claim_tx=claim_tx)
                if str(e.args.get("holder", "")).lower() == holder.lower()
            ]
            if not claims:
                where = (
                    f"at its contract {partner.contract_address}"
                    if partner.contract_address
                    else "(it has no contract yet: is it active?)"
                )
                raise BenefitNotGrantedError(
                    f"the event index holds no welcome claim of {holder} in {claim_tx} for "
                    f"{_who(partner_id, chain_id)} {where}: check the transaction hash and the holder, or "
                    "let the index catch up (`ape run index`) and report it again"
                )
            claim = claims[0]
            granted = datetime.fromtimestamp(claim.block_time, timezone.utc)
            key = (chain_id, claim_tx, str(claim.args["holder"]))
            row = session.get(BenefitApplicationRow, key)
            if row is None:
                if applied < granted:
                    raise SlaRecordError(
                        f"applied_at {applied.isoformat()} is before the benefit was granted (the claim's "
                        f"block time {granted.isoformat()}): report the time the partner applied it"
                    )
                row = BenefitApplicationRow(
                    chain_id=chain_id,
                    claim_tx=claim_tx,
                    holder=key[2],
                    partner_id=partner_id,
                    applied_at=applied,
                    reported_at=self._now(),
                )
                session.add(row)
                session.flush()
            return BenefitRecord(
                partner_id=partner_id,
                chain_id=chain_id,
                holder=row.holder,
                claim_tx=claim_tx,
                granted_at=granted,
                applied_at=as_utc_required(row.applied_at),
                reported_at=as_utc_required(row.reported_at),
            )

    def benefits(
        self, partner_id: str, chain_id: int, *, since: datetime | None = None
    ) -> list[BenefitRecord]:
        """The benefits granted by the partner (welcome claims in the event index; granted after `since`
        when given), each with its reported application, in chain order. Raises
        :class:`~link_ops.store.partner_tables.UnknownPartnerError` for an unknown partner."""
        after = None if since is None else int(_aware("since", since).timestamp())
        with self._sessions.begin() as session:
            partner = _partner_row(session, partner_id, check_chain_id(chain_id))
            claims = self._welcome_claims(session, partner, since=after)
            applied = {
                (r.claim_tx, r.holder.lower()): r
                for r in session.scalars(
                    select(BenefitApplicationRow).where(
                        BenefitApplicationRow.partner_id == partner_id,
                        BenefitApplicationRow.chain_id == chain_id,
                    )
                )
            }
            out = []
            for claim in claims:
                holder = str(claim.args["holder"])
                row = applied.get((claim.tx_hash.lower(), holder.lower()))
                out.append(
                    BenefitRecord(
                        partner_id=partner_id,
                        chain_id=chain_id,
                        holder=holder,
                        claim_tx=claim.tx_hash.lower(),
                        granted_at=datetime.fromtimestamp(claim.block_time, timezone.utc),
                        applied_at=None if row is None else as_utc_required(row.applied_at),
                        reported_at=None if row is None else as_utc_required(row.reported_at),
                    )
                )
            return out

    # -- support tickets ----------------------------------------------------------------------------------

    def open_ticket(
        self, partner_id: str, chain_id: int, ticket_id: str, opened_at: datetime | None = None
    ) -> TicketRecord:
        """Records support ticket `ticket_id` (the helpdesk's id) of the partner, opened at `opened_at`
        (default: now). Idempotent: opening it again returns the ticket as first recorded."""
        chain_id = check_chain_id(chain_id)
        ticket_id = _ticket_id(ticket_id)
        opened = self._not_future("opened_at", opened_at if opened_at is not None else self._now())
        with self._sessions.begin() as session:
            _partner_row(session, partner_id, chain_id)
            row = session.get(SupportTicketRow, (partner_id, chain_id, ticket_id))
            if row is None:
                row = SupportTicketRow(
                    partner_id=partner_id, chain_id=chain_id, ticket_id=ticket_id, opened_at=opened
                )
                session.add(row)
                session.flush()
            return _ticket_record(row)

    def record_first_response(
        self, partner_id: str, chain_id: int, ticket_id: str, responded_at: datetime | None = None
    ) -> TicketRecord:
        """The partner first answered ticket `ticket_id` at `responded_at` (default: now). Idempotent: the
        first response recorded stands. Raises :class:`UnknownTicketError` for a ticket never opened and
        :class:`SlaRecordError` for an answer before the ticket was opened or in the future."""
        chain_id = check_chain_id(chain_id)
        ticket_id = _ticket_id(ticket_id)
        responded = self._not_future(
            "responded_at", responded_at if responded_at is not None else self._now()
        )
        with self._sessions.begin() as session:
            _partner_row(session, partner_id, chain_id)
            row = session.get(SupportTicketRow, (partner_id, chain_id, ticket_id))
            if row is None:
                raise UnknownTicketError(
                    f"{_who(partner_id, chain_id)} has no support ticket {ticket_id!r}: open it first (`ape "
                    f"run partner_sla --partner {partner_id} --open-ticket {ticket_id}`), or check the id"
                )
            if row.first_response_at is None:
                opened = as_utc_required(row.opened_at)
                if responded < opened:
                    raise SlaRecordError(
                        f"ticket {ticket_id!r} of {_who(partner_id, chain_id)} was opened at "
                        f"{opened.isoformat()}: it cannot have been answered before, at "
                        f"{responded.isoformat()}. Give the time of the first answer."
                    )
                row.first_response_at = responded
                session.flush()
            return _ticket_record(row)

    def tickets(self, partner_id: str, chain_id: int, *, since: datetime | None = None) -> list[TicketRecord]:
        """The partner's support tickets (opened after `since` when given), oldest first."""
        query = select(SupportTicketRow).where(
            SupportTicketRow.partner_id == partner_id, SupportTicketRow.chain_id == chain_id
        )
        if since is not None:
            query = query.where(SupportTicketRow.opened_at > _aware("since", since))
        with self._sessions.begin() as session:
            rows = session.scalars(query.order_by(SupportTicketRow.opened_at, SupportTicketRow.ticket_id))
            return [_ticket_record(r) for r in rows]
