"""ape 0.8.51's overheads that the suite does not need, removed for its own process only (nothing ships).

Measured on the claims state machine (a transaction and a few calls per step), they were about half of the
suite's time:

- ape traces every transaction sent to a contract (``trace_transaction``, a step-by-step trace on an anvil
  started with ``--steps-tracing``) to print the contract's console logs, which these contracts have none
  of; a test that wants a trace asks for it.
- ape-foundry prints the whole call tree of every reverted transaction (``trace.show()``: a
  ``debug_traceTransaction`` and its enrichment, about 0.4 s each). The suite asserts every revert by name
  and arguments instead; the error itself is built before the printing, unchanged.
- ape rebuilds a provider's settings (its config re-validated, the environment scanned) on every access,
  several times per call and transaction, and once per provider at the end of a session (15 s for a
  session that started local chains). They depend only on the plugin's config object and the provider's
  own settings, so they are kept per provider while both stay the same.
- ``default_transaction_type``, looked up on every transaction, builds a fresh network config (another
  environment scan) each time; it is kept per ecosystem config.
- a network's config (``NetworkAPI.config``: confirmations, timeouts, fee multipliers) is validated anew,
  with an environment scan, about seven times per transaction or call; it is kept per network while its
  ecosystem's config object stays the same.
- ape reads a contract's code (``eth_getCode``) before every call and transaction to it, and again after
  every transaction, uncached on local chains (a revert can remove a contract). Code that exists is kept
  per node URL until that node reverts, resets, sets code or restarts; a missing contract is always asked.
- web3 polls for a transaction's receipt every 0.1 s; anvil answers ``eth_sendRawTransaction`` before
  it has mined the transaction, so a deployment or a signature-checking delivery often waited one whole
  poll. The suite polls a loopback node every 5 ms.
- requests scans the environment for proxies on every JSON-RPC request; the suite talks to loopback only.
- web3's HTTP provider posts each JSON-RPC request through requests, about 1 ms of CPU per request (its
  hooks, cookies, URL parsing and adapters), some 20 per transaction. Requests to a loopback node go over a
  kept-alive ``http.client`` connection instead (0.3 ms), with requests' exceptions for the same failures
  (refused connection, timeout, an HTTP error status), so ape's waits and retries behave as before.

The suite's conftest installs them; an ``ape test`` of a file outside ``tests/`` (a probe the suite writes
to a temporary folder) loads them as a plugin: ``-p _ape_speed`` with ``tests/`` on ``PYTHONPATH`` (see
``_ape.SPEED_PLUGIN``).

tests/unit/test_ape_speed.py checks that each still applies to the installed ape (a new ape version
that moved them fails there, not silently).
"""

from __future__ import annotations

import http.client
import select
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
from ape.api.networks import NetworkAPI
from ape.api.providers import ProviderAPI
from ape.api.transactions import ReceiptAPI
from ape.managers.chain import ChainManager
from ape_ethereum.ecosystem import BaseEthereumConfig
from ape_ethereum.trace import Trace
from ape_foundry.provider import FoundryProvider
from web3 import HTTPProvider
from web3._utils.http_session_manager import HTTPSessionManager
from web3.eth import Eth

_INSTALLED: list[str] = []
#: The replaced ape functions, for tests that compare an answer with ape's own.
ORIGINALS: dict[str, Callable[..., Any]] = {}


def pytest_configure(config: object) -> None:
    """As a pytest plugin (``-p _ape_speed``): installs the speed-ups for that session, and lets its anvil
    take as long to start as the suite's own (a busy machine needs more than ape's 20 s)."""
    from link_ops.cli.network import patient_anvil_start

    install()
    patient_anvil_start()


