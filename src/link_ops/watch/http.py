"""The watchtower's HTTP side: ``/metrics``, a JSON API and the status page, from one small server.

===================================== ========================================================================
``GET /``                             the status page: protocol figures, upstream health, partner SLA
                                      standings, open incidents (server-rendered HTML, refreshes itself)
``GET /metrics``                      the registries the server is given, merged, and its own
``GET /api/health``                   ``{"status": "ok"}`` while the server runs, with each chain's usable
                                      upstreams (``"degraded"`` when a chain has none)
``GET /api/status``                   what the page shows, as JSON
``GET /api/alerts``                   alerts, newest first: ``?since=<ISO time>&severity=<at least>&limit=``
``GET /api/incidents``                incidents not resolved (``?status=all`` for every one)
``POST /api/incidents/<id>/ack``      acknowledges an incident (JSON body ``{"by": "<who>"}``, optional)
``POST /api/partners/<id>/benefits``  a partner reports a benefit it applied: ``{"chain_id": 137, "holder":
                                      "0x…", "claim_tx": "0x…", "applied_at": "<ISO time>"}`` (time optional:
                                      now; reporting twice is one report); 404 unknown partner, 409 no such
                                      welcome claim indexed (yet)
===================================== ========================================================================

The data comes from small typed sources (:class:`StatusSources`) so the pieces plug in separately:
:func:`index_figures` reads the event index, :func:`pool_upstreams` the RPC pools, and partner standings come
from any callable returning rows (mappings or dataclasses; the columns are rendered as given). A source that
fails shows as "unavailable" in its section; the rest of the page still renders. Everything that came from
outside (addresses, sentences quoting a chain) is escaped, and the page forbids scripts
(``Content-Security-Policy``).

The server times each answer into ``link_ops_watch_http_request_seconds`` by route and counts its failures
(5xx) in ``link_ops_watch_http_errors_total``. It listens on loopback
unless told otherwise: the API can acknowledge incidents and has no authentication of its own, so expose it
only behind a reverse proxy that authenticates.
"""

from __future__ import annotations

import dataclasses
import html
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from typing_extensions import Self

from link_ops.exceptions import ConfigurationError
from link_ops.metrics import DEFAULT_METRICS_HOST, MergedRegistries
from link_ops.store.engine import utcnow
from link_ops.store.index import DailyClaims, DailyMints, IndexStore, RouteInFlight
from link_ops.store.partner_tables import UnknownPartnerError
from link_ops.store.sla import BenefitNotGrantedError, SlaRecordError, SlaStore
from link_ops.store.watch import Incident, IncidentStateError, UnknownIncidentError, WatchStore
from link_ops.watch.alerts import Severity

log = logging.getLogger("link_ops.watch.http")

#: Response-time buckets in seconds: a cached page in a millisecond to a slow database query.
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0)

#: Most alerts one ``/api/alerts`` answer carries.
MAX_ALERTS = 1_000

WEI_PER_LBC = Decimal(10) ** 18


# -- the data sources ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProtocolFigures:
    """What the page says about the protocol: holders (accounts holding cubes, over every chain), cubes
    held, LBC minted and claims per day, and bridge transfers in flight per route."""

    holders: int
    cubes_held: int
    minted_per_day: Sequence[DailyMints]
    claims_per_day: Sequence[DailyClaims]
    in_flight: Sequence[RouteInFlight]

    def to_json(self) -> dict[str, Any]:
        return {
            "holders": self.holders,
            "cubes_held": self.cubes_held,
            "minted_per_day": [
                {
                    "chain_id": m.chain_id,
                    "day": m.day.isoformat(),
                    "mints": m.mints,
                    "amount_wei": str(m.amount),
                }
                for m in self.minted_per_day
            ],
            "claims_per_day": [
                {
                    "chain_id": c.chain_id,
                    "day": c.day.isoformat(),
                    "claims": c.claims,
                    "cubes": c.cubes,
                    "amount_wei": str(c.amount),
                }
                for c in self.claims_per_day
            ],
            "in_flight": [
                {
                    "src_chain_id": r.src_chain_id,
                    "dst_chain_id": r.dst_chain_id,
                    "transfers": r.transfers,
                    "lbc_wei": str(r.lbc),
                    "cubes": r.cubes,
                }
                for r in self.in_flight
            ],
        }


#: The protocol's figures, read when the page or ``/api/status`` is asked for.
FiguresSource = Callable[[], ProtocolFigures]

