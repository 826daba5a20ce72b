"""Where alerts go: the console, a JSON-lines file, webhooks; and how a failed delivery is retried.

A sink is anything with a `name` and a ``deliver(alert)`` that returns once the alert is taken and raises
:class:`DeliveryError` when it was not. Sinks never see the database: the
:class:`~link_ops.watch.dispatch.AlertDispatcher` takes each alert from the store's outbox, hands it to the
sink on a worker thread of its own, and records the outcome, so that a sink is as simple as its medium:

- :class:`ConsoleSink`: one line per alert, coloured by severity (rich);
- :class:`JsonLinesSink`: one JSON object per line (:meth:`~link_ops.watch.alerts.Alert.to_json`),
  appended and flushed to disk before the delivery counts;
- :class:`WebhookSink`: ``POST`` of the alert's JSON with an ``Idempotency-Key`` header (the alert's key),
  so a receiver that answered but whose answer was lost recognises the alert when it is sent again. Only a
  2xx answer delivers; anything else (an error status, a refused connection, a timeout) is retried.

:class:`RetryPolicy` says when: exponential backoff with jitter up to a cap, forever or until a delivery
is older than a give-up age. :class:`SinksConfig` is the configuration (pydantic), :func:`build_sinks`
makes the sinks it names.
"""

from __future__ import annotations

import json
import os
import random
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from rich.console import Console
from rich.markup import escape

from link_ops.exceptions import ConfigurationError, LinkOpsError, validation_problems
from link_ops.watch.alerts import Alert, Severity

#: The header a webhook receiver deduplicates by: the alert's key, the same on every attempt.
IDEMPOTENCY_HEADER = "Idempotency-Key"

#: rich styles of the severities on the console.
SEVERITY_STYLES: Mapping[Severity, str] = {
    Severity.INFO: "cyan",
    Severity.WARNING: "yellow",
    Severity.HIGH: "bold red",
    Severity.CRITICAL: "bold white on red",
}


class DeliveryError(LinkOpsError):
    """A sink did not take an alert (the dispatcher retries it, see :class:`RetryPolicy`)."""


@runtime_checkable
class Sink(Protocol):
    """Where alerts go: `name` (unique among the dispatcher's sinks; the outbox is kept by it) and
    ``deliver(alert)``, which returns once the alert is taken and raises :class:`DeliveryError` if not."""

    @property
    def name(self) -> str: ...

    def deliver(self, alert: Alert) -> None: ...


# -- retrying -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """When a failed delivery is tried again: after `initial_s` seconds, each wait `factor` times the last,
    at most `max_s`; each wait shortened by a random share of up to `jitter` (so that many senders do not
    return at the same moment). A delivery older than `give_up_after` (queued that long ago) is given up
    and marked failed; None retries forever."""

    initial_s: float = 1.0
    factor: float = 2.0
    max_s: float = 300.0
    jitter: float = 0.5
    give_up_after: timedelta | None = None

    def __post_init__(self) -> None:
        problems = []
        if not self.initial_s > 0:
            problems.append(f"initial_s must be above 0, got {self.initial_s!r}")
        if not self.factor >= 1:
            problems.append(f"factor must be 1 or more, got {self.factor!r}")
        if not self.max_s >= self.initial_s:
            problems.append(f"max_s must be at least initial_s ({self.initial_s}), got {self.max_s!r}")
        if not 0 <= self.jitter < 1:
            problems.append(f"jitter must be from 0 up to (not including) 1, got {self.jitter!r}")
        if self.give_up_after is not None and self.give_up_after <= timedelta(0):
            problems.append(f"give_up_after must be a positive duration or None, got {self.give_up_after!r}")
        if problems:
            raise ConfigurationError("retry policy: " + "; ".join(problems))

    def ceiling(self, attempts: int) -> float:
        """The wait after the `attempts`-th failed attempt, before jitter: ``initial_s * factor**(n-1)``,
        at most ``max_s``."""
        if attempts < 1:
            raise ConfigurationError(f"attempts counts from 1, got {attempts!r}")
        # Exponent bounded so a delivery failing for months never overflows a float.
        return float(min(self.max_s, self.initial_s * self.factor ** min(attempts - 1, 1_000)))

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        """The wait after the `attempts`-th failed attempt, jitter applied: within
        ``[ceiling * (1 - jitter), ceiling]``."""
        ceiling = self.ceiling(attempts)
        share = (rng or random).random()
        return ceiling * (1 - self.jitter * share)

    def gives_up(self, age: timedelta) -> bool:
        """Whether a delivery queued `age` ago is given up after its latest failure."""
        return self.give_up_after is not None and age >= self.give_up_after


# -- the sinks ----------------------------------------------------------------------------------------------


def alert_line(alert: Alert) -> str:
    """One console line (rich markup) for `alert`: severity, rule, the sentence, and where it happened.
    Everything that comes from outside is escaped: a summary quoting a chain's text cannot inject markup."""
    style = SEVERITY_STYLES[alert.severity]
    where = []
    if alert.chain_id is not None:
        where.append(f"chain {alert.chain_id}")
    if alert.block_number is not None:
        where.append(f"block {alert.block_number}")
    if alert.tx_hash:
        where.append(f"tx {alert.tx_hash}")
    tail = f" [dim]({escape(', '.join(where))})[/]" if where else ""
    action = f" [bold]→ {escape(alert.action)}[/]" if alert.action else ""
    return (
        f"[{style}]{alert.severity.label.upper():8}[/] [bold]{escape(alert.rule)}[/] "
        f"{escape(alert.summary)}{action}{tail}"
    )


