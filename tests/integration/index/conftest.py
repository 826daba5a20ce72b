"""The event index on real anvils: each module builds its own world (see ``_index_world``)."""

from __future__ import annotations

import pytest


@pytest.fixture
def index_db_url(db_url: str) -> str:
    """A fresh database for the test: a SQLite file, then a PostgreSQL database (``db_url``; the store's
    tables are created on first open)."""
    return db_url
