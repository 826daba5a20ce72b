"""A database created by link-ops before it had migrations (main at f8a7caf) is upgraded in place on opening,
on SQLite and on PostgreSQL, every row kept, and then works with the stores.

The databases are loaded from tests/data/store/main-<backend>.sql, which
tests/data/store/make_main_dumps.py wrote with main's own code (its docstring says how).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from link_ops.model.attest import Message
from link_ops.store import DB_URL_ENV, OpsStore
from link_ops.store.migrate import (
    BASELINE_REVISION,
    MAIN_SCHEMA,
    UnrecognisedSchemaError,
    current_revision,
    head_revision,
    schema_differences,
)

DUMPS = Path(__file__).resolve().parents[1] / "data" / "store"
AMOY, POLYGON, ETHEREUM = 80002, 137, 1
MESSENGER = "0x" + "11" * 20
OTHER_MESSENGER = "0x" + "44" * 20


def _message(src: int, dst: int, nonce: int, messenger: str = MESSENGER) -> Message:
    """As make_main_dumps.py wrote them."""
    return Message(src, messenger, "0x" + "22" * 20, dst, "0x" + "33" * 20, nonce, bytes([nonce + 1]) * 40)


def _id(message: Message) -> str:
    return "0x" + message.message_id.hex()


@pytest.fixture(autouse=True)
def _no_db_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DB_URL_ENV, raising=False)


def load_main_dump(url: str) -> None:
    """Fills the empty database at `url` from main's dump for its backend."""
    backend = make_url(url).get_backend_name()
    dump = (DUMPS / f"main-{backend}.sql").read_text()
    if backend == "sqlite":
        database = make_url(url).database
        assert database is not None
        with sqlite3.connect(database) as connection:
            connection.executescript(dump)
        return
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(dump)
    finally:
        engine.dispose()


def rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of main's tables, as the driver returns them, in primary-key order."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            found = {}
            for table, (columns, primary_key) in MAIN_SCHEMA.items():
                names = ", ".join(c for c, _, _ in columns)
                query = text(f"SELECT {names} FROM {table} ORDER BY {', '.join(primary_key)}")
                found[table] = [tuple(row) for row in connection.execute(query)]
            return found
    finally:
        engine.dispose()


@pytest.fixture
def main_db(db_url: str) -> Iterator[str]:
    """A database as main left it: main's tables and rows, no alembic_version."""
    load_main_dump(db_url)
    yield db_url


def test_main_dump__is_mains_schema_without_alembic_version(main_db: str) -> None:
    engine = create_engine(main_db)
    try:
        assert set(inspect(engine).get_table_names()) == set(MAIN_SCHEMA)
    finally:
        engine.dispose()
    assert current_revision(main_db) is None
    assert {table: len(found) for table, found in rows(main_db).items()} == {
        "partners": 4,
        "onboarding_steps": 6,
        "monitoring": 1,
        "relayer_cursors": 2,
        "relayed_messages": 4,
    }


def test_open__database_made_by_main__upgraded_in_place_keeping_every_row(main_db: str) -> None:
    before = rows(main_db)

    with OpsStore(main_db) as store, store.engine.connect() as connection:
        assert schema_differences(connection) == []

    assert current_revision(main_db) == head_revision()
    assert rows(main_db) == before


