"""Alembic's environment for the operations store: migrates the connection the library hands over.

:mod:`link_ops.store.migrate` runs every command with its own (locked) connection in
``config.attributes["connection"]``; there is no alembic.ini and no URL here. SQLite gets batch mode
(``render_as_batch``): its ALTER TABLE cannot change constraints, so Alembic rebuilds the table.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection
from sqlalchemy.types import TypeDecorator

from link_ops.store.migrate import target_metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Writes the library's column types (e.g. ``UTCDateTime``) as the SQL type they store, so a migration
    never imports the library's current code."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl_instance!r}"
    return False


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError(
            "the store's migrations run through link_ops.store.migrate (upgrade(url), or "
            "`python -m link_ops.store upgrade`), not the alembic command: it hands them a connection"
        )
    context.configure(
        connection=connection,
        target_metadata=target_metadata(),
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError(
        "offline (--sql) migrations are not supported: upgrade the database with link_ops.store.migrate"
    )
run_migrations()
