"""The incident rules as properties, against a plain model: alerts of one subject split into incidents
exactly where two neighbouring alerts lie further apart than the window; subjects never mix; an incident's
severity is the highest of its alerts; the same key raised again changes nothing."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from _watch import T0, alert
from hypothesis import given, settings
from hypothesis import strategies as st

from link_ops.store import OpsStore
from link_ops.watch.alerts import Severity

SUBJECTS = ("0x00000000000000000000000000000000000000a1", "partner-7", None)

events = st.lists(
    st.tuples(
        st.sampled_from(SUBJECTS),
        st.integers(min_value=0, max_value=6 * 60),  # minutes after T0
        st.sampled_from(list(Severity)),
    ),
    min_size=1,
    max_size=12,
)


@contextmanager
def fresh_store() -> Iterator[OpsStore]:
    with (
        tempfile.TemporaryDirectory(prefix="link-ops-incidents-") as folder,
        OpsStore(f"sqlite:///{Path(folder) / 'ops.db'}") as store,
    ):
        yield store


def model_incidents(times: list[int], window_min: int) -> list[list[int]]:
    """Sorted times split where a gap exceeds the window."""
    groups: list[list[int]] = []
    for t in sorted(times):
        if groups and t - groups[-1][-1] <= window_min:
            groups[-1].append(t)
        else:
            groups.append([t])
    return groups


@settings(max_examples=40, deadline=None)
@given(events=events, window_min=st.sampled_from([0, 30, 60, 120]))
def test_incidents__alerts_in_time_order__split_exactly_at_gaps_wider_than_the_window(
    events: list[tuple[str | None, int, Severity]], window_min: int
) -> None:
    ordered = sorted(enumerate(events), key=lambda e: (e[1][1], e[0]))
    alerts = [
        alert(f"k{i}", subject=subject, minutes=minute, severity=severity, rule="rule-x")
        for i, (subject, minute, severity) in ordered
    ]
    with fresh_store() as store:
        raised = store.watch.raise_alerts(alerts, (), window=timedelta(minutes=window_min), now=T0)
        incidents = {i.id: i for i in store.watch.incidents(None)}

        for subject in SUBJECTS:
            mine = [(r, e) for r, (_, e) in zip(raised, ordered, strict=True) if e[0] == subject]
            if not mine:
                continue
            groups = model_incidents([e[1] for _, e in mine], window_min)
            ids = {r.incident.id for r, _ in mine}
            assert len(ids) == len(groups)
            for incident_id in ids:
                members = [e for r, e in mine if r.incident.id == incident_id]
                incident = incidents[incident_id]
                assert incident.severity == max(e[2] for e in members)
                assert incident.alert_count == len(members)
                assert incident.first_at == T0 + timedelta(minutes=min(e[1] for e in members))
                assert incident.last_at == T0 + timedelta(minutes=max(e[1] for e in members))
        # subjects never share an incident
        by_incident: dict[int, set[str | None]] = {}
        for r, (_, e) in zip(raised, ordered, strict=True):
            by_incident.setdefault(r.incident.id, set()).add(e[0])
        assert all(len(s) == 1 for s in by_incident.values())


@settings(max_examples=25, deadline=None)
@given(events=events, repeats=st.lists(st.integers(min_value=0, max_value=11), max_size=6))
def test_raise__keys_raised_again_in_any_order__stored_counted_and_queued_once(
    events: list[tuple[str | None, int, Severity]], repeats: list[int]
) -> None:
    alerts = [
        alert(f"k{i}", subject=s, minutes=m, severity=sev, rule="rule-x")
        for i, (s, m, sev) in enumerate(events)
    ]
    again = [alerts[i] for i in repeats if i < len(alerts)]
    with fresh_store() as store:
        first = store.watch.raise_alerts(alerts, ("webhook",), now=T0)
        before = store.watch.incidents(None)
        second = store.watch.raise_alerts(again, ("webhook",), now=T0)

        assert all(r.outcome == "new" for r in first)
        assert all(r.outcome == "known" for r in second)
        assert store.watch.incidents(None) == before
        assert len(store.watch.deliveries()) == len(alerts)
        assert sum(i.alert_count for i in before) == len(alerts)
