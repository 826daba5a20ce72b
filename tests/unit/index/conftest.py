"""The event index's unit tests: an in-memory chain (``_fake_chain``) and a SQLite store per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from link_ops.store import OpsStore


@pytest.fixture
def index_db_url(db_url: str) -> str:
    """A fresh database for the test: a SQLite file, then a PostgreSQL database (``db_url``)."""
    return db_url


@pytest.fixture
def store(index_db_url) -> Iterator[OpsStore]:
    with OpsStore(index_db_url) as ops:
        yield ops