class ConsoleSink:
    """Prints one line per alert on `console` (default: standard error, so a script's tables on standard
    output stay clean)."""

    def __init__(self, console: Console | None = None, name: str = "console") -> None:
        self._console = console if console is not None else Console(stderr=True)
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def deliver(self, alert: Alert) -> None:
        self._console.print(alert_line(alert), soft_wrap=True, highlight=False)


class JsonLinesSink:
    """Appends each alert to `path` as one JSON object per line; the line is on disk (flushed and synced)
    before the delivery counts. The file's folder is created when missing."""

    def __init__(self, path: str | Path, name: str = "jsonl") -> None:
        self.path = Path(path)
        self._name = name
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    def deliver(self, alert: Alert) -> None:
        line = json.dumps(alert.to_json(), sort_keys=True, ensure_ascii=False) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, self.path.open("a", encoding="utf-8") as out:
                out.write(line)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            raise DeliveryError(f"cannot append to {self.path}: {exc.strerror or exc}") from exc


class WebhookSink:
    """POSTs each alert's JSON to `url` with the ``Idempotency-Key`` header (the alert's key) and `headers`
    (e.g. an ``Authorization`` the receiver wants). A 2xx answer delivers; any other answer, a refused
    connection or no answer within `timeout_s` raises :class:`DeliveryError`."""

    def __init__(
        self,
        url: str,
        *,
        name: str = "webhook",
        timeout_s: float = 10.0,
        headers: Mapping[str, str] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        _check_url(url)
        if not timeout_s > 0:
            raise ConfigurationError(f"the webhook timeout must be above 0 seconds, got {timeout_s!r}")
        self.url = url
        self.timeout_s = timeout_s
        self._name = name
        self._headers = dict(headers or {})
        self._session = session or requests.Session()

    @property
    def name(self) -> str:
        return self._name

    def deliver(self, alert: Alert) -> None:
        headers = {**self._headers, "Content-Type": "application/json", IDEMPOTENCY_HEADER: alert.key}
        body = json.dumps(alert.to_json(), sort_keys=True).encode()
        where = _redacted(self.url)
        try:
            answer = self._session.post(self.url, data=body, headers=headers, timeout=self.timeout_s)
        except requests.Timeout as exc:
            raise DeliveryError(f"{where} did not answer within {self.timeout_s:g} s") from exc
        except requests.RequestException as exc:
            raise DeliveryError(f"cannot reach {where}: {type(exc).__name__}") from exc
        if not 200 <= answer.status_code < 300:
            raise DeliveryError(f"{where} answered HTTP {answer.status_code}")


def _check_url(url: str) -> None:
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"a webhook URL must be http(s)://host[:port]/path, got {url!r}")


