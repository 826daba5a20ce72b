"""Pytest fixtures that run the store's suites on SQLite and on PostgreSQL.

- ``db_url``: a new, empty database for the test, once on each backend (the test runs twice, with ids
  ``[sqlite]`` and ``[postgresql]``); the PostgreSQL run carries the ``postgres`` mark, so
  ``-m "not postgres"`` leaves it out.
- ``ops_store``: an :class:`~link_ops.store.OpsStore` on ``db_url``, closed after the test.
- ``sqlite_url``: a new SQLite file (``<tmp_path>/ops.db``); ``postgres_url``: a new database on the
  session's PostgreSQL server, dropped after the test.
- ``postgres_server`` (session): the server of ``$LINK_OPS_TEST_POSTGRES_URL`` when set, else a throwaway
  cluster of this pytest process (each xdist worker has its own, on its own port), started when a test
  first needs it and stopped, its folder removed, when the session ends.

Load it with ``pytest_plugins = ["link_ops.testing.pytest_postgres"]`` in a conftest, or
``-p link_ops.testing.pytest_postgres``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from link_ops.store import OpsStore
from link_ops.testing.postgres import (
    TEST_POSTGRES_URL_ENV,
    ExternalPostgres,
    PostgresNotInstalledError,
    PostgresServer,
    PostgresServerError,
    ThrowawayPostgres,
)

#: The backends ``db_url`` runs each test on.
BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"postgres: needs a PostgreSQL server (a throwaway cluster, or ${TEST_POSTGRES_URL_ENV}'s)",
    )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (see the module's docstring)."""
    external = os.environ.get(TEST_POSTGRES_URL_ENV, "").strip()
    if external:
        yield ExternalPostgres(external)
        return
    try:
        server = ThrowawayPostgres().start()
    except (PostgresNotInstalledError, PostgresServerError) as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A new, empty PostgreSQL database for this test, dropped afterwards."""
    name = f"link_ops_test_{uuid.uuid4().hex[:16]}"
    url = postgres_server.create_database(name)
    try:
        yield url
    finally:
        postgres_server.drop_database(name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A new SQLite database file, ``<tmp_path>/ops.db`` (created when first opened)."""
    return f"sqlite:///{tmp_path / 'ops.db'}"


@pytest.fixture(params=[BACKENDS[0], pytest.param(BACKENDS[1], marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A new, empty database for this test: a SQLite file, then a PostgreSQL database."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def ops_store(db_url: str) -> Iterator[OpsStore]:
    """An operations store on ``db_url``, closed after the test."""
    with OpsStore(db_url) as store:
        yield store
