"""Forking Polygon: the upstream a fork is taken from, and its checks.

``polygon:mainnet-fork:foundry`` (and ``polygon:amoy-fork:foundry``) run an anvil that forks the node named by
``POLYGON_RPC_URL`` (``AMOY_RPC_URL``); ``ape-config.yaml`` reads the variables. :func:`upstream_from_env`
checks such a URL before anything connects, so that a missing variable, an unreachable node or a node of
another chain is one clear error instead of a stack trace from deep inside a provider.

Where no Polygon RPC is reachable, the test session and the gas bench fork a local stand-in instead
(:mod:`link_ops.testing.standin`).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from link_ops.exceptions import UpstreamError
from link_ops.model.chains import chain_name


@dataclass(frozen=True)
class ForkTarget:
    """A Polygon network that link-ops forks, and the variable that names its upstream RPC."""

    network: str
    chain_id: int
    env_var: str

    @property
    def live_choice(self) -> str:
        return f"polygon:{self.network}"

    @property
    def fork_choice(self) -> str:
        return f"polygon:{self.network}-fork:foundry"


FORK_TARGETS: dict[str, ForkTarget] = {
    t.network: t
    for t in (
        ForkTarget("mainnet", 137, "POLYGON_RPC_URL"),
        ForkTarget("amoy", 80002, "AMOY_RPC_URL"),
    )
}


def fork_target(network_choice: str | None) -> ForkTarget | None:
    """What an ape network choice like ``polygon:mainnet-fork:foundry`` forks (None: not a fork)."""
    if not network_choice:
        return None
    parts = network_choice.split(":")
    if len(parts) < 2 or parts[0] != "polygon" or not parts[1].endswith("-fork"):
        return None
    return FORK_TARGETS.get(parts[1].removesuffix("-fork"))


def redact(url: str) -> str:
    """`url` without what may carry an API key (credentials, path, query): ``https://host/…``."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        return "<not a URL>"
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    tail = "/…" if (parts.path not in ("", "/") or parts.query) else ""
    return f"{parts.scheme}://{host}{tail}"


def _rpc(url: str, method: str, params: list[Any], *, timeout: float = 10.0) -> Any:
    response = requests.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=timeout
    )
    response.raise_for_status()
    body = response.json()
    if not isinstance(body, dict) or "result" not in body:
        raise ValueError(f"{method}: not a JSON-RPC answer: {str(body)[:200]}")
    return body["result"]


def rpc_chain_id(url: str, *, timeout: float = 10.0) -> int:
    """The chain id `url` serves (``eth_chainId``); raises OSError or ValueError when it does not."""
    return int(_rpc(url, "eth_chainId", [], timeout=timeout), 16)


def _failure(exc: BaseException) -> str:
    # Never str(exc) of a request error: it quotes the URL, and the URL may hold an API key.
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    if isinstance(exc, ValueError):
        return "the answer is not JSON-RPC"
    return exc.__class__.__name__


def check_upstream(url: str, target: ForkTarget, *, timeout: float = 10.0) -> str:
    """`url` when it answers as `target`'s chain; otherwise one :class:`UpstreamError` saying what to fix."""
    try:
        got = rpc_chain_id(url, timeout=timeout)
    except (OSError, ValueError, requests.RequestException) as exc:
        raise UpstreamError(
            f"{target.env_var} ({redact(url)}) did not answer eth_chainId ({_failure(exc)}). "
            "Check the URL and that this machine can reach it."
        ) from None
    if got != target.chain_id:
        raise UpstreamError(
            f"{target.env_var} points at chain {got} ({chain_name(got)}), but {target.live_choice} is chain "
            f"{target.chain_id} ({chain_name(target.chain_id)}): set {target.env_var} to an RPC URL of "
            f"{chain_name(target.chain_id)}."
        )
    return url


def upstream_from_env(
    target: ForkTarget, environ: Mapping[str, str] | None = None, *, timeout: float = 10.0
) -> str:
    """The checked upstream URL of `target` from its environment variable; of a comma-separated list (the
    RPC pool's ``POLYGON_RPC_URL=url1,url2``), the first URL that answers as the chain.

    Raises :class:`UpstreamError` when the variable is unset or blank, the node does not answer, or it
    serves another chain; the message names the variable and the chain id it got.
    """
    env = os.environ if environ is None else environ
    value = env.get(target.env_var, "").strip()
    if not value:
        raise UpstreamError(
            f"{target.env_var} is not set: {target.fork_choice} forks {chain_name(target.chain_id)} "
            f"(chain {target.chain_id}) from the RPC URL in {target.env_var}. Export "
            f"{target.env_var}=https://<your {chain_name(target.chain_id)} RPC> (`make test-fork` and "
            "`ape run gas_bench` start a local stand-in when it is unset)."
        )
    if "," not in value:
        return check_upstream(value, target, timeout=timeout)
    # Several URLs (the RPC pool's list): a fork is taken from one node, the first that answers as the chain.
    from link_ops.exceptions import RpcConfigurationError
    from link_ops.rpc.settings import parse_urls

    try:
        urls = parse_urls(value, source=target.env_var)
    except RpcConfigurationError as exc:
        raise UpstreamError(str(exc)) from None
    problems = []
    for url in urls:
        try:
            return check_upstream(url, target, timeout=timeout)
        except UpstreamError as exc:
            problems.append(str(exc))
    raise UpstreamError(
        f"none of the {len(urls)} URLs in {target.env_var} can be forked: " + " ".join(problems)
    )


def use_upstream(target: ForkTarget, url: str) -> None:
    """Points ape's fork of `target` at `url` (before the fork provider is created)."""
    from ape import config  # chain-facing part: the rest of this module runs without ape

    fork = config.get_config("foundry").fork
    network_configs: Any = fork.setdefault("polygon", {})
    current = network_configs.get(target.network)
    if current is None or isinstance(current, dict):
        network_configs[target.network] = {**(current or {}), "upstream_provider": url}
    else:
        current.upstream_provider = url


def rpc_gas_price(url: str, *, timeout: float = 10.0) -> int:
    """``eth_gasPrice`` of the node at `url`, in wei."""
    return int(_rpc(url, "eth_gasPrice", [], timeout=timeout), 16)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether nothing listens on `port` of `host` (closed connections in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True