def test_open__database_made_by_main__is_stamped_at_the_baseline_not_rebuilt(
    main_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The baseline revision never runs on main's tables (it would fail: they exist); it is stamped."""
    from alembic import command

    stamped: list[str] = []
    real = command.stamp
    monkeypatch.setattr(
        command, "stamp", lambda config, revision: (stamped.append(revision), real(config, revision))
    )

    with OpsStore(main_db):
        pass

    assert stamped == [BASELINE_REVISION]


def test_upgraded_main_database__the_stores_read_what_main_wrote(main_db: str) -> None:
    with OpsStore(main_db) as store:
        active = store.partners.get_partner("cafe-seoul", AMOY)
        assert active is not None and active.status == "active"
        assert active.contract_address == "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
        assert active.integration_time == datetime(2025, 11, 26, 4, 30, tzinfo=timezone.utc)
        assert active.config.partner_id == "cafe-seoul"
        assert list(store.partners.completed_steps("cafe-seoul", AMOY)) == [
            "validate",
            "deploy",
            "fund",
            "monitor",
        ]
        assert store.partners.completed_steps("cafe-seoul", AMOY)["deploy"].gas_used == 1_234_567
        monitoring = store.partners.get_monitoring("cafe-seoul", AMOY)
        assert monitoring is not None and monitoring.endpoints == ("http://127.0.0.1:8765/health",)
        failed = store.partners.get_partner("zeta-bar", AMOY)
        assert failed is not None and failed.status == "failed"
        assert failed.name == "Zeta Bar — Café Ünïcode 서울"
        assert failed.failure_reason == "deploy reverted: 'NotAdmin()'"
        [step] = store.partners.list_steps("zeta-bar", AMOY)
        assert (step.status, step.detail) == ("failed", "nonce too low; it's 7")
        assert [(p.chain_id, p.partner_id, p.status) for p in store.partners.list_partners()] == [
            (POLYGON, "cafe-seoul", "onboarding"),
            (AMOY, "cafe-seoul", "active"),
            (AMOY, "tea-house", "onboarding"),
            (AMOY, "zeta-bar", "failed"),
        ]

        assert store.relayer.relayer_cursor(POLYGON, MESSENGER) == 101
        assert store.relayer.relayer_cursor(ETHEREUM, OTHER_MESSENGER) == 55
        delivered = store.relayer.get_message(_id(_message(POLYGON, ETHEREUM, 0)))
        assert delivered is not None and (delivered.status, delivered.tx_hash) == (
            "delivered",
            "0x" + "ab" * 32,
        )
        retried = store.relayer.get_message(_id(_message(POLYGON, ETHEREUM, 1)))
        assert retried is not None
        assert (retried.attempts, retried.last_error) == (2, "LimitExceeded(route=1, it's over)")
        assert retried.message == _message(POLYGON, ETHEREUM, 1)
        assert retried.seen_at.tzinfo == timezone.utc
        assert [(m.src_chain_id, m.nonce) for m in store.relayer.pending_messages()] == [
            (ETHEREUM, 0),
            (POLYGON, 1),
            (POLYGON, 2),
        ]


def test_upgraded_main_database__the_stores_write_to_it(main_db: str) -> None:
    with OpsStore(main_db) as store:
        step = store.partners.record_step("tea-house", AMOY, "validate")
        assert step.status == "done"
        assert list(store.partners.completed_steps("tea-house", AMOY)) == ["validate"]
        store.partners.record_step("zeta-bar", AMOY, "deploy", detail="0x" + "34" * 32, gas_used=900_000)
        new = store.relayer.record_scan(
            POLYGON, MESSENGER, 120, [_message(POLYGON, ETHEREUM, n) for n in range(5)]
        )
        assert [m.nonce for m in new] == [3, 4]
        store.relayer.mark_delivered(_id(_message(POLYGON, ETHEREUM, 1)), "0x" + "cd" * 32)
        assert [m.nonce for m in store.relayer.pending_messages(dst_chain_id=ETHEREUM)] == [2, 3, 4]

    with OpsStore(main_db) as reopened:
        assert reopened.relayer.relayer_cursor(POLYGON, MESSENGER) == 120
        assert reopened.partners.completed_steps("zeta-bar", AMOY)["deploy"].gas_used == 900_000


def test_open__main_database_with_a_column_dropped__refused_and_left_alone(main_db: str) -> None:
    engine = create_engine(main_db)
    try:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE relayed_messages DROP COLUMN last_error"))
    finally:
        engine.dispose()
    before = {table: found for table, found in rows_without(main_db, "relayed_messages").items()}

    with pytest.raises(UnrecognisedSchemaError, match="relayed_messages lacks the columns last_error"):
        OpsStore(main_db)

    assert current_revision(main_db) is None
    assert rows_without(main_db, "relayed_messages") == before


def rows_without(url: str, table: str) -> dict[str, list[tuple[object, ...]]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                name: [tuple(r) for r in connection.execute(text(f"SELECT * FROM {name}"))]
                for name in MAIN_SCHEMA
                if name != table
            }
    finally:
        engine.dispose()
