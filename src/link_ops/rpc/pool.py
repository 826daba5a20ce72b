"""The RPC pool: several nodes of one chain behind one ``request(method, params)``, sync and async.

::

    pool = RpcPool.from_env("polygon")          # POLYGON_RPC_URL=https://a…,https://b…,https://c…
    with pool:                                  # checks every node now, then every 30 s in a thread
        head = int(pool.request("eth_blockNumber"), 16)
        with pool.pinned(sender=me) as node:    # one node for the nonce and the send
            nonce = int(node.request("eth_getTransactionCount", [me, "pending"]), 16)
            node.request("eth_sendRawTransaction", [signed])

    async with RpcPool(137, urls) as pool:      # the same in an event loop (checks in a task)
        head = await pool.arequest("eth_blockNumber")

**Choosing.** Each request goes to the *usable* upstream (chain id verified, healthy, not lagging: see
:mod:`link_ops.rpc.upstream`) with the fewest requests in flight, ties broken by the lower latency moving
average (a failed request weighs in it as a whole ``request_timeout_s``, so a node that just failed comes
after the others). When none is usable, reads try the unhealthy ones as a last resort
(``PoolSettings.last_resort``): a half-open probe whose success counts toward their recovery; lagging and
wrong-chain nodes never serve.

**Reads** move on to the next upstream when one fails (:mod:`link_ops.rpc.classify` says what a failure is:
no connection, a timeout, HTTP 429/5xx, a reply that is not ours, a node that is rate limited or lacks the
state). A JSON-RPC error that is the call's own answer (a revert, invalid params) is raised as
:class:`~link_ops.exceptions.RpcError` at once and never asked of another node.

**Writes** (``eth_sendRawTransaction``, ``eth_sendTransaction``, and the ``evm_``/``anvil_``/… methods
that change a node's own state) go to exactly one upstream and are never retried on another. A send that
certainly did not arrive raises :class:`~link_ops.exceptions.TransactionNotSentError` (send it again); one
that may have arrived (a timeout, HTTP 5xx) raises :class:`~link_ops.exceptions.AmbiguousSendError` with the
transaction's hash (keccak of the raw transaction) and the upstream: look it up before signing anything new.

**Sticky routing**, so that what belongs together goes to one node without the caller saying so:

- a sender's nonce read (``eth_getTransactionCount`` at ``latest``/``pending``) and its sends (the sender
  recovered from the raw transaction, or ``from``) go to the node that last served that sender, for
  ``PoolSettings.sticky_s`` seconds, while it stays usable: the nonce comes from the node the transaction
  goes to, and its pending pool counts the sender's earlier transactions;
- a sent transaction's receipt and lookups prefer the node it was sent to (reads still fail over);
- a filter (``eth_newFilter`` …) lives on one node: its ``eth_getFilterChanges`` … go there.

:meth:`RpcPool.pinned` pins a whole operation to one upstream explicitly (no failover inside it).

**Health checks** run on every upstream at once, at start (:meth:`RpcPool.start`, :meth:`RpcPool.check_now`)
and every ``check_interval_s`` seconds: ``eth_chainId`` (another chain: never used again, logged as an
error) and ``eth_blockNumber``, each within ``check_timeout_s``. Requests count toward health too. A node
whose head is more than ``max_head_lag_blocks`` behind the *second-highest* head is excluded until it
catches up.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from eth_utils.crypto import keccak
from prometheus_client import CollectorRegistry

from link_ops.exceptions import (
    AmbiguousSendError,
    NoHealthyUpstreamError,
    PinnedUpstreamError,
    RpcConfigurationError,
    RpcError,
    RpcUnavailableError,
    TransactionNotSentError,
)
from link_ops.model.chains import CHAINS, ChainRef, chain_name, resolve_chain
from link_ops.rpc.classify import (
    FILTER_CREATORS,
    FILTER_USERS,
    TX_LOOKUPS,
    Answer,
    Failure,
    Outcome,
    Success,
    classify_reply,
    is_write,
)
from link_ops.rpc.metrics import PoolMetrics
from link_ops.rpc.settings import PoolSettings, parse_urls, upstream_names, urls_from_env
from link_ops.rpc.transport import AsyncHttp, AsyncSessions, SyncHttp
from link_ops.rpc.upstream import (
    HealthCounter,
    HealthState,
    Transition,
    Upstream,
    UpstreamStatus,
    choose,
    reference_head,
)

log = logging.getLogger("link_ops.rpc")

Params = Sequence[Any] | Mapping[str, Any] | None

#: Block tags at which a nonce read is about what the next transaction will use.
_CURRENT_TAGS = (None, "latest", "pending")


@dataclass
class _Call:
    """One request on its way through the pool."""

    method: str
    params: list[Any] | dict[str, Any]
    write: bool
    #: The upstream this call must use (pinned), or None.
    pinned: Upstream | None = None
    #: The sticky key whose upstream this call prefers, and the keys its success makes sticky.
    prefer: str | None = None
    stick: tuple[str, ...] = ()
    tx_hash: str | None = None
    tried: list[Upstream] = field(default_factory=list)
    failures: list[tuple[Upstream, Failure]] = field(default_factory=list)


@dataclass(frozen=True)
class _CheckResult:
    upstream: Upstream
    chain_id: int | None = None
    head: int | None = None
    failure: str | None = None


class RpcPool:
    """Several RPC nodes of chain `chain_id` (see the module documentation for the rules).

    `urls` is a list or a comma-separated string (checked: http(s), a host, no repeats). Metrics go to
    `registry` (default: a registry of the pool's own, so that pools do not clash; serve it with
    ``prometheus_client.generate_latest(pool.registry)``), labelled with `chain_label` (default: the
    chain's key, ``polygon``).
    """

    def __init__(
        self,
        chain_id: int,
        urls: str | Sequence[str],
        settings: PoolSettings | None = None,
        *,
        registry: CollectorRegistry | None = None,
        chain_label: str | None = None,
        source: str | None = None,
    ) -> None:
        if isinstance(chain_id, bool) or not isinstance(chain_id, int) or chain_id <= 0:
            raise RpcConfigurationError(f"chain id must be a positive integer, got {chain_id!r}")
        checked = parse_urls(urls)
        self.chain_id = chain_id
        #: Where the URLs came from (``POLYGON_RPC_URL``), for what errors tell the user to check.
        self.source = source
        self.settings = settings or PoolSettings()
        names = upstream_names(checked)
        self._upstreams = [
            Upstream(i, url, name, HealthCounter(self.settings.unhealthy_after, self.settings.healthy_after))
            for i, (url, name) in enumerate(zip(checked, names, strict=True))
        ]
        self._sync = [SyncHttp(url) for url in checked]
        self._sessions = AsyncSessions()
        self._async = [AsyncHttp(url, self._sessions) for url in checked]
        self._lock = threading.Lock()
        self._check_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._sticky: dict[str, tuple[int, float]] = {}
        self._filters: dict[str, int] = {}
        self.registry = registry if registry is not None else CollectorRegistry()
        known = CHAINS.get(chain_id)
        self.chain_label = chain_label or (known.key if known else str(chain_id))
        self.metrics = PoolMetrics(self.registry, self.chain_label, names)
        self._checked = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_env(
        cls,
        chain: ChainRef,
        settings: PoolSettings | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        registry: CollectorRegistry | None = None,
    ) -> RpcPool:
        """A pool of the URLs in `chain`'s RPC variable (``POLYGON_RPC_URL=url1,url2,…``)."""
        info = resolve_chain(chain)
        return cls(
            info.chain_id,
            urls_from_env(info, environ),
            settings,
            registry=registry,
            chain_label=info.key,
            source=info.rpc_env,
        )

    # -- what the pool knows ---------------------------------------------------------------------------------

    @property
    def names(self) -> tuple[str, ...]:
        """The upstreams' redacted names (``host:port``), in the order of the URLs."""
        return tuple(u.name for u in self._upstreams)

    def status(self) -> list[UpstreamStatus]:
        """A snapshot of every upstream, in the order of the URLs."""
        with self._lock:
            return [u.status() for u in self._upstreams]

    def health(self) -> dict[str, Any]:
        """What ``/health`` serves: the chain, how many upstreams are usable, and each one's status."""
        statuses = self.status()
        return {
            "chain_id": self.chain_id,
            "chain": self.chain_label,
            "usable": sum(s.state is HealthState.HEALTHY for s in statuses),
            "upstreams": [s.as_json() for s in statuses],
        }

    def is_connected(self) -> bool:
        """Whether some upstream is usable (after a check)."""
        self._ensure_checked()
        with self._lock:
            return any(u.usable for u in self._upstreams)

    async def ais_connected(self) -> bool:
        """:meth:`is_connected` in an event loop."""
        if not self._checked:
            await self.acheck_now()
        with self._lock:
            return any(u.usable for u in self._upstreams)

    def pick_url(self) -> str:
        """The URL of the least busy usable upstream, for a client that takes one URL (the fork of a
        chain, ape's connection handshake). Raises :class:`NoHealthyUpstreamError` when none is usable."""
        self._ensure_checked()
        with self._lock:
            upstream = choose([u for u in self._upstreams if u.usable])
            if upstream is None:
                raise self._no_healthy("connect to")
            return upstream.url

    def url_of(self, name: str) -> str:
        """The full URL of the upstream called `name` (for connecting a client to one node directly)."""
        return self._named(name).url

    # -- what operators (the watchtower's performance monitor) change ---------------------------------------

    def set_weight(self, name: str, weight: float, reason: str | None = None) -> None:
        """Gives upstream `name` `weight` times an equal share of the traffic (0 < weight <= 1; 1 restores
        it), saying why in its status."""
        if isinstance(weight, bool) or not 0 < weight <= 1:
            raise RpcConfigurationError(
                f"an upstream's weight is a share in (0, 1], got {weight!r}: 1 for an equal share"
            )
        upstream = self._named(name)
        with self._lock:
            upstream.weight = float(weight)
            upstream.weight_reason = None if weight == 1 else reason
        self.metrics.set_weight(upstream.name, upstream.weight)

    def mark_unhealthy(self, name: str, reason: str) -> bool:
        """Takes upstream `name` out of rotation now, as if it had failed its checks: the health checks
        bring it back after `healthy_after` successes in a row (reads may still try it as a last resort).
        Returns whether it was usable before."""
        upstream = self._named(name)
        with self._lock:
            before = upstream.state
            upstream.health.healthy = False
            upstream.health.failures = max(upstream.health.failures, upstream.health.unhealthy_after)
            upstream.health.successes = 0
            upstream.last_error = reason
            self._note_transition(upstream, before, reason)
            return before is HealthState.HEALTHY

    def _named(self, name: str) -> Upstream:
        for upstream in self._upstreams:
            if upstream.name == name:
                return upstream
        raise RpcConfigurationError(f"no upstream called {name!r}: the pool has {', '.join(self.names)}")

    # -- requests --------------------------------------------------------------------------------------------

    def request(self, method: str, params: Params = None) -> Any:
        """The result of `method` with `params`, from the pool (see the module documentation).

        Raises :class:`RpcError` for the call's own JSON-RPC error, :class:`RpcUnavailableError` (or
        :class:`NoHealthyUpstreamError`) when no upstream could answer, and for writes
        :class:`TransactionNotSentError` or :class:`AmbiguousSendError`.
        """
        self._ensure_checked()
        return self._request(self._begin(method, params))

    async def arequest(self, method: str, params: Params = None) -> Any:
        """:meth:`request` in an event loop (aiohttp; the first call checks the upstreams if needed)."""
        if not self._checked:
            await self.acheck_now()
        return await self._arequest(self._begin(method, params))

    def _request(self, call: _Call) -> Any:
        timeout = self.settings.request_timeout_s
        while (upstream := self._next(call)) is not None:
            started = time.perf_counter()
            request_id, body = self._body(call)
            reply = self._sync[upstream.index].post(body, timeout, idempotent=not call.write)
            outcome = reply if isinstance(reply, Failure) else classify_reply(*reply, request_id)
            done, value = self._settle(call, upstream, outcome, time.perf_counter() - started)
            if done:
                return value
        raise self._exhausted(call)

    async def _arequest(self, call: _Call) -> Any:
        timeout = self.settings.request_timeout_s
        while (upstream := self._next(call)) is not None:
            started = time.perf_counter()
            request_id, body = self._body(call)
            reply = await self._async[upstream.index].post(body, timeout)
            outcome = reply if isinstance(reply, Failure) else classify_reply(*reply, request_id)
            done, value = self._settle(call, upstream, outcome, time.perf_counter() - started)
            if done:
                return value
        raise self._exhausted(call)

    @contextlib.contextmanager
    def pinned(self, sender: str | None = None) -> Iterator[PinnedPool]:
        """One upstream for a whole operation (a nonce read and the send it is for, say).

        The upstream is the one `sender` is sticky to when it is usable, else the least busy usable one;
        `sender` then sticks to it. Nothing inside fails over: a failed read raises
        :class:`PinnedUpstreamError` (run the operation again: it pins a healthy upstream).
        """
        self._ensure_checked()
        yield self._pin(sender)

    @contextlib.asynccontextmanager
    async def apinned(self, sender: str | None = None) -> AsyncIterator[PinnedPool]:
        """:meth:`pinned` in an event loop (use its :meth:`PinnedPool.arequest`)."""
        if not self._checked:
            await self.acheck_now()
        yield self._pin(sender)

    def _pin(self, sender: str | None) -> PinnedPool:
        key = None if sender is None else f"sender:{sender.lower()}"
        with self._lock:
            upstream = self._preferred(key, ()) or choose([u for u in self._upstreams if u.usable])
            if upstream is None:
                raise self._no_healthy("pin an upstream")
            if key is not None:
                self._stick_locked((key,), upstream)
        return PinnedPool(self, upstream)

    # -- the way of one call ---------------------------------------------------------------------------------

    def _begin(self, method: str, params: Params, pinned: Upstream | None = None) -> _Call:
        if not isinstance(method, str) or not method.strip():
            raise RpcConfigurationError(f"a JSON-RPC method must be a non-empty string, got {method!r}")
        if params is None:
            args: list[Any] | dict[str, Any] = []
        elif isinstance(params, Mapping):
            args = dict(params)
        elif isinstance(params, (str, bytes)) or not isinstance(params, Sequence):
            raise RpcConfigurationError(
                f"{method}: params must be a list (or an object), got {type(params).__name__}"
            )
        else:
            args = list(params)
        call = _Call(method, args, is_write(method), pinned=pinned)
        positional = args if isinstance(args, list) else []
        first = positional[0] if positional else None
        if method == "eth_getTransactionCount" and isinstance(first, str):
            tag = positional[1] if len(positional) > 1 else None
            if tag in _CURRENT_TAGS:
                call.prefer = f"sender:{first.lower()}"
                call.stick = (call.prefer,)
        elif method == "eth_sendRawTransaction" and isinstance(first, str):
            call.tx_hash = _tx_hash(first)
            sender = _raw_sender(first)
            call.prefer = None if sender is None else f"sender:{sender}"
            call.stick = tuple(k for k in (call.prefer, call.tx_hash and f"tx:{call.tx_hash}") if k)
        elif (
            method == "eth_sendTransaction"
            and isinstance(first, Mapping)
            and isinstance(first.get("from"), str)
        ):
            call.prefer = f"sender:{first['from'].lower()}"
            call.stick = (call.prefer,)
        elif method in TX_LOOKUPS and isinstance(first, str):
            call.prefer = f"tx:{first.lower()}"
        elif method in FILTER_USERS and isinstance(first, str):
            call.prefer = f"filter:{first.lower()}"
        return call

    def _body(self, call: _Call) -> tuple[int, bytes]:
        request_id = next(self._ids)
        try:
            text = json.dumps(
                {"jsonrpc": "2.0", "id": request_id, "method": call.method, "params": call.params},
                separators=(",", ":"),
            )
        except (TypeError, ValueError) as exc:
            raise RpcConfigurationError(
                f"{call.method}: params are not JSON ({exc}): pass hex strings"
            ) from None
        return request_id, text.encode()

    def _next(self, call: _Call) -> Upstream | None:
        """The upstream for the call's next attempt (counted in flight), or None when it has no more."""
        with self._lock:
            if call.pinned is not None or (call.write and call.tried):
                upstream = call.pinned if not call.tried else None
            else:
                limit = self.settings.max_attempts
                if limit is not None and len(call.tried) >= limit:
                    return None
                upstream = self._preferred(call.prefer, call.tried) or choose(
                    [u for u in self._upstreams if u.usable and u not in call.tried]
                )
                if upstream is None and self.settings.last_resort and not call.write:
                    half_open = [u for u in self._upstreams if u.half_open and u not in call.tried]
                    upstream = min(half_open, key=lambda u: (u.health.failures, u.index), default=None)
            if upstream is None:
                return None
            if call.tried:
                self.metrics.failover()
            call.tried.append(upstream)
            upstream.in_flight += 1
            upstream.requests += 1
            self.metrics.set_in_flight(upstream.name, upstream.in_flight)
        self.metrics.request(upstream.name, call.method)
        return upstream

    def _preferred(self, key: str | None, tried: Sequence[Upstream]) -> Upstream | None:
        """The usable upstream `key` is sticky to (lock held)."""
        if key is None:
            return None
        if key.startswith("filter:"):
            index = self._filters.get(key)
        else:
            entry = self._sticky.get(key)
            index = entry[0] if entry is not None and entry[1] > time.monotonic() else None
        if index is None:
            return None
        upstream = self._upstreams[index]
        return upstream if upstream.usable and upstream not in tried else None

    def _stick_locked(self, keys: Sequence[str], upstream: Upstream) -> None:
        until = time.monotonic() + self.settings.sticky_s
        for key in keys:
            self._sticky[key] = (upstream.index, until)
        if len(self._sticky) > 10_000:
            now = time.monotonic()
            self._sticky = {k: v for k, v in self._sticky.items() if v[1] > now}

    def _settle(self, call: _Call, upstream: Upstream, outcome: Outcome, seconds: float) -> tuple[bool, Any]:
        """Books one attempt's `outcome`; returns ``(True, result)`` when the call is over, ``(False, None)``
        when it goes on to another upstream, or raises its error."""
        with self._lock:
            before = upstream.state
            upstream.in_flight -= 1
            self.metrics.set_in_flight(upstream.name, upstream.in_flight)
            if isinstance(outcome, Failure):
                upstream.last_error = outcome.detail
                if outcome.unhealthy:
                    upstream.health.record(False)
                    # A failure weighs as a whole timeout in the latency average: among equally busy
                    # upstreams, one that just failed comes last (a fast "HTTP 500" is not a fast node).
                    upstream.observe_latency(self.settings.request_timeout_s, self.settings.ewma_alpha)
            else:
                upstream.observe_latency(seconds, self.settings.ewma_alpha)
                upstream.health.record(True)
                sent = call.write and not isinstance(outcome, Answer)
                if call.stick and (isinstance(outcome, Success) or sent):
                    self._stick_locked(call.stick, upstream)
                if (
                    call.method in FILTER_CREATORS
                    and isinstance(outcome, Success)
                    and isinstance(outcome.result, str)
                ):
                    self._filters[f"filter:{outcome.result.lower()}"] = upstream.index
            if isinstance(outcome, Failure) and call.write and not outcome.refused and call.stick:
                self._stick_locked(call.stick, upstream)  # an ambiguous send: its lookups go there
            self._note_transition(upstream, before, f"request {call.method}: {_what(outcome)}")
        self.metrics.observe(upstream.name, seconds)
        if isinstance(outcome, Failure):
            self.metrics.error(upstream.name, outcome.kind)
        elif isinstance(outcome, Answer):
            self.metrics.error(upstream.name, "rpc_answer")

        if isinstance(outcome, Success):
            return True, outcome.result
        if isinstance(outcome, Answer):
            raise RpcError(call.method, outcome.code, outcome.message, outcome.data, upstream=upstream.name)
        if call.write:
            raise self._send_failed(call, upstream, outcome)
        if call.pinned is not None:
            raise PinnedUpstreamError(
                f"{call.method} failed on the pinned upstream {upstream.name} ({outcome.detail}); nothing "
                "was tried elsewhere: run the whole pinned operation again"
            )
        call.failures.append((upstream, outcome))
        log.info("%s failed on %s (%s): trying another upstream", call.method, upstream.name, outcome.detail)
        return False, None

    def _send_failed(self, call: _Call, upstream: Upstream, failure: Failure) -> Exception:
        hash_text = f" {call.tx_hash}" if call.tx_hash else ""
        if failure.refused:
            return TransactionNotSentError(
                f"{call.method} was not taken by {upstream.name} ({failure.detail}): the "
                f"transaction{hash_text} was not sent; send it again",
                upstream=upstream.name,
                tx_hash=call.tx_hash,
            )
        lookup = (
            f"look it up (eth_getTransactionByHash {call.tx_hash}) and, only if no node knows it, send the "
            "same signed bytes again (same hash: it cannot execute twice)"
            if call.tx_hash
            else "check the sender's nonce and transactions before sending anything else"
        )
        return AmbiguousSendError(
            f"{call.method} reached {upstream.name} but no answer came back ({failure.detail}): the "
            f"transaction{hash_text} may be in that node's pool. It was not sent anywhere else. Do not sign "
            f"a new one with another nonce: {lookup}",
            upstream=upstream.name,
            tx_hash=call.tx_hash,
        )

    def _exhausted(self, call: _Call) -> Exception:
        if not call.tried:
            return self._no_healthy(
                f"send {call.method} to (nothing was sent)" if call.write else call.method
            )
        errors = [f.error for _, f in call.failures if f.error is not None]
        if errors and len(errors) == len(call.failures):
            last = errors[
                -1
            ]  # every node said it cannot answer this (a method it lacks, say): that is the answer
            return RpcError(
                call.method, last.code, last.message, last.data, upstream=call.failures[-1][0].name
            )
        tried = "; ".join(f"{u.name}: {f.detail}" for u, f in call.failures)
        return RpcUnavailableError(
            f"{call.method} failed on every upstream tried ({tried}). Check the nodes (pool status, /health) "
            "or add another URL to the chain's RPC variable"
        )

    def _no_healthy(self, what: str) -> NoHealthyUpstreamError:
        states = ", ".join(
            f"{u.name} {u.state.value}"
            + (f" ({u.last_error})" if u.last_error and u.state.value != "healthy" else "")
            for u in self._upstreams
        )
        where = self.source or "the chain's RPC variable"
        if all(u.state is HealthState.WRONG_CHAIN for u in self._upstreams):
            return NoHealthyUpstreamError(
                f"no healthy upstream of {chain_name(self.chain_id)} (chain {self.chain_id}) to {what}: "
                f"{states}. "
                f"Check {where}: it must name nodes of chain {self.chain_id}"
            )
        return NoHealthyUpstreamError(
            f"no healthy upstream of {chain_name(self.chain_id)} (chain {self.chain_id}) to {what}: "
            f"{states}. Wait for a node to recover (checks run every "
            f"{self.settings.check_interval_s:g} s) or add a working URL to {where}"
        )

    def _note_transition(self, upstream: Upstream, before: HealthState, reason: str) -> None:
        """Records and reports a change of `upstream`'s state (lock held)."""
        after = upstream.state
        if after is before:
            return
        upstream.transitions.append(
            Transition(before, after, upstream.checks, upstream.checks_failed_in_a_row, reason)
        )
        self.metrics.set_state(upstream.name, after)
        level = logging.INFO if after is HealthState.HEALTHY else logging.WARNING
        if after is HealthState.WRONG_CHAIN:
            level = logging.ERROR
        log.log(level, "upstream %s: %s -> %s (%s)", upstream.name, before.value, after.value, reason)

    # -- health checks ---------------------------------------------------------------------------------------

    def _ensure_checked(self) -> None:
        if not self._checked:
            self.check_now()

    def check_now(self) -> list[UpstreamStatus]:
        """Checks every upstream now (at once, each within ``check_timeout_s``); returns their status."""
        targets = [u for u in self._upstreams if u.wrong_chain_id is None]
        with self._check_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=len(self._upstreams), thread_name_prefix="link-ops-rpc-check"
                )
            results = list(self._executor.map(self._check_sync, targets))
            self._apply_checks(results)
        return self.status()

    async def acheck_now(self) -> list[UpstreamStatus]:
        """:meth:`check_now` in an event loop."""
        targets = [u for u in self._upstreams if u.wrong_chain_id is None]
        results = await asyncio.gather(*(self._check_async(u) for u in targets))
        self._apply_checks(list(results))
        return self.status()

    def _check_sync(self, upstream: Upstream) -> _CheckResult:
        deadline = time.monotonic() + self.settings.check_timeout_s
        values: list[int] = []
        for method in ("eth_chainId", "eth_blockNumber"):
            request_id, body = self._check_body(method)
            reply = self._sync[upstream.index].post(body, max(deadline - time.monotonic(), 0.001))
            value = self._check_value(reply, request_id, method)
            if isinstance(value, str):
                return _CheckResult(upstream, chain_id=values[0] if values else None, failure=value)
            values.append(value)
            if values[0] != self.chain_id:
                break
        return _CheckResult(upstream, chain_id=values[0], head=values[1] if len(values) > 1 else None)

    async def _check_async(self, upstream: Upstream) -> _CheckResult:
        deadline = time.monotonic() + self.settings.check_timeout_s
        values: list[int] = []
        for method in ("eth_chainId", "eth_blockNumber"):
            request_id, body = self._check_body(method)
            reply = await self._async[upstream.index].post(body, max(deadline - time.monotonic(), 0.001))
            value = self._check_value(reply, request_id, method)
            if isinstance(value, str):
                return _CheckResult(upstream, chain_id=values[0] if values else None, failure=value)
            values.append(value)
            if values[0] != self.chain_id:
                break
        return _CheckResult(upstream, chain_id=values[0], head=values[1] if len(values) > 1 else None)

    def _check_body(self, method: str) -> tuple[int, bytes]:
        request_id = next(self._ids)
        return request_id, json.dumps(
            {"jsonrpc": "2.0", "id": request_id, "method": method, "params": []}
        ).encode()

    @staticmethod
    def _check_value(reply: tuple[int, bytes] | Failure, request_id: int, method: str) -> int | str:
        """The check's number, or what went wrong."""
        outcome = reply if isinstance(reply, Failure) else classify_reply(*reply, request_id)
        if isinstance(outcome, Failure):
            return f"{method}: {outcome.detail}"
        if isinstance(outcome, Answer):
            return f"{method}: JSON-RPC error {outcome.code}: {outcome.message[:200]}"
        try:
            return int(outcome.result, 16)
        except (TypeError, ValueError):
            return f"{method}: not a hex number: {str(outcome.result)[:40]!r}"

    def _apply_checks(self, results: Sequence[_CheckResult]) -> None:
        with self._lock:
            before = {u.index: u.state for u in self._upstreams}
            reasons: dict[int, str] = {}
            for result in results:
                upstream = result.upstream
                if upstream.wrong_chain_id is not None:
                    continue
                upstream.checks += 1
                if result.chain_id is not None and result.chain_id != self.chain_id:
                    upstream.wrong_chain_id = result.chain_id
                    upstream.last_check_ok = False
                    upstream.last_error = (
                        f"serves chain {result.chain_id} ({chain_name(result.chain_id)}), not {self.chain_id}"
                    )
                    reasons[upstream.index] = f"eth_chainId is {result.chain_id}: never used again"
                    log.error(
                        "upstream %s serves chain %d (%s), not %d (%s): it is never used; fix its URL",
                        upstream.name,
                        result.chain_id,
                        chain_name(result.chain_id),
                        self.chain_id,
                        chain_name(self.chain_id),
                    )
                    self.metrics.check(upstream.name, False)
                    continue
                ok = result.failure is None
                self.metrics.check(upstream.name, ok)
                upstream.last_check_ok = ok
                upstream.health.record(ok)
                if result.chain_id == self.chain_id:
                    upstream.chain_verified = True
                if ok:
                    upstream.checks_failed_in_a_row = 0
                    upstream.head = result.head
                    reasons[upstream.index] = "check passed"
                else:
                    upstream.checks_failed_in_a_row += 1
                    upstream.last_error = result.failure
                    reasons[upstream.index] = (
                        f"check {upstream.checks_failed_in_a_row} in a row failed: {result.failure}"
                    )
            self._update_lag(reasons)
            for upstream in self._upstreams:
                self._note_transition(upstream, before[upstream.index], reasons.get(upstream.index, "lag"))
            self._checked = True

    def _update_lag(self, reasons: dict[int, str]) -> None:
        fresh = [
            u for u in self._upstreams if u.last_check_ok and u.head is not None and u.wrong_chain_id is None
        ]
        reference = reference_head([u.head for u in fresh if u.head is not None])
        limit = self.settings.max_head_lag_blocks
        for upstream in fresh:
            assert upstream.head is not None and reference is not None
            upstream.head_lag = max(0, reference - upstream.head)
            was = upstream.lagging
            upstream.lagging = upstream.head_lag > limit
            if upstream.lagging != was:
                reasons[upstream.index] = (
                    f"head {upstream.head} is {upstream.head_lag} blocks behind {reference} (> {limit})"
                    if upstream.lagging
                    else f"caught up: head {upstream.head}, reference {reference}"
                )
            self.metrics.set_head(upstream.name, upstream.head, upstream.head_lag)

    # -- life cycle ------------------------------------------------------------------------------------------

    def start(self) -> RpcPool:
        """Checks every upstream now (so the pool is usable when this returns), then every
        ``check_interval_s`` in a background thread. Idempotent."""
        if self._thread is not None and self._thread.is_alive():
            return self
        self.check_now()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run_checks, name="link-ops-rpc-health", daemon=True)
        self._thread.start()
        return self

    def _run_checks(self) -> None:
        while not self._stop.wait(self.settings.check_interval_s):
            try:
                self.check_now()
            except Exception:  # a check must never end the loop: the next one runs on time
                log.exception("the RPC pool's health check failed")

    def close(self) -> None:
        """Stops the health checks and closes the connections. Idempotent."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=2 * self.settings.check_timeout_s + 5)
        with self._check_lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        for client in self._sync:
            client.close()

    async def astart(self) -> RpcPool:
        """:meth:`start` in an event loop: the checks run in a task of that loop."""
        if self._task is not None and not self._task.done():
            return self
        await self.acheck_now()
        self._task = asyncio.create_task(self._arun_checks(), name="link-ops-rpc-health")
        return self

    async def _arun_checks(self) -> None:
        while True:
            await asyncio.sleep(self.settings.check_interval_s)
            try:
                await self.acheck_now()
            except Exception:  # a check must never end the loop
                log.exception("the RPC pool's health check failed")

    async def aclose(self) -> None:
        """Stops the check task, closes this loop's HTTP session, and does what :meth:`close` does."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._sessions.aclose()
        self.close()

    def __enter__(self) -> RpcPool:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    async def __aenter__(self) -> RpcPool:
        return await self.astart()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"RpcPool(chain {self.chain_id}, {', '.join(self.names)})"


