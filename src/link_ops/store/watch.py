"""The watchtower's records: alerts, incidents and the outbox of deliveries to the alert sinks.

:class:`WatchStore` (``OpsStore().watch``) keeps what the watchtower raised and what became of it:

- **alerts, once each.** An alert is stored under its :attr:`~link_ops.watch.alerts.Alert.key`; raising
  the same key again (the watch re-read a block after a restart, a threshold still crossed) is a no-op that
  says "known" (:attr:`Raised.outcome`), so it is counted, correlated and delivered once;
- **incidents.** Alerts about one subject (:func:`correlation_subject`: the alert's address or partner, or
  its rule when it names none) whose times lie within the correlation window (default one hour) of an
  incident's first-to-latest span join that incident while it is not resolved; otherwise a new one opens.
  An incident's severity is the highest of its live alerts; it is open until acknowledged and listed until
  resolved (:meth:`~WatchStore.acknowledge`, :meth:`~WatchStore.resolve`). A more severe alert re-opens an
  acknowledged incident: what someone acknowledged was less than what is now happening;
- **the outbox.** Each new alert gets one delivery per sink, in the same transaction that stores it, so an
  alert is never stored without being queued nor queued without being stored; sinks take them from here
  (:class:`~link_ops.watch.dispatch.AlertDispatcher`), and deliveries left pending by a stopped process
  are taken up by the next;
- **retraction.** Alerts about blocks a reorganisation replaced (:meth:`~WatchStore.retract_reorganised`)
  are marked retracted, not deleted: the record of what was said stays, their undelivered deliveries are
  cancelled, and their incidents' severities and counts are recomputed from the live alerts (an incident
  left with none is resolved, saying why). Raising a retracted key again (the transaction was mined again
  in the new chain) reinstates it.

Every method is one transaction and returns frozen records. No ape, no network besides the database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from link_ops.exceptions import ConfigurationError
from link_ops.store.engine import (
    Database,
    OpsStoreError,
    as_utc,
    as_utc_required,
    check_chain_id,
    utcnow,
)
from link_ops.store.watch_tables import (
    MAX_KEY_LENGTH,
    AlertRow,
    DeliveryRow,
    IncidentRow,
    JudgedRow,
)
from link_ops.watch.alerts import Alert, Severity

#: Alerts of one subject this close to an incident's span join it, unless the caller says otherwise.
DEFAULT_CORRELATION_WINDOW = timedelta(hours=1)

#: The incidents :meth:`WatchStore.incidents` lists by default: those someone may still have to act on.
ACTIVE_STATUSES = ("open", "acknowledged")

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")

RaiseOutcome = Literal["new", "known", "reinstated"]


class UnknownIncidentError(OpsStoreError):
    """No incident has that id."""


class IncidentStateError(OpsStoreError):
    """The incident's status does not allow the change (e.g. acknowledging a resolved incident)."""


class UnknownDeliveryError(OpsStoreError):
    """No delivery has that id."""


def correlation_subject(alert: Alert) -> str:
    """What an alert's incident is keyed by: its subject (an address in lower case, so checksummed and plain
    spellings meet), or ``rule:<rule>`` for an alert about no one in particular (a slow upstream)."""
    if alert.subject:
        subject = alert.subject.strip()
        return subject.lower() if _ADDRESS.match(subject) else subject
    return f"rule:{alert.rule}"


# -- records ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredAlert:
    """An alert as the store holds it: the alert, its id and incident, when it was stored, and whether it
    was retracted (its blocks reorganised away) and why."""

    id: int
    alert: Alert
    incident_id: int
    raised_at: datetime
    retracted_at: datetime | None
    retraction: str | None

    @property
    def retracted(self) -> bool:
        return self.retracted_at is not None

    def to_json(self) -> dict[str, Any]:
        """The alert's JSON (:meth:`Alert.to_json`) with the store's fields beside it."""
        return {
            **self.alert.to_json(),
            "id": self.id,
            "incident_id": self.incident_id,
            "raised_at": self.raised_at.isoformat(),
            "retracted": self.retracted,
            "retracted_at": None if self.retracted_at is None else self.retracted_at.isoformat(),
            "retraction": self.retraction,
        }


