"""What an RPC pool is given: its upstream URLs (``POLYGON_RPC_URL=url1,url2,url3``) and its settings.

Pure: no ape, no web3, no network access. :func:`urls_from_env` reads a chain's RPC variable (its name comes
from :attr:`link_ops.model.chains.ChainInfo.rpc_env`): one URL, as always, or several separated by commas;
blanks between commas are ignored, each URL must be ``http://`` or ``https://`` with a host, and the same URL
twice is refused (it would count one node twice in the lag reference and the balancing).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from link_ops.exceptions import RpcConfigurationError, validation_problems
from link_ops.model.chains import ChainInfo


class PoolSettings(BaseModel):
    """How an :class:`~link_ops.rpc.pool.RpcPool` checks, chooses and retries its upstreams.

    The defaults are the issue's load balancer: a health check every 30 s with a 10 s timeout, unhealthy
    after 3 consecutive failures, healthy again after 2 successes. Build it with :meth:`build` to get every
    bad value reported at once in one :class:`~link_ops.exceptions.RpcConfigurationError`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Seconds between two health checks of every upstream (``eth_chainId`` and ``eth_blockNumber``).
    check_interval_s: float = Field(default=30.0, gt=0)
    #: Seconds one health check (eth_chainId, then eth_blockNumber) may take before it counts as failed.
    check_timeout_s: float = Field(default=10.0, gt=0)
    #: Consecutive failures (checks or requests) after which a healthy upstream is taken out.
    unhealthy_after: int = Field(default=3, ge=1)
    #: Consecutive successes after which an unhealthy upstream is used again.
    healthy_after: int = Field(default=2, ge=1)
    #: An upstream whose head is more than this many blocks behind the second-highest head is excluded.
    max_head_lag_blocks: int = Field(default=10, ge=0)
    #: Seconds a request may take on one upstream (a read then fails over; a send becomes ambiguous).
    request_timeout_s: float = Field(default=30.0, gt=0)
    #: Weight of the newest latency in the moving average that breaks ties between equally busy upstreams.
    ewma_alpha: float = Field(default=0.2, gt=0, le=1)
    #: Upstreams one read may try (None: each usable upstream once).
    max_attempts: int | None = Field(default=None, ge=1)
    #: When no upstream is healthy, reads try the unhealthy ones too (a half-open probe) before failing.
    last_resort: bool = True
    #: Seconds a sender's nonce reads and sends (and a sent transaction's lookups) stay on one upstream.
    sticky_s: float = Field(default=120.0, ge=0)

    @classmethod
    def build(cls, **values: Any) -> PoolSettings:
        """Settings from keyword values; raises :class:`RpcConfigurationError` naming every bad one."""
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = validation_problems(exc, with_input=True)
            raise RpcConfigurationError(
                "invalid RPC pool settings: " + "; ".join(problems) + ". Fix these values (see PoolSettings)."
            ) from None


def check_url(url: str, *, source: str = "URL") -> str:
    """`url` stripped, when it is an ``http(s)://`` URL with a host; else :class:`RpcConfigurationError`.

    The message never repeats the URL's path or query (they may hold an API key).
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        parts, port_ok = None, False
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise RpcConfigurationError(
            f"{source}: {_redacted(text)!r} is not an http:// or https:// URL with a host (and a port "
            "from 1 to 65535): give each node as https://host[:port][/path]"
        )
    return text


def _redacted(text: str) -> str:
    """`text` up to its host: no credentials, no path or query (where API keys live)."""
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "", text
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    host = rest[:cut].split("@")[-1]
    return f"{scheme}{sep}{host}" + ("…" if rest[cut:].strip("/") else "")


def parse_urls(urls: str | Iterable[str], *, source: str = "URLs") -> tuple[str, ...]:
    """The URLs of a comma-separated list (or of an iterable of them): blanks dropped, each checked,
    duplicates refused; at least one. Raises :class:`RpcConfigurationError`."""
    items = urls.split(",") if isinstance(urls, str) else [part for u in urls for part in str(u).split(",")]
    checked = [check_url(u, source=source) for u in items if u.strip()]
    if not checked:
        raise RpcConfigurationError(f"{source} names no URL: give one or more, separated by commas")
    seen: set[str] = set()
    for url in checked:
        key = url.rstrip("/")
        if key in seen:
            raise RpcConfigurationError(
                f"{source} names the same node twice ({upstream_name(url)}): list each URL once"
            )
        seen.add(key)
    return tuple(checked)


def urls_from_env(chain: ChainInfo, environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The URLs in `chain`'s RPC variable (``POLYGON_RPC_URL=url1,url2,url3``), checked.

    Raises :class:`RpcConfigurationError` when the chain has no variable (a local chain), when it is unset
    or blank, or when a URL in it is bad or repeated.
    """
    if chain.rpc_env is None:
        raise RpcConfigurationError(
            f"{chain.key} ({chain.name}) is a local chain with no RPC variable: give its URLs directly"
        )
    env = os.environ if environ is None else environ
    value = env.get(chain.rpc_env, "")
    if not value.strip():
        raise RpcConfigurationError(
            f"{chain.rpc_env} is not set: export {chain.rpc_env}=https://<rpc 1>[,https://<rpc 2>,…] "
            f"(one or more {chain.name} RPC URLs, separated by commas)"
        )
    return parse_urls(value, source=chain.rpc_env)


def upstream_name(url: str) -> str:
    """A short name for the node at `url` that is safe to show and to use as a metric label: its
    ``host:port`` (never the credentials, path or query, where API keys live)."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if ":" in host:  # IPv6
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port or (443 if parts.scheme == "https" else 80)
    return f"{host}:{port}"


def upstream_names(urls: Sequence[str]) -> tuple[str, ...]:
    """:func:`upstream_name` of each URL, made unique: nodes behind one host get ``#2``, ``#3``, …"""
    names = [upstream_name(u) for u in urls]
    unique: list[str] = []
    for i, name in enumerate(names):
        repeats = names[:i].count(name)
        unique.append(name if names.count(name) == 1 else f"{name}#{repeats + 1}")
    return tuple(unique)
