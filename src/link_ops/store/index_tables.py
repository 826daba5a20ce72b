"""The event index's tables, and the records the indexer writes into them.

- ``index_events``: every indexed event, one row per log: where it is (chain, block, log index, block hash,
  transaction), who emitted it (address, contract name), the event's name and its decoded arguments (JSON),
  the block's time, and the columns the queries filter on: ``from_address``/``to_address`` of a
  ``Transfer`` with its ``token_id`` (ERC-721) or ``amount`` (ERC-20, a decimal string: SQLite has no
  256-bit numbers), and the ``transfer_id`` of every bridge event;
- ``index_claims``: the LBC mints that are reward claims (the mint's log, the holder, the amount, the cubes);
- ``index_blocks``: the hash (and parent hash) of the blocks that may still be reorganised away, and of
  the last indexed block: what each round checks against the chain;
- ``index_cursors``: per chain, the last indexed block and its hash, the first block, and the contracts
  the index reads (so that an index is never continued for other contracts).

Rows are only ever written and deleted by :class:`~link_ops.store.index.IndexStore`, a batch (events,
claims, blocks and the cursor) in one transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from link_ops.store.engine import Base, UTCDateTime

#: JSON, stored as JSONB on PostgreSQL (queryable there with its JSON operators).
JsonColumn = JSON().with_variant(JSONB(), "postgresql")


class IndexCursorRow(Base):
    """How far the index of one chain has got."""

    __tablename__ = "index_cursors"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    start_block: Mapped[int] = mapped_column(BigInteger)
    last_block: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(66))
    contracts_json: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IndexBlockRow(Base):
    """A block whose hash the index checks: one not yet final, or the last indexed one."""

    __tablename__ = "index_blocks"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(66))
    parent_hash: Mapped[str] = mapped_column(String(66))
    block_time: Mapped[int] = mapped_column(BigInteger)


class IndexEventRow(Base):
    __tablename__ = "index_events"
    __table_args__ = (
        Index("ix_index_events_event", "event", "chain_id"),
        Index("ix_index_events_transfer_id", "transfer_id"),
        Index("ix_index_events_token", "chain_id", "address", "token_id"),
    )

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    block_hash: Mapped[str] = mapped_column(String(66))
    tx_hash: Mapped[str] = mapped_column(String(66))
    address: Mapped[str] = mapped_column(String(42))
    contract: Mapped[str] = mapped_column(String(40))
    event: Mapped[str] = mapped_column(String(40))
    args: Mapped[dict[str, Any]] = mapped_column(JsonColumn)
    block_time: Mapped[int] = mapped_column(BigInteger)
    from_address: Mapped[str | None] = mapped_column(String(42))
    to_address: Mapped[str | None] = mapped_column(String(42))
    token_id: Mapped[int | None] = mapped_column(BigInteger)
    amount: Mapped[str | None] = mapped_column(String(78))
    transfer_id: Mapped[str | None] = mapped_column(String(66))


class IndexClaimRow(Base):
    __tablename__ = "index_claims"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    block_hash: Mapped[str] = mapped_column(String(66))
    tx_hash: Mapped[str] = mapped_column(String(66))
    holder: Mapped[str] = mapped_column(String(42))
    amount: Mapped[str] = mapped_column(String(78))
    cube_ids: Mapped[list[int]] = mapped_column(JsonColumn)
    block_time: Mapped[int] = mapped_column(BigInteger)


#: The columns of ``index_events`` in the order :meth:`IndexedEvent.values` gives them.
EVENT_COLUMNS = (
    "chain_id",
    "block_number",
    "log_index",
    "block_hash",
    "tx_hash",
    "address",
    "contract",
    "event",
    "args",
    "block_time",
    "from_address",
    "to_address",
    "token_id",
    "amount",
    "transfer_id",
)

#: The columns of ``index_claims`` in the order :meth:`IndexedClaim.values` gives them.
CLAIM_COLUMNS = (
    "chain_id",
    "block_number",
    "log_index",
    "block_hash",
    "tx_hash",
    "holder",
    "amount",
    "cube_ids",
    "block_time",
)


@dataclass(frozen=True, slots=True)
class IndexedEvent:
    """One event as the index stores it (see the module's description of ``index_events``)."""

    chain_id: int
    block_number: int
    log_index: int
    block_hash: str
    tx_hash: str
    address: str
    contract: str
    event: str
    args: dict[str, Any]
    block_time: int
    from_address: str | None = None
    to_address: str | None = None
    token_id: int | None = None
    amount: str | None = None
    transfer_id: str | None = None

    @classmethod
    def of(
        cls,
        chain_id: int,
        block_number: int,
        log_index: int,
        block_hash: str,
        tx_hash: str,
        address: str,
        contract: str,
        event: str,
        args: dict[str, Any],
        block_time: int,
    ) -> IndexedEvent:
        """The event with the columns the queries filter on taken from its arguments: a ``Transfer``'s
        ``from``/``to`` and its ``id`` (ERC-721) or ``value`` (ERC-20, as a decimal string), and any bridge
        event's ``transferId``."""
        from_address = to_address = amount = None
        token_id: int | None = None
        if event == "Transfer":
            from_address, to_address = args["from"], args["to"]
            if "id" in args:
                token_id = int(args["id"])
            else:
                amount = str(args["value"])
        return cls(
            chain_id,
            block_number,
            log_index,
            block_hash,
            tx_hash,
            address,
            contract,
            event,
            args,
            block_time,
            from_address=from_address,
            to_address=to_address,
            token_id=token_id,
            amount=amount,
            transfer_id=args.get("transferId"),
        )

    def values(self) -> tuple[Any, ...]:
        """The row, in :data:`EVENT_COLUMNS` order, the arguments as JSON text."""
        return (
            self.chain_id,
            self.block_number,
            self.log_index,
            self.block_hash,
            self.tx_hash,
            self.address,
            self.contract,
            self.event,
            json.dumps(self.args, separators=(",", ":")),
            self.block_time,
            self.from_address,
            self.to_address,
            self.token_id,
            self.amount,
            self.transfer_id,
        )


@dataclass(frozen=True, slots=True)
class IndexedClaim:
    """A reward claim: the LBC mint (its log) that paid `holder` `amount` wei for `cube_ids`."""

    chain_id: int
    block_number: int
    log_index: int
    block_hash: str
    tx_hash: str
    holder: str
    amount: int
    cube_ids: tuple[int, ...]
    block_time: int

    def values(self) -> tuple[Any, ...]:
        """The row, in :data:`CLAIM_COLUMNS` order, the cube ids as JSON text."""
        return (
            self.chain_id,
            self.block_number,
            self.log_index,
            self.block_hash,
            self.tx_hash,
            self.holder,
            str(self.amount),
            json.dumps(list(self.cube_ids)),
            self.block_time,
        )


@dataclass(frozen=True, slots=True)
class BlockRef:
    """A block as the index remembers it: number, hash, parent hash and time (unix seconds)."""

    number: int
    hash: str
    parent_hash: str
    block_time: int


@dataclass(frozen=True)
class IndexCursor:
    """How far the index of `chain_id` has got: blocks `start_block` .. `last_block` are indexed."""

    chain_id: int
    start_block: int
    last_block: int
    last_hash: str
    #: The contracts read, by contract name (what the cursor is valid for).
    contracts: dict[str, tuple[str, ...]]
    updated_at: datetime
