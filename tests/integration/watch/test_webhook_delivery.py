"""The webhook sink against a receiver on loopback that fails at first (500s, then a request it never
answers, then OK): no alert lost, none duplicated (the receiver counts 2xx answers by Idempotency-Key), the
watch side never waits for it, and deliveries left pending by a stopped dispatcher resume in the next."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from _watch import alert
from prometheus_client import CollectorRegistry

from link_ops.store import OpsStore
from link_ops.watch.dispatch import AlertDispatcher
from link_ops.watch.sinks import IDEMPOTENCY_HEADER, RetryPolicy, WebhookSink

#: Generous bounds on waiting for an outcome: nothing here depends on speed, only on eventually.
PATIENCE_S = 60

FAST_RETRY = RetryPolicy(initial_s=0.05, factor=2, max_s=0.2, jitter=0.5)


class Receiver:
    """A webhook receiver whose n-th request gets `script[n]` ("500", "hang", "ok"; "ok" after the script
    ends). It counts the 2xx answers it gave per Idempotency-Key, and every request's key and body."""

    def __init__(self, script: list[str]) -> None:
        self.script = list(script)
        self.lock = threading.Lock()
        self.requests: list[tuple[str, dict[str, object]]] = []
        self.accepted: Counter[str] = Counter()
        self.hanging = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers[IDEMPOTENCY_HEADER]
                with receiver.lock:
                    turn = receiver.script.pop(0) if receiver.script else "ok"
                    receiver.requests.append((key, body))
                if turn == "hang":
                    receiver.hanging.set()
                    receiver.release.wait()
                    status = 503  # the sender gave up on this answer long ago
                else:
                    status = 200 if turn == "ok" else int(turn)
                if status == 200:
                    with receiver.lock:
                        receiver.accepted[key] += 1
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender hung up (its timeout)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PATIENCE_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {PATIENCE_S} s for {what}")
        time.sleep(0.02)


@pytest.fixture
def receiver_factory() -> Iterator[Callable[[list[str]], Receiver]]:
    made: list[Receiver] = []

    def make(script: list[str]) -> Receiver:
        receiver = Receiver(script).__enter__()
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.__exit__()


def test_webhook__receiver_fails_then_hangs_then_recovers__every_alert_delivered_once(
    ops_store: OpsStore, receiver_factory: Callable[[list[str]], Receiver]
) -> None:
    receiver = receiver_factory(["500", "500", "500", "hang"])
    sink = WebhookSink(receiver.url, timeout_s=1.0, headers={"Authorization": "Bearer t"})
    registry = CollectorRegistry()
    first = [alert(f"first-{i}", minutes=i) for i in range(3)]
    second = [alert(f"second-{i}", minutes=10 + i, subject="partner-9") for i in range(3)]

    with AlertDispatcher(
        ops_store.watch, [sink], retry=FAST_RETRY, registry=registry, idle_poll_s=0.2
    ) as dispatcher:
        dispatcher.raise_alerts(first)
        wait_for(receiver.hanging.is_set, "the receiver to hold a request")

        # The watch side raises more while the receiver holds the sink's request: it must return at once.
        returned: list[object] = []
        watch = threading.Thread(target=lambda: returned.append(dispatcher.raise_alerts(second)))
        watch.start()
        watch.join(PATIENCE_S)
        assert not watch.is_alive() and len(returned) == 1
        assert not receiver.release.is_set()  # ... while the receiver still held it

        wait_for(lambda: dispatcher.pending() == 0, "every delivery to be made")

    keys = [a.key for a in first + second]
    assert receiver.accepted == Counter({key: 1 for key in keys})
    assert {key for key, _ in receiver.requests} == set(keys)
    assert len(receiver.requests) >= len(keys) + 4  # three 500s and the unanswered one were retried
    assert all(body["key"] == key for key, body in receiver.requests)
    deliveries = ops_store.watch.deliveries()
    assert {d.status for d in deliveries} == {"delivered"}
    assert sum(d.attempts for d in deliveries) == len(receiver.requests)  # every attempt on record
    assert registry.get_sample_value(
        "link_ops_watch_delivery_attempts_total", {"sink": "webhook", "result": "delivered"}
    ) == len(keys)
    assert (
        registry.get_sample_value("link_ops_watch_deliveries", {"sink": "webhook", "status": "delivered"})
        == 6
    )


def test_webhook__dispatcher_stopped_while_failing__the_next_one_resumes_and_delivers_once(
    db_url: str, receiver_factory: Callable[[list[str]], Receiver]
) -> None:
    receiver = receiver_factory(["500"] * 10_000)  # failing until told otherwise
    alerts = [alert(f"k{i}", minutes=i) for i in range(3)]

    with OpsStore(db_url) as store:
        dispatcher = AlertDispatcher(store.watch, [WebhookSink(receiver.url, timeout_s=5)], retry=FAST_RETRY)
        with dispatcher:
            dispatcher.raise_alerts(alerts)
            wait_for(lambda: len(receiver.requests) >= 2, "the first failed attempts")
        assert 0 < dispatcher.pending() <= 3
    receiver.script.clear()  # it works from now on

    with OpsStore(db_url) as reopened:  # another process, the same database
        restarted = AlertDispatcher(
            reopened.watch, [WebhookSink(receiver.url, timeout_s=5)], retry=FAST_RETRY
        )
        with restarted:
            wait_for(lambda: restarted.pending() == 0, "the pending deliveries to resume")
        assert {d.status for d in reopened.watch.deliveries()} == {"delivered"}

    assert receiver.accepted == Counter({a.key: 1 for a in alerts})