#: Each chain's upstreams (by chain label), each as :meth:`link_ops.rpc.upstream.UpstreamStatus.as_json`.
UpstreamsSource = Callable[[], Mapping[str, Sequence[Mapping[str, Any]]]]

#: Partner SLA standings: one row per partner (a mapping or a dataclass), its columns rendered in order.
StandingsSource = Callable[[], Sequence[Any]]


class _Pool(Protocol):
    """What :func:`pool_upstreams` needs of an :class:`~link_ops.rpc.pool.RpcPool`."""

    chain_label: str

    def health(self) -> dict[str, Any]: ...


def index_figures(
    index: IndexStore, *, days: int = 7, clock: Callable[[], datetime] = utcnow
) -> FiguresSource:
    """The figures from the event index: holders now, and the last `days` UTC days of mints and claims."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ConfigurationError(f"days must be a whole number of 1 or more, got {days!r}")

    def figures() -> ProtocolFigures:
        first_day = clock().date() - timedelta(days=days - 1)
        holdings = index.holders()
        return ProtocolFigures(
            holders=len({h.holder.lower() for h in holdings}),
            cubes_held=sum(len(h.cube_ids) for h in holdings),
            minted_per_day=[m for m in index.lbc_minted_per_day() if m.day >= first_day],
            claims_per_day=[c for c in index.claims_per_day() if c.day >= first_day],
            in_flight=index.in_flight_by_route(),
        )

    return figures


def pool_upstreams(pools: Sequence[_Pool]) -> UpstreamsSource:
    """Each pool's upstreams (``RpcPool.health()``), by the pool's chain label."""

    def upstreams() -> Mapping[str, Sequence[Mapping[str, Any]]]:
        return {pool.chain_label: list(pool.health()["upstreams"]) for pool in pools}

    return upstreams


@dataclass(frozen=True)
class StatusSources:
    """Where the server's data comes from: the watch store (alerts, incidents; required) and the optional
    sources of the page's other sections (a section without a source says so)."""

    watch: WatchStore
    figures: FiguresSource | None = None
    upstreams: UpstreamsSource | None = None
    standings: StandingsSource | None = None
    #: Where partners report the benefits they applied (``POST /api/partners/<id>/benefits``); None: the
    #: route answers 404.
    sla: SlaStore | None = None
    #: The watch loop's own state (``Watchtower.snapshot``: steps, chains, the last performance window),
    #: served as ``watch`` in ``/api/status``.
    loop: Callable[[], Mapping[str, Any]] | None = None


# -- rendering ----------------------------------------------------------------------------------------------


def _row(item: Any) -> dict[str, Any]:
    if isinstance(item, Mapping):
        return dict(item)
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        return {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}
    raise TypeError(f"a standings row must be a mapping or a dataclass, got {type(item).__name__}")


def _json_value(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Severity):
        return value.label
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    return str(value)


def lbc(wei: int) -> str:
    """Wei as LBC, four decimals, thousands separated."""
    return f"{Decimal(wei) / WEI_PER_LBC:,.4f}"


