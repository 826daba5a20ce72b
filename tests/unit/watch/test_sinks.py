"""The alert sinks, the retry policy and the dispatcher's rounds on a simulated clock."""

from __future__ import annotations

import io
import json
import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from _watch import T0, alert
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry
from rich.console import Console

from link_ops.exceptions import ConfigurationError
from link_ops.store import OpsStore
from link_ops.watch.alerts import Alert, Severity
from link_ops.watch.dispatch import AlertDispatcher
from link_ops.watch.sinks import (
    ConsoleSink,
    DeliveryError,
    JsonLinesSink,
    RetryPolicy,
    SinksConfig,
    WebhookSink,
    alert_line,
    build_sinks,
)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class ListSink:
    """Takes alerts into a list; fails while `failures` is above zero (one per attempt)."""

    def __init__(self, name: str = "list", failures: int = 0) -> None:
        self.name = name
        self.failures = failures
        self.taken: list[Alert] = []

    def deliver(self, alert: Alert) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise DeliveryError("receiver down")
        self.taken.append(alert)


@pytest.fixture
def store(sqlite_url: str):
    with OpsStore(sqlite_url) as opened:
        yield opened.watch


# -- console and JSON lines ---------------------------------------------------------------------------------


def test_console__one_line_per_alert_coloured_by_severity() -> None:
    out = io.StringIO()
    sink = ConsoleSink(Console(file=out, force_terminal=True, color_system="truecolor", width=200))

    sink.deliver(alert("a", severity=Severity.CRITICAL, tx_hash="0xabc"))
    sink.deliver(alert("b", severity=Severity.INFO))

    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert "CRITICAL" in lines[0] and "alert a" in lines[0] and "tx 0xabc" in lines[0]
    assert "\x1b[1;37;41m" in lines[0]  # bold white on red
    assert "\x1b[36m" in lines[1]  # cyan


def test_console__markup_in_a_chain_sentence__printed_literally_not_interpreted() -> None:
    out = io.StringIO()
    sink = ConsoleSink(Console(file=out, width=200))

    sink.deliver(alert("a", summary="name [bold red]spoof[/] [link=http://x]y[/link]"))

    assert "name [bold red]spoof[/] [link=http://x]y[/link]" in out.getvalue()
    assert "[bold]" in alert_line(alert("b", summary="plain")) and r"\[" in alert_line(
        alert("c", summary="[x]")
    )


def test_jsonl__one_object_per_alert_that_reads_back_as_the_alert(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "alerts.jsonl"
    sink = JsonLinesSink(path)
    sent = [alert("a", values={"amount": "1000", "ok": True}), alert("b", summary='quote " and\nnewline')]

    for item in sent:
        sink.deliver(item)

    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert [Alert.from_json(json.loads(line)) for line in lines] == sent


def test_jsonl__unwritable_path__delivery_error_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()

    with pytest.raises(DeliveryError, match=r"cannot append to .*a-folder"):
        JsonLinesSink(folder).deliver(alert("a"))


# -- webhook (the live receiver is in tests/integration/watch) ----------------------------------------------


@pytest.mark.parametrize("url", ["ftp://host/x", "http://", "not a url", "hooks.example/path"])
def test_webhook__bad_url__refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="webhook URL must be http"):
        WebhookSink(url)


def test_webhook__nobody_listening__delivery_error_without_the_urls_path() -> None:
    sink = WebhookSink("http://127.0.0.1:9/secret-token/hook", timeout_s=5)

    with pytest.raises(DeliveryError) as caught:
        sink.deliver(alert("a"))
    assert "http://127.0.0.1:9" in str(caught.value) and "secret-token" not in str(caught.value)


# -- the retry policy ---------------------------------------------------------------------------------------


