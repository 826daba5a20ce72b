"""Posting a JSON-RPC body to one node: sync over kept-alive ``http.client`` connections (one per thread),
async over one ``aiohttp`` session per event loop.

Both return the HTTP status and body, or a :class:`~link_ops.rpc.classify.Failure` (``transport`` or
``timeout``) that says whether the request certainly never reached the node (``refused``: the connection
could not be made). Messages never quote the URL (it may hold an API key).
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import select
import socket
import ssl
import threading
import time
import weakref
from urllib.parse import unquote, urlsplit

import aiohttp
from yarl import URL

from link_ops.rpc.classify import Failure

#: Seconds a kept-alive connection may sit idle before it is replaced (nodes and their load balancers
#: close idle connections, typically after 60 s; a request on a closed one would fail for nothing).
IDLE_REUSE_S = 15.0

#: Connections one event loop's session keeps open at most, to all upstreams together (a request beyond
#: waits for one to be free, counted in flight).
MAX_CONNECTIONS = 256

_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


def _headers_for(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    headers = dict(_HEADERS)
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(credentials).decode()
    return headers


class _Kept:
    """A kept-alive connection and when it was last used."""

    def __init__(self, connection: http.client.HTTPConnection) -> None:
        self.connection = connection
        self.used_at = time.monotonic()


class SyncHttp:
    """Posts to one URL from any thread; each thread keeps its own connection alive between requests."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if self._https else 80)
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._headers = _headers_for(url)
        self._local = threading.local()
        self._lock = threading.Lock()
        # Weak: a thread that ends drops its connection with its thread-local data.
        self._open: weakref.WeakSet[http.client.HTTPConnection] = weakref.WeakSet()
        self._ssl = ssl.create_default_context() if self._https else None

    def _new_connection(self, timeout: float) -> http.client.HTTPConnection:
        if self._https:
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                self._host, self._port, timeout=timeout, context=self._ssl
            )
        else:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        with self._lock:
            self._open.add(connection)
        return connection

    def _drop(self, kept: _Kept | None) -> None:
        if kept is None:
            return
        kept.connection.close()
        with self._lock:
            self._open.discard(kept.connection)
        if getattr(self._local, "kept", None) is kept:
            self._local.kept = None

    def _reusable(self, kept: _Kept | None) -> bool:
        if kept is None or kept.connection.sock is None:
            return False
        if time.monotonic() - kept.used_at > IDLE_REUSE_S:
            return False
        # A kept connection that is readable before we asked anything was closed by the node.
        readable, _, _ = select.select([kept.connection.sock], [], [], 0)
        return not readable

    def post(self, body: bytes, timeout: float, *, idempotent: bool = True) -> tuple[int, bytes] | Failure:
        """Posts `body`; returns ``(status, body)`` or a :class:`Failure`.

        A read (`idempotent`) that meets a kept connection the node had closed is sent once more on a new
        connection; a write never is (its first attempt may have arrived).
        """
        kept: _Kept | None = getattr(self._local, "kept", None)
        if not self._reusable(kept):
            self._drop(kept)
            kept = None
        reused = kept is not None
        if kept is None:
            connection = self._new_connection(timeout)
            try:
                connection.connect()
            except TimeoutError:
                self._drop(_Kept(connection))
                return Failure("timeout", f"no connection within {timeout:g} s", refused=True)
            except OSError as exc:
                self._drop(_Kept(connection))
                return Failure("transport", f"connection failed ({_reason(exc)})", refused=True)
            if connection.sock is not None:
                connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            kept = _Kept(connection)
            self._local.kept = kept
        connection = kept.connection
        assert connection.sock is not None
        connection.sock.settimeout(timeout)
        try:
            connection.request("POST", self._path, body, self._headers)
            response = connection.getresponse()
            data = response.read()
        except TimeoutError:
            self._drop(kept)
            return Failure("timeout", f"no reply within {timeout:g} s")
        except (OSError, http.client.HTTPException) as exc:
            self._drop(kept)
            closed_early = isinstance(
                exc, (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
            )
            if reused and idempotent and closed_early:
                return self.post(body, timeout, idempotent=False)  # once, on a new connection
            return Failure("transport", f"the connection broke ({_reason(exc)})")
        kept.used_at = time.monotonic()
        if response.will_close:
            self._drop(kept)
        return response.status, data

    def close(self) -> None:
        """Closes every connection this client opened, in any thread."""
        with self._lock:
            connections, self._open = list(self._open), weakref.WeakSet()
        for connection in connections:
            connection.close()


class AsyncHttp:
    """Posts to one URL through a shared :class:`aiohttp.ClientSession` (see :class:`AsyncSessions`)."""

    def __init__(self, url: str, sessions: AsyncSessions) -> None:
        self._url = URL(url)  # parsed once, not per request
        self._headers = _headers_for(url)
        self._sessions = sessions

    async def post(self, body: bytes, timeout: float) -> tuple[int, bytes] | Failure:
        session = self._sessions.current()
        try:
            async with session.post(
                self._url, data=body, headers=self._headers, timeout=aiohttp.ClientTimeout(total=timeout)
            ) as response:
                return response.status, await response.read()
        except (TimeoutError, asyncio.TimeoutError):
            return Failure("timeout", f"no reply within {timeout:g} s")
        except aiohttp.ClientConnectorError as exc:
            return Failure("transport", f"connection failed ({_reason(exc)})", refused=True)
        except (aiohttp.ClientError, OSError) as exc:
            return Failure("transport", f"the connection broke ({_reason(exc)})")


class AsyncSessions:
    """One :class:`aiohttp.ClientSession` per event loop (a pool may be used from several loops over its
    life, e.g. one per test); closed by :meth:`aclose` (the current loop's) or dropped with their loop."""

    def __init__(self) -> None:
        self._sessions: dict[asyncio.AbstractEventLoop, aiohttp.ClientSession] = {}

    def current(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        for other in [lp for lp in self._sessions if lp.is_closed()]:
            self._sessions.pop(other, None)
        session = self._sessions.get(loop)
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(
                limit=MAX_CONNECTIONS, keepalive_timeout=IDLE_REUSE_S, use_dns_cache=True
            )
            session = aiohttp.ClientSession(connector=connector, auto_decompress=True)
            self._sessions[loop] = session
        return session

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        session = self._sessions.pop(loop, None)
        if session is not None:
            await session.close()


def _reason(exc: BaseException) -> str:
    """A short reason for `exc` without its text (which may quote the URL)."""
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, aiohttp.ClientConnectorError) and isinstance(exc.os_error, ConnectionRefusedError):
        return "connection refused"
    names: dict[type[BaseException], str] = {
        http.client.RemoteDisconnected: "closed by the node",
        ConnectionResetError: "reset by the node",
        BrokenPipeError: "closed by the node",
        aiohttp.ServerDisconnectedError: "closed by the node",
    }
    for kind, text in names.items():
        if isinstance(exc, kind):
            return text
    return exc.__class__.__name__
