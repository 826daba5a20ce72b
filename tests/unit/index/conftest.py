"""The event index's unit tests: an in-memory chain (``_fake_chain``) and a SQLite store per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from link_ops.store import OpsStore


@pytest.fixture
def index_db_url(tmp_path) -> str:
    """A fresh SQLite database file for the test."""
    return f"sqlite:///{tmp_path / 'index.db'}"


@pytest.fixture
def store(index_db_url) -> Iterator[OpsStore]:
    with OpsStore(index_db_url) as ops:
        yield ops
