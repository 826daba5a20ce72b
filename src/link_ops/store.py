"""The operations store: partners, their onboarding steps and their monitoring, and the bridge relayer's
cursors and messages, in one SQL database.

Onboarding records each step here as it finishes, so an interrupted onboarding resumes where it stopped
(:meth:`OpsStore.completed_steps`), and step 4 registers the partner for monitoring
(:meth:`OpsStore.activate`). A partner is keyed by ``(partner_id, chain_id)``: the same partner can live on
Amoy and on mainnet. The relayer records, per source chain, the first block it has not read, together with
the messages it found there, in one transaction (:meth:`OpsStore.record_scan`), and marks each delivered once
it is executed on its destination.

The database is the SQLite file ``.link_ops/ops.db`` under the project root (the current directory), or
any SQLAlchemy URL given by ``$LINK_OPS_DB_URL`` or to :class:`OpsStore` (e.g. ``postgresql+psycopg://…``;
its driver must be installed). Every method is one transaction and returns plain frozen records, never ORM
objects. Pure module: no ape, no network besides the database.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any, Literal, get_args

from eth_utils.address import to_checksum_address
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    Engine,
    ForeignKeyConstraint,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from .attest import Message
from .exceptions import ConfigurationError, LinkOpsError
from .partners_config import PartnerConfig, is_valid_address

PartnerStatus = Literal["onboarding", "active", "failed"]
StepName = Literal["validate", "deploy", "fund", "monitor"]
StepStatus = Literal["done", "failed"]

MessageStatus = Literal["pending", "delivered"]
PARTNER_STATUSES: tuple[str, ...] = get_args(PartnerStatus)
#: A relayed message is "pending" until the relayer saw it executed on its destination.
MESSAGE_STATUSES: tuple[str, ...] = get_args(MessageStatus)
#: The onboarding steps, in the order they run.
STEPS: tuple[str, ...] = get_args(StepName)
STEP_STATUSES: tuple[str, ...] = get_args(StepStatus)

#: The environment variable that overrides the default database (any SQLAlchemy URL).
DB_URL_ENV = "LINK_OPS_DB_URL"
#: Where the default SQLite database lives, under the project root.
DEFAULT_DB_PATH = Path(".link_ops") / "ops.db"
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


class OpsStoreError(LinkOpsError):
    """The operations store refused an operation, or cannot be reached."""


class StoreConfigurationError(ConfigurationError):
    """The database URL is malformed, or its driver is not installed."""


class UnknownPartnerError(OpsStoreError):
    """No partner of that id on that chain: its onboarding has not begun."""


class StepAlreadyDoneError(OpsStoreError):
    """The onboarding step is already recorded as done; a done step is never recorded again."""


class PartnerStateError(OpsStoreError):
    """The partner's status does not allow the operation (e.g. failing an active partner)."""


class ConfigMismatchError(OpsStoreError):
    """Onboarding resumed with a config that differs from the one its done steps were carried out with."""


# --------------------------------------------------------------------------------------------- records


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


@dataclass(frozen=True)
class RelayedMessage:
    """A cross-chain message the relayer has seen, and whether it is executed on its destination."""

    message_id: str
    src_chain_id: int
    src_messenger: str
    sender: str
    dst_chain_id: int
    receiver: str
    nonce: int
    payload: bytes
    status: str
    attempts: int
    tx_hash: str | None
    last_error: str | None
    seen_at: datetime
    delivered_at: datetime | None

    @property
    def message(self) -> Message:
        """The message itself, as the messenger delivers it."""
        return Message(
            self.src_chain_id,
            self.src_messenger,
            self.sender,
            self.dst_chain_id,
            self.receiver,
            self.nonce,
            self.payload,
        )


# ------------------------------------------------------------------------------------------------ tables


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored as naive UTC on every backend and read back as UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(
                f"{value!r} has no timezone: pass an aware datetime, e.g. datetime.now(timezone.utc)"
            )
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected the database to return a datetime, got {value!r}")
        return value.replace(tzinfo=timezone.utc)


def _one_of(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _partner_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["partner_id", "chain_id"], ["partners.partner_id", "partners.chain_id"])


class Base(DeclarativeBase):
    """The store's tables."""


class PartnerRow(Base):
    __tablename__ = "partners"
    __table_args__ = (CheckConstraint(_one_of("status", PARTNER_STATUSES), name="ck_partners_status"),)

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