class PinnedPool:
    """One upstream of a pool for a whole operation (from :meth:`RpcPool.pinned`): no failover."""

    def __init__(self, pool: RpcPool, upstream: Upstream) -> None:
        self._pool = pool
        self._upstream = upstream

    @property
    def upstream(self) -> str:
        """The pinned upstream's name."""
        return self._upstream.name

    def request(self, method: str, params: Params = None) -> Any:
        return self._pool._request(self._pool._begin(method, params, pinned=self._upstream))

    async def arequest(self, method: str, params: Params = None) -> Any:
        return await self._pool._arequest(self._pool._begin(method, params, pinned=self._upstream))


def _what(outcome: Outcome) -> str:
    if isinstance(outcome, Failure):
        return outcome.detail
    return "answered"


def _tx_hash(raw: str) -> str | None:
    """The hash of a signed raw transaction: keccak of its bytes (typed envelopes included)."""
    try:
        return "0x" + keccak(hexstr=raw).hex()
    except (ValueError, TypeError):
        return None


def _raw_sender(raw: str) -> str | None:
    """The sender of a signed raw transaction (lower case), or None when it cannot be decoded."""
    from eth_account import Account  # only for sends

    try:
        return str(Account.recover_transaction(raw)).lower()
    except Exception:  # an undecodable transaction: the node will refuse it with its own error
        return None
