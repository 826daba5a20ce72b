"""The operations database: one SQL database (a SQLite file by default, PostgreSQL by URL) and what every
store on it shares.

The database is the SQLite file ``.link_ops/ops.db`` under the project root (the current directory), or
any SQLAlchemy URL given by ``$LINK_OPS_DB_URL`` or to :class:`Database` (e.g. ``postgresql+psycopg://…``;
its driver must be installed: the ``[postgres]`` extra). The stores on it
(:class:`~link_ops.store.partners.PartnerStore`, :class:`~link_ops.store.relayer.RelayerStore`) run every
method in one transaction and return plain frozen records, never ORM objects. No ape, no network besides
the database.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any

from eth_utils.address import to_checksum_address
from sqlalchemy import (
    ColumnElement,
    DateTime,
    Dialect,
    Engine,
    MetaData,
    create_engine,
    event,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, sessionmaker
from sqlalchemy.types import TypeDecorator
from typing_extensions import Self

from link_ops.exceptions import ConfigurationError, LinkOpsError
from link_ops.model.partner_config import is_valid_address

#: The environment variable that overrides the default database (any SQLAlchemy URL).
DB_URL_ENV = "LINK_OPS_DB_URL"


#: Where the default SQLite database lives, under the project root.
DEFAULT_DB_PATH = Path(".link_ops") / "ops.db"


class OpsStoreError(LinkOpsError):
    """The operations store refused an operation, or cannot be reached."""


class StoreConfigurationError(ConfigurationError):
    """The database URL is malformed, or its driver is not installed."""


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


def without_nul(value: str | None) -> str | None:
    """Text from outside (an error, a step's detail) as the store keeps it: PostgreSQL's text cannot hold
    NUL characters (SQLite's can), so on every backend each becomes U+FFFD, the replacement character. The
    rows apply it as their free-text attributes are set (``validates``), so a record read back equals the
    one returned."""
    return None if value is None else value.replace("\x00", "\ufffd")


def one_of(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


#: How constraints and indexes are named when a table does not name them. Primary and foreign keys get the
#: names PostgreSQL gives them by itself (so a database created before the migrations, by ``create_all``,
#: carries the same names as a migrated one); a unique constraint or an index is named after its table and
#: columns. A check constraint must be named explicitly (``ck_<table>_<what>``): the suite refuses an
#: unnamed one. Later migrations alter constraints by these names on every backend.
NAMING_CONVENTION: Mapping[str, str] = MappingProxyType(
    {
        "pk": "%(table_name)s_pkey",
        "fk": "%(table_name)s_%(column_0_N_name)s_fkey",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ix": "ix_%(column_0_label)s",
    }
)


class Base(DeclarativeBase):
    """The store's tables. Each table needs an Alembic migration (see :mod:`link_ops.store.migrate`)."""

    metadata = MetaData(naming_convention=dict(NAMING_CONVENTION))


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


def open_engine(url: str, source: str | None) -> Engine:
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


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def check_chain_id(chain_id: int) -> int:
    if isinstance(chain_id, bool) or not isinstance(chain_id, int) or chain_id <= 0:
        raise ConfigurationError(f"chain_id must be a positive whole number, got {chain_id!r}")
    return chain_id


def check_address(value: str) -> str:
    if not is_valid_address(value):
        raise ConfigurationError(
            f"contract_address must be a 0x address of 40 hex digits (mixed case only with a valid EIP-55 "
            f"checksum), got {value!r}"
        )
    return to_checksum_address(value)


def as_utc(value: datetime | None) -> datetime | None:
    """`value` in UTC: rows just written still hold the caller's datetime, read rows already hold UTC."""
    return None if value is None else value.astimezone(timezone.utc)


def as_utc_required(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


class Database:
    """The database at `url` (default: :func:`default_db_url`), upgraded to the newest schema on opening.

    For a SQLite file, its folder is created too. Opening runs the store's Alembic migrations up to the
    newest revision (:func:`link_ops.store.migrate.upgrade_engine`): a new database gets every table, an
    older one is upgraded in place, one made before the migrations existed is adopted first. Raises
    :class:`~link_ops.store.migrate.UnrecognisedSchemaError` for tables that are not the store's, and
    :class:`~link_ops.store.migrate.NewerSchemaError` for a database a newer link-ops has migrated.
    """

    def __init__(self, url: str | None = None) -> None:
        from link_ops.store.migrate import upgrade_engine

        source = (
            "url" if url is not None else (DB_URL_ENV if os.environ.get(DB_URL_ENV, "").strip() else None)
        )
        raw = url if url is not None else default_db_url()
        self._engine = open_engine(raw, source)
        self.url = self._engine.url.render_as_string(hide_password=True)
        try:
            upgrade_engine(self._engine)
        except OperationalError as exc:
            self._engine.dispose()
            reason = " ".join(str(exc.orig).split())
            stop = "" if reason.endswith((".", "?", "!")) else "."
            raise OpsStoreError(
                f"cannot open the operations store at {self.url}: {reason}{stop} Check that the database is "
                f"reachable and writable, or point {DB_URL_ENV} at another database."
            ) from exc
        except BaseException:
            self._engine.dispose()
            raise
        self.sessions = sessionmaker(self._engine, expire_on_commit=False)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def byte_order(
        self, column: InstrumentedAttribute[str]
    ) -> ColumnElement[str] | InstrumentedAttribute[str]:
        """`column` as ORDER BY should sort it: by its characters' code points on every backend. SQLite
        compares bytes; PostgreSQL uses the database's collation, which may be linguistic (en_US ignores
        '-'), unless told "C"."""
        return column.collate("C") if self._engine.dialect.name == "postgresql" else column

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for reports and maintenance beyond the stores' methods."""
        return self._engine

    def close(self) -> None:
        """Closes the database's connections."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
