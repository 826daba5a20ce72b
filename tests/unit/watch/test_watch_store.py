"""The watch store (OpsStore().watch) on SQLite and PostgreSQL: alerts once per key, incidents, the outbox,
and retraction after a reorganisation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from _watch import STRANGER, T0, alert

from link_ops.exceptions import ConfigurationError
from link_ops.store import IncidentStateError, OpsStore, UnknownIncidentError
from link_ops.store.watch import UnknownDeliveryError, correlation_subject
from link_ops.watch.alerts import Severity

SINKS = ("console", "webhook")


def test_raise__new_alert__stored_with_an_open_incident_and_a_delivery_per_sink(ops_store: OpsStore) -> None:
    [raised] = ops_store.watch.raise_alerts([alert("a", values={"amount": "10"})], SINKS, now=T0)

    assert raised.outcome == "new"
    stored = ops_store.watch.alert("a")
    assert stored is not None and stored.alert == alert("a", values={"amount": "10"})
    assert stored.incident_id == raised.incident.id and not stored.retracted
    incident = ops_store.watch.incident(raised.incident.id)
    assert (incident.status, incident.severity, incident.alert_count) == ("open", Severity.HIGH, 1)
    assert incident.subject == STRANGER.lower() and incident.title == "alert a"
    assert [(d.sink, d.status, d.attempts) for d in ops_store.watch.deliveries(alert_key="a")] == [
        ("console", "pending", 0),
        ("webhook", "pending", 0),
    ]


def test_raise__same_key_again__already_known_and_nothing_changes(ops_store: OpsStore) -> None:
    ops_store.watch.raise_alerts([alert("a")], SINKS, now=T0)

    [again] = ops_store.watch.raise_alerts([alert("a", summary="said differently")], SINKS, now=T0)

    assert again.outcome == "known"
    assert again.alert.alert.summary == "alert a"
    assert len(ops_store.watch.alerts()) == 1
    assert len(ops_store.watch.deliveries()) == 2
    assert ops_store.watch.incident(again.incident.id).alert_count == 1


def test_raise__same_key_twice_in_one_batch__stored_once(ops_store: OpsStore) -> None:
    outcomes = [r.outcome for r in ops_store.watch.raise_alerts([alert("a"), alert("a")], SINKS, now=T0)]

    assert outcomes == ["new", "known"]
    assert len(ops_store.watch.deliveries()) == 2


def test_raise__subject_spelled_checksummed_and_lower__one_incident(ops_store: OpsStore) -> None:
    raised = ops_store.watch.raise_alerts(
        [alert("a", subject=STRANGER), alert("b", subject=STRANGER.lower(), minutes=5)], (), now=T0
    )

    assert raised[0].incident.id == raised[1].incident.id


def test_raise__within_the_window__joins_the_incident_whose_severity_is_the_highest(
    ops_store: OpsStore,
) -> None:
    raised = ops_store.watch.raise_alerts(
        [
            alert("a", severity=Severity.WARNING),
            alert("b", minutes=50, severity=Severity.CRITICAL),
            alert("c", minutes=100, severity=Severity.INFO),
        ],
        (),
        now=T0,
    )

    assert len({r.incident.id for r in raised}) == 1
    incident = ops_store.watch.incident(raised[0].incident.id)
    assert (incident.severity, incident.alert_count) == (Severity.CRITICAL, 3)
    assert (incident.first_at, incident.last_at) == (T0, T0 + timedelta(minutes=100))


def test_raise__beyond_the_window__opens_a_second_incident(ops_store: OpsStore) -> None:
    first, second = ops_store.watch.raise_alerts([alert("a"), alert("b", minutes=61)], (), now=T0)

    assert first.incident.id != second.incident.id


def test_raise__configured_window__decides(ops_store: OpsStore) -> None:
    first, second = ops_store.watch.raise_alerts(
        [alert("a"), alert("b", minutes=61)], (), window=timedelta(hours=2), now=T0
    )

    assert first.incident.id == second.incident.id


def test_raise__other_subject__other_incident(ops_store: OpsStore) -> None:
    first, second = ops_store.watch.raise_alerts([alert("a"), alert("b", subject="partner-7")], (), now=T0)

    assert first.incident.id != second.incident.id
    assert ops_store.watch.incident(second.incident.id).subject == "partner-7"


def test_raise__no_subject__correlated_by_rule(ops_store: OpsStore) -> None:
    slow = dict(subject=None, rule="performance.response-time", source="performance", chain_id=None)
    first, second = ops_store.watch.raise_alerts(
        [alert("a", **slow), alert("b", minutes=10, **slow)], (), now=T0
    )

    assert first.incident.id == second.incident.id
    assert first.incident.subject == "rule:performance.response-time"
    assert correlation_subject(alert("x", **slow)) == "rule:performance.response-time"


def test_acknowledge__open_incident__acknowledged_by_whom_and_when(ops_store: OpsStore) -> None:
    [raised] = ops_store.watch.raise_alerts([alert("a")], (), now=T0)

    incident = ops_store.watch.acknowledge(raised.incident.id, "alice", now=T0 + timedelta(minutes=3))

    assert (incident.status, incident.acknowledged_by) == ("acknowledged", "alice")
    assert incident.acknowledged_at == T0 + timedelta(minutes=3)
    assert ops_store.watch.acknowledge(raised.incident.id, "bob").acknowledged_by == "alice"  # no-op


def test_acknowledged_incident__a_more_severe_alert__opens_it_again(ops_store: OpsStore) -> None:
    [raised] = ops_store.watch.raise_alerts([alert("a", severity=Severity.WARNING)], (), now=T0)
    ops_store.watch.acknowledge(raised.incident.id, "alice")

    ops_store.watch.raise_alerts([alert("b", minutes=5, severity=Severity.WARNING)], (), now=T0)
    assert ops_store.watch.incident(raised.incident.id).status == "acknowledged"
    ops_store.watch.raise_alerts([alert("c", minutes=6, severity=Severity.CRITICAL)], (), now=T0)

    incident = ops_store.watch.incident(raised.incident.id)
    assert (incident.status, incident.severity, incident.acknowledged_by) == ("open", Severity.CRITICAL, None)


def test_resolve__then_a_new_alert_of_the_subject__opens_a_new_incident(ops_store: OpsStore) -> None:
    [raised] = ops_store.watch.raise_alerts([alert("a")], (), now=T0)

    resolved = ops_store.watch.resolve(raised.incident.id, "alice", note="role revoked by the Safe")
    [later] = ops_store.watch.raise_alerts([alert("b", minutes=1)], (), now=T0)

    assert (resolved.status, resolved.resolved_by, resolved.resolution) == (
        "resolved",
        "alice",
        "role revoked by the Safe",
    )
    assert later.incident.id != raised.incident.id
    assert [i.id for i in ops_store.watch.incidents()] == [later.incident.id]
    assert {i.id for i in ops_store.watch.incidents(None)} == {raised.incident.id, later.incident.id}


def test_acknowledge__resolved_incident__refused(ops_store: OpsStore) -> None:
    [raised] = ops_store.watch.raise_alerts([alert("a")], (), now=T0)
    ops_store.watch.resolve(raised.incident.id, "alice")

    with pytest.raises(IncidentStateError, match="resolved already"):
        ops_store.watch.acknowledge(raised.incident.id, "bob")


def test_acknowledge__unknown_incident__says_how_to_list_them(ops_store: OpsStore) -> None:
    with pytest.raises(UnknownIncidentError, match=r"no incident 42: list the open ones"):
        ops_store.watch.acknowledge(42, "alice")


@pytest.mark.parametrize("by", ["", "   ", "x" * 129])
def test_acknowledge__nobody_named__refused(ops_store: OpsStore, by: str) -> None:
    [raised] = ops_store.watch.raise_alerts([alert("a")], (), now=T0)

    with pytest.raises(ConfigurationError, match="say who acknowledges"):
        ops_store.watch.acknowledge(raised.incident.id, by)


def test_incidents__most_severe_first_and_open_counts_by_severity(ops_store: OpsStore) -> None:
    ops_store.watch.raise_alerts(
        [alert("a", severity=Severity.WARNING), alert("b", subject="p1", severity=Severity.CRITICAL)],
        (),
        now=T0,
    )

    assert [i.severity for i in ops_store.watch.incidents()] == [Severity.CRITICAL, Severity.WARNING]
    counts = ops_store.watch.open_incident_counts()
    assert counts == {Severity.INFO: 0, Severity.WARNING: 1, Severity.HIGH: 0, Severity.CRITICAL: 1}


def test_alerts__since_and_min_severity_filter_newest_first(ops_store: OpsStore) -> None:
    ops_store.watch.raise_alerts(
        [
            alert("old", minutes=0, severity=Severity.CRITICAL),
            alert("low", minutes=10, severity=Severity.INFO),
            alert("new", minutes=20, severity=Severity.HIGH),
        ],
        (),
        now=T0,
    )

    keys = [
        a.alert.key
        for a in ops_store.watch.alerts(since=T0 + timedelta(minutes=5), min_severity=Severity.HIGH)
    ]
    assert keys == ["new"]
    assert [a.alert.key for a in ops_store.watch.alerts(limit=2)] == ["new", "low"]


def test_alerts__naive_since__refused(ops_store: OpsStore) -> None:
    with pytest.raises(ConfigurationError, match="timezone-aware"):
        ops_store.watch.alerts(since=T0.replace(tzinfo=None))


def test_retract__reorganised_blocks__marked_not_deleted_deliveries_cancelled_incident_recomputed(
    ops_store: OpsStore,
) -> None:
    ops_store.watch.raise_alerts(
        [
            alert("kept", block_number=99, severity=Severity.WARNING),
            alert("gone", block_number=100, minutes=1, severity=Severity.CRITICAL),
            alert("other-chain", chain_id=1, block_number=500, subject="p2"),
        ],
        SINKS,
        now=T0,
    )
    delivered = ops_store.watch.due_deliveries("console", now=T0)[1]
    assert delivered.alert.alert.key == "gone"
    ops_store.watch.mark_delivered(delivered.id, now=T0)

    retracted = ops_store.watch.retract_reorganised(137, 100, now=T0 + timedelta(minutes=2))

    assert [a.alert.key for a in retracted] == ["gone"]
    gone = ops_store.watch.alert("gone")
    assert (
        gone is not None and gone.retracted and "block 100 and later of chain 137" in (gone.retraction or "")
    )
    assert {a.alert.key for a in ops_store.watch.alerts()} == {"kept", "gone", "other-chain"}
    assert [a.alert.key for a in ops_store.watch.alerts(include_retracted=False)] == ["other-chain", "kept"]
    statuses = {(d.sink, d.status) for d in ops_store.watch.deliveries(alert_key="gone")}
    assert statuses == {("console", "delivered"), ("webhook", "cancelled")}
    incident = ops_store.watch.incident(gone.incident_id)
    assert (incident.severity, incident.alert_count, incident.status) == (Severity.WARNING, 1, "open")
    assert ops_store.watch.retract_reorganised(137, 100) == []  # only live alerts are retracted


def test_retract__every_alert_of_an_incident__resolves_it_saying_why(ops_store: OpsStore) -> None:
    [raised] = ops_store.watch.raise_alerts([alert("a", block_number=200)], (), now=T0)

    ops_store.watch.retract_reorganised(137, 150)

    incident = ops_store.watch.incident(raised.incident.id)
    assert (incident.status, incident.alert_count) == ("resolved", 0)
    assert incident.resolution is not None and incident.resolution.startswith("retracted:")
    assert ops_store.watch.open_incident_counts()[Severity.HIGH] == 0


def test_raise__retracted_key_again__reinstated_and_queued_where_cancelled(ops_store: OpsStore) -> None:
    ops_store.watch.raise_alerts([alert("a", block_number=200)], SINKS, now=T0)
    ops_store.watch.retract_reorganised(137, 150)

    [again] = ops_store.watch.raise_alerts([alert("a", block_number=201, minutes=1)], SINKS, now=T0)

    assert again.outcome == "reinstated"
    stored = ops_store.watch.alert("a")
    assert stored is not None and not stored.retracted and stored.alert.block_number == 201
    assert {d.status for d in ops_store.watch.deliveries(alert_key="a")} == {"pending"}
    assert ops_store.watch.incident(again.incident.id).status == "open"


@pytest.mark.parametrize(("chain_id", "block"), [(0, 1), (137, -1), (137, True)])
def test_retract__bad_chain_or_block__refused(ops_store: OpsStore, chain_id: int, block: int) -> None:
    with pytest.raises(ConfigurationError):
        ops_store.watch.retract_reorganised(chain_id, block)


def test_outbox__failure_then_success__attempts_counted_and_delivered(ops_store: OpsStore) -> None:
    ops_store.watch.raise_alerts([alert("a")], ("webhook",), now=T0)
    [delivery] = ops_store.watch.due_deliveries("webhook", now=T0)

    ops_store.watch.record_failure(delivery.id, "HTTP 500", retry_at=T0 + timedelta(seconds=30), now=T0)
    assert ops_store.watch.due_deliveries("webhook", now=T0 + timedelta(seconds=29)) == []
    assert ops_store.watch.next_attempt_at("webhook") == T0 + timedelta(seconds=30)
    [due] = ops_store.watch.due_deliveries("webhook", now=T0 + timedelta(seconds=30))
    assert (due.attempts, due.last_error) == (1, "HTTP 500")
    assert ops_store.watch.mark_delivered(delivery.id, now=T0 + timedelta(seconds=31))

    [done] = ops_store.watch.deliveries(alert_key="a")
    assert (done.status, done.attempts, done.last_error) == ("delivered", 2, None)
    assert not ops_store.watch.mark_delivered(delivery.id)  # no longer pending: nothing changes
    assert ops_store.watch.delivery_counts() == {("webhook", "delivered"): 1}


def test_outbox__given_up__failed_and_retry_failed_queues_it_again(ops_store: OpsStore) -> None:
    ops_store.watch.raise_alerts([alert("a")], ("webhook",), now=T0)
    [delivery] = ops_store.watch.due_deliveries("webhook", now=T0)

    ops_store.watch.record_failure(delivery.id, "HTTP 503", retry_at=None, now=T0)

    assert ops_store.watch.delivery_counts() == {("webhook", "failed"): 1}
    assert ops_store.watch.next_attempt_at("webhook") is None
    assert ops_store.watch.retry_failed("webhook", now=T0) == 1
    assert [d.status for d in ops_store.watch.due_deliveries("webhook", now=T0)] == ["pending"]


def test_outbox__unknown_delivery__refused(ops_store: OpsStore) -> None:
    with pytest.raises(UnknownDeliveryError):
        ops_store.watch.mark_delivered(99)


def test_raise__nul_in_a_summary__kept_readable_on_every_backend(ops_store: OpsStore) -> None:
    ops_store.watch.raise_alerts([alert("a", summary="name\x00with nul")], (), now=T0)

    stored = ops_store.watch.alert("a")
    assert stored is not None and stored.alert.summary == "name\ufffdwith nul"


@pytest.mark.parametrize(
    ("sinks", "match"), [(("a", "a"), "distinct"), (("",), "1 to 64"), (("x" * 65,), "1 to 64")]
)
def test_raise__bad_sink_names__refused(ops_store: OpsStore, sinks: tuple[str, ...], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        ops_store.watch.raise_alerts([alert("a")], sinks)
    assert ops_store.watch.alerts() == []


def test_raise__key_too_long__refused_naming_the_limit(ops_store: OpsStore) -> None:
    with pytest.raises(ConfigurationError, match="at most 512"):
        ops_store.watch.raise_alerts([alert("k" * 513)])


def test_raise__negative_window__refused(ops_store: OpsStore) -> None:
    with pytest.raises(ConfigurationError, match="correlation window"):
        ops_store.watch.raise_alerts([alert("a")], window=timedelta(minutes=-1))


def test_stored_alert_json__carries_the_alert_and_its_retraction(ops_store: OpsStore) -> None:
    ops_store.watch.raise_alerts([alert("a", block_number=300)], (), now=T0)
    ops_store.watch.retract_reorganised(137, 300, now=T0)

    stored = ops_store.watch.alert("a")
    assert stored is not None
    data = stored.to_json()
    assert data["key"] == "a" and data["severity"] == "high" and data["retracted"] is True
    assert data["retracted_at"] == T0.isoformat() and data["incident_id"] == stored.incident_id


# -- what the rules have judged -----------------------------------------------------------------------------


def test_judged__none_until_set_then_the_latest_mark_per_chain(ops_store: OpsStore) -> None:
    watch = ops_store.watch
    assert watch.judged(137) is None

    watch.set_judged(137, 100, 150, now=T0)
    watch.set_judged(137, 100, 180, now=T0)
    watch.set_judged(1, 7, 9, now=T0)

    assert watch.judged(137) == (100, 180) and watch.judged(1) == (7, 9)


@pytest.mark.parametrize("bad", [-2, True, "10", 1.5])
def test_judged__not_a_block_number__refused_nothing_written(ops_store: OpsStore, bad) -> None:
    with pytest.raises(ConfigurationError, match="must be a block number"):
        ops_store.watch.set_judged(137, bad, 10)
    assert ops_store.watch.judged(137) is None