def install() -> None:
    """Applies each change once per process; :data:`_INSTALLED` names what was applied."""
    if _INSTALLED:
        return
    ReceiptAPI.show_debug_logs = lambda self: None  # type: ignore[method-assign]
    _INSTALLED.append("no console-log traces")
    Trace.show = lambda self, *args, **kwargs: None  # type: ignore[method-assign]
    _INSTALLED.append("trace.show")

    build = ProviderAPI.settings.fget
    assert build is not None
    ProviderAPI.settings = property(  # type: ignore[assignment,method-assign]
        lambda self: _kept("provider settings", self, (self.config, repr(self.provider_settings)), build)
    )
    _INSTALLED.append("provider settings")

    lookup = BaseEthereumConfig.__getattr__
    ORIGINALS["default transaction type"] = lookup

    def getattr_(self: BaseEthereumConfig, key: str) -> Any:
        if key != "default_transaction_type":
            return lookup(self, key)
        return _kept("default transaction type", self, (), lambda config: lookup(config, key))

    BaseEthereumConfig.__getattr__ = getattr_  # type: ignore[method-assign]
    _INSTALLED.append("default transaction type")

    network_config = NetworkAPI.config.fget
    assert network_config is not None
    ORIGINALS["network config"] = network_config
    NetworkAPI.config = property(  # type: ignore[assignment,method-assign]
        lambda self: _kept("network config", self, (self.ecosystem_config,), network_config)
    )
    _INSTALLED.append("network config")

    get_code = ChainManager.get_code

    def chain_get_code(self: ChainManager, address: Any, block_id: Any = None) -> Any:
        provider = self.provider
        uri = _endpoint_uri(getattr(provider, "web3", None))
        if block_id is not None or uri is None or not provider.network.is_dev:
            return get_code(self, address, block_id=block_id)
        key = (str(uri), str(address))
        if (code := _code.get(key)) is not None:
            return code
        code = get_code(self, address)
        if len(code) > 0:
            _code[key] = code
        return code

    ChainManager.get_code = chain_get_code  # type: ignore[method-assign]
    make_request = HTTPProvider.make_request

    def rpc(self: HTTPProvider, method: Any, params: Any) -> Any:
        if method in CODE_CHANGING:
            _code.clear()
        return make_request(self, method, params)

    HTTPProvider.make_request = rpc  # type: ignore[method-assign]
    for method in ("connect", "disconnect"):
        original = getattr(FoundryProvider, method)
        setattr(FoundryProvider, method, _clearing_code(original))
    _INSTALLED.append("contract code kept")

    wait = Eth.wait_for_transaction_receipt

    def wait_for_receipt(
        self: Eth, transaction_hash: Any, timeout: float = 120, poll_latency: float = 0.1
    ) -> Any:
        if _loopback(_endpoint_uri(self.w3) or "") is not None:
            poll_latency = min(poll_latency, RECEIPT_POLL_SECONDS)
        return wait(self, transaction_hash, timeout=timeout, poll_latency=poll_latency)

    Eth.wait_for_transaction_receipt = wait_for_receipt  # type: ignore[method-assign]
    _INSTALLED.append("receipt polling")

    session_init = requests.Session.__init__

    def init(self: requests.Session, *args: Any, **kwargs: Any) -> None:
        session_init(self, *args, **kwargs)
        self.trust_env = False

    requests.Session.__init__ = init  # type: ignore[method-assign]
    _INSTALLED.append("no proxy scan")

    post = HTTPSessionManager.make_post_request

    def make_post_request(self: HTTPSessionManager, endpoint_uri: Any, data: Any, **kwargs: Any) -> bytes:
        target = _loopback(str(endpoint_uri))
        if target is None or kwargs.get("stream") or not isinstance(data, (bytes, str)):
            return post(self, endpoint_uri, data, **kwargs)
        return _post_loopback(target, data, kwargs.get("timeout"), kwargs.get("headers") or {})

    HTTPSessionManager.make_post_request = make_post_request  # type: ignore[method-assign]
    _INSTALLED.append("loopback JSON-RPC over http.client")


