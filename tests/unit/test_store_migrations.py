"""Specs of link_ops.store.migrate: the store's Alembic migrations, run on opening, on SQLite and on
PostgreSQL."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Column, Integer, String, Table, create_engine, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import IntegrityError

from link_ops.store import DB_URL_ENV, OpsStore, OpsStoreError, migrate
from link_ops.store.__main__ import cli as store_cli
from link_ops.store.engine import Base, UTCDateTime
from link_ops.store.migrate import (
    BASELINE_REVISION,
    MIGRATION_LOCK_KEY,
    NewerSchemaError,
    UnrecognisedSchemaError,
    current_revision,
    head_revision,
    history,
    schema_differences,
    target_metadata,
    upgrade,
)

DEADLINE_S = 120.0


@pytest.fixture(autouse=True)
def _no_db_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DB_URL_ENV, raising=False)


@pytest.fixture
def connect(db_url: str) -> Iterator[Any]:
    """Opens plain connections to ``db_url`` (no store, no migration) and closes them after the test."""
    engines = []

    def open_connection() -> Connection:
        engine = create_engine(db_url)
        engines.append(engine)
        return engine.connect()

    yield open_connection
    for engine in engines:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _execute(url: str, *statements: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------- models and migrations


def test_migrations__fresh_database__equal_the_models(db_url: str) -> None:
    """A table or column added to the models without a migration (or a migration the models lack) fails
    here: Alembic's autogenerate finds no difference between the models and a migrated database."""
    with OpsStore(db_url) as store, store.engine.connect() as connection:
        assert schema_differences(connection) == []
        assert current_revision(db_url) == head_revision()


def test_migrations__a_table_without_a_migration__is_a_difference(db_url: str) -> None:
    """The check above can fail: a table in the models that no migration creates shows up."""
    with OpsStore(db_url) as store:
        extra = Table("not_migrated", Base.metadata, Column("id", Integer, primary_key=True))
        try:
            with store.engine.connect() as connection:
                differences = schema_differences(connection)
        finally:
            Base.metadata.remove(extra)

    assert [(d[0], d[1].name) for d in differences] == [("add_table", "not_migrated")]


def _constraint_names(connection: Connection, table: str) -> set[tuple[str, str | None]]:
    inspector = inspect(connection)
    names = {("pk", inspector.get_pk_constraint(table)["name"])}
    names |= {("fk", c["name"]) for c in inspector.get_foreign_keys(table)}
    names |= {("uq", c["name"]) for c in inspector.get_unique_constraints(table)}
    names |= {("ck", c["name"]) for c in inspector.get_check_constraints(table)}
    names |= {("ix", i["name"]) for i in inspector.get_indexes(table) if not i.get("duplicates_constraint")}
    return names


def _model_constraint_names(table: Table) -> set[tuple[str, str | None]]:
    kinds = {
        "PrimaryKeyConstraint": "pk",
        "ForeignKeyConstraint": "fk",
        "UniqueConstraint": "uq",
        "CheckConstraint": "ck",
    }
    names = {(kinds[type(c).__name__], str(c.name)) for c in table.constraints}
    return names | {("ix", str(i.name)) for i in table.indexes}


def test_migrations__constraint_names__are_the_models_on_both_backends(db_url: str) -> None:
    """Later migrations alter constraints by name: a migrated database carries the models' names."""
    with OpsStore(db_url) as store, store.engine.connect() as connection:
        for table in target_metadata().sorted_tables:
            assert _constraint_names(connection, table.name) == _model_constraint_names(table), table.name


def test_models__every_constraint_and_index_has_a_name() -> None:
    """Check constraints have no naming convention: each must be named (``ck_<table>_<what>``)."""
    unnamed = [
        f"{table.name}: {type(item).__name__}"
        for table in target_metadata().sorted_tables
        for item in [*table.constraints, *table.indexes]
        if not isinstance(item.name, str) or not item.name
    ]
    assert unnamed == []


def test_history__starts_at_the_baseline_and_ends_at_the_head() -> None:
    revisions = history()

    assert revisions[0].revision == BASELINE_REVISION and revisions[0].down_revision is None
    assert revisions[-1].revision == head_revision()
    assert all(r.doc for r in revisions)
    assert [r.down_revision for r in revisions[1:]] == [r.revision for r in revisions[:-1]]


