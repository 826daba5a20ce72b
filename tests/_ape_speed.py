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
- requests scans the environment for proxies on every JSON-RPC request; the suite talks to loopback only.

tests/unit/test_ape_speed.py checks that each still applies to the installed ape (a new ape version
that moved them fails there, not silently).
"""

from __future__ import annotations

from typing import Any

import requests
from ape.api.providers import ProviderAPI
from ape.api.transactions import ReceiptAPI
from ape_ethereum.ecosystem import BaseEthereumConfig
from ape_ethereum.trace import Trace

_INSTALLED: list[str] = []


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
    settings_cache: dict[int, tuple[object, object, str, object]] = {}

    def settings(self: ProviderAPI) -> object:
        config, own = self.config, repr(self.provider_settings)
        hit = settings_cache.get(id(self))
        if hit is not None and hit[0] is self and hit[1] is config and hit[2] == own:
            return hit[3]
        value = build(self)
        settings_cache[id(self)] = (self, config, own, value)
        return value

    ProviderAPI.settings = property(settings)  # type: ignore[assignment,method-assign]
    _INSTALLED.append("provider settings")

    lookup = BaseEthereumConfig.__getattr__
    type_cache: dict[int, tuple[object, Any]] = {}

    def getattr_(self: BaseEthereumConfig, key: str) -> Any:
        if key != "default_transaction_type":
            return lookup(self, key)
        hit = type_cache.get(id(self))
        if hit is not None and hit[0] is self:
            return hit[1]
        value = lookup(self, key)
        type_cache[id(self)] = (self, value)
        return value

    BaseEthereumConfig.__getattr__ = getattr_  # type: ignore[method-assign]
    _INSTALLED.append("default transaction type")

    session_init = requests.Session.__init__

    def init(self: requests.Session, *args: Any, **kwargs: Any) -> None:
        session_init(self, *args, **kwargs)
        self.trust_env = False

    requests.Session.__init__ = init  # type: ignore[method-assign]
    _INSTALLED.append("no proxy scan")
