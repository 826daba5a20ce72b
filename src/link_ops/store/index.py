"""The event index in the operations store: batches written whole, rollbacks, and the queries operations
need.

:class:`IndexStore` (``OpsStore().index``) is written by :mod:`link_ops.index` only through
:meth:`~IndexStore.write_batch` (a batch's events, claims, block hashes and the cursor, in one transaction
that also checks the cursor is where the batch begins) and :meth:`~IndexStore.roll_back` (everything above
a block, in one transaction), so whatever point a process is killed at, the index holds whole batches.

The queries read what is indexed, on every chain the store holds:

- :meth:`~IndexStore.holders`: who holds which cubes now, per chain (burnt cubes and cubes locked in a
  cube bridge left out: a cube abroad is held by its remote holder);
- :meth:`~IndexStore.lbc_minted_per_day` and :meth:`~IndexStore.claims_per_day` (UTC days);
- :meth:`~IndexStore.partners`: each partner with its welcome claims;
- :meth:`~IndexStore.bridge_in_flight` and :meth:`~IndexStore.in_flight_by_route`: transfers sent and
  neither delivered nor refunded (both chains of a route must be indexed to see deliveries).

SQL is portable (SQLite and PostgreSQL): amounts are 256-bit numbers kept as decimal strings and summed in
Python; days are bucketed in Python from block times.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Literal

from sqlalchemy import JSON, Connection, and_, delete, exists, func, insert, select, update
from sqlalchemy.orm import aliased

from link_ops.store.engine import Base, Database, OpsStoreError, check_chain_id, utcnow
from link_ops.store.index_tables import (
    CLAIM_COLUMNS,
    EVENT_COLUMNS,
    BlockRef,
    IndexBlockRow,
    IndexClaimRow,
    IndexCursor,
    IndexCursorRow,
    IndexedClaim,
    IndexedEvent,
    IndexEventRow,
)

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"

#: The contracts whose ``Transfer`` moves cubes (the collection at home, its stand-ins abroad).
CUBE_COLLECTIONS = ("OptimizedCubeManagement", "RemoteCube")

#: The contracts that hold cubes while they are abroad or in flight.
CUBE_BRIDGES = ("CubeBridge", "RemoteCubeBridge")

#: Rows per INSERT statement (a few round trips per batch, well inside every backend's parameter limit).
INSERT_CHUNK = 2_000


class IndexCursorError(OpsStoreError):
    """A batch or rollback does not start where the chain's index is: another indexer is writing the same
    chain, or the index was reset meanwhile."""


# -- query results ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Holding:
    """The cubes `holder` holds on chain `chain_id` now."""

    chain_id: int
    holder: str
    cube_ids: tuple[int, ...]


@dataclass(frozen=True)
class DailyMints:
    """LBC minted on chain `chain_id` on UTC day `day`: `mints` mints, `amount` wei in all."""

    chain_id: int
    day: date
    mints: int
    amount: int


@dataclass(frozen=True)
class DailyClaims:
    """Reward claims on chain `chain_id` on UTC day `day`: `claims` claims of `cubes` cubes, `amount` wei."""

    chain_id: int
    day: date
    claims: int
    cubes: int
    amount: int


@dataclass(frozen=True)
class WelcomeClaim:
    """`holder` claimed the welcome grant of `cube_count` cubes, `amount` in the partner's token."""

    holder: str
    cube_count: int
    amount: int
    block_number: int
    tx_hash: str


@dataclass(frozen=True)
class PartnerActivity:
    """A partner created on chain `chain_id` (its ``PartnerCreated``) and the welcome claims made at its
    contract."""

    chain_id: int
    partner_id: str
    address: str
    partner: str
    welcome_token: str
    welcome_amount_per_cube: int
    snapshot_cube_id: int
    claim_deadline: int
    funded: int
    created_block: int
    claims: tuple[WelcomeClaim, ...]

    @property
    def cubes_claimed(self) -> int:
        return sum(c.cube_count for c in self.claims)

    @property
    def amount_claimed(self) -> int:
        return sum(c.amount for c in self.claims)


