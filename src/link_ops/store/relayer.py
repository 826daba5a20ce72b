"""The bridge relayer's records: per source chain, the first block not yet read, and every message seen.

The relayer records its cursor together with the messages it found below it, in one transaction
(:meth:`RelayerStore.record_scan`), and marks each delivered once it is executed on its destination.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Integer,
    String,
    Text,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, validates

from link_ops.model.attest import Message
from link_ops.store.engine import (
    Base,
    Database,
    OpsStoreError,
    UTCDateTime,
    as_utc,
    as_utc_required,
    check_address,
    check_chain_id,
    one_of,
    utcnow,
    without_nul,
)

MessageStatus = Literal["pending", "delivered"]


#: A relayed message is "pending" until the relayer saw it executed on its destination.
MESSAGE_STATUSES: tuple[str, ...] = get_args(MessageStatus)


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


class RelayerCursorRow(Base):
    """Where the relayer reads next on one source chain (the first block not yet read)."""

    __tablename__ = "relayer_cursors"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    messenger: Mapped[str] = mapped_column(String(42), primary_key=True)
    next_block: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RelayedMessageRow(Base):
    __tablename__ = "relayed_messages"
    __table_args__ = (CheckConstraint(one_of("status", MESSAGE_STATUSES), name="ck_relayed_messages_status"),)

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

    @validates("last_error")
    def _free_text(self, _key: str, value: str | None) -> str | None:
        return without_nul(value)


# By source chain and nonce; two messengers of one chain may share a nonce: their ids decide, the same way on
# every backend (hex digits sort alike in every collation).
_SOURCE_ORDER = (RelayedMessageRow.src_chain_id, RelayedMessageRow.nonce, RelayedMessageRow.message_id)


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
        seen_at=as_utc_required(row.seen_at),
        delivered_at=as_utc(row.delivered_at),
    )


class RelayerStore:
    """The relayer's cursors and messages in `database`; each method is one transaction."""

    def __init__(self, database: Database) -> None:
        self._sessions = database.sessions

    def relayer_cursor(self, chain_id: int, messenger: str) -> int | None:
        """The first block of `chain_id` the relayer has not read for `messenger`, or None (never read)."""
        with self._sessions.begin() as session:
            row = session.get(RelayerCursorRow, (check_chain_id(chain_id), check_address(messenger)))
            return None if row is None else row.next_block

    def record_scan(
        self, chain_id: int, messenger: str, next_block: int, seen: Sequence[Message]
    ) -> list[RelayedMessage]:
        """In one transaction: stores the messages `seen` (as pending, unless known already) and moves the
        cursor of `chain_id` to `next_block`. A relayer killed before this commits reads the blocks again;
        after it, the messages are on record. Returns the messages that were new.

        Raises :class:`OpsStoreError` when `next_block` would move the cursor backwards.
        """
        chain_id, messenger = check_chain_id(chain_id), check_address(messenger)
        now = utcnow()
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
                    src_messenger=check_address(message.src_messenger),
                    sender=check_address(message.sender),
                    dst_chain_id=message.dst_chain_id,
                    receiver=check_address(message.receiver),
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
        chain_id, messenger = check_chain_id(chain_id), check_address(messenger)
        with self._sessions.begin() as session:
            cursor = session.get(RelayerCursorRow, (chain_id, messenger))
            if cursor is None:
                session.add(
                    RelayerCursorRow(
                        chain_id=chain_id, messenger=messenger, next_block=next_block, updated_at=utcnow()
                    )
                )
            else:
                cursor.next_block = next_block
                cursor.updated_at = utcnow()

    def pending_messages(self, dst_chain_id: int | None = None) -> list[RelayedMessage]:
        """Messages not yet seen executed, oldest first (by source chain and nonce)."""
        query = select(RelayedMessageRow).where(RelayedMessageRow.status == "pending")
        if dst_chain_id is not None:
            query = query.where(RelayedMessageRow.dst_chain_id == dst_chain_id)
        query = query.order_by(*_SOURCE_ORDER)
        with self._sessions.begin() as session:
            return [_message_record(row) for row in session.scalars(query)]

    def get_message(self, message_id: str) -> RelayedMessage | None:
        with self._sessions.begin() as session:
            row = session.get(RelayedMessageRow, message_id)
            return None if row is None else _message_record(row)

    def list_messages(self) -> list[RelayedMessage]:
        """Every message on record, by source chain and nonce."""
        query = select(RelayedMessageRow).order_by(*_SOURCE_ORDER)
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
                row.delivered_at = utcnow()
            session.flush()
            return _message_record(row)
