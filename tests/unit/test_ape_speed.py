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
        "trace.show",
        "provider settings",
        "default transaction type",
        "no proxy scan",
    ]


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