TransferStatus = Literal["sent", "held", "refunding"]


@dataclass(frozen=True)
class InFlightTransfer:
    """A bridge transfer sent and neither delivered nor refunded.

    `status`: ``sent`` (not seen arriving), ``held`` (arrived, held by the destination bridge: retry or
    refund it) or ``refunding`` (its refund is on the way back).
    """

    transfer_id: str
    src_chain_id: int
    dst_chain_id: int
    asset: Literal["LBC", "CUBE"]
    sender: str
    recipient: str
    amount: int
    cube_ids: tuple[int, ...]
    message_id: str
    sent_block: int
    sent_tx: str
    status: TransferStatus


@dataclass(frozen=True)
class RouteInFlight:
    """What is in flight from chain `src_chain_id` to `dst_chain_id`: transfers, LBC wei and cubes."""

    src_chain_id: int
    dst_chain_id: int
    transfers: int
    lbc: int
    cubes: int


def utc_day(block_time: int) -> date:
    """The UTC day of a block time (unix seconds)."""
    return datetime.fromtimestamp(block_time, timezone.utc).date()


def _slug(partner_id_hex: str) -> str:
    raw = bytes.fromhex(partner_id_hex.removeprefix("0x")).rstrip(b"\0")
    return raw.decode("utf-8", errors="replace")