#: JSON-RPC methods after which a contract's code may differ (or be gone).
CODE_CHANGING = frozenset(
    {
        "evm_revert",
        "anvil_revert",
        "anvil_reset",
        "hardhat_reset",
        "anvil_setCode",
        "hardhat_setCode",
        "anvil_loadState",
        "anvil_rollback",
        "anvil_reorg",
    }
)
_code: dict[tuple[str, str], Any] = {}


def _clearing_code(method: Callable[..., Any]) -> Callable[..., Any]:
    """`method` (a provider's connect or disconnect), after which the node at a URL may be another one."""

    def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        finally:
            _code.clear()

    return wrapped


#: What :func:`_kept` keeps, by speed-up name: ``{id(owner): (owner, dependencies, value)}``.
KEPT: dict[str, dict[int, tuple[object, tuple[object, ...], Any]]] = {}


def _kept(name: str, owner: object, dependencies: tuple[object, ...], build: Callable[[Any], Any]) -> Any:
    """``build(owner)``, computed once per `owner` while each of its `dependencies` stays the same object
    (or an equal one)."""
    cache = KEPT.setdefault(name, {})
    hit = cache.get(id(owner))
    if (
        hit is not None
        and hit[0] is owner
        and all(a is b or a == b for a, b in zip(hit[1], dependencies, strict=True))
    ):
        return hit[2]
    value = build(owner)
    cache[id(owner)] = (owner, dependencies, value)
    return value


def _endpoint_uri(web3: Any) -> str | None:
    """The URL a web3 instance talks to, when it talks HTTP."""
    uri = getattr(getattr(web3, "provider", None), "endpoint_uri", None)
    return None if uri is None else str(uri)


RECEIPT_POLL_SECONDS = 0.005
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_connections = threading.local()


def _loopback(uri: str) -> tuple[str, int, str] | None:
    """(host, port, path) of a plain-HTTP loopback URL; None for anything else."""
    parts = urlsplit(uri)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS:
        return None
    return parts.hostname, parts.port or 80, parts.path or "/"


def _post_loopback(
    target: tuple[str, int, str], data: bytes | str, timeout: Any, headers: dict[str, str]
) -> bytes:
    """One POST on this thread's kept-alive connection to `target`, with requests' exceptions on failure.

    A kept connection that the node closed while idle (it restarted, or dropped keep-alive) reads as ready
    before it is used, and is replaced, as urllib3 checks a pooled one. A request is never sent twice: a
    failure after it was written is raised (a transaction must not be sent again)."""
    host, port, path = target
    body = data.encode() if isinstance(data, str) else data
    wait = timeout[-1] if isinstance(timeout, tuple) else timeout
    pool: dict[tuple[str, int], http.client.HTTPConnection] = _connections.__dict__.setdefault("pool", {})
    connection = pool.pop((host, port), None)
    if connection is not None and (connection.sock is None or select.select([connection.sock], [], [], 0)[0]):
        connection.close()  # closed by the node (or a stray byte): not safe to reuse
        connection = None
    if connection is None:
        connection = http.client.HTTPConnection(host, port, timeout=wait)
    connection.timeout = wait
    if connection.sock is not None:
        connection.sock.settimeout(wait)
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
        response = connection.getresponse()
        content = response.read()
    except TimeoutError as err:
        connection.close()
        raise requests.exceptions.ReadTimeout(f"{host}:{port}: no answer within {wait} s") from err
    except (http.client.HTTPException, OSError) as err:
        connection.close()
        raise requests.exceptions.ConnectionError(f"{host}:{port}: {err}") from err
    if response.status >= 400:
        connection.close()
        failed = requests.Response()
        failed.status_code, failed.reason, failed._content = response.status, response.reason, content
        failed.url = f"http://{host}:{port}{path}"
        raise requests.exceptions.HTTPError(
            f"{response.status} {response.reason} for url: {failed.url}", response=failed
        )
    if response.will_close:
        connection.close()
    else:
        pool[(host, port)] = connection
    return content