def test_migrations__ship_inside_the_package() -> None:
    import link_ops.store

    assert migrate.MIGRATIONS_DIR.parent == Path(link_ops.store.__file__).resolve().parent
    assert (migrate.MIGRATIONS_DIR / "env.py").is_file()
    assert (migrate.MIGRATIONS_DIR / "script.py.mako").is_file()
    assert (migrate.MIGRATIONS_DIR / "versions" / f"{BASELINE_REVISION}_baseline.py").is_file()


# ----------------------------------------------------------------------------------------------- opening


def test_open__new_database__is_migrated_to_the_head(db_url: str) -> None:
    assert current_revision(db_url) is None

    with OpsStore(db_url):
        pass

    assert current_revision(db_url) == head_revision()
    assert {"partners", "onboarding_steps", "monitoring", "relayer_cursors", "relayed_messages"} <= _tables(
        db_url
    )


def test_open__sqlite__the_connection_that_migrated_goes_back_with_foreign_keys_on(sqlite_url: str) -> None:
    """Migrations run with SQLite's foreign keys off (batch mode copies tables); the stores never do."""
    with OpsStore(sqlite_url) as store, store.engine.connect() as connection:
        assert store.engine.pool.checkedin() == 0  # the one pooled connection, the one that migrated
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        with pytest.raises(IntegrityError, match="FOREIGN KEY"):
            connection.execute(
                text(
                    "INSERT INTO monitoring (partner_id, chain_id, endpoints_json, sla_json, registered_at) "
                    "VALUES ('nobody', 1, '[]', '{}', '2025-01-01 00:00:00')"
                )
            )


def test_open__again__changes_nothing_and_keeps_the_rows(db_url: str) -> None:
    with OpsStore(db_url) as store:
        store.relayer.record_scan(137, "0x" + "11" * 20, 42, [])

    with OpsStore(db_url) as again:
        assert again.relayer.relayer_cursor(137, "0x" + "11" * 20) == 42
        with again.engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert versions == [head_revision()]


def test_upgrade__by_url__returns_the_revision_it_reached(db_url: str) -> None:
    assert upgrade(db_url) == head_revision()
    assert upgrade(db_url) == head_revision()
    assert current_revision(db_url) == head_revision()


def test_open__database_at_an_unknown_revision__refused_and_left_alone(db_url: str) -> None:
    with OpsStore(db_url) as store:
        store.relayer.record_scan(137, "0x" + "11" * 20, 7, [])
    _execute(db_url, "UPDATE alembic_version SET version_num = '9999'")

    with pytest.raises(
        NewerSchemaError, match=r"revision 9999, which this link-ops does not know.*Upgrade link-ops"
    ):
        OpsStore(db_url)

    assert current_revision(db_url) == "9999"
    _execute(db_url, f"UPDATE alembic_version SET version_num = '{head_revision()}'")
    with OpsStore(db_url) as store:
        assert store.relayer.relayer_cursor(137, "0x" + "11" * 20) == 7


def test_open__tables_named_like_the_stores_but_not_its_schema__refused_and_left_alone(db_url: str) -> None:
    _execute(
        db_url,
        "CREATE TABLE partners (id INTEGER PRIMARY KEY, title VARCHAR(20))",
        "INSERT INTO partners (id, title) VALUES (1, 'someone else''s')",
    )

    with pytest.raises(UnrecognisedSchemaError) as refused:
        OpsStore(db_url)

    message = str(refused.value)
    assert "holds tables named like the operations store's (partners) but no alembic_version" in message
    assert "partners lacks the columns partner_id, chain_id, name," in message
    assert "partners has columns link-ops never made: id, title" in message
    assert f"Point {DB_URL_ENV}" in message and "changes nothing" in message
    assert _tables(db_url) == {"partners"}
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT title FROM partners")).scalars().all() == [
                "someone else's"
            ]
    finally:
        engine.dispose()


def test_open__database_with_other_applications_tables__adds_the_stores_beside_them(db_url: str) -> None:
    _execute(db_url, "CREATE TABLE invoices (id INTEGER PRIMARY KEY)", "INSERT INTO invoices (id) VALUES (7)")

    with OpsStore(db_url):
        pass

    assert {"invoices", "partners", "alembic_version"} <= _tables(db_url)
    assert current_revision(db_url) == head_revision()


