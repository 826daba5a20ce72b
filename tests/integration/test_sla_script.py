"""`ape run partner_sla`, as users run it: the report (tables and JSON), the process terms it records, and
one `Error:` line for each mistake."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from _ape import error_lines, output_of, run_ape_here

from link_ops.model.partner_config import PartnerConfig
from link_ops.store import OpsStore, ProbeRecord

UTC = timezone.utc
CONTRACT = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
POLYGON = 137


@pytest.fixture
def db(sqlite_url) -> str:
    """A store with cafe-seoul active on Polygon and a probe a minute for a week, the last fifteen minutes
    failing (relative to the wall clock: the script measures at its own now)."""
    now = datetime.now(UTC)
    config = PartnerConfig.from_mapping(
        {
            "partner_id": "cafe-seoul",
            "name": "Hangang Roasters Seoul",
            "api_endpoints": ["http://127.0.0.1:1/health"],
            "auth_method": "api_key",
            "services": ["coffee"],
            "benefit_structure": {"discount_bps": {0: 500}},
            "initial_benefits": {"token": "LBC", "amount_per_cube": 10**18},
            "claim_window_days": 30,
        }
    )
    with OpsStore(sqlite_url) as store:
        store.partners.begin_onboarding(config, POLYGON)
        store.partners.activate(
            "cafe-seoul", POLYGON, CONTRACT, now - timedelta(days=3), ["http://127.0.0.1:1/h"]
        )
        probes = []
        for minute in range(7 * 24 * 60):
            at = now - timedelta(minutes=minute)
            failing = minute < 15
            probes.append(
                ProbeRecord(
                    "cafe-seoul",
                    POLYGON,
                    "http://127.0.0.1:1/h",
                    at,
                    not failing,
                    503 if failing else 200,
                    0.3,
                )
            )
        store.sla.record_probes(probes)
    return sqlite_url


def run(*args: str):
    return run_ape_here("run", "partner_sla", *args)


def test_report__outage__tables_standing_and_the_page_that_would_fire(db):
    result = run("--partner", "cafe-seoul", "--db", db)
    out = output_of(result)
    assert result.returncode == 0, out
    assert "availability" in out and "≥ 99.500 %" in out and "first support responses within" in out
    assert "partner cafe-seoul on chain 137: at-risk" in out
    assert (
        "high sla.burn-rate.fast: partner cafe-seoul on chain 137: availability is burning its error budget"
        in out
    )


def test_report__json__the_report_as_data(db):
    result = run("--partner", "cafe-seoul", "--db", db, "--json")
    assert result.returncode == 0, output_of(result)
    data = json.loads(result.stdout)
    assert data["partner_id"] == "cafe-seoul" and data["chain_id"] == POLYGON
    assert data["slis"]["availability"]["events"] == 7 * 24 * 60
    assert data["slis"]["availability"]["budget"]["bad_events"] == 15
    assert {a["rule"] for a in data["alerts"]} >= {"sla.burn-rate.fast", "sla.burn-rate.medium"}


def test_tickets__opened_then_answered_through_the_script__recorded(db):
    opened = run(
        "--partner", "cafe-seoul", "--db", db, "--open-ticket", "HD-1", "--at", "2026-01-05T09:00:00+09:00"
    )
    assert opened.returncode == 0, output_of(opened)
    assert "ticket HD-1 of cafe-seoul opened at 2026-01-05 00:00 UTC" in opened.stdout
    answered = run(
        "--partner",
        "cafe-seoul",
        "--db",
        db,
        "--first-response",
        "HD-1",
        "--at",
        "2026-01-05T02:30:00+00:00",
        "--json",
    )
    assert answered.returncode == 0, output_of(answered)
    assert json.loads(answered.stdout)["first_response_at"] == "2026-01-05T02:30:00+00:00"
    with OpsStore(db) as store:
        (ticket,) = store.sla.tickets("cafe-seoul", POLYGON)
    assert ticket.first_response_at - ticket.opened_at == timedelta(hours=2, minutes=30)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--partner", "ghost"], 1, "Error: no partner 'ghost' on chain 137 in the operations store"),
        (
            ["--partner", "cafe-seoul", "--chain", "mars"],
            2,
            "Error: Invalid value for '--chain': Unsupported chain: mars",
        ),
        (
            ["--partner", "cafe-seoul", "--first-response", "HD-404"],
            1,
            "Error: partner 'cafe-seoul' on chain 137 has no support ticket 'HD-404': open it first",
        ),
        (
            ["--partner", "cafe-seoul", "--open-ticket", "HD-1", "--first-response", "HD-1"],
            2,
            "Error: give one of --open-ticket, --first-response at a time",
        ),
        (
            ["--partner", "cafe-seoul", "--benefit-applied", "0x" + "c3" * 32],
            2,
            "Error: --benefit-applied and --holder go together",
        ),
        (
            ["--partner", "cafe-seoul", "--benefit-applied", "0x" + "c3" * 32, "--holder", "0x" + "a1" * 20],
            1,
            "Error: the event index holds no welcome claim of 0x" + "a1" * 20,
        ),
        (
            ["--partner", "cafe-seoul", "--open-ticket", "HD-1", "--at", "yesterday"],
            2,
            "Error: Invalid value for '--at': 'yesterday' is not an ISO 8601 time with its offset",
        ),
        (
            ["--partner", "cafe-seoul", "--at", "2026-01-05T09:00:00+00:00"],
            2,
            "Error: --at dates what is recorded",
        ),
    ],
)
def test_script__bad_input__one_error_line(db, args, code, message):
    result = run(*args, "--db", db)
    assert result.returncode == code, output_of(result)
    errors = error_lines(result)
    assert len(errors) == 1 and errors[0].startswith(message), errors
    assert "Traceback" not in output_of(result)


def test_script__answer_before_the_ticket_was_opened__error_and_nothing_recorded(db):
    run("--partner", "cafe-seoul", "--db", db, "--open-ticket", "HD-2", "--at", "2026-01-05T09:00:00+00:00")
    result = run(
        "--partner", "cafe-seoul", "--db", db, "--first-response", "HD-2", "--at", "2026-01-05T08:00:00+00:00"
    )
    assert result.returncode == 1
    (line,) = error_lines(result)
    assert "it cannot have been answered before" in line
    with OpsStore(db) as store:
        (ticket,) = store.sla.tickets("cafe-seoul", POLYGON)
    assert ticket.first_response_at is None
