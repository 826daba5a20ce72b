"""The event index on real anvils: each module builds its own world (see ``_index_world``)."""

from __future__ import annotations

import pytest


@pytest.fixture
def index_db_url(tmp_path) -> str:
    """A fresh SQLite database file for the test (the store's tables are created on first open)."""
    return f"sqlite:///{tmp_path / 'index.db'}"