class StepRow(Base):
    __tablename__ = "onboarding_steps"
    __table_args__ = (
        _partner_fk(),
        UniqueConstraint("partner_id", "chain_id", "step", name="uq_onboarding_steps_step"),
        CheckConstraint(_one_of("step", STEPS), name="ck_onboarding_steps_step"),
        CheckConstraint(_one_of("status", STEP_STATUSES), name="ck_onboarding_steps_status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(String(32))
    chain_id: Mapped[int] = mapped_column(BigInteger)
    step: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    gas_used: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class MonitoringRow(Base):
    __tablename__ = "monitoring"
    __table_args__ = (_partner_fk(),)

    partner_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    endpoints_json: Mapped[str] = mapped_column(Text)
    sla_json: Mapped[str] = mapped_column(Text)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RelayerCursorRow(Base):
    """Where the relayer reads next on one source chain (the first block not yet read)."""

    __tablename__ = "relayer_cursors"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    messenger: Mapped[str] = mapped_column(String(42), primary_key=True)
    next_block: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RelayedMessageRow(Base):
    __tablename__ = "relayed_messages"
    __table_args__ = (
        CheckConstraint(_one_of("status", MESSAGE_STATUSES), name="ck_relayed_messages_status"),
    )

    message_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    src_chain_id: Mapped[int] = mapped_column(BigInteger)
    src_messenger: Mapped[str] = mapped_column(String(42))
    sender: Mapped[str] = mapped_column(String(42))
    dst_chain_id: Mapped[int] = mapped_column(BigInteger)
    receiver: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[int] = mapped_column(BigInteger)
    payload_hex: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    last_error: Mapped[str | None] = mapped_column(Text)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# ------------------------------------------------------------------------------------------------- store


def default_db_url(project_root: str | Path | None = None) -> str:
    """The database used when none is given: ``$LINK_OPS_DB_URL`` when set, else the SQLite file
    ``<project_root>/.link_ops/ops.db`` (`project_root` defaults to the current directory).

    :class:`OpsStore` creates the file's folder; this function touches nothing.
    """
    from_env = os.environ.get(DB_URL_ENV, "").strip()
    if from_env:
        return from_env
    root = Path(project_root) if project_root is not None else Path.cwd()
    return f"sqlite:///{(root / DEFAULT_DB_PATH).resolve()}"


class OpsStore:
    """Partners, onboarding steps and monitoring registrations in the database at `url`.

    `url` defaults to :func:`default_db_url`. The tables are created when missing; for a SQLite file, so is
    its folder. Each method runs in a transaction of its own.
    """

    def __init__(self, url: str | None = None) -> None:
        source = (
            "url" if url is not None else (DB_URL_ENV if os.environ.get(DB_URL_ENV, "").strip() else None)
        )
        raw = url if url is not None else default_db_url()
        self._engine = _engine(raw, source)
        self.url = self._engine.url.render_as_string(hide_password=True)
        try:
            Base.metadata.create_all(self._engine)
        except OperationalError as exc:
            self._engine.dispose()
            raise OpsStoreError(
                f"cannot open the operations store at {self.url}: {exc.orig}. Check that the database is "
                f"reachable and writable, or point {DB_URL_ENV} at another database."
            ) from exc
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)

    def __repr__(self) -> str:
        return f"OpsStore({self.url!r})"

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for reports and maintenance beyond this class's methods."""
        return self._engine

    def close(self) -> None:
        """Closes the store's database connections."""
        self._engine.dispose()

    def __enter__(self) -> OpsStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- onboarding

    def begin_onboarding(self, config: PartnerConfig, chain_id: int) -> PartnerRecord:
        """The partner of `config` on `chain_id`, created with status "onboarding" when new.

        A partner that failed goes back to "onboarding" (a retry keeps its done steps); an "active" partner
        is returned unchanged. Raises :class:`ConfigMismatchError` when steps are already done with a
        different config: resuming with it would mix two configs.
        """
        chain_id = _chain_id(chain_id)
        config_json = config.model_dump_json()
        now = _utcnow()
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
        chain_id = _chain_id(chain_id)
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
        chain_id = _chain_id(chain_id)
        address = _address(contract_address)
        if not isinstance(integration_time, datetime) or integration_time.utcoffset() is None:
            raise ConfigurationError(
                f"integration_time must be a timezone-aware datetime, got {integration_time!r}: "
                "use e.g. datetime.now(timezone.utc)"
            )
        urls = _endpoints(endpoints)
        levels = _sla(sla)
        now = _utcnow()
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
        chain_id = _chain_id(chain_id)
        with self._sessions.begin() as session:
            partner = _partner_row(session, partner_id, chain_id)
            if partner.status == "active":
                raise PartnerStateError(
                    f"{_who(partner_id, chain_id)} is active: its onboarding is over and cannot fail "
                    f"({reason}). Look into it through monitoring instead."
                )
            partner.status = "failed"
            partner.failure_reason = reason
            partner.updated_at = _utcnow()
            session.flush()
            return _partner_record(partner)

    def forget(self, partner_id: str, chain_id: int) -> bool:
        """Deletes every record of the partner on `chain_id` (monitoring, steps, partner) in one transaction.

        For records that no longer match their chain, e.g. a restarted local node under the same chain id.
        Returns whether there was a partner to forget.
        """
        with self._sessions.begin() as session:
            row = session.get(PartnerRow, (partner_id, chain_id))
            if row is None:
                return False
            for table in (MonitoringRow, StepRow):
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
        query = select(PartnerRow).order_by(PartnerRow.chain_id, PartnerRow.partner_id)
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

    # -- relaying

    def relayer_cursor(self, chain_id: int, messenger: str) -> int | None:
        """The first block of `chain_id` the relayer has not read for `messenger`, or None (never read)."""
        with self._sessions.begin() as session:
            row = session.get(RelayerCursorRow, (_chain_id(chain_id), _address(messenger)))
            return None if row is None else row.next_block

    def record_scan(
        self, chain_id: int, messenger: str, next_block: int, seen: Sequence[Message]
    ) -> list[RelayedMessage]:
        """In one transaction: stores the messages `seen` (as pending, unless known already) and moves the
        cursor of `chain_id` to `next_block`. A relayer killed before this commits reads the blocks again;
        after it, the messages are on record. Returns the messages that were new.

        Raises :class:`OpsStoreError` when `next_block` would move the cursor backwards.
        """
        chain_id, messenger = _chain_id(chain_id), _address(messenger)
        now = _utcnow()
        new: list[RelayedMessage] = []
        with self._sessions.begin() as session:
            cursor = session.get(RelayerCursorRow, (chain_id, messenger))
            if cursor is not None and next_block < cursor.next_block:
                raise OpsStoreError(
                    f"the relayer cursor of chain {chain_id} is at block {cursor.next_block}; refusing to "
                    f"move it back to {next_block}. Use reset_relayer_cursor to read old blocks again."
                )
            for message in seen:
                message_id = "0x" + message.message_id.hex()
                if session.get(RelayedMessageRow, message_id) is not None:
                    continue
                row = RelayedMessageRow(
                    message_id=message_id,
                    src_chain_id=message.src_chain_id,
                    src_messenger=_address(message.src_messenger),
                    sender=_address(message.sender),
                    dst_chain_id=message.dst_chain_id,
                    receiver=_address(message.receiver),
                    nonce=message.nonce,
                    payload_hex=bytes(message.payload).hex(),
                    status="pending",
                    attempts=0,
                    tx_hash=None,
                    last_error=None,
                    seen_at=now,
                    delivered_at=None,
                )
                session.add(row)
                session.flush()
                new.append(_message_record(row))
            if cursor is None:
                session.add(
                    RelayerCursorRow(
                        chain_id=chain_id, messenger=messenger, next_block=next_block, updated_at=now
                    )
                )
            else:
                cursor.next_block = next_block
                cursor.updated_at = now
        return new

    def reset_relayer_cursor(self, chain_id: int, messenger: str, next_block: int) -> None:
        """Moves the cursor of `chain_id` to `next_block`, backwards too (to read blocks again)."""
        chain_id, messenger = _chain_id(chain_id), _address(messenger)
        with self._sessions.begin() as session:
            cursor = session.get(RelayerCursorRow, (chain_id, messenger))
            if cursor is None:
                session.add(
                    RelayerCursorRow(
                        chain_id=chain_id, messenger=messenger, next_block=next_block, updated_at=_utcnow()
                    )
                )
            else:
                cursor.next_block = next_block
                cursor.updated_at = _utcnow()

    def pending_messages(self, dst_chain_id: int | None = None) -> list[RelayedMessage]:
        """Messages not yet seen executed, oldest first (by source chain and nonce)."""
        query = select(RelayedMessageRow).where(RelayedMessageRow.status == "pending")
        if dst_chain_id is not None:
            query = query.where(RelayedMessageRow.dst_chain_id == dst_chain_id)
        query = query.order_by(RelayedMessageRow.src_chain_id, RelayedMessageRow.nonce)
        with self._sessions.begin() as session:
            return [_message_record(row) for row in session.scalars(query)]

    def get_message(self, message_id: str) -> RelayedMessage | None:
        with self._sessions.begin() as session:
            row = session.get(RelayedMessageRow, message_id)
            return None if row is None else _message_record(row)

    def list_messages(self) -> list[RelayedMessage]:
        """Every message on record, by source chain and nonce."""
        query = select(RelayedMessageRow).order_by(RelayedMessageRow.src_chain_id, RelayedMessageRow.nonce)
        with self._sessions.begin() as session:
            return [_message_record(row) for row in session.scalars(query)]

    def record_delivery_attempt(self, message_id: str, error: str | None = None) -> RelayedMessage:
        """Counts one delivery attempt of a pending message (with the error that stopped it, if any)."""
        with self._sessions.begin() as session:
            row = _message_row(session, message_id)
            row.attempts += 1
            row.last_error = error
            session.flush()
            return _message_record(row)

    def mark_delivered(self, message_id: str, tx_hash: str | None) -> RelayedMessage:
        """Records that the message is executed on its destination (`tx_hash`: ours, or None when someone
        else's delivery was found). Idempotent."""
        with self._sessions.begin() as session:
            row = _message_row(session, message_id)
            if row.status != "delivered":
                row.status = "delivered"
                row.tx_hash = tx_hash
                row.last_error = None
                row.delivered_at = _utcnow()
            session.flush()
            return _message_record(row)


# ------------------------------------------------------------------------------------------------ helpers


def _engine(url: str, source: str | None) -> Engine:
    """An engine for `url`; for a SQLite file, with its folder made and foreign keys enforced."""
    origin = {"url": "the url given", DB_URL_ENV: f"${DB_URL_ENV}"}.get(source or "", "the default")
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreConfigurationError(
            f"{origin} {url!r} is not a database URL: write it as SQLAlchemy does, e.g. "
            "sqlite:////abs/path/ops.db or postgresql+psycopg://user:password@host/dbname"
        ) from exc
    sqlite = parsed.get_backend_name() == "sqlite"
    if (
        sqlite
        and parsed.database
        and parsed.database != ":memory:"
        and not parsed.database.startswith("file:")
    ):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(parsed)
    except (NoSuchModuleError, ImportError) as exc:
        raise StoreConfigurationError(
            f"{origin} {parsed.render_as_string(hide_password=True)!r} needs a database driver that is not "
            f"installed ({exc}): install it into the venv, or use a sqlite:/// URL"
        ) from exc
    if sqlite:

        @event.listens_for(engine, "connect")
        def _enforce_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    return engine


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _who(partner_id: str, chain_id: int) -> str:
    return f"partner {partner_id!r} on chain {chain_id}"


def _chain_id(chain_id: int) -> int:
    if isinstance(chain_id, bool) or not isinstance(chain_id, int) or chain_id <= 0:
        raise ConfigurationError(f"chain_id must be a positive whole number, got {chain_id!r}")
    return chain_id


def _address(value: str) -> str:
    if not is_valid_address(value):
        raise ConfigurationError(
            f"contract_address must be a 0x address of 40 hex digits (mixed case only with a valid EIP-55 "
            f"checksum), got {value!r}"
        )
    return to_checksum_address(value)


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
    row.at = _utcnow()
    return row


def _partner_record(row: PartnerRow) -> PartnerRecord:
    return PartnerRecord(
        partner_id=row.partner_id,
        chain_id=row.chain_id,
        name=row.name,
        status=row.status,
        contract_address=row.contract_address,
        integration_time=_as_utc(row.integration_time),
        config_json=row.config_json,
        failure_reason=row.failure_reason,
        created_at=_as_utc_required(row.created_at),
        updated_at=_as_utc_required(row.updated_at),
    )


def _step_record(row: StepRow) -> StepRecord:
    return StepRecord(
        partner_id=row.partner_id,
        chain_id=row.chain_id,
        step=row.step,
        status=row.status,
        detail=row.detail,
        gas_used=row.gas_used,
        at=_as_utc_required(row.at),
    )


def _as_utc(value: datetime | None) -> datetime | None:
    """`value` in UTC: rows just written still hold the caller's datetime, read rows already hold UTC."""
    return None if value is None else value.astimezone(timezone.utc)


def _as_utc_required(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


def _message_row(session: Session, message_id: str) -> RelayedMessageRow:
    row = session.get(RelayedMessageRow, message_id)
    if row is None:
        raise OpsStoreError(f"no relayed message {message_id} on record: the relayer has not seen it")
    return row


def _message_record(row: RelayedMessageRow) -> RelayedMessage:
    return RelayedMessage(
        message_id=row.message_id,
        src_chain_id=row.src_chain_id,
        src_messenger=row.src_messenger,
        sender=row.sender,
        dst_chain_id=row.dst_chain_id,
        receiver=row.receiver,
        nonce=row.nonce,
        payload=bytes.fromhex(row.payload_hex),
        status=row.status,
        attempts=row.attempts,
        tx_hash=row.tx_hash,
        last_error=row.last_error,
        seen_at=_as_utc_required(row.seen_at),
        delivered_at=_as_utc(row.delivered_at),
    )