@dataclass(frozen=True)
class Incident:
    """Alerts about one subject close together in time (see the module's description)."""

    id: int
    subject: str
    title: str
    severity: Severity
    status: str
    alert_count: int
    first_at: datetime
    last_at: datetime
    opened_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None

    def to_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "id": self.id,
            "subject": self.subject,
            "title": self.title,
            "severity": self.severity.label,
            "status": self.status,
            "alert_count": self.alert_count,
            "first_at": iso(self.first_at),
            "last_at": iso(self.last_at),
            "opened_at": iso(self.opened_at),
            "updated_at": iso(self.updated_at),
            "acknowledged_at": iso(self.acknowledged_at),
            "acknowledged_by": self.acknowledged_by,
            "resolved_at": iso(self.resolved_at),
            "resolved_by": self.resolved_by,
            "resolution": self.resolution,
        }


@dataclass(frozen=True)
class Raised:
    """What raising one alert did: stored it (``new``), recognised it (``known``: nothing changed), or
    brought a retracted one back (``reinstated``); the alert as stored, and its incident."""

    outcome: RaiseOutcome
    alert: StoredAlert
    incident: Incident

    @property
    def is_new(self) -> bool:
        return self.outcome == "new"


@dataclass(frozen=True)
class Delivery:
    """One alert on its way to one sink."""

    id: int
    alert: StoredAlert
    sink: str
    status: str
    attempts: int
    enqueued_at: datetime
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_error: str | None
    delivered_at: datetime | None


# -- rows to records ----------------------------------------------------------------------------------------


def _alert_record(row: AlertRow) -> StoredAlert:
    alert = Alert(
        rule=row.rule,
        source=row.source,
        severity=Severity(row.severity),
        summary=row.summary,
        key=row.key,
        chain_id=row.chain_id,
        block_number=row.block_number,
        tx_hash=row.tx_hash,
        subject=row.subject,
        values=dict(row.values or {}),
        action=row.action,
        at=as_utc_required(row.at),
    )
    return StoredAlert(
        id=row.id,
        alert=alert,
        incident_id=row.incident_id,
        raised_at=as_utc_required(row.raised_at),
        retracted_at=as_utc(row.retracted_at),
        retraction=row.retraction,
    )


def _incident_record(row: IncidentRow) -> Incident:
    return Incident(
        id=row.id,
        subject=row.subject,
        title=row.title,
        severity=Severity(row.severity),
        status=row.status,
        alert_count=row.alert_count,
        first_at=as_utc_required(row.first_at),
        last_at=as_utc_required(row.last_at),
        opened_at=as_utc_required(row.opened_at),
        updated_at=as_utc_required(row.updated_at),
        acknowledged_at=as_utc(row.acknowledged_at),
        acknowledged_by=row.acknowledged_by,
        resolved_at=as_utc(row.resolved_at),
        resolved_by=row.resolved_by,
        resolution=row.resolution,
    )


def _delivery_record(row: DeliveryRow, alert: AlertRow) -> Delivery:
    return Delivery(
        id=row.id,
        alert=_alert_record(alert),
        sink=row.sink,
        status=row.status,
        attempts=row.attempts,
        enqueued_at=as_utc_required(row.enqueued_at),
        next_attempt_at=as_utc_required(row.next_attempt_at),
        last_attempt_at=as_utc(row.last_attempt_at),
        last_error=row.last_error,
        delivered_at=as_utc(row.delivered_at),
    )


def _check_window(window: timedelta) -> timedelta:
    if not isinstance(window, timedelta) or window < timedelta(0):
        raise ConfigurationError(
            f"the correlation window must be a duration of zero or more (a timedelta), got {window!r}"
        )
    return window


