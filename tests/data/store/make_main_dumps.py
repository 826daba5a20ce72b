"""Writes ``main-sqlite.sql`` and ``main-postgresql.sql`` beside this file: an operations store exactly as
link-ops made it before it had migrations (main at f8a7caf: ``Base.metadata.create_all``, no
``alembic_version``), with rows in every table written by that code's own stores.
``tests/unit/test_store_upgrade.py`` loads them and upgrades them in place.

Run it once with main's code first on the path, from the repository root (the committed dumps came from
exactly this)::

    mkdir -p /tmp/main-code && git archive f8a7caf src/link_ops | tar -x -C /tmp/main-code
    PYTHONPATH=/tmp/main-code/src .venv/bin/python tests/data/store/make_main_dumps.py

- ``main-sqlite.sql`` is the SQLite database main created, dumped by ``sqlite3``'s ``iterdump`` (its DDL is
  byte for byte what main's ``create_all`` ran).
- ``main-postgresql.sql`` is the DDL main's ``create_all`` sends to PostgreSQL (compiled by SQLAlchemy's
  PostgreSQL dialect, in create_all's order), the same rows as literal INSERTs, and the sequence of
  ``onboarding_steps.id`` moved past them (as the rows main inserted there would have moved it).
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import create_mock_engine

HERE = Path(__file__).resolve().parent

AMOY, POLYGON, ETHEREUM = 80002, 137, 1
CONTRACT = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
MESSENGER = "0x" + "11" * 20
OTHER_MESSENGER = "0x" + "44" * 20
TX = "0x" + "12" * 32


def _config(partner_id: str, name: str) -> Any:
    from link_ops.model.partner_config import PartnerConfig

    return PartnerConfig.from_mapping(
        {
            "partner_id": partner_id,
            "name": name,
            "api_endpoints": ["http://127.0.0.1:8765/health"],
            "auth_method": "api_key",
            "services": ["coffee"],
            "benefit_structure": {"discount_bps": {0: 500, 3: 2500}},
            "initial_benefits": {"token": "LBC", "amount_per_cube": 5 * 10**18},
            "claim_window_days": 30,
        }
    )


def _message(src: int, dst: int, nonce: int, messenger: str = MESSENGER) -> Any:
    from link_ops.model.attest import Message

    return Message(src, messenger, "0x" + "22" * 20, dst, "0x" + "33" * 20, nonce, bytes([nonce + 1]) * 40)


def write_rows(url: str) -> None:
    """Every kind of row main's stores write, through main's stores."""
    from link_ops.store import OpsStore

    with OpsStore(url) as store:
        partners, relayer = store.partners, store.relayer
        partners.begin_onboarding(_config("cafe-seoul", "Hangang Roasters Seoul"), AMOY)
        partners.record_step("cafe-seoul", AMOY, "validate")
        partners.record_step("cafe-seoul", AMOY, "deploy", detail=TX, gas_used=1_234_567)
        partners.record_step("cafe-seoul", AMOY, "fund", detail=TX, gas_used=80_000)
        when = datetime(2025, 11, 26, 4, 30, tzinfo=timezone.utc)
        partners.activate("cafe-seoul", AMOY, CONTRACT, when, ["http://127.0.0.1:8765/health"])
        partners.begin_onboarding(_config("cafe-seoul", "Hangang Roasters Seoul"), POLYGON)
        partners.record_step("cafe-seoul", POLYGON, "validate")
        partners.begin_onboarding(_config("zeta-bar", "Zeta Bar — Café Ünïcode 서울"), AMOY)
        partners.record_step("zeta-bar", AMOY, "deploy", status="failed", detail="nonce too low; it's 7")
        partners.mark_failed("zeta-bar", AMOY, "deploy reverted: 'NotAdmin()'")
        partners.begin_onboarding(_config("tea-house", "Tea House"), AMOY)

        relayer.record_scan(POLYGON, MESSENGER, 101, [_message(POLYGON, ETHEREUM, n) for n in range(3)])
        relayer.record_scan(ETHEREUM, OTHER_MESSENGER, 55, [_message(ETHEREUM, POLYGON, 0, OTHER_MESSENGER)])
        first = "0x" + _message(POLYGON, ETHEREUM, 0).message_id.hex()
        second = "0x" + _message(POLYGON, ETHEREUM, 1).message_id.hex()
        relayer.mark_delivered(first, "0x" + "ab" * 32)
        relayer.record_delivery_attempt(second, "LimitExceeded(route=1, it's over)")
        relayer.record_delivery_attempt(second, "LimitExceeded(route=1, it's over)")


def _literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def postgresql_dump(sqlite_file: Path) -> str:
    from link_ops.store.engine import Base

    ddl: list[str] = []
    mock = create_mock_engine(
        "postgresql+psycopg://", lambda sql, *_a, **_k: ddl.append(str(sql.compile(dialect=mock.dialect)))
    )
    Base.metadata.create_all(mock, checkfirst=False)
    lines = [f"{statement.strip()};" for statement in ddl]
    rows = sqlite3.connect(sqlite_file)
    for table in Base.metadata.sorted_tables:
        columns = [c.name for c in table.columns]
        order = ", ".join(c.name for c in table.primary_key.columns)
        for row in rows.execute(f"SELECT {', '.join(columns)} FROM {table.name} ORDER BY {order}"):
            values = ", ".join(_literal(v) for v in row)
            lines.append(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({values});")
    rows.close()
    lines.append(
        "SELECT setval(pg_get_serial_sequence('onboarding_steps', 'id'), "
        "(SELECT max(id) FROM onboarding_steps));"
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    import link_ops.store

    if (Path(link_ops.store.__file__).parent / "migrate.py").exists():
        sys.exit("this is not main's link_ops (it has migrations): put main's src/ first on PYTHONPATH")
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "ops.db"
        write_rows(f"sqlite:///{db}")
        with sqlite3.connect(db) as connection:
            (HERE / "main-sqlite.sql").write_text("\n".join(connection.iterdump()) + "\n")
        (HERE / "main-postgresql.sql").write_text(postgresql_dump(db))
    print(f"wrote {HERE / 'main-sqlite.sql'} and {HERE / 'main-postgresql.sql'}")


if __name__ == "__main__":
    main()