def test_retry__ceilings_double_up_to_the_cap() -> None:
    policy = RetryPolicy(initial_s=1, factor=2, max_s=10)

    assert [policy.ceiling(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    assert policy.ceiling(10_000) == 10  # no overflow after months of failures


@given(attempts=st.integers(min_value=1, max_value=200), seed=st.integers(), jitter=st.floats(0, 0.99))
def test_retry__delay_within_the_jittered_band_below_the_ceiling(
    attempts: int, seed: int, jitter: float
) -> None:
    policy = RetryPolicy(initial_s=0.5, factor=3, max_s=600, jitter=jitter)

    delay = policy.delay(attempts, random.Random(seed))

    ceiling = policy.ceiling(attempts)
    assert ceiling * (1 - jitter) - 1e-9 <= delay <= ceiling


def test_retry__jitter_spreads_the_senders() -> None:
    policy = RetryPolicy(initial_s=10, jitter=0.5)
    rng = random.Random(1)

    assert len({round(policy.delay(1, rng), 6) for _ in range(20)}) > 10


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ({"initial_s": 0}, "initial_s must be above 0"),
        ({"factor": 0.5}, "factor must be 1 or more"),
        ({"max_s": 0.1}, "max_s must be at least initial_s"),
        ({"jitter": 1}, "jitter must be from 0"),
        ({"give_up_after": timedelta(0)}, "give_up_after must be a positive duration"),
    ],
)
def test_retry__bad_values__refused(values: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        RetryPolicy(**values)  # type: ignore[arg-type]


# -- configuration ------------------------------------------------------------------------------------------


def test_config__builds_the_named_sinks_in_order(tmp_path: Path) -> None:
    config = SinksConfig.build(
        jsonl=tmp_path / "a.jsonl",
        webhooks=[{"url": "https://hooks.example/a", "name": "pager"}, {"url": "http://127.0.0.1:1/b"}],
        retry={"initial_s": 2, "give_up_after_s": 3600},
    )

    sinks = build_sinks(config)

    assert [s.name for s in sinks] == ["console", "jsonl", "pager", "webhook"]
    assert config.retry.policy() == RetryPolicy(initial_s=2, give_up_after=timedelta(hours=1))


def test_config__every_problem_at_once_with_its_field_path() -> None:
    with pytest.raises(ConfigurationError) as caught:
        SinksConfig.build(webhooks=[{"url": "ftp://x"}], retry={"jitter": 2}, colour=True)

    message = str(caught.value)
    assert "webhooks.0.url" in message and "retry.jitter" in message and "colour" in message


def test_config__two_webhooks_of_one_name__refused() -> None:
    with pytest.raises(ConfigurationError, match="webhook is used twice"):
        SinksConfig.build(webhooks=[{"url": "http://a.example/"}, {"url": "http://b.example/"}])


# -- the dispatcher's rounds --------------------------------------------------------------------------------


def test_dispatcher__two_sinks_of_one_name__refused(store) -> None:
    with pytest.raises(ConfigurationError, match="two sinks are named list"):
        AlertDispatcher(store, [ListSink(), ListSink()])


def test_round__delivers_oldest_first_and_marks_delivered(store) -> None:
    sink, clock = ListSink(), Clock()
    dispatcher = AlertDispatcher(store, [sink], clock=clock)
    dispatcher.raise_alerts([alert("a"), alert("b", minutes=1)])

    result = dispatcher.deliver_round("list")

    assert (result.delivered, result.failed) == (2, 0)
    assert [a.key for a in sink.taken] == ["a", "b"]
    assert dispatcher.pending() == 0
    assert dispatcher.deliver_round("list").delivered == 0  # nothing twice


def test_round__failure__ends_the_round_and_retries_after_the_backoff(store) -> None:
    sink, clock = ListSink(failures=1), Clock()
    policy = RetryPolicy(initial_s=10, factor=2, max_s=100, jitter=0)
    dispatcher = AlertDispatcher(store, [sink], clock=clock, retry=policy)
    dispatcher.raise_alerts([alert("a"), alert("b", minutes=1)])

    assert dispatcher.deliver_round("list").failed == 1
    assert store.deliveries(alert_key="b")[0].attempts == 0  # not tried in the round that failed
    clock.advance(9.9)
    assert dispatcher.deliver_round("list").delivered == 1  # "b"; "a" waits for its backoff
    clock.advance(0.1)
    assert dispatcher.deliver_round("list").delivered == 1

    assert [a.key for a in sink.taken] == ["b", "a"]
    [a] = store.deliveries(alert_key="a")
    assert (a.status, a.attempts) == ("delivered", 2)


def test_round__failing_forever__backoff_doubles_then_gives_up_at_the_age(store) -> None:
    sink, clock = ListSink(failures=1_000), Clock()
    policy = RetryPolicy(initial_s=10, factor=2, max_s=100, jitter=0, give_up_after=timedelta(seconds=60))
    registry = CollectorRegistry()
    dispatcher = AlertDispatcher(store, [sink], clock=clock, retry=policy, registry=registry)
    dispatcher.raise_alerts([alert("a")])

    retries = []
    for _ in range(3):
        assert dispatcher.deliver_round("list").failed == 1
        due = store.next_attempt_at("list")
        retries.append((due - T0).total_seconds())
        clock.now = due
    assert retries == [10, 30, 70]
    assert dispatcher.deliver_round("list").gave_up == 1  # 70 s old: past the give-up age

    [delivery] = store.deliveries(alert_key="a")
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 4, "receiver down")
    assert (
        registry.get_sample_value(
            "link_ops_watch_delivery_attempts_total", {"sink": "list", "result": "gave_up"}
        )
        == 1
    )
    assert (
        registry.get_sample_value("link_ops_watch_last_delivery_error_timestamp_seconds", {"sink": "list"})
        == (T0 + timedelta(seconds=70)).timestamp()
    )
    assert registry.get_sample_value("link_ops_watch_deliveries", {"sink": "list", "status": "failed"}) == 1