def _e(value: Any) -> str:
    """Any value as HTML text, escaped (quotes too: it may end up in an attribute)."""
    if value is None:
        return "—"
    if isinstance(value, float):
        value = f"{value:,.4g}"
    elif isinstance(value, Severity):
        value = value.label
    elif isinstance(value, datetime):
        value = value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return html.escape(str(value), quote=True)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, css: str, empty: str) -> str:
    if not rows:
        return f'<p class="empty {css}">{_e(empty)}</p>'
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1d2330;background:#f6f7f9}
h1{font-size:1.4rem;margin:0 0 .2rem}h2{font-size:1.1rem;margin:1.6rem 0 .5rem}
table{border-collapse:collapse;background:#fff;margin:.3rem 0}
th,td{border:1px solid #d6d9de;padding:.25rem .55rem;text-align:left;font-variant-numeric:tabular-nums}
th{background:#eceef2}.figures td:first-child{font-weight:600}
.sev-critical{background:#8b0000;color:#fff}.sev-high{background:#f4c7c3}
.sev-warning{background:#fff1c2}.sev-info{background:#e3f0fb}
.unavailable{color:#8b0000}.empty{color:#5b6270}small{color:#5b6270}
"""


class StatusPage:
    """Renders the status page and the status JSON from `sources`."""

    def __init__(
        self,
        sources: StatusSources,
        *,
        title: str = "L.I.N.K watchtower",
        refresh_s: int = 30,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sources = sources
        self.title = title
        self.refresh_s = refresh_s
        self._clock = clock

    @staticmethod
    def _read(source: Callable[[], Any] | None) -> tuple[Any, str | None]:
        """The source's value, or the reason it has none."""
        if source is None:
            return None, "not configured"
        try:
            return source(), None
        except Exception as exc:  # one broken source must not take the page down
            log.warning("a status page source failed: %s", exc, exc_info=True)
            return None, f"{type(exc).__name__}: {exc}"

    def status_json(self) -> dict[str, Any]:
        figures, figures_error = self._read(self.sources.figures)
        upstreams, upstreams_error = self._read(self.sources.upstreams)
        standings, standings_error = self._read(self.sources.standings)
        return {
            "generated_at": self._clock().isoformat(),
            "figures": figures.to_json() if figures is not None else {"error": figures_error},
            "upstreams": _json_value(upstreams) if upstreams is not None else {"error": upstreams_error},
            "partners": (
                [_json_value(_row(r)) for r in standings]
                if standings is not None
                else {"error": standings_error}
            ),
            "incidents": [i.to_json() for i in self.sources.watch.incidents()],
            **({"watch": _json_value(self._read(self.sources.loop)[0])} if self.sources.loop else {}),
        }

    def html(self) -> str:
        now = self._clock()
        incidents = self.sources.watch.incidents()
        sections = [
            self._figures_section(),
            self._upstreams_section(),
            self._standings_section(),
            self._incidents_section(incidents),
        ]
        worst = max((i.severity for i in incidents), default=None)
        summary = (
            f"{len(incidents)} incident{'s' if len(incidents) != 1 else ''} open, worst {worst.label}"
            if worst is not None
            else "no open incidents"
        )
        return (
            "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
            f'<meta http-equiv="refresh" content="{int(self.refresh_s)}">'
            f"<title>{_e(self.title)}</title><style>{_STYLE}</style></head><body>"
            f'<h1>{_e(self.title)}</h1><p id="summary">{_e(summary)} · <small>as of {_e(now)}, '
            f"refreshes every {int(self.refresh_s)} s</small></p>" + "".join(sections) + "</body></html>"
        )

    def _unavailable(self, section: str, title: str, reason: str | None) -> str:
        return (
            f'<section id="{section}"><h2>{_e(title)}</h2>'
            f'<p class="unavailable">unavailable: {_e(reason)}</p></section>'
        )

    def _figures_section(self) -> str:
        figures, error = self._read(self.sources.figures)
        if figures is None:
            return self._unavailable("figures", "Protocol", error)
        assert isinstance(figures, ProtocolFigures)
        totals = _table(
            ("figure", "value"),
            [
                ("holders", f"{figures.holders:,}"),
                ("cubes held", f"{figures.cubes_held:,}"),
                ("bridge transfers in flight", f"{sum(r.transfers for r in figures.in_flight):,}"),
            ],
            css="figures",
            empty="",
        )
        minted = _table(
            ("day", "chain", "mints", "LBC minted"),
            [(m.day, m.chain_id, m.mints, lbc(m.amount)) for m in figures.minted_per_day],
            css="minted",
            empty="no LBC minted in these days",
        )
        claims = _table(
            ("day", "chain", "claims", "cubes", "LBC claimed"),
            [(c.day, c.chain_id, c.claims, c.cubes, lbc(c.amount)) for c in figures.claims_per_day],
            css="claims",
            empty="no claims in these days",
        )
        flight = _table(
            ("from chain", "to chain", "transfers", "LBC", "cubes"),
            [(r.src_chain_id, r.dst_chain_id, r.transfers, lbc(r.lbc), r.cubes) for r in figures.in_flight],
            css="in-flight",
            empty="nothing in flight on the bridge",
        )
        return (
            f'<section id="figures"><h2>Protocol</h2>{totals}<h3>LBC minted per day</h3>{minted}'
            f"<h3>Claims per day</h3>{claims}<h3>Bridge messages in flight</h3>{flight}</section>"
        )

    def _upstreams_section(self) -> str:
        chains, error = self._read(self.sources.upstreams)
        if chains is None:
            return self._unavailable("upstreams", "Upstreams", error)
        rows = [
            (
                chain,
                u.get("name"),
                u.get("state"),
                u.get("head"),
                u.get("head_lag"),
                u.get("latency_ewma_ms"),
                u.get("last_error"),
            )
            for chain, upstreams in chains.items()
            for u in upstreams
        ]
        table = _table(
            ("chain", "upstream", "state", "head", "lag (blocks)", "latency (ms)", "last error"),
            rows,
            css="upstreams",
            empty="no upstreams",
        )
        return f'<section id="upstreams"><h2>Upstreams</h2>{table}</section>'

    def _standings_section(self) -> str:
        standings, error = self._read(self.sources.standings)
        if standings is None:
            return self._unavailable("partners", "Partner SLAs", error)
        try:
            rows = [_row(item) for item in standings]
        except TypeError as exc:
            return self._unavailable("partners", "Partner SLAs", str(exc))
        columns: list[str] = []
        for row in rows:
            columns.extend(k for k in row if k not in columns)
        table = _table(
            [c.replace("_", " ") for c in columns],
            [[row.get(c) for c in columns] for row in rows],
            css="standings",
            empty="no partners measured yet",
        )
        return f'<section id="partners"><h2>Partner SLAs</h2>{table}</section>'

    def _incidents_section(self, incidents: Sequence[Incident]) -> str:
        if not incidents:
            return '<section id="incidents"><h2>Open incidents</h2><p class="empty">none</p></section>'
        head = "".join(
            f"<th>{h}</th>"
            for h in ("#", "severity", "status", "subject", "what happened", "alerts", "first", "latest")
        )
        body = "".join(
            f'<tr class="sev-{i.severity.label}" data-incident="{i.id}">'
            f"<td>{i.id}</td><td>{_e(i.severity)}</td><td>{_e(i.status)}</td><td>{_e(i.subject)}</td>"
            f"<td>{_e(i.title)}</td><td>{i.alert_count}</td><td>{_e(i.first_at)}</td><td>{_e(i.last_at)}</td>"
            "</tr>"
            for i in incidents
        )
        return (
            '<section id="incidents"><h2>Open incidents</h2><table class="incidents">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></section>"
        )


# -- the server ---------------------------------------------------------------------------------------------


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


_ACK_PREFIX, _ACK_SUFFIX = "/api/incidents/", "/ack"
_BENEFITS_PREFIX, _BENEFITS_SUFFIX = "/api/partners/", "/benefits"
_BENEFIT_BODY = (
    'the body must be JSON like {"chain_id": 137, "holder": "0x…", "claim_tx": "0x…", '
    '"applied_at": "2026-11-28T09:30:00Z"} (applied_at optional: now)'
)


def _route_of(path: str) -> str:
    """The route a path is timed under: its template (an incident id is not a label value)."""
    if path.startswith(_ACK_PREFIX) and path.endswith(_ACK_SUFFIX):
        return "/api/incidents/{id}/ack"
    if path in ("/", "/metrics", "/api/health", "/api/status", "/api/alerts", "/api/incidents"):
        return path
    return "other"


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        started = time.perf_counter()
        parts = urlsplit(self.path)
        route = _route_of(parts.path)
        try:
            status, content_type, body = self.server.app.answer(method, parts.path, parts.query, self._body())
        except _BadRequest as exc:
            status, content_type, body = exc.status, "application/json", _json({"error": str(exc)})
        except Exception as exc:
            log.exception("%s %s failed", method, parts.path)
            status, content_type, body = (
                500,
                "application/json",
                _json({"error": f"{type(exc).__name__}: {exc}"}),
            )
        # Counted before the answer leaves: a client that has its answer finds it in /metrics.
        self.server.app.request_seconds.labels(route, method).observe(time.perf_counter() - started)
        if status >= 500:
            self.server.app.server_errors.labels(route, method).inc()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > 64 * 1024:
            raise _BadRequest(413, "the request body is over 64 KiB")
        return self.rfile.read(length) if length > 0 else b""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    app: WatchServer


def _json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True).encode()


class WatchServer:
    """The watchtower's HTTP server (see the module's description) on `host`:`port` (0: a free port) with
    data from `sources`; ``/metrics`` serves `registries` merged, and the server's own registry (its
    response-time histogram; a private one unless `registry` is given).

    :meth:`start` binds and serves from a background thread and returns once the port accepts connections;
    :meth:`close` stops it and frees the port. Raises :class:`ConfigurationError` when the port is taken.
    """

    def __init__(
        self,
        sources: StatusSources,
        *,
        registries: Sequence[CollectorRegistry] = (),
        registry: CollectorRegistry | None = None,
        host: str = DEFAULT_METRICS_HOST,
        port: int = 0,
        title: str = "L.I.N.K watchtower",
        refresh_s: int = 30,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65_535:
            raise ConfigurationError(
                f"the watchtower's HTTP port must be a whole number from 0 to 65535, got {port!r}"
            )
        self.sources = sources
        self.page = StatusPage(sources, title=title, refresh_s=refresh_s, clock=clock)
        self.registry = registry if registry is not None else CollectorRegistry()
        self.request_seconds = Histogram(
            "link_ops_watch_http_request_seconds",
            "Seconds the watchtower's HTTP server took to answer, by route and method.",
            ("route", "method"),
            buckets=HTTP_BUCKETS,
            registry=self.registry,
        )
        #: Answers the server failed (5xx): the PerformanceMonitor's error rate of the API.
        self.server_errors = Counter(
            "link_ops_watch_http_errors",
            "Requests the watchtower's HTTP server failed (HTTP 5xx), by route and method.",
            ("route", "method"),
            registry=self.registry,
        )
        self._merged = MergedRegistries([self.registry, *registries])
        self.host, self._port = host, port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise ConfigurationError("the watchtower's HTTP server is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The base URL, ``http://host:port``."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        if self._server is not None:
            raise ConfigurationError("the watchtower's HTTP server is running already")
        try:
            server = _Server((self.host, self._port), _Handler)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot serve the watchtower on {self.host}:{self._port} ({exc.strerror or exc}): choose "
                "another --http-port"
            ) from exc
        server.app = self
        self._server = server
        # The socket listens from here on: connections made before serve_forever runs wait in its backlog.
        self._thread = threading.Thread(target=server.serve_forever, name="link-ops-watch-http", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stops serving and frees the port (requests being answered are finished first)."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server, self._thread = None, None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- answers ------------------------------------------------------------------------------------------

    def answer(self, method: str, path: str, query: str, body: bytes) -> tuple[int, str, bytes]:
        """The status, content type and body for one request."""
        gets: dict[str, Callable[[dict[str, list[str]]], tuple[int, str, bytes]]] = {
            "/": lambda q: (200, "text/html; charset=utf-8", self.page.html().encode()),
            "/metrics": lambda q: (200, CONTENT_TYPE_LATEST, generate_latest(self._merged)),
            "/api/health": lambda q: (200, "application/json", _json(self._health())),
            "/api/status": lambda q: (200, "application/json", _json(self.page.status_json())),
            "/api/alerts": lambda q: (200, "application/json", _json(self._alerts(q))),
            "/api/incidents": lambda q: (200, "application/json", _json(self._incidents(q))),
        }
        params = parse_qs(query, keep_blank_values=True)
        if path in gets:
            if method != "GET":
                raise _BadRequest(405, f"{path} answers GET only")
            return gets[path](params)
        if path.startswith(_ACK_PREFIX) and path.endswith(_ACK_SUFFIX):
            if method != "POST":
                raise _BadRequest(405, f"{path} answers POST only")
            raw_id = path[len(_ACK_PREFIX) : -len(_ACK_SUFFIX)]
            return 200, "application/json", _json(self._ack(raw_id, body))
        if path.startswith(_BENEFITS_PREFIX) and path.endswith(_BENEFITS_SUFFIX) and self.sources.sla:
            if method != "POST":
                raise _BadRequest(405, f"{path} answers POST only")
            partner = unquote(path[len(_BENEFITS_PREFIX) : -len(_BENEFITS_SUFFIX)])
            return 200, "application/json", _json(self._benefit(partner, body))
        raise _BadRequest(404, f"no such page: {path} (see / for the status page, /api/status for its JSON)")

    def _health(self) -> dict[str, Any]:
        chains: dict[str, Any] = {}
        status = "ok"
        if self.sources.upstreams is not None:
            try:
                for chain, upstreams in self.sources.upstreams().items():
                    usable = sum(u.get("state") == "healthy" for u in upstreams)
                    chains[chain] = {"usable": usable, "upstreams": len(upstreams)}
                    if usable == 0:
                        status = "degraded"
            except Exception as exc:
                return {"status": "degraded", "error": f"{type(exc).__name__}: {exc}"}
        return {"status": status, "chains": chains}

    def _alerts(self, params: dict[str, list[str]]) -> dict[str, Any]:
        since = _one(params, "since")
        severity = _one(params, "severity")
        limit_text = _one(params, "limit")
        when = None
        if since is not None:
            try:
                when = datetime.fromisoformat(since)
            except ValueError:
                raise _BadRequest(
                    400, f"since={since!r} is not an ISO 8601 time: write it like 2026-11-28T12:00:00Z"
                ) from None
            if when.utcoffset() is None:
                raise _BadRequest(
                    400, f"since={since!r} has no timezone: add Z (UTC) or an offset like +00:00"
                )
        min_severity = None
        if severity is not None:
            try:
                min_severity = Severity.parse(severity)
            except ConfigurationError as exc:
                raise _BadRequest(400, f"severity: {exc}") from None
        limit = 100
        if limit_text is not None:
            if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_ALERTS:
                raise _BadRequest(400, f"limit={limit_text!r} must be a whole number from 1 to {MAX_ALERTS}")
            limit = int(limit_text)
        alerts = self.sources.watch.alerts(since=when, min_severity=min_severity, limit=limit)
        return {"alerts": [a.to_json() for a in alerts]}

    def _incidents(self, params: dict[str, list[str]]) -> dict[str, Any]:
        status = _one(params, "status") or "active"
        if status not in ("active", "all", "open", "acknowledged", "resolved"):
            raise _BadRequest(
                400, f"status={status!r}: use active (the default), all, open, acknowledged or resolved"
            )
        chosen = None if status == "all" else ("open", "acknowledged") if status == "active" else (status,)
        return {"incidents": [i.to_json() for i in self.sources.watch.incidents(chosen)]}

    def _ack(self, raw_id: str, body: bytes) -> dict[str, Any]:
        if not raw_id.isdigit():
            raise _BadRequest(404, f"no incident {raw_id!r}: incident ids are whole numbers")
        by = "api"
        if body.strip():
            try:
                payload = json.loads(body)
            except ValueError:
                raise _BadRequest(400, 'the body must be JSON like {"by": "alice"} (or empty)') from None
            if not isinstance(payload, dict) or not isinstance(payload.get("by", by), str):
                raise _BadRequest(400, 'the body must be JSON like {"by": "alice"} (or empty)')
            by = payload.get("by", by)
        try:
            incident = self.sources.watch.acknowledge(int(raw_id), by)
        except UnknownIncidentError as exc:
            raise _BadRequest(404, str(exc)) from None
        except IncidentStateError as exc:
            raise _BadRequest(409, str(exc)) from None
        except ConfigurationError as exc:
            raise _BadRequest(400, str(exc)) from None
        return {"incident": incident.to_json()}

    def _benefit(self, partner_id: str, body: bytes) -> dict[str, Any]:
        """A partner's report that it applied a granted benefit (idempotent: the first report stands)."""
        assert self.sources.sla is not None
        chain_id, holder, claim_tx, applied_at = _benefit_payload(body)
        try:
            record = self.sources.sla.report_benefit_applied(
                partner_id, chain_id, holder, claim_tx, applied_at
            )
        except UnknownPartnerError as exc:
            raise _BadRequest(404, str(exc)) from None
        except BenefitNotGrantedError as exc:
            raise _BadRequest(409, str(exc)) from None
        except (SlaRecordError, ConfigurationError) as exc:
            raise _BadRequest(400, str(exc)) from None
        return {"benefit": _json_value(dataclasses.asdict(record))}


def _benefit_payload(body: bytes) -> tuple[int, str, str, datetime | None]:
    try:
        payload = json.loads(body or b"null")
    except ValueError:
        raise _BadRequest(400, _BENEFIT_BODY) from None
    if not isinstance(payload, dict):
        raise _BadRequest(400, _BENEFIT_BODY)
    chain_id, holder, claim_tx = payload.get("chain_id"), payload.get("holder"), payload.get("claim_tx")
    applied = payload.get("applied_at")
    if (
        isinstance(chain_id, bool)
        or not isinstance(chain_id, int)
        or not isinstance(holder, str)
        or not isinstance(claim_tx, str)
        or not (applied is None or isinstance(applied, str))
    ):
        raise _BadRequest(400, _BENEFIT_BODY)
    when = None
    if applied is not None:
        try:
            when = datetime.fromisoformat(applied)
        except ValueError:
            raise _BadRequest(400, f"applied_at={applied!r} is not an ISO 8601 time") from None
        if when.utcoffset() is None:
            raise _BadRequest(400, f"applied_at={applied!r} has no timezone: add Z (UTC) or an offset")
    return chain_id, holder, claim_tx, when


def _one(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise _BadRequest(400, f"{name} is given {len(values)} times: give it once")
    return values[0]