def _chunks(rows: Sequence[Any], size: int = INSERT_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _bulk_insert(
    conn: Connection, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Inserts `rows` (values in `columns` order, JSON already text) into `table` in few round trips, inside
    `conn`'s transaction: PostgreSQL through psycopg's COPY, SQLite through the driver's executemany, any
    other backend through SQLAlchemy."""
    dialect = conn.dialect
    names = ", ".join(columns)
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        driver = conn.connection.driver_connection
        if driver is None:
            raise OpsStoreError(f"the connection to {conn.engine.url} is closed")
        with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    if dialect.name == "sqlite":
        marks = ", ".join("?" * len(columns))
        for chunk in _chunks(rows):
            conn.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(chunk))
        return
    sql_table = Base.metadata.tables[table]
    json_columns = {c.name for c in sql_table.columns if isinstance(c.type, JSON)}
    for chunk in _chunks(rows):
        conn.execute(
            insert(sql_table),
            [
                {k: json.loads(v) if k in json_columns else v for k, v in zip(columns, row, strict=True)}
                for row in chunk
            ],
        )


def _last_cube_transfers(*where: Any) -> Any:
    """Every cube ``Transfer`` matching `where`, ranked per cube (chain, collection, id) newest first: rank 1
    is where the cube is now (its holder, the zero address once burnt, a bridge while locked)."""
    return (
        select(
            IndexEventRow.chain_id,
            IndexEventRow.contract,
            IndexEventRow.token_id,
            IndexEventRow.to_address,
            func.row_number()
            .over(
                partition_by=(IndexEventRow.chain_id, IndexEventRow.address, IndexEventRow.token_id),
                order_by=(IndexEventRow.block_number.desc(), IndexEventRow.log_index.desc()),
            )
            .label("rank"),
        )
        .where(IndexEventRow.event == "Transfer", IndexEventRow.contract.in_(CUBE_COLLECTIONS), *where)
        .subquery()
    )


def _contracts_json(contracts: Mapping[str, Sequence[str]]) -> str:
    return json.dumps(
        {name: sorted(addresses) for name, addresses in sorted(contracts.items())}, sort_keys=True
    )


def _cursor_record(row: Any) -> IndexCursor:
    return IndexCursor(
        chain_id=row.chain_id,
        start_block=row.start_block,
        last_block=row.last_block,
        last_hash=row.last_hash,
        contracts={name: tuple(a) for name, a in json.loads(row.contracts_json).items()},
        updated_at=row.updated_at,
    )


class IndexStore:
    """The event index in `database`; each method is one transaction."""

    def __init__(self, database: Database) -> None:
        self._engine = database.engine
        self._sessions = database.sessions

    # -- state --------------------------------------------------------------------------------------------

    def cursor(self, chain_id: int) -> IndexCursor | None:
        """How far the index of `chain_id` has got, or None when nothing of it is indexed."""
        with self._sessions.begin() as session:
            row = session.get(IndexCursorRow, check_chain_id(chain_id))
            return None if row is None else _cursor_record(row)

    def cursors(self) -> list[IndexCursor]:
        """Every indexed chain's cursor, by chain id."""
        with self._sessions.begin() as session:
            rows = session.scalars(select(IndexCursorRow).order_by(IndexCursorRow.chain_id))
            return [_cursor_record(row) for row in rows]

    def stored_blocks(self, chain_id: int) -> list[BlockRef]:
        """The blocks of `chain_id` whose hashes are kept, newest first."""
        query = (
            select(IndexBlockRow)
            .where(IndexBlockRow.chain_id == check_chain_id(chain_id))
            .order_by(IndexBlockRow.number.desc())
        )
        with self._sessions.begin() as session:
            return [BlockRef(r.number, r.hash, r.parent_hash, r.block_time) for r in session.scalars(query)]

    def partner_contracts(self, chain_id: int) -> list[str]:
        """The partner contracts created on `chain_id` so far (from ``PartnerCreated``), in creation order."""
        query = (
            select(IndexEventRow.args)
            .where(
                IndexEventRow.event == "PartnerCreated", IndexEventRow.chain_id == check_chain_id(chain_id)
            )
            .order_by(IndexEventRow.block_number, IndexEventRow.log_index)
        )
        with self._engine.connect() as conn:
            return [str(args["partnerAddress"]) for args in conn.scalars(query)]

    # -- writing ------------------------------------------------------------------------------------------

    def write_batch(
        self,
        chain_id: int,
        *,
        first_block: int,
        last: BlockRef,
        events: Sequence[IndexedEvent],
        claims: Sequence[IndexedClaim] = (),
        blocks: Sequence[BlockRef] = (),
        keep_blocks_from: int = 0,
        start_block: int | None = None,
        contracts: Mapping[str, Sequence[str]] | None = None,
        before_commit: Callable[[], None] | None = None,
    ) -> None:
        """Stores blocks `first_block` .. `last.number` of `chain_id` in one transaction: their `events` and
        `claims`, the hashes of `blocks` and of `last`, and the cursor at `last`. Hashes of blocks below
        `keep_blocks_from` (final ones) are dropped, except the cursor's.

        The first batch of a chain creates its cursor (from `start_block`, for `contracts`); every later one
        must begin right after the cursor, else :class:`IndexCursorError`. Rows already stored in the range
        (none, unless written outside the index) are replaced, so writing a range again is idempotent.
        `before_commit` is called inside the transaction, after every statement (a test seam).
        """
        chain_id = check_chain_id(chain_id)
        if last.number < first_block:
            raise OpsStoreError(f"a batch from block {first_block} cannot end at block {last.number}")
        now = utcnow()
        with self._engine.begin() as conn:
            current = conn.execute(
                select(IndexCursorRow.last_block).where(IndexCursorRow.chain_id == chain_id).with_for_update()
            ).scalar_one_or_none()
            if current is None:
                if start_block is None or contracts is None:
                    raise IndexCursorError(
                        f"chain {chain_id} has no index yet: its first batch must say where it starts and "
                        "which contracts it reads"
                    )
                if first_block != start_block:
                    raise IndexCursorError(
                        f"the first batch of chain {chain_id} must begin at its start block {start_block}, "
                        f"not {first_block}"
                    )
                conn.execute(
                    insert(IndexCursorRow).values(
                        chain_id=chain_id,
                        start_block=start_block,
                        last_block=last.number,
                        last_hash=last.hash,
                        contracts_json=_contracts_json(contracts),
                        updated_at=now,
                    )
                )
            else:
                if current != first_block - 1:
                    raise IndexCursorError(
                        f"the index of chain {chain_id} is at block {current}, but this batch begins at "
                        f"block {first_block}: is another indexer writing chain {chain_id}? Run one per "
                        "chain."
                    )
                conn.execute(
                    update(IndexCursorRow)
                    .where(IndexCursorRow.chain_id == chain_id)
                    .values(last_block=last.number, last_hash=last.hash, updated_at=now)
                )
            for table in (IndexEventRow, IndexClaimRow):
                conn.execute(
                    delete(table).where(
                        table.chain_id == chain_id, table.block_number.between(first_block, last.number)
                    )
                )
            if events:
                _bulk_insert(conn, IndexEventRow.__tablename__, EVENT_COLUMNS, [e.values() for e in events])
            if claims:
                _bulk_insert(conn, IndexClaimRow.__tablename__, CLAIM_COLUMNS, [c.values() for c in claims])
            kept = {b.number: b for b in blocks if b.number >= keep_blocks_from}
            kept[last.number] = last
            conn.execute(
                delete(IndexBlockRow).where(
                    IndexBlockRow.chain_id == chain_id,
                    (IndexBlockRow.number < keep_blocks_from) | IndexBlockRow.number.in_(list(kept)),
                )
            )
            conn.execute(
                insert(IndexBlockRow),
                [
                    {
                        "chain_id": chain_id,
                        "number": b.number,
                        "hash": b.hash,
                        "parent_hash": b.parent_hash,
                        "block_time": b.block_time,
                    }
                    for b in kept.values()
                ],
            )
            if before_commit is not None:
                before_commit()

    def roll_back(self, chain_id: int, *, expected_last: int, to: BlockRef | None) -> int:
        """Forgets every block of `chain_id` above `to` (all of them when `to` is None: the index starts
        again) in one transaction; the cursor must still be at `expected_last`. Returns the number of
        events deleted."""
        chain_id = check_chain_id(chain_id)
        with self._engine.begin() as conn:
            current = conn.execute(
                select(IndexCursorRow.last_block).where(IndexCursorRow.chain_id == chain_id).with_for_update()
            ).scalar_one_or_none()
            if current != expected_last:
                raise IndexCursorError(
                    f"the index of chain {chain_id} is at block {current}, not {expected_last}: is another "
                    f"indexer writing chain {chain_id}? Run one per chain."
                )
            above = -1 if to is None else to.number
            deleted = conn.execute(
                delete(IndexEventRow).where(
                    IndexEventRow.chain_id == chain_id, IndexEventRow.block_number > above
                )
            ).rowcount
            conn.execute(
                delete(IndexClaimRow).where(
                    IndexClaimRow.chain_id == chain_id, IndexClaimRow.block_number > above
                )
            )
            conn.execute(
                delete(IndexBlockRow).where(IndexBlockRow.chain_id == chain_id, IndexBlockRow.number > above)
            )
            if to is None:
                conn.execute(delete(IndexCursorRow).where(IndexCursorRow.chain_id == chain_id))
            else:
                conn.execute(
                    update(IndexCursorRow)
                    .where(IndexCursorRow.chain_id == chain_id)
                    .values(last_block=to.number, last_hash=to.hash, updated_at=utcnow())
                )
            return int(deleted or 0)

    def reset(self, chain_id: int) -> bool:
        """Forgets the whole index of `chain_id` (to index it again from scratch); returns whether there was
        one."""
        chain_id = check_chain_id(chain_id)
        with self._engine.begin() as conn:
            for table in (IndexEventRow, IndexClaimRow):
                conn.execute(delete(table).where(table.chain_id == chain_id))
            conn.execute(delete(IndexBlockRow).where(IndexBlockRow.chain_id == chain_id))
            return bool(
                conn.execute(delete(IndexCursorRow).where(IndexCursorRow.chain_id == chain_id)).rowcount
            )

    # -- reading ------------------------------------------------------------------------------------------

    def events(
        self, chain_id: int | None = None, *, event: str | None = None, contract: str | None = None
    ) -> list[IndexedEvent]:
        """Indexed events (of `chain_id`, named `event`, of `contract` when given), in chain order."""
        query = select(IndexEventRow)
        if chain_id is not None:
            query = query.where(IndexEventRow.chain_id == chain_id)
        if event is not None:
            query = query.where(IndexEventRow.event == event)
        if contract is not None:
            query = query.where(IndexEventRow.contract == contract)
        return self._events(query)

    def events_between(self, chain_id: int, first_block: int, last_block: int) -> list[IndexedEvent]:
        """The events of `chain_id` in blocks `first_block` .. `last_block`, in chain order: what a round of
        the index just wrote (the watch's rules read them)."""
        query = select(IndexEventRow).where(
            IndexEventRow.chain_id == check_chain_id(chain_id),
            IndexEventRow.block_number.between(first_block, last_block),
        )
        return self._events(query)

    def message_sent(self, chain_id: int, message_id: str) -> IndexedEvent | None:
        """The ``MessageSent`` of message `message_id` (``0x`` hex) on `chain_id`, if the index holds it."""
        query = select(IndexEventRow).where(
            IndexEventRow.chain_id == check_chain_id(chain_id),
            IndexEventRow.event == "MessageSent",
            IndexEventRow.args["messageId"].as_string() == message_id.lower(),
        )
        found = self._events(query)
        return found[0] if found else None

    def indexed_time(self, chain_id: int) -> int | None:
        """The block time of the last block indexed on `chain_id` (None: nothing indexed yet): everything
        that happened there until then is in the index."""
        query = select(IndexBlockRow.block_time).join(
            IndexCursorRow,
            and_(
                IndexCursorRow.chain_id == IndexBlockRow.chain_id,
                IndexCursorRow.last_block == IndexBlockRow.number,
            ),
        )
        with self._engine.connect() as conn:
            found = conn.execute(query.where(IndexBlockRow.chain_id == check_chain_id(chain_id))).scalar()
        return None if found is None else int(found)

    def cube_holders(self, cube_ids: Iterable[int]) -> dict[tuple[int, str, int], str]:
        """Where each of `cube_ids` is now on every indexed chain: (chain id, collection contract name, cube
        id) -> the address its last ``Transfer`` went to (the zero address once burnt, a cube bridge while
        locked)."""
        wanted = sorted({int(c) for c in cube_ids})
        if not wanted:
            return {}
        latest = _last_cube_transfers(IndexEventRow.token_id.in_(wanted))
        query = select(latest.c.chain_id, latest.c.contract, latest.c.token_id, latest.c.to_address).where(
            latest.c.rank == 1
        )
        with self._engine.connect() as conn:
            return {(int(c), str(n), int(t)): str(to) for c, n, t, to in conn.execute(query)}

    def _events(self, query: Any) -> list[IndexedEvent]:
        query = query.order_by(IndexEventRow.chain_id, IndexEventRow.block_number, IndexEventRow.log_index)
        with self._engine.connect() as conn:
            return [
                IndexedEvent(
                    chain_id=r.chain_id,
                    block_number=r.block_number,
                    log_index=r.log_index,
                    block_hash=r.block_hash,
                    tx_hash=r.tx_hash,
                    address=r.address,
                    contract=r.contract,
                    event=r.event,
                    args=r.args,
                    block_time=r.block_time,
                    from_address=r.from_address,
                    to_address=r.to_address,
                    token_id=r.token_id,
                    amount=r.amount,
                    transfer_id=r.transfer_id,
                )
                for r in conn.execute(query)
            ]

    def claims(
        self, chain_id: int | None = None, *, blocks: tuple[int, int] | None = None
    ) -> list[IndexedClaim]:
        """Indexed reward claims (of `chain_id`, in `blocks` (first, last) when given), in chain order."""
        query = select(IndexClaimRow)
        if chain_id is not None:
            query = query.where(IndexClaimRow.chain_id == chain_id)
        if blocks is not None:
            query = query.where(IndexClaimRow.block_number.between(*blocks))
        query = query.order_by(IndexClaimRow.chain_id, IndexClaimRow.block_number, IndexClaimRow.log_index)
        with self._engine.connect() as conn:
            return [
                IndexedClaim(
                    chain_id=r.chain_id,
                    block_number=r.block_number,
                    log_index=r.log_index,
                    block_hash=r.block_hash,
                    tx_hash=r.tx_hash,
                    holder=r.holder,
                    amount=int(r.amount),
                    cube_ids=tuple(r.cube_ids),
                    block_time=r.block_time,
                )
                for r in conn.execute(query)
            ]

    def event_counts(self, chain_id: int | None = None) -> dict[tuple[int, str], int]:
        """How many events are indexed, by (chain id, event name)."""
        query = select(IndexEventRow.chain_id, IndexEventRow.event, func.count()).group_by(
            IndexEventRow.chain_id, IndexEventRow.event
        )
        if chain_id is not None:
            query = query.where(IndexEventRow.chain_id == chain_id)
        with self._engine.connect() as conn:
            return {(c, e): int(n) for c, e, n in conn.execute(query)}

    def dump(self, chain_id: int) -> dict[str, list[tuple[Any, ...]]]:
        """Every row the index holds for `chain_id`, table by table, in key order (cursor times left out):
        two indexes of the same chain hold the same dump."""
        chain_id = check_chain_id(chain_id)
        out: dict[str, list[tuple[Any, ...]]] = {}
        with self._engine.connect() as conn:
            for table in (IndexEventRow, IndexClaimRow, IndexBlockRow, IndexCursorRow):
                sql_table = Base.metadata.tables[table.__tablename__]
                columns = [c for c in sql_table.columns if c.name != "updated_at"]
                keys = list(sql_table.primary_key.columns)
                query = select(*columns).where(columns[0] == chain_id).order_by(*keys)
                out[table.__tablename__] = [
                    tuple(json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else v for v in row)
                    for row in conn.execute(query)
                ]
        return out

    # -- queries ------------------------------------------------------------------------------------------

    def _bridges(self, conn: Connection, names: Sequence[str]) -> dict[int, set[str]]:
        out: dict[int, set[str]] = defaultdict(set)
        for chain_id, contracts_json in conn.execute(
            select(IndexCursorRow.chain_id, IndexCursorRow.contracts_json)
        ):
            for name, addresses in json.loads(contracts_json).items():
                if name in names:
                    out[chain_id].update(addresses)
        return out

    def holders(self, chain_id: int | None = None) -> list[Holding]:
        """Who holds which cubes now, per chain (by chain, then holder): the last ``Transfer`` of each cube
        names its holder. Burnt cubes (sent to the zero address) and cubes held by a cube bridge (locked at
        home while abroad or in flight) are left out."""
        where: list[Any] = [IndexEventRow.token_id.is_not(None)]
        if chain_id is not None:
            where.append(IndexEventRow.chain_id == chain_id)
        latest = _last_cube_transfers(*where)
        query = select(latest.c.chain_id, latest.c.to_address, latest.c.token_id).where(
            latest.c.rank == 1, latest.c.to_address != ZERO_ADDRESS
        )
        held: dict[tuple[int, str], list[int]] = defaultdict(list)
        with self._engine.connect() as conn:
            bridges = self._bridges(conn, CUBE_BRIDGES)
            for chain, holder, cube_id in conn.execute(query):
                if holder not in bridges.get(chain, ()):
                    held[(chain, holder)].append(int(cube_id))
        return [Holding(chain, holder, tuple(sorted(ids))) for (chain, holder), ids in sorted(held.items())]

    def lbc_minted_per_day(self, chain_id: int | None = None) -> list[DailyMints]:
        """LBC minted (``Transfer`` from the zero address) per chain and UTC day, in order. At home these
        are reward claims (and any other minter's mints); elsewhere, LBC arriving through the bridge."""
        query = select(IndexEventRow.chain_id, IndexEventRow.block_time, IndexEventRow.amount).where(
            IndexEventRow.event == "Transfer",
            IndexEventRow.contract == "LBCToken",
            IndexEventRow.from_address == ZERO_ADDRESS,
        )
        if chain_id is not None:
            query = query.where(IndexEventRow.chain_id == chain_id)
        totals: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0])
        with self._engine.connect() as conn:
            for chain, block_time, amount in conn.execute(query):
                entry = totals[(chain, utc_day(block_time))]
                entry[0] += 1
                entry[1] += int(amount or 0)
        return [DailyMints(c, d, n, a) for (c, d), (n, a) in sorted(totals.items())]

    def claims_per_day(self, chain_id: int | None = None) -> list[DailyClaims]:
        """Reward claims per chain and UTC day, in order: how many, how many cubes, how much LBC (wei)."""
        query = select(
            IndexClaimRow.chain_id, IndexClaimRow.block_time, IndexClaimRow.amount, IndexClaimRow.cube_ids
        )
        if chain_id is not None:
            query = query.where(IndexClaimRow.chain_id == chain_id)
        totals: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0, 0])
        with self._engine.connect() as conn:
            for chain, block_time, amount, cube_ids in conn.execute(query):
                entry = totals[(chain, utc_day(block_time))]
                entry[0] += 1
                entry[1] += len(cube_ids)
                entry[2] += int(amount)
        return [DailyClaims(c, d, n, k, a) for (c, d), (n, k, a) in sorted(totals.items())]

    def partners(self, chain_id: int | None = None) -> list[PartnerActivity]:
        """Every partner created (by chain, in creation order) with the welcome claims made at its
        contract."""
        created = select(IndexEventRow).where(IndexEventRow.event == "PartnerCreated")
        claimed = select(IndexEventRow).where(IndexEventRow.event == "WelcomeClaimed")
        if chain_id is not None:
            created = created.where(IndexEventRow.chain_id == chain_id)
            claimed = claimed.where(IndexEventRow.chain_id == chain_id)
        order = (IndexEventRow.chain_id, IndexEventRow.block_number, IndexEventRow.log_index)
        claims: dict[tuple[int, str], list[WelcomeClaim]] = defaultdict(list)
        with self._engine.connect() as conn:
            for row in conn.execute(claimed.order_by(*order)):
                claims[(row.chain_id, row.address)].append(
                    WelcomeClaim(
                        holder=row.args["holder"],
                        cube_count=int(row.args["cubeCount"]),
                        amount=int(row.args["amount"]),
                        block_number=row.block_number,
                        tx_hash=row.tx_hash,
                    )
                )
            out = []
            for row in conn.execute(created.order_by(*order)):
                args = row.args
                address = str(args["partnerAddress"])
                out.append(
                    PartnerActivity(
                        chain_id=row.chain_id,
                        partner_id=_slug(args["partnerId"]),
                        address=address,
                        partner=args["partner"],
                        welcome_token=args["welcomeToken"],
                        welcome_amount_per_cube=int(args["welcomeAmountPerCube"]),
                        snapshot_cube_id=int(args["snapshotCubeId"]),
                        claim_deadline=int(args["claimDeadline"]),
                        funded=int(args["funded"]),
                        created_block=row.block_number,
                        claims=tuple(claims.get((row.chain_id, address), ())),
                    )
                )
        return out

    def bridge_in_flight(
        self, src_chain_id: int | None = None, dst_chain_id: int | None = None
    ) -> list[InFlightTransfer]:
        """Transfers sent (``LBCSent``/``CubesSent``) that no chain has seen arrive (``LBCReceived``/
        ``CubesReceived``, also after a retry) or refunded (``TransferRefunded``), by route and send order.
        A transfer whose destination chain is not indexed stays here."""
        sent = aliased(IndexEventRow)
        settled = aliased(IndexEventRow)
        query = select(sent).where(
            sent.event.in_(("LBCSent", "CubesSent")),
            ~exists().where(
                and_(
                    settled.transfer_id == sent.transfer_id,
                    settled.event.in_(("LBCReceived", "CubesReceived", "TransferRefunded")),
                )
            ),
        )
        if src_chain_id is not None:
            query = query.where(sent.chain_id == src_chain_id)
        with self._engine.connect() as conn:
            rows = list(conn.execute(query.order_by(sent.chain_id, sent.block_number, sent.log_index)))
            ids = [str(r.transfer_id) for r in rows]
            progress: dict[str, set[str]] = defaultdict(set)
            if ids:
                marks = select(IndexEventRow.transfer_id, IndexEventRow.event).where(
                    IndexEventRow.transfer_id.in_(ids),
                    IndexEventRow.event.in_(("TransferHeld", "TransferRefundSent")),
                )
                for transfer_id, event in conn.execute(marks):
                    progress[str(transfer_id)].add(event)
        out = []
        for row in rows:
            args = row.args
            dst = int(args["dstChainId"])
            if dst_chain_id is not None and dst != dst_chain_id:
                continue
            marks_seen = progress.get(str(row.transfer_id), set())
            status: TransferStatus = (
                "refunding"
                if "TransferRefundSent" in marks_seen
                else "held"
                if "TransferHeld" in marks_seen
                else "sent"
            )
            lbc = row.event == "LBCSent"
            out.append(
                InFlightTransfer(
                    transfer_id=str(row.transfer_id),
                    src_chain_id=row.chain_id,
                    dst_chain_id=dst,
                    asset="LBC" if lbc else "CUBE",
                    sender=args["from"],
                    recipient=args["to"],
                    amount=int(args["amount"]) if lbc else 0,
                    cube_ids=() if lbc else tuple(int(c) for c in args["cubeIds"]),
                    message_id=args["messageId"],
                    sent_block=row.block_number,
                    sent_tx=row.tx_hash,
                    status=status,
                )
            )
        return sorted(out, key=lambda t: (t.src_chain_id, t.dst_chain_id, t.sent_block))

    def in_flight_by_route(self) -> list[RouteInFlight]:
        """:meth:`bridge_in_flight` summed per route (source, destination), in order."""
        routes: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0])
        for transfer in self.bridge_in_flight():
            entry = routes[(transfer.src_chain_id, transfer.dst_chain_id)]
            entry[0] += 1
            entry[1] += transfer.amount
            entry[2] += len(transfer.cube_ids)
        return [RouteInFlight(s, d, n, lbc, cubes) for (s, d), (n, lbc, cubes) in sorted(routes.items())]

    def active_addresses(self, window_s: int, chain_id: int | None = None) -> int:
        """How many distinct addresses acted on the protocol in the last `window_s` seconds of each chain's
        indexed time (up to the latest indexed block's time, not the wall clock: an index catching up
        counts the activity of the blocks it reads): claimers, and senders of cubes and LBC. Mints and
        the bridges' own transfers are not someone acting. The watchtower's "concurrent users"."""
        if isinstance(window_s, bool) or not isinstance(window_s, int) or window_s <= 0:
            raise ValueError(f"the window is a positive number of seconds, got {window_s!r}")
        latest = select(IndexBlockRow.chain_id, func.max(IndexBlockRow.block_time).label("now")).group_by(
            IndexBlockRow.chain_id
        )
        if chain_id is not None:
            latest = latest.where(IndexBlockRow.chain_id == chain_id)
        seen: set[str] = set()
        with self._engine.connect() as conn:
            bridges = self._bridges(conn, (*CUBE_BRIDGES, "LBCBridge"))
            for chain, now in conn.execute(latest).all():
                since = int(now) - window_s
                senders = select(IndexEventRow.from_address).where(
                    IndexEventRow.chain_id == chain,
                    IndexEventRow.block_time > since,
                    IndexEventRow.event == "Transfer",
                    IndexEventRow.contract.in_((*CUBE_COLLECTIONS, "LBCToken")),
                    IndexEventRow.from_address != ZERO_ADDRESS,
                )
                claimers = select(IndexClaimRow.holder).where(
                    IndexClaimRow.chain_id == chain, IndexClaimRow.block_time > since
                )
                ignored = bridges.get(chain, set())
                for (address,) in conn.execute(senders.union(claimers)):
                    if address is not None and address not in ignored:
                        seen.add(str(address))
        return len(seen)
