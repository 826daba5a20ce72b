"""The store's schema, kept by Alembic migrations that the library runs itself (no alembic.ini, no
``alembic`` command): opening a :class:`~link_ops.store.Database` upgrades its database to the newest
revision.

The migration scripts live in ``link_ops/store/migrations/versions/`` and ship with the package. Opening a
database meets one of four cases, all decided inside one locked transaction:

- no ``alembic_version`` table and none of the store's tables: a new database, every revision runs;
- ``alembic_version`` at a revision this code knows: the later revisions run (none at the head);
- ``alembic_version`` at a revision this code does not know (a newer link-ops migrated it):
  :class:`NewerSchemaError`, nothing is changed (never a silent downgrade);
- no ``alembic_version`` but the store's tables: a database link-ops made before it had migrations
  (``create_all``). Its tables are checked against that schema (:data:`MAIN_SCHEMA`), stamped at
  :data:`BASELINE_REVISION` and upgraded in place, every row kept; tables that are not that schema raise
  :class:`UnrecognisedSchemaError`.

Two processes opening one database at once do not both migrate it: on PostgreSQL the transaction holds an
advisory lock (:data:`MIGRATION_LOCK_KEY`), on SQLite the database's write lock (``BEGIN IMMEDIATE``); the
second waits, then finds the database upgraded. PostgreSQL and SQLite both run DDL inside transactions, so
a migration that fails leaves the database as it was.

``python -m link_ops.store`` offers the same from a shell (``upgrade``, ``current``, ``history``,
``check``, ``revision``). README's "The operations store" says how to add a migration.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, inspect, text
from sqlalchemy.exc import OperationalError

from link_ops.store.engine import DB_URL_ENV, Base, OpsStoreError, default_db_url, open_engine

#: The Alembic script directory (``env.py``, ``script.py.mako``, ``versions/``), inside the package.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: The first revision: exactly the tables link-ops created before it had migrations.
BASELINE_REVISION = "0001"

#: The PostgreSQL advisory lock held while a database is checked and upgraded (the bytes of "link-ops").
MIGRATION_LOCK_KEY = int.from_bytes(b"link-ops", "big")

#: How long a process waits for another one's migration before it gives up, in seconds.
MIGRATION_LOCK_TIMEOUT_S = 300

_REVISION_ID = re.compile(r"^\d{4}$")


class UnrecognisedSchemaError(OpsStoreError):
    """The database holds tables of the store's names that are not a schema link-ops made."""


class NewerSchemaError(OpsStoreError):
    """The database was migrated by a newer link-ops, to a revision this code does not know."""


@dataclass(frozen=True)
class RevisionInfo:
    """One migration: its id, the revision it follows (None for the first), and what it does."""

    revision: str
    down_revision: str | None
    doc: str


# The schema link-ops' create_all made before the migrations (main at f8a7caf): per table, each column's
# name, Python type and nullability, then the primary key. Frozen: it describes old databases, not the
# models of today.
MAIN_SCHEMA: Mapping[str, tuple[tuple[tuple[str, type, bool], ...], tuple[str, ...]]] = {
    "partners": (
        (
            ("partner_id", str, False),
            ("chain_id", int, False),
            ("name", str, False),
            ("contract_address", str, True),
            ("status", str, False),
            ("integration_time", datetime, True),
            ("config_json", str, False),
            ("failure_reason", str, True),
            ("created_at", datetime, False),
            ("updated_at", datetime, False),
        ),
        ("partner_id", "chain_id"),
    ),
    "onboarding_steps": (
        (
            ("id", int, False),
            ("partner_id", str, False),
            ("chain_id", int, False),
            ("step", str, False),
            ("status", str, False),
            ("detail", str, True),
            ("gas_used", int, True),
            ("at", datetime, False),
        ),
        ("id",),
    ),
    "monitoring": (
        (
            ("partner_id", str, False),
            ("chain_id", int, False),
            ("endpoints_json", str, False),
            ("sla_json", str, False),
            ("registered_at", datetime, False),
        ),
        ("partner_id", "chain_id"),
    ),
    "relayer_cursors": (
        (
            ("chain_id", int, False),
            ("messenger", str, False),
            ("next_block", int, False),
            ("updated_at", datetime, False),
        ),
        ("chain_id", "messenger"),
    ),
    "relayed_messages": (
        (
            ("message_id", str, False),
            ("src_chain_id", int, False),
            ("src_messenger", str, False),
            ("sender", str, False),
            ("dst_chain_id", int, False),
            ("receiver", str, False),
            ("nonce", int, False),
            ("payload_hex", str, False),
            ("status", str, False),
            ("attempts", int, False),
            ("tx_hash", str, True),
            ("last_error", str, True),
            ("seen_at", datetime, False),
            ("delivered_at", datetime, True),
        ),
        ("message_id",),
    ),
}


# ------------------------------------------------------------------------------------------ the scripts