def test_open__a_failing_migration__leaves_the_database_as_it_was(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both backends run the migrations in one transaction: a failure rolls back the tables made before."""
    from alembic.runtime.migration import MigrationContext

    real = MigrationContext.run_migrations

    def run_then_fail(self: MigrationContext, **kw: Any) -> None:
        real(self, **kw)
        raise RuntimeError("injected failure after the migrations ran")

    monkeypatch.setattr(MigrationContext, "run_migrations", run_then_fail)

    with pytest.raises(RuntimeError, match="injected failure"):
        OpsStore(db_url)

    assert _tables(db_url) == set()
    assert current_revision(db_url) is None


# ------------------------------------------------------------------------------------------- concurrency

OPEN_STORE = """
import sys
import time
from pathlib import Path
from link_ops.store import OpsStore
go = Path(sys.argv[2])
print("ready", flush=True)
while not go.exists():
    time.sleep(0.001)
with OpsStore(sys.argv[1]) as store:
    store.relayer.relayer_cursor(137, "0x" + "11" * 20)
print("opened", flush=True)
"""


def _openers(url: str, go: Path, count: int) -> list[subprocess.Popen[str]]:
    env = {k: v for k, v in os.environ.items() if k != DB_URL_ENV}
    return [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_STORE, url, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(count)
    ]


def _wait_ready(processes: list[subprocess.Popen[str]]) -> None:
    for process in processes:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.strip() == "ready", line + (process.stderr.read() if process.stderr else "")


def test_open__several_processes_at_once__all_succeed_and_migrate_once(db_url: str, tmp_path: Path) -> None:
    go = tmp_path / "go"
    processes = _openers(db_url, go, 4)
    try:
        _wait_ready(processes)  # all imported and spinning: they open the store within moments of each other
        go.touch()
        outcomes = [p.communicate(timeout=DEADLINE_S) for p in processes]
    finally:
        for process in processes:
            process.kill()
    assert [p.returncode for p in processes] == [0, 0, 0, 0], outcomes
    assert all(out.strip().endswith("opened") for out, _ in outcomes), outcomes
    assert current_revision(db_url) == head_revision()
    with OpsStore(db_url) as store, store.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1


@pytest.mark.postgres
def test_open__postgresql_migration_in_progress__a_second_opener_waits_for_the_advisory_lock(
    postgres_url: str, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    holder = create_engine(postgres_url)
    try:
        with holder.connect() as connection, connection.begin():
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            [opener] = _openers(postgres_url, go, 1)
            try:
                _wait_ready([opener])
                go.touch()
                waiting = text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                    "AND ((classid::bigint << 32) | objid::bigint) = :key"
                )
                deadline = time.monotonic() + DEADLINE_S
                with holder.connect() as observer:
                    while observer.execute(waiting, {"key": MIGRATION_LOCK_KEY}).scalar_one() == 0:
                        assert opener.poll() is None, opener.communicate()
                        assert time.monotonic() < deadline, "the opener never waited for the lock"
                        time.sleep(0.05)
                assert opener.poll() is None
                assert current_revision(postgres_url) is None  # nothing migrated while the lock is held
            except BaseException:
                opener.kill()
                raise
        out, err = opener.communicate(timeout=DEADLINE_S)
    finally:
        holder.dispose()
    assert opener.returncode == 0, err
    assert out.strip().endswith("opened")
    assert current_revision(postgres_url) == head_revision()


def test_open__sqlite_locked_by_a_writer_longer_than_sqlites_default_5_s__waits_then_migrates(
    sqlite_url: str, tmp_path: Path
) -> None:
    database = make_url(sqlite_url).database
    assert database is not None
    import sqlite3

    writer = sqlite3.connect(database, isolation_level=None)
    go = tmp_path / "go"
    try:
        writer.execute("BEGIN IMMEDIATE")
        [opener] = _openers(sqlite_url, go, 1)
        try:
            _wait_ready([opener])
            go.touch()
            # sqlite3's default busy timeout is 5 s: an opener that kept it would fail by now.
            time.sleep(6.5)
            assert opener.poll() is None, opener.communicate()
        except BaseException:
            opener.kill()
            raise
        writer.execute("COMMIT")
        out, err = opener.communicate(timeout=DEADLINE_S)
    finally:
        writer.close()
    assert opener.returncode == 0, err
    assert out.strip().endswith("opened")
    assert current_revision(sqlite_url) == head_revision()


@pytest.mark.postgres
def test_open__postgresql_lock_held_past_the_timeout__one_clear_error(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migrate, "MIGRATION_LOCK_TIMEOUT_S", 1)
    holder = create_engine(postgres_url)
    try:
        with holder.connect() as connection, connection.begin():
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})

            with pytest.raises(OpsStoreError, match=r"another process has been migrating .* for over 1 s"):
                OpsStore(postgres_url)
    finally:
        holder.dispose()
    assert current_revision(postgres_url) is None


def test_open__sqlite_write_lock_held_past_the_timeout__one_clear_error(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    monkeypatch.setattr(migrate, "MIGRATION_LOCK_TIMEOUT_S", 1)
    database = make_url(sqlite_url).database
    assert database is not None
    writer = sqlite3.connect(database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")

        with pytest.raises(OpsStoreError, match=r"another process has held the write lock .* for over 1 s"):
            OpsStore(sqlite_url)
    finally:
        writer.close()
    assert current_revision(sqlite_url) is None


# ---------------------------------------------------------------------------------- adding a migration


@pytest.fixture
def scratch_migrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the packaged migrations that new_revision() writes into (the package stays untouched)."""
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", copy)
    return copy


def test_new_revision__a_table_added_to_the_models__is_written_as_the_next_migration_and_applies(
    scratch_migrations: Path, db_url: str
) -> None:
    head = head_revision()
    added = Table(
        "index_probe",
        Base.metadata,
        Column("id", Integer, primary_key=True),
        Column("label", String(20), nullable=False, index=True),
        Column("seen_at", UTCDateTime(), nullable=False),
    )
    try:
        path = migrate.new_revision("add index probe")
        script = path.read_text()
        assert path.parent == scratch_migrations / "versions"
        assert path.name == f"{int(head) + 1:04d}_add_index_probe.py"
        assert f"down_revision: str | None = {head!r}" in script
        assert (
            'op.create_table(\n        "index_probe"' in script or "op.create_table('index_probe'" in script
        )
        assert "sa.DateTime()" in script and "link_ops" not in script  # stored types, not library code

        with OpsStore(db_url) as store, store.engine.connect() as connection:
            assert schema_differences(connection) == []
            assert "ix_index_probe_label" in {
                i["name"] for i in inspect(connection).get_indexes("index_probe")
            }
        assert current_revision(db_url) == head_revision() == f"{int(head) + 1:04d}"
    finally:
        Base.metadata.remove(added)


def test_new_revision__nothing_changed__refused_unless_empty(scratch_migrations: Path) -> None:
    with pytest.raises(OpsStoreError, match="nothing to migrate"):
        migrate.new_revision("nothing")

    path = migrate.new_revision("backfill something", empty=True)

    assert "def upgrade() -> None:\n    pass" in path.read_text()


# ---------------------------------------------------------------------------------------- command line


def _store_cli(*args: str) -> Result:
    """``python -m link_ops.store`` in this process (click's runner): fast enough to run on both backends."""
    return CliRunner().invoke(store_cli, list(args), prog_name="python -m link_ops.store")


def test_python_m_link_ops_store__is_the_command_line() -> None:
    env = {k: v for k, v in os.environ.items() if k != DB_URL_ENV}
    done = subprocess.run(
        [sys.executable, "-m", "link_ops.store", "history"],
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
        env=env,
    )

    assert done.returncode == 0, done.stderr
    assert BASELINE_REVISION in done.stdout and "Baseline" in done.stdout


def test_cli__upgrade_current_check(db_url: str) -> None:
    before = _store_cli("current", "--url", db_url)
    assert before.exit_code == 0, before.output
    assert "not migrated" in before.output

    upgraded = _store_cli("upgrade", "--url", db_url)
    assert upgraded.exit_code == 0, upgraded.output
    assert f"at revision {head_revision()}" in upgraded.output

    now = _store_cli("current", "--url", db_url)
    assert head_revision() in now.output and "(head)" in now.output
    checked = _store_cli("check", "--url", db_url)
    assert checked.exit_code == 0 and "match the models" in checked.output


def test_cli__check_a_database_that_lacks_a_migration__exit_1_listing_the_differences(db_url: str) -> None:
    upgrade(db_url)
    _execute(db_url, "DROP TABLE monitoring")

    checked = _store_cli("check", "--url", db_url)

    assert checked.exit_code == 1
    assert "monitoring" in checked.output and "a migration is missing" in checked.output


def test_cli__unrecognised_database__one_line_error_and_exit_1(sqlite_url: str) -> None:
    _execute(sqlite_url, "CREATE TABLE partners (id INTEGER PRIMARY KEY)")

    done = _store_cli("upgrade", "--url", sqlite_url)

    assert done.exit_code == 1
    assert done.output.startswith("Error: the database at sqlite:///") and "Traceback" not in done.output
    assert len(done.output.strip().splitlines()) == 1