def _redacted(url: str) -> str:
    """The URL without its path and query (where tokens live), for error messages and logs."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


# -- configuration ------------------------------------------------------------------------------------------


def _severity_label(value: str) -> str:
    try:
        return Severity.parse(value).label
    except ConfigurationError as exc:
        raise ValueError(str(exc)) from None


class WebhookConfig(BaseModel):
    """One webhook: its URL, a name (unique; its deliveries are kept by it), a timeout and extra headers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    name: str = Field(default="webhook", min_length=1, max_length=64)
    timeout_s: float = Field(default=10.0, gt=0)
    headers: dict[str, str] = Field(default_factory=dict)
    #: The least severity this webhook is sent (``high``: a pager that only hears what needs a human).
    min_severity: str = "info"

    @field_validator("min_severity")
    @classmethod
    def _severity(cls, value: str) -> str:
        return _severity_label(value)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be http(s)://host[:port]/path")
        return value


class RetryConfig(BaseModel):
    """:class:`RetryPolicy` as configuration (seconds)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    initial_s: float = Field(default=1.0, gt=0)
    factor: float = Field(default=2.0, ge=1)
    max_s: float = Field(default=300.0, gt=0)
    jitter: float = Field(default=0.5, ge=0, lt=1)
    #: None: retry forever.
    give_up_after_s: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _cap_above_start(self) -> RetryConfig:
        if self.max_s < self.initial_s:
            raise ValueError(f"max_s ({self.max_s}) must be at least initial_s ({self.initial_s})")
        return self

    def policy(self) -> RetryPolicy:
        return RetryPolicy(
            initial_s=self.initial_s,
            factor=self.factor,
            max_s=self.max_s,
            jitter=self.jitter,
            give_up_after=None if self.give_up_after_s is None else timedelta(seconds=self.give_up_after_s),
        )


class SinksConfig(BaseModel):
    """Which sinks the watchtower delivers to, and how failed deliveries are retried. Build it with
    :meth:`build` to get every bad value reported at once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    console: bool = True
    jsonl: Path | None = None
    webhooks: tuple[WebhookConfig, ...] = ()
    retry: RetryConfig = RetryConfig()
    #: The least severity the console and the JSON-lines file take (each webhook has its own).
    console_min_severity: str = "info"
    jsonl_min_severity: str = "info"

    @field_validator("console_min_severity", "jsonl_min_severity")
    @classmethod
    def _severity(cls, value: str) -> str:
        return _severity_label(value)

    def routes(self) -> dict[str, Severity]:
        """Each sink's name and the least severity it takes (for the dispatcher's `routes`)."""
        out: dict[str, Severity] = {}
        if self.console:
            out["console"] = Severity.parse(self.console_min_severity)
        if self.jsonl is not None:
            out["jsonl"] = Severity.parse(self.jsonl_min_severity)
        for webhook in self.webhooks:
            out[webhook.name] = Severity.parse(webhook.min_severity)
        return out

    @model_validator(mode="after")
    def _distinct_names(self) -> SinksConfig:
        names = [w.name for w in self.webhooks] + (["console"] if self.console else [])
        names += ["jsonl"] if self.jsonl is not None else []
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(
                f"sink names must be distinct, and {', '.join(repeated)} is used twice: name each webhook"
            )
        return self

    @classmethod
    def build(cls, **values: Any) -> SinksConfig:
        """The configuration from keyword values; :class:`ConfigurationError` naming every bad one."""
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = validation_problems(exc, root="sinks", with_input=True)
            raise ConfigurationError("alert sinks: " + "; ".join(problems)) from None


def build_sinks(config: SinksConfig, *, console: Console | None = None) -> list[Sink]:
    """The sinks `config` names: the console first, then the JSON-lines file, then each webhook."""
    sinks: list[Sink] = []
    if config.console:
        sinks.append(ConsoleSink(console))
    if config.jsonl is not None:
        sinks.append(JsonLinesSink(config.jsonl))
    sinks.extend(
        WebhookSink(w.url, name=w.name, timeout_s=w.timeout_s, headers=w.headers) for w in config.webhooks
    )
    return sinks


def sink_names(sinks: Sequence[Sink]) -> tuple[str, ...]:
    """The sinks' names; :class:`ConfigurationError` when two share one (their outboxes would mix)."""
    names = tuple(s.name for s in sinks)
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigurationError(
            f"two sinks are named {', '.join(repeated)}: give each sink a name of its own"
        )
    return names