def target_metadata() -> MetaData:
    """Every table of the store: imports each module of :mod:`link_ops.store` (so a table module nobody
    imported yet counts too), then returns their shared metadata."""
    import link_ops.store as package

    for module in pkgutil.iter_modules(package.__path__):
        if module.name not in ("migrations", "__main__"):
            importlib.import_module(f"{package.__name__}.{module.name}")
    return Base.metadata


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for the packaged scripts; `connection` is the one ``env.py`` migrates."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.set_main_option("truncate_slug_length", "40")
    config.attributes["connection"] = connection
    return config


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision this code knows."""
    head = _scripts().get_current_head()
    if head is None:
        raise OpsStoreError(f"no migration scripts in {MIGRATIONS_DIR}: the link-ops install is incomplete")
    return head


def history() -> list[RevisionInfo]:
    """Every revision this code knows, oldest first."""
    revisions = list(_scripts().walk_revisions())
    return [
        RevisionInfo(
            revision=r.revision,
            down_revision=r.down_revision
            if isinstance(r.down_revision, str) or r.down_revision is None
            else ",".join(r.down_revision),
            doc=(r.doc or "").strip(),
        )
        for r in reversed(revisions)
    ]


# --------------------------------------------------------------------------------------------- upgrading


@contextmanager
def _locked_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that no other process migrating the same database runs beside.

    Committed when the block ends, rolled back on an error.
    """
    backend = engine.dialect.name
    with engine.connect() as connection:
        if backend == "sqlite":
            with _sqlite_write_lock(connection):
                yield connection
            return
        with connection.begin():
            if backend == "postgresql":
                connection.execute(text(f"SET LOCAL lock_timeout = '{MIGRATION_LOCK_TIMEOUT_S}s'"))
                try:
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                    )
                except OperationalError as exc:
                    raise OpsStoreError(
                        f"another process has been migrating the operations store for over "
                        f"{MIGRATION_LOCK_TIMEOUT_S} s (it holds advisory lock {MIGRATION_LOCK_KEY}): look "
                        "for it (pg_locks), then open the store again"
                    ) from exc
            yield connection


@contextmanager
def _sqlite_write_lock(connection: Connection) -> Iterator[None]:
    """SQLite: the database's write lock from the first statement (BEGIN IMMEDIATE), foreign keys off while
    tables are rebuilt (Alembic's batch mode copies them) and checked before the commit.

    The driver's own transaction handling is switched off meanwhile (it would not begin a transaction
    before DDL), and the connection is given back as it was.
    """
    driver = connection.connection.driver_connection
    if driver is None:  # pragma: no cover - a live connection always has one
        raise OpsStoreError("the SQLite connection is closed")
    isolation_level = driver.isolation_level
    driver.isolation_level = None
    try:
        busy_timeout = int(connection.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0)
        foreign_keys = int(connection.exec_driver_sql("PRAGMA foreign_keys").scalar() or 0)
        try:
            connection.exec_driver_sql(f"PRAGMA busy_timeout = {MIGRATION_LOCK_TIMEOUT_S * 1000}")
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            except OperationalError as exc:
                raise OpsStoreError(
                    f"another process has held the write lock of the operations store at "
                    f"{connection.engine.url} for over {MIGRATION_LOCK_TIMEOUT_S} s ({exc.orig}): let it "
                    "finish, or stop it, then open the store again"
                ) from exc
            yield
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise OpsStoreError(
                    f"a migration left rows whose foreign keys point nowhere ({broken[:3]}): the upgrade "
                    "was rolled back; report this as a bug of link-ops"
                )
        except BaseException:
            connection.rollback()
            raise
        else:
            connection.commit()
        finally:  # the connection goes back to the pool as it came
            connection.exec_driver_sql(f"PRAGMA foreign_keys = {foreign_keys}")
            connection.exec_driver_sql(f"PRAGMA busy_timeout = {busy_timeout}")
            connection.commit()
    finally:
        driver.isolation_level = isolation_level


def _current(connection: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(connection).get_current_heads())


def baseline_problems(connection: Connection) -> list[str]:
    """How the store's tables in the database differ from :data:`MAIN_SCHEMA`, one line per kind of
    difference (empty: they are that schema, which the baseline revision describes)."""
    inspector = inspect(connection)
    present = set(inspector.get_table_names())
    problems = []
    for name, (columns, primary_key) in MAIN_SCHEMA.items():
        if name not in present:
            continue
        found = {c["name"]: c for c in inspector.get_columns(name)}
        if missing := [c for c, _, _ in columns if c not in found]:
            problems.append(f"{name} lacks the columns {', '.join(missing)}")
        expected = {c for c, _, _ in columns}
        if extra := [c for c in found if c not in expected]:
            problems.append(f"{name} has columns link-ops never made: {', '.join(extra)}")
        for column, python_type, nullable in columns:
            if column not in found:
                continue
            try:
                held = found[column]["type"].python_type
            except NotImplementedError:
                held = None
            if held is not python_type:
                problems.append(
                    f"{name}.{column} is {found[column]['type']}, not a {python_type.__name__} column"
                )
            if bool(found[column]["nullable"]) != nullable and column not in primary_key:
                problems.append(f"{name}.{column} is {'' if found[column]['nullable'] else 'NOT '}NULL")
        keys = tuple(inspector.get_pk_constraint(name)["constrained_columns"] or ())
        if set(keys) != set(primary_key):
            problems.append(f"{name}'s primary key is ({', '.join(keys)}), not ({', '.join(primary_key)})")
    if absent := [name for name in MAIN_SCHEMA if name not in present]:
        problems.append(f"the tables {', '.join(absent)} are missing")
    return problems