def _check_sinks(sinks: Sequence[str] | Mapping[str, int]) -> dict[str, int]:
    """Sink name -> the least severity it takes (a plain list of names takes every alert)."""
    routes = dict(sinks) if isinstance(sinks, Mapping) else {name: 0 for name in sinks}
    names = tuple(sinks) if not isinstance(sinks, Mapping) else tuple(routes)
    if len(set(names)) != len(names) or any(not n or len(n) > 64 for n in names):
        raise ConfigurationError(
            f"sink names must be distinct and 1 to 64 characters long, got {list(names)!r}: give each sink "
            "a name of its own"
        )
    return {name: int(routes[name]) for name in names}


def _check_actor(by: str) -> str:
    by = by.strip() if isinstance(by, str) else ""
    if not by or len(by) > 128:
        raise ConfigurationError(
            "say who acknowledges or resolves the incident (`by`: a name or handle, 1 to 128 characters)"
        )
    return by


class WatchStore:
    """The watchtower's alerts, incidents and deliveries in `database`; each method is one transaction."""

    def __init__(self, database: Database) -> None:
        self._sessions = database.sessions

    # -- raising ------------------------------------------------------------------------------------------

    def raise_alerts(
        self,
        alerts: Sequence[Alert],
        sinks: Sequence[str] | Mapping[str, int] = (),
        *,
        window: timedelta = DEFAULT_CORRELATION_WINDOW,
        now: datetime | None = None,
    ) -> list[Raised]:
        """Stores each new alert, correlates it into an incident and queues it for every sink in `sinks`
        (by name; or name -> the least :class:`~link_ops.watch.alerts.Severity` the sink takes, for alert
        routing: a pager webhook for ``high`` and above, a file for everything), all in one transaction;
        returns what became of each alert, in order. A key already stored is "known" and changes nothing; a
        retracted one is reinstated (and queued again where its delivery was cancelled)."""
        window = _check_window(window)
        names = _check_sinks(sinks)
        for alert in alerts:
            if not isinstance(alert, Alert):
                raise ConfigurationError(f"raise_alerts takes Alert values, got {type(alert).__name__}")
            if len(alert.key) > MAX_KEY_LENGTH:
                raise ConfigurationError(
                    f"alert key {alert.key[:60]!r}… is {len(alert.key)} characters long: keys are at most "
                    f"{MAX_KEY_LENGTH}; shorten the rule's key"
                )
        now = now or utcnow()
        try:
            return self._raise(alerts, names, window, now)
        except IntegrityError:
            # Another process stored one of these keys between our look-up and our insert: once more, and
            # those keys are known this time.
            return self._raise(alerts, names, window, now)

    def _raise(
        self, alerts: Sequence[Alert], sinks: Mapping[str, int], window: timedelta, now: datetime
    ) -> list[Raised]:
        out: list[Raised] = []
        with self._sessions.begin() as session:
            for alert in alerts:
                row = session.scalar(select(AlertRow).where(AlertRow.key == alert.key))
                if row is not None and row.retracted_at is None:
                    incident = session.get_one(IncidentRow, row.incident_id)
                    out.append(Raised("known", _alert_record(row), _incident_record(incident)))
                    continue
                if row is None:
                    incident = self._correlate(session, alert, window, now)
                    row = AlertRow(
                        key=alert.key,
                        rule=alert.rule,
                        source=alert.source,
                        severity=int(alert.severity),
                        summary=alert.summary,
                        chain_id=alert.chain_id,
                        block_number=alert.block_number,
                        tx_hash=alert.tx_hash,
                        subject=alert.subject,
                        values=dict(alert.values),
                        action=alert.action,
                        at=alert.at,
                        raised_at=now,
                        incident_id=incident.id,
                        retracted_at=None,
                        retraction=None,
                    )
                    session.add(row)
                    session.flush()
                    outcome: RaiseOutcome = "new"
                else:
                    old_incident = row.incident_id
                    incident = self._correlate(session, alert, window, now)
                    row.retracted_at = None
                    row.retraction = None
                    row.block_number = alert.block_number
                    row.tx_hash = alert.tx_hash
                    row.at = alert.at
                    row.incident_id = incident.id
                    session.flush()
                    if old_incident != incident.id:
                        self._recompute(session, old_incident, now, "its alerts moved to a later incident")
                    outcome = "reinstated"
                self._recompute(session, incident.id, now, None)
                routed = [name for name, least in sinks.items() if int(alert.severity) >= least]
                self._enqueue(session, row.id, routed, now)
                session.flush()
                out.append(Raised(outcome, _alert_record(row), _incident_record(incident)))
        return out

    def _correlate(self, session: Session, alert: Alert, window: timedelta, now: datetime) -> IncidentRow:
        """The unresolved incident of the alert's subject whose span, widened by `window`, holds the
        alert's time (the latest of them), else a new incident."""
        subject = correlation_subject(alert)
        candidate = session.scalar(
            select(IncidentRow)
            .where(
                IncidentRow.subject == subject,
                IncidentRow.status != "resolved",
                IncidentRow.first_at <= alert.at + window,
                IncidentRow.last_at >= alert.at - window,
            )
            .order_by(IncidentRow.last_at.desc(), IncidentRow.id.desc())
            .limit(1)
        )
        if candidate is not None:
            if int(alert.severity) > candidate.severity and candidate.status == "acknowledged":
                candidate.status = "open"
                candidate.acknowledged_at = None
                candidate.acknowledged_by = None
            return candidate
        incident = IncidentRow(
            subject=subject,
            title=alert.summary,
            severity=int(alert.severity),
            status="open",
            alert_count=0,
            first_at=alert.at,
            last_at=alert.at,
            opened_at=now,
            updated_at=now,
        )
        session.add(incident)
        session.flush()
        return incident

    def _recompute(self, session: Session, incident_id: int, now: datetime, gone: str | None) -> None:
        """Severity, count and span of an incident from its live alerts; one left with none is resolved
        (`gone` says why)."""
        incident = session.get_one(IncidentRow, incident_id)
        severity, count, first, last = session.execute(
            select(
                func.max(AlertRow.severity),
                func.count(AlertRow.id),
                func.min(AlertRow.at),
                func.max(AlertRow.at),
            ).where(AlertRow.incident_id == incident_id, AlertRow.retracted_at.is_(None))
        ).one()
        incident.updated_at = now
        incident.alert_count = int(count)
        if count:
            incident.severity = int(severity)
            incident.first_at = first
            incident.last_at = last
        elif incident.status != "resolved":
            incident.status = "resolved"
            incident.resolved_at = now
            incident.resolved_by = "link-ops"
            incident.resolution = gone

    def _enqueue(self, session: Session, alert_id: int, sinks: Sequence[str], now: datetime) -> None:
        existing = {
            row.sink: row
            for row in session.scalars(select(DeliveryRow).where(DeliveryRow.alert_id == alert_id))
        }
        for sink in sinks:
            row = existing.get(sink)
            if row is None:
                session.add(
                    DeliveryRow(
                        alert_id=alert_id,
                        sink=sink,
                        status="pending",
                        attempts=0,
                        enqueued_at=now,
                        next_attempt_at=now,
                    )
                )
            elif row.status == "cancelled":
                row.status = "pending"
                row.next_attempt_at = now
                row.enqueued_at = now

    # -- reading ------------------------------------------------------------------------------------------

    def alert(self, key: str) -> StoredAlert | None:
        """The alert stored under `key`, or None."""
        with self._sessions.begin() as session:
            row = session.scalar(select(AlertRow).where(AlertRow.key == key))
            return None if row is None else _alert_record(row)

    def alerts(
        self,
        *,
        since: datetime | None = None,
        min_severity: Severity | None = None,
        incident_id: int | None = None,
        include_retracted: bool = True,
        limit: int | None = None,
    ) -> list[StoredAlert]:
        """Alerts newest first (by the time they happened): those at or after `since`, of `min_severity` or
        more, of one incident; retracted ones included unless told otherwise (they say so)."""
        if since is not None and since.utcoffset() is None:
            raise ConfigurationError(f"`since` must be timezone-aware (UTC), got {since!r}")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ConfigurationError(f"limit must be a whole number of 1 or more, got {limit!r}")
        query = select(AlertRow)
        if since is not None:
            query = query.where(AlertRow.at >= since)
        if min_severity is not None:
            query = query.where(AlertRow.severity >= int(min_severity))
        if incident_id is not None:
            query = query.where(AlertRow.incident_id == incident_id)
        if not include_retracted:
            query = query.where(AlertRow.retracted_at.is_(None))
        query = query.order_by(AlertRow.at.desc(), AlertRow.id.desc())
        if limit is not None:
            query = query.limit(limit)
        with self._sessions.begin() as session:
            return [_alert_record(row) for row in session.scalars(query)]

    def incident(self, incident_id: int) -> Incident:
        """The incident of that id; :class:`UnknownIncidentError` when there is none."""
        with self._sessions.begin() as session:
            return _incident_record(self._incident_row(session, incident_id))

    def incidents(self, statuses: Sequence[str] | None = ACTIVE_STATUSES) -> list[Incident]:
        """Incidents in those statuses (None: all), most severe first, then the most recently active."""
        query = select(IncidentRow)
        if statuses is not None:
            query = query.where(IncidentRow.status.in_(tuple(statuses)))
        query = query.order_by(IncidentRow.severity.desc(), IncidentRow.last_at.desc(), IncidentRow.id.desc())
        with self._sessions.begin() as session:
            return [_incident_record(row) for row in session.scalars(query)]

    def open_incident_counts(self) -> dict[Severity, int]:
        """How many incidents are not resolved, by severity (every severity present, zero included)."""
        counts = dict.fromkeys(Severity, 0)
        query = (
            select(IncidentRow.severity, func.count(IncidentRow.id))
            .where(IncidentRow.status.in_(ACTIVE_STATUSES))
            .group_by(IncidentRow.severity)
        )
        with self._sessions.begin() as session:
            for severity, count in session.execute(query):
                counts[Severity(severity)] = int(count)
        return counts

    @staticmethod
    def _incident_row(session: Session, incident_id: int) -> IncidentRow:
        row = session.get(IncidentRow, incident_id)
        if row is None:
            raise UnknownIncidentError(
                f"no incident {incident_id}: list the open ones with incidents() (or GET /api/incidents)"
            )
        return row

    # -- acting on incidents -------------------------------------------------------------------------------

    def acknowledge(self, incident_id: int, by: str, *, now: datetime | None = None) -> Incident:
        """Marks the incident acknowledged by `by` (someone is on it). Acknowledging it again changes
        nothing; a resolved incident cannot be: :class:`IncidentStateError`."""
        by = _check_actor(by)
        with self._sessions.begin() as session:
            row = self._incident_row(session, incident_id)
            if row.status == "resolved":
                raise IncidentStateError(
                    f"incident {incident_id} is resolved already: nothing to acknowledge (a new alert about "
                    "its subject opens a new incident)"
                )
            if row.status == "open":
                row.status = "acknowledged"
                row.acknowledged_at = now or utcnow()
                row.acknowledged_by = by
                row.updated_at = row.acknowledged_at
            session.flush()
            return _incident_record(row)

    def resolve(
        self, incident_id: int, by: str, *, note: str | None = None, now: datetime | None = None
    ) -> Incident:
        """Marks the incident resolved by `by`, with a `note` on what was done. Resolving it again changes
        nothing. Later alerts about its subject open a new incident."""
        by = _check_actor(by)
        with self._sessions.begin() as session:
            row = self._incident_row(session, incident_id)
            if row.status != "resolved":
                row.status = "resolved"
                row.resolved_at = now or utcnow()
                row.resolved_by = by
                row.resolution = note
                row.updated_at = row.resolved_at
            session.flush()
            return _incident_record(row)

    # -- reorganisations ----------------------------------------------------------------------------------

    def judged(self, chain_id: int) -> tuple[int, int] | None:
        """The blocks of `chain_id` the intrusion rules have judged, ``(first, last)``; None: none yet."""
        chain_id = check_chain_id(chain_id)
        with self._sessions.begin() as session:
            row = session.get(JudgedRow, chain_id)
            return None if row is None else (int(row.first_block), int(row.last_block))

    def set_judged(
        self, chain_id: int, first_block: int, last_block: int, *, now: datetime | None = None
    ) -> None:
        """Records that the rules have judged `chain_id` from `first_block` up to `last_block` (lowered after
        a reorganisation: the blocks above are judged again)."""
        chain_id = check_chain_id(chain_id)
        for name, value in (("first_block", first_block), ("last_block", last_block)):
            if isinstance(value, bool) or not isinstance(value, int) or value < -1:
                raise ConfigurationError(f"{name} must be a block number (or -1: none), got {value!r}")
        with self._sessions.begin() as session:
            row = session.get(JudgedRow, chain_id)
            if row is None:
                session.add(
                    JudgedRow(
                        chain_id=chain_id,
                        first_block=first_block,
                        last_block=last_block,
                        updated_at=now or utcnow(),
                    )
                )
            else:
                row.first_block, row.last_block, row.updated_at = first_block, last_block, now or utcnow()

    def retract_reorganised(
        self, chain_id: int, from_block: int, *, now: datetime | None = None, reason: str | None = None
    ) -> list[StoredAlert]:
        """Marks retracted every live alert about block `from_block` or later of `chain_id` (the blocks a
        reorganisation replaced), cancels their undelivered deliveries and recomputes their incidents.
        Returns the alerts retracted now. The rows stay: :meth:`alerts` lists them, marked."""
        chain_id = check_chain_id(chain_id)
        if isinstance(from_block, bool) or not isinstance(from_block, int) or from_block < 0:
            raise ConfigurationError(f"from_block must be a block number (0 or more), got {from_block!r}")
        now = now or utcnow()
        reason = reason or f"block {from_block} and later of chain {chain_id} were reorganised away"
        with self._sessions.begin() as session:
            rows = list(
                session.scalars(
                    select(AlertRow)
                    .where(
                        AlertRow.chain_id == chain_id,
                        AlertRow.block_number >= from_block,
                        AlertRow.retracted_at.is_(None),
                    )
                    .order_by(AlertRow.id)
                )
            )
            for row in rows:
                row.retracted_at = now
                row.retraction = reason
            session.flush()
            ids = [row.id for row in rows]
            if ids:
                session.execute(
                    update(DeliveryRow)
                    .where(DeliveryRow.alert_id.in_(ids), DeliveryRow.status == "pending")
                    .values(status="cancelled")
                )
            for incident_id in sorted({row.incident_id for row in rows}):
                self._recompute(session, incident_id, now, f"retracted: {reason}")
            session.flush()
            return [_alert_record(row) for row in rows]

    # -- the outbox ---------------------------------------------------------------------------------------

    def due_deliveries(self, sink: str, *, now: datetime | None = None, limit: int = 100) -> list[Delivery]:
        """The pending deliveries of `sink` whose next attempt is due at `now`, oldest alert first."""
        now = now or utcnow()
        query = (
            select(DeliveryRow, AlertRow)
            .join(AlertRow, AlertRow.id == DeliveryRow.alert_id)
            .where(
                DeliveryRow.sink == sink,
                DeliveryRow.status == "pending",
                DeliveryRow.next_attempt_at <= now,
            )
            .order_by(DeliveryRow.id)
            .limit(limit)
        )
        with self._sessions.begin() as session:
            return [_delivery_record(d, a) for d, a in session.execute(query)]

    def next_attempt_at(self, sink: str) -> datetime | None:
        """When the earliest pending delivery of `sink` is due (None: nothing pending)."""
        query = select(func.min(DeliveryRow.next_attempt_at)).where(
            DeliveryRow.sink == sink, DeliveryRow.status == "pending"
        )
        with self._sessions.begin() as session:
            return as_utc(session.scalar(query))

    def deliveries(self, *, alert_key: str | None = None, sink: str | None = None) -> list[Delivery]:
        """Every delivery (of one alert, of one sink), in the order they were queued."""
        query = select(DeliveryRow, AlertRow).join(AlertRow, AlertRow.id == DeliveryRow.alert_id)
        if alert_key is not None:
            query = query.where(AlertRow.key == alert_key)
        if sink is not None:
            query = query.where(DeliveryRow.sink == sink)
        with self._sessions.begin() as session:
            return [_delivery_record(d, a) for d, a in session.execute(query.order_by(DeliveryRow.id))]

    def delivery_counts(self) -> dict[tuple[str, str], int]:
        """How many deliveries each sink has in each status: ``{(sink, status): n}``."""
        query = select(DeliveryRow.sink, DeliveryRow.status, func.count(DeliveryRow.id)).group_by(
            DeliveryRow.sink, DeliveryRow.status
        )
        with self._sessions.begin() as session:
            return {(sink, status): int(n) for sink, status, n in session.execute(query)}

    def _pending_delivery(self, session: Session, delivery_id: int) -> DeliveryRow | None:
        row = session.get(DeliveryRow, delivery_id)
        if row is None:
            raise UnknownDeliveryError(f"no delivery {delivery_id}: it was never queued")
        return row if row.status == "pending" else None

    def mark_delivered(self, delivery_id: int, *, now: datetime | None = None) -> bool:
        """Records that the sink took the alert (counts the attempt). False when the delivery was no longer
        pending (cancelled meanwhile, or delivered already): nothing changes then."""
        now = now or utcnow()
        with self._sessions.begin() as session:
            row = self._pending_delivery(session, delivery_id)
            if row is None:
                return False
            row.status = "delivered"
            row.attempts += 1
            row.last_attempt_at = now
            row.delivered_at = now
            row.last_error = None
            return True

    def record_failure(
        self, delivery_id: int, error: str, *, retry_at: datetime | None, now: datetime | None = None
    ) -> bool:
        """Counts a failed attempt with its `error`: tried again at `retry_at`, or given up on (failed)
        when `retry_at` is None. False when the delivery was no longer pending."""
        now = now or utcnow()
        with self._sessions.begin() as session:
            row = self._pending_delivery(session, delivery_id)
            if row is None:
                return False
            row.attempts += 1
            row.last_attempt_at = now
            row.last_error = error[:2000]
            if retry_at is None:
                row.status = "failed"
            else:
                row.next_attempt_at = retry_at
            return True

    def retry_failed(self, sink: str | None = None, *, now: datetime | None = None) -> int:
        """Queues the deliveries a sink gave up on once more (after its receiver was fixed); returns how
        many."""
        now = now or utcnow()
        query = update(DeliveryRow).where(DeliveryRow.status == "failed")
        if sink is not None:
            query = query.where(DeliveryRow.sink == sink)
        with self._sessions.begin() as session:
            result = session.execute(
                query.values(status="pending", next_attempt_at=now, enqueued_at=now).execution_options(
                    synchronize_session=False
                )
            )
            return int(getattr(result, "rowcount", 0) or 0)
