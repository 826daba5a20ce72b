"""Specs of link_ops.store.sla (``OpsStore().sla``) and of the store-backed reports
(link_ops.watch.partner_sla), each on a new SQLite file and a new PostgreSQL database (``db_url``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests
from sqlalchemy import func, select

from link_ops.exceptions import ConfigurationError
from link_ops.model.partner_config import PartnerConfig
from link_ops.store import (
    BenefitNotGrantedError,
    BlockRef,
    IndexedEvent,
    OpsStore,
    PartnerStateError,
    ProbeRecord,
    SlaRecordError,
    UnknownPartnerError,
    UnknownTicketError,
)
from link_ops.store.sla_tables import BenefitApplicationRow, ProbeRow, SupportTicketRow
from link_ops.watch.http import StatusSources, WatchServer
from link_ops.watch.partner_sla import PartnerSlas
from link_ops.watch.sla import Standing

UTC = timezone.utc
CHAIN = 137
PARTNER = "cafe-seoul"
CONTRACT = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
HOLDER = "0x" + "a1" * 20
OTHER_HOLDER = "0x" + "b2" * 20
CLAIM_TX = "0x" + "c3" * 32
GRANTED = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
NOW = GRANTED + timedelta(days=2)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def partner_config(partner_id: str = PARTNER) -> PartnerConfig:
    return PartnerConfig.from_mapping(
        {
            "partner_id": partner_id,
            "name": "Hangang Roasters Seoul",
            "api_endpoints": ["http://127.0.0.1:1/health"],
            "auth_method": "api_key",
            "services": ["coffee"],
            "benefit_structure": {"discount_bps": {0: 500}},
            "initial_benefits": {"token": "LBC", "amount_per_cube": 10**18},
            "claim_window_days": 30,
        }
    )


def welcome_claimed(block: int, log_index: int, holder: str, tx: str, at: datetime) -> IndexedEvent:
    return IndexedEvent(
        chain_id=CHAIN,
        block_number=block,
        log_index=log_index,
        block_hash="0x" + f"{block:064x}",
        tx_hash=tx,
        address=CONTRACT,
        contract="PartnerBenefits",
        event="WelcomeClaimed",
        args={"holder": holder, "cubeCount": 2, "amount": 2 * 10**18},
        block_time=int(at.timestamp()),
    )


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def store(ops_store: OpsStore, clock: Clock) -> OpsStore:
    """An active cafe-seoul on Polygon, one welcome claim (HOLDER in CLAIM_TX at GRANTED) indexed."""
    ops_store.sla.clock = clock
    ops_store.partners.begin_onboarding(partner_config(), CHAIN)
    ops_store.partners.activate(
        PARTNER, CHAIN, CONTRACT, GRANTED - timedelta(days=1), ["http://127.0.0.1:1/h"]
    )
    events = [welcome_claimed(10, 0, HOLDER, CLAIM_TX, GRANTED)]
    ops_store.index.write_batch(
        CHAIN,
        first_block=1,
        last=BlockRef(10, "0x" + "0a" * 32, "0x" + "09" * 32, int(GRANTED.timestamp())),
        events=events,
        start_block=1,
        contracts={"PartnerBenefits": [CONTRACT]},
    )
    return ops_store


def count(store: OpsStore, table) -> int:
    with store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


def probe(at: datetime, ok: bool = True, partner_id: str = PARTNER) -> ProbeRecord:
    return ProbeRecord(
        partner_id,
        CHAIN,
        "http://127.0.0.1:1/h",
        at,
        ok,
        200 if ok else 503,
        0.2,
        None if ok else "answered 503",
    )


# -- probes -----------------------------------------------------------------------------------------------


def test_probes__recorded__read_back_in_time_order_within_bounds(store):
    probes = [probe(NOW - timedelta(minutes=m), ok=m % 2 == 0) for m in (3, 1, 2, 10)]
    assert store.sla.record_probes(probes) == 4
    read = store.sla.probes(
        PARTNER, CHAIN, since=NOW - timedelta(minutes=10), until=NOW - timedelta(minutes=2)
    )
    assert [(p.at, p.ok, p.status_code) for p in read] == [
        (NOW - timedelta(minutes=3), False, 503),
        (NOW - timedelta(minutes=2), True, 200),
    ]
    assert read[0].error == "answered 503" and read[0].latency_s == pytest.approx(0.2)


def test_probes__one_of_an_unknown_partner__none_recorded(store):
    with pytest.raises(UnknownPartnerError, match="no partner 'ghost'"):
        store.sla.record_probes([probe(NOW), probe(NOW, partner_id="ghost")])
    assert count(store, ProbeRow) == 0


def test_probes__naive_time__refused(store):
    with pytest.raises(ConfigurationError, match="timezone-aware"):
        store.sla.record_probes([probe(datetime(2026, 3, 1))])


def test_prune_probes__older_ones_deleted(store):
    store.sla.record_probes([probe(NOW - timedelta(days=40)), probe(NOW)])
    assert store.sla.prune_probes(NOW - timedelta(days=31)) == 1
    assert [p.at for p in store.sla.probes(PARTNER, CHAIN)] == [NOW]


# -- benefits ---------------------------------------------------------------------------------------------


def test_benefits__granted_from_the_index__unapplied_until_reported(store):
    (benefit,) = store.sla.benefits(PARTNER, CHAIN)
    assert (benefit.holder, benefit.claim_tx, benefit.granted_at, benefit.applied_at) == (
        HOLDER,
        CLAIM_TX,
        GRANTED,
        None,
    )
    applied = GRANTED + timedelta(hours=5)
    reported = store.sla.report_benefit_applied(
        PARTNER, CHAIN, HOLDER.upper().replace("0X", "0x"), CLAIM_TX.upper().replace("0X", "0x"), applied
    )
    assert (reported.applied_at, reported.reported_at, reported.granted_at) == (applied, NOW, GRANTED)
    assert store.sla.benefits(PARTNER, CHAIN) == [reported]


def test_benefits__reported_twice__one_application_the_first_time_stands(store, clock):
    first = store.sla.report_benefit_applied(PARTNER, CHAIN, HOLDER, CLAIM_TX)
    clock.now = NOW + timedelta(minutes=3)
    again = store.sla.report_benefit_applied(PARTNER, CHAIN, HOLDER, CLAIM_TX)
    assert again == first and first.applied_at == NOW
    assert count(store, BenefitApplicationRow) == 1


@pytest.mark.parametrize(
    ("holder", "tx", "error", "message"),
    [
        (OTHER_HOLDER, CLAIM_TX, BenefitNotGrantedError, "holds no welcome claim of 0xb2b2"),
        (HOLDER, "0x" + "dd" * 32, BenefitNotGrantedError, "let the index catch up"),
        (HOLDER, "0x1234", ConfigurationError, "claim_tx must be the 0x… 32-byte hash"),
        ("bob", CLAIM_TX, ConfigurationError, "holder must be the 0x address"),
    ],
)
def test_report_benefit__not_a_granted_benefit__one_error_nothing_written(store, holder, tx, error, message):
    with pytest.raises(error, match=message):
        store.sla.report_benefit_applied(PARTNER, CHAIN, holder, tx)
    assert count(store, BenefitApplicationRow) == 0


def test_report_benefit__unknown_partner__refused(store):
    with pytest.raises(UnknownPartnerError):
        store.sla.report_benefit_applied("ghost", CHAIN, HOLDER, CLAIM_TX)
    assert count(store, BenefitApplicationRow) == 0


@pytest.mark.parametrize(
    ("applied_at", "message"),
    [
        (GRANTED - timedelta(minutes=1), "is before the benefit was granted"),
        (NOW + timedelta(hours=1), "is in the future"),
    ],
)
def test_report_benefit__impossible_time__refused_nothing_written(store, applied_at, message):
    with pytest.raises(SlaRecordError, match=message):
        store.sla.report_benefit_applied(PARTNER, CHAIN, HOLDER, CLAIM_TX, applied_at)
    assert count(store, BenefitApplicationRow) == 0


# -- support tickets --------------------------------------------------------------------------------------


def test_tickets__opened_then_answered__both_times_kept(store):
    opened = NOW - timedelta(hours=6)
    store.sla.open_ticket(PARTNER, CHAIN, "HD-1042", opened)
    answered = store.sla.record_first_response(PARTNER, CHAIN, "HD-1042", opened + timedelta(hours=2))
    assert (answered.opened_at, answered.first_response_at) == (opened, opened + timedelta(hours=2))
    assert store.sla.tickets(PARTNER, CHAIN) == [answered]


def test_tickets__opened_and_answered_twice__first_records_stand(store, clock):
    first = store.sla.open_ticket(PARTNER, CHAIN, "HD-7")
    clock.now = NOW + timedelta(hours=1)
    assert store.sla.open_ticket(PARTNER, CHAIN, "HD-7") == first
    answered = store.sla.record_first_response(PARTNER, CHAIN, "HD-7")
    clock.now = NOW + timedelta(hours=2)
    assert store.sla.record_first_response(PARTNER, CHAIN, "HD-7") == answered
    assert answered.first_response_at == NOW + timedelta(hours=1)
    assert count(store, SupportTicketRow) == 1


def test_tickets__answered_before_opened__refused_and_still_unanswered(store):
    store.sla.open_ticket(PARTNER, CHAIN, "HD-9", NOW - timedelta(hours=1))
    with pytest.raises(SlaRecordError, match="cannot have been answered before"):
        store.sla.record_first_response(PARTNER, CHAIN, "HD-9", NOW - timedelta(hours=2))
    (ticket,) = store.sla.tickets(PARTNER, CHAIN)
    assert ticket.first_response_at is None


def test_tickets__response_to_unknown_ticket__refused(store):
    with pytest.raises(UnknownTicketError, match="has no support ticket 'HD-404': open it first"):
        store.sla.record_first_response(PARTNER, CHAIN, "HD-404")
    assert count(store, SupportTicketRow) == 0


@pytest.mark.parametrize("ticket_id", ["", " ", "has space", "x" * 65])
def test_tickets__unusable_id__refused(store, ticket_id):
    with pytest.raises(ConfigurationError, match="is not usable"):
        store.sla.open_ticket(PARTNER, CHAIN, ticket_id)
    assert count(store, SupportTicketRow) == 0


def test_tickets__unknown_partner__refused(store):
    with pytest.raises(UnknownPartnerError):
        store.sla.open_ticket("ghost", CHAIN, "HD-1")
    assert count(store, SupportTicketRow) == 0


def test_forget_partner__its_sla_records_go_too(store):
    store.sla.record_probes([probe(NOW)])
    store.sla.open_ticket(PARTNER, CHAIN, "HD-1")
    store.sla.report_benefit_applied(PARTNER, CHAIN, HOLDER, CLAIM_TX)
    assert store.partners.forget(PARTNER, CHAIN) is True
    assert [count(store, t) for t in (ProbeRow, SupportTicketRow, BenefitApplicationRow)] == [0, 0, 0]


# -- reports from the store -------------------------------------------------------------------------------


def test_report__from_the_store__slis_and_process_terms(store, clock):
    store.sla.record_probes([probe(NOW - timedelta(minutes=m), ok=m != 3) for m in range(0, 100)])
    store.sla.report_benefit_applied(PARTNER, CHAIN, HOLDER, CLAIM_TX, GRANTED + timedelta(hours=30))  # late
    store.sla.open_ticket(PARTNER, CHAIN, "HD-1", NOW - timedelta(hours=8))
    store.sla.record_first_response(PARTNER, CHAIN, "HD-1", NOW - timedelta(hours=7))
    store.sla.open_ticket(PARTNER, CHAIN, "HD-2", NOW - timedelta(hours=1))  # open within its 4 h
    report = PartnerSlas(store, clock=clock).report(PARTNER, CHAIN)
    assert report.slis["availability"].value == pytest.approx(99 / 100)
    assert (report.slis["benefits"].events, report.slis["benefits"].good) == (1, 0)
    assert (report.slis["support"].events, report.slis["support"].good, report.slis["support"].pending) == (
        1,
        1,
        1,
    )
    assert report.standing == Standing.BREACHED and report.at == NOW
    assert [r.partner_id for r in PartnerSlas(store, clock=clock).reports(CHAIN)] == [PARTNER]


def test_standings__a_row_per_active_partner_as_the_status_page_shows_it(store, clock):
    slas = PartnerSlas(store, clock=clock)
    [unprobed] = slas.standings()  # no probe yet; its one benefit, granted 2 days ago, never applied
    assert unprobed["availability_pct"] is None and unprobed["budget_spent_pct"] is None
    assert unprobed["standing"] == "breached" and "benefit" in unprobed["reasons"]

    store.sla.record_probes([probe(NOW - timedelta(minutes=m), ok=m != 3) for m in range(0, 100)])
    [row] = slas.standings(CHAIN)

    assert row["partner"] == PARTNER and row["chain_id"] == CHAIN
    assert row["availability_pct"] == 99.0
    assert row["budget_spent_pct"] == 200.0  # 1 % of the probes failed, of a 0.5 % budget
    assert row["standing"] == "breached" and "availability" in row["reasons"]
    assert slas.standings(1) == []


def test_report__unknown_or_unmonitored_partner__one_clear_error(store, clock):
    slas = PartnerSlas(store, clock=clock)
    with pytest.raises(UnknownPartnerError, match="no partner 'ghost' on chain 137"):
        slas.report("ghost", CHAIN)
    store.partners.begin_onboarding(partner_config("bakery-busan"), CHAIN)
    with pytest.raises(PartnerStateError, match="is not monitored yet"):
        slas.report("bakery-busan", CHAIN)
    assert [r.partner_id for r in slas.reports()] == [PARTNER]  # the onboarding one is left out


# -- reported through the watchtower's API ----------------------------------------------------------------


def post_benefit(server: WatchServer, partner: str, body: object) -> requests.Response:
    return requests.post(f"{server.url}/api/partners/{partner}/benefits", json=body, timeout=60)


def test_api__a_partner_reports_a_benefit__stored_once_and_counted_in_its_sla(store, clock):
    server = WatchServer(StatusSources(store.watch, sla=store.sla), port=0).start()
    try:
        body = {"chain_id": CHAIN, "holder": HOLDER, "claim_tx": CLAIM_TX}
        body["applied_at"] = "2026-03-01T20:00:00Z"
        first = post_benefit(server, PARTNER, body)
        again = post_benefit(server, PARTNER, {**body, "applied_at": "2026-03-02T20:00:00Z"})
    finally:
        server.close()

    assert first.status_code == 200, first.text
    assert first.json()["benefit"]["applied_at"] == "2026-03-01T20:00:00+00:00"
    assert again.json() == first.json()  # the first report stands
    assert count(store, BenefitApplicationRow) == 1
    report = PartnerSlas(store, clock=clock).report(PARTNER, CHAIN)
    assert report.slis["benefits"].good == 1  # applied within 24 h


BENEFIT = {"chain_id": CHAIN, "holder": HOLDER, "claim_tx": CLAIM_TX}


@pytest.mark.parametrize(
    ("partner", "body", "status", "message"),
    [
        ("nobody", {"chain_id": CHAIN, "holder": HOLDER, "claim_tx": CLAIM_TX}, 404, "nobody"),
        (PARTNER, {"chain_id": CHAIN, "holder": OTHER_HOLDER, "claim_tx": CLAIM_TX}, 409, "welcome claim"),
        (PARTNER, {"holder": HOLDER, "claim_tx": CLAIM_TX}, 400, '"chain_id": 137'),
        (PARTNER, {**BENEFIT, "applied_at": "soon"}, 400, "not an ISO 8601 time"),
        (PARTNER, {**BENEFIT, "applied_at": "2026-03-01T20:00"}, 400, "no timezone"),
        (PARTNER, [1, 2], 400, "the body must be JSON like"),
    ],
)
def test_api__bad_benefit_report__its_status_and_what_to_send_nothing_written(
    store, partner, body, status, message
):
    server = WatchServer(StatusSources(store.watch, sla=store.sla), port=0).start()
    try:
        answer = post_benefit(server, partner, body)
    finally:
        server.close()

    assert answer.status_code == status and message in answer.json()["error"]
    assert count(store, BenefitApplicationRow) == 0


def test_api__without_an_sla_store__the_route_is_not_there(store):
    server = WatchServer(StatusSources(store.watch), port=0).start()
    try:
        answer = post_benefit(server, PARTNER, {"chain_id": CHAIN, "holder": HOLDER, "claim_tx": CLAIM_TX})
    finally:
        server.close()
    assert answer.status_code == 404