def upgrade_engine(engine: Engine, revision: str = "head") -> str | None:
    """Upgrades the database of `engine` to `revision` (default: the newest), adopting one made before the
    migrations (see the module's docstring). Returns the revision it is at afterwards.

    Raises :class:`NewerSchemaError` or :class:`UnrecognisedSchemaError` without changing anything.
    """
    scripts = _scripts()
    known = {r.revision for r in scripts.walk_revisions()}
    where = engine.url.render_as_string(hide_password=True)
    with _locked_transaction(engine) as connection:
        current = _current(connection)
        unknown = [r for r in current if r not in known]
        if unknown:
            raise NewerSchemaError(
                f"the operations store at {where} is at schema revision {', '.join(unknown)}, which this "
                f"link-ops does not know (its newest is {scripts.get_current_head()}): a newer link-ops "
                "migrated it. Upgrade link-ops, or point "
                f"{DB_URL_ENV} at another database; it is never downgraded automatically."
            )
        if not current:
            tables = set(inspect(connection).get_table_names())
            if tables & set(MAIN_SCHEMA):
                problems = baseline_problems(connection)
                if problems:
                    raise UnrecognisedSchemaError(
                        f"the database at {where} holds tables named like the operations store's "
                        f"({', '.join(sorted(tables & set(MAIN_SCHEMA)))}) but no alembic_version, and "
                        f"they are not the schema link-ops made: {'; '.join(problems)}. Point {DB_URL_ENV} "
                        "(or the url given) "
                        "at another database, or move these tables away; link-ops changes nothing here."
                    )
                command.stamp(alembic_config(connection), BASELINE_REVISION)
        command.upgrade(alembic_config(connection), revision)
        after = _current(connection)
    return after[0] if after else None


def upgrade(url: str | None = None, revision: str = "head") -> str | None:
    """Upgrades the database at `url` (default: :func:`~link_ops.store.engine.default_db_url`) to
    `revision` (default: the newest) and returns the revision it is at."""
    engine = open_engine(url if url is not None else default_db_url(), "url" if url is not None else None)
    try:
        return upgrade_engine(engine, revision)
    finally:
        engine.dispose()


def current_revision(url: str | None = None) -> str | None:
    """The revision the database at `url` is at (None: never migrated). Changes nothing."""
    engine = open_engine(url if url is not None else default_db_url(), "url" if url is not None else None)
    try:
        with engine.connect() as connection:
            current = _current(connection)
    finally:
        engine.dispose()
    return ",".join(current) if current else None


def schema_differences(connection: Connection) -> list[Any]:
    """What separates the database from the store's tables (:func:`target_metadata`), as Alembic's
    autogenerate sees it: tables, columns, types, nullability, indexes, unique and foreign keys. Empty when
    they agree; the suite holds it empty for a freshly migrated database."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, target_metadata()))


def next_revision_id() -> str:
    """The id the next migration gets: the newest one's number plus one, four digits."""
    numbers = [int(r.revision) for r in _scripts().walk_revisions() if _REVISION_ID.match(r.revision)]
    return f"{max(numbers, default=0) + 1:04d}"


def new_revision(message: str, *, empty: bool = False) -> Path:
    """Writes the next migration script into ``migrations/versions/`` (in a checkout: the package is
    edited) and returns its path.

    Autogenerated from what separates the models from a database upgraded to the newest revision (a
    throwaway SQLite file); review it, then run the suite (it holds the models equal to the migrations).
    `empty` writes a script with empty ``upgrade()``/``downgrade()``, for a data migration. Raises
    :class:`OpsStoreError` when nothing differs and `empty` is not set.
    """
    with tempfile.TemporaryDirectory(prefix="link-ops-revision-") as folder:
        engine = open_engine(f"sqlite:///{Path(folder) / 'head.db'}", "url")
        try:
            upgrade_engine(engine)
            with engine.connect() as connection:
                if not empty and not schema_differences(connection):
                    raise OpsStoreError(
                        "the models and the migrations agree: there is nothing to migrate (pass empty=True, "
                        "or --empty, for a data migration)"
                    )
                config = alembic_config(connection)
                written = command.revision(
                    config, message=message, autogenerate=not empty, rev_id=next_revision_id()
                )
        finally:
            engine.dispose()
    scripts = written if isinstance(written, list) else [written]
    if not scripts or scripts[0] is None:
        raise OpsStoreError("Alembic wrote no migration script")
    return Path(scripts[0].path)