def test_round__a_sink_that_raises_a_bug__is_a_failed_delivery_not_a_dead_worker(store) -> None:
    class Broken:
        name = "broken"

        def deliver(self, alert: Alert) -> None:
            raise KeyError("oops")

    dispatcher = AlertDispatcher(store, [Broken()], clock=Clock())
    dispatcher.raise_alerts([alert("a")])

    assert dispatcher.deliver_round("broken").failed == 1
    assert store.deliveries()[0].last_error == "KeyError: 'oops'"


def test_round__unknown_sink__refused(store) -> None:
    with pytest.raises(ConfigurationError, match="no sink named 'nope'"):
        AlertDispatcher(store, [ListSink()]).deliver_round("nope")


def test_metrics__new_alerts_counted_once_and_open_incidents_by_severity(store) -> None:
    registry = CollectorRegistry()
    dispatcher = AlertDispatcher(store, [ListSink()], clock=Clock(), registry=registry)

    dispatcher.raise_alerts([alert("a"), alert("b", subject="p1", severity=Severity.CRITICAL)])
    dispatcher.raise_alerts([alert("a")])  # known: not counted again

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert value("link_ops_watch_alerts_total", rule="role-granted", severity="high") == 1
    assert value("link_ops_watch_alerts_total", rule="role-granted", severity="critical") == 1
    assert value("link_ops_watch_open_incidents", severity="critical") == 1
    assert value("link_ops_watch_open_incidents", severity="info") == 0
    assert value("link_ops_watch_deliveries", sink="list", status="pending") == 2
    dispatcher.deliver_round("list")
    assert value("link_ops_watch_deliveries", sink="list", status="delivered") == 2
    assert value("link_ops_watch_deliveries", sink="list", status="pending") == 0


# -- routing ------------------------------------------------------------------------------------------------


def test_routes__a_pager_for_high_and_above_takes_only_those_while_the_file_takes_all(store) -> None:
    clock = Clock()
    pager, everything = ListSink("pager"), ListSink("file")
    dispatcher = AlertDispatcher(store, [pager, everything], clock=clock, routes={"pager": Severity.HIGH})
    alerts = [
        alert("a", severity=Severity.INFO),
        alert("b", severity=Severity.WARNING),
        alert("c", severity=Severity.HIGH),
        alert("d", severity=Severity.CRITICAL),
    ]

    dispatcher.raise_alerts(alerts)
    dispatcher.deliver_round("pager")
    dispatcher.deliver_round("file")

    assert [a.key for a in pager.taken] == ["c", "d"]
    assert [a.key for a in everything.taken] == ["a", "b", "c", "d"]
    assert dispatcher.pending() == 0  # nothing left queued for the pager either


def test_routes__naming_a_sink_the_dispatcher_lacks__refused(store) -> None:
    with pytest.raises(ConfigurationError, match=r"alert routes name sink\(s\) pagr"):
        AlertDispatcher(store, [ListSink("pager")], routes={"pagr": Severity.HIGH})


def test_config__routes_from_each_sinks_least_severity(tmp_path: Path) -> None:
    config = SinksConfig.build(
        jsonl=tmp_path / "a.jsonl",
        console_min_severity="warning",
        webhooks=[{"url": "https://hooks.example/a", "name": "pager", "min_severity": "HIGH"}],
    )
    assert config.routes() == {"console": Severity.WARNING, "jsonl": Severity.INFO, "pager": Severity.HIGH}


def test_config__unknown_severity__refused_with_the_choices() -> None:
    with pytest.raises(ConfigurationError, match=r"webhooks.0.min_severity.*use one of info, warning, high"):
        SinksConfig.build(webhooks=[{"url": "https://hooks.example/a", "min_severity": "urgent"}])
