"""The suite's speed-ups of ape (tests/_ape_speed.py) still apply to the installed ape, and change nothing
but the time: a new ape version that moved one of them fails here instead of silently slowing the suite."""

from __future__ import annotations

import _ape_speed
import requests
from ape.api.providers import ProviderAPI
from ape_ethereum.ecosystem import BaseEthereumConfig
from ape_ethereum.trace import Trace


def test_every_speed_up_is_installed():
    assert _ape_speed._INSTALLED == [
        "no console-log traces",
        "trace.show",
        "provider settings",
        "default transaction type",
        "no proxy scan",
    ]


def test_a_transaction_to_a_contract_is_not_traced_for_console_logs(lbc, alice, bob):
    receipt = lbc.approve(bob, 1, sender=alice)
    # ape's console-log lookup caches the typed logs it read from the trace on the receipt.
    assert "debug_logs_typed" not in receipt.__dict__ and "debug_logs_lines" not in receipt.__dict__
    assert receipt.show_debug_logs() is None


def test_a_reverted_transaction_prints_no_call_tree():
    assert Trace.show(object()) is None  # type: ignore[arg-type]


def test_provider_settings__kept_while_config_and_own_settings_stay__rebuilt_when_they_change(chain):
    provider = chain.provider
    first = provider.settings
    assert provider.settings is first
    original = dict(provider.provider_settings)
    try:
        provider.provider_settings = {**original, "link_ops_probe": 1}
        changed = provider.settings
        assert changed is not first
    finally:
        provider.provider_settings = original
    assert provider.settings is not changed
    assert isinstance(ProviderAPI.settings, property)


def test_default_transaction_type__same_answer_as_ape(chain):
    config = chain.provider.network.ecosystem.config
    assert isinstance(config, BaseEthereumConfig)
    assert config.default_transaction_type is config.default_transaction_type


def test_requests_sessions__ignore_proxy_variables(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:1")
    assert requests.Session().trust_env is False
