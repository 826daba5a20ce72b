"""The watchtower's configuration: one YAML file (``ape run watch --config watch.yaml``) holding every
section's settings, each optional (the brief's numbers by default)::

    loop:     {interval_s: 2, batches_per_round: 20}
    monitor:  {window_s: 60, response_time_s: 0.2, concurrent_users: 8000, error_rate: 0.01}
    rules:    {mint_per_block: 100000000000000000000000, cap_used: 0.8, limit_used: 0.8,
               trusted: {"0xGuardian…": guardian}}
    sla:      {window: P30D}
    probes:   {interval: PT60S, timeout_s: 10}
    sla_interval_s: 60
    sinks:
      jsonl: alerts.jsonl
      console_min_severity: warning
      webhooks:
        - {name: pager, url: "https://events.example/hook", min_severity: high}
        - {name: chat, url: "https://chat.example/hook"}
      retry: {initial_s: 1, max_s: 300, give_up_after_s: 86400}
    http:     {host: 127.0.0.1, port: 8590}

:meth:`WatchConfig.load` reads it and reports every bad value at once, each with its path
(``monitor.error_rate: …``), as one :class:`~link_ops.exceptions.ConfigurationError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from link_ops.exceptions import ConfigurationError, validation_problems
from link_ops.metrics import DEFAULT_METRICS_HOST
from link_ops.watch.monitor import MonitorSettings
from link_ops.watch.probes import ProbeSettings
from link_ops.watch.rules import RuleSettings
from link_ops.watch.service import WatchSettings
from link_ops.watch.sinks import SinksConfig
from link_ops.watch.sla import SlaSettings

#: Where the watchtower serves its status page, JSON API and /metrics unless told otherwise.
DEFAULT_WATCH_PORT = 8590


class HttpSettings(BaseModel):
    """Where the watchtower's HTTP server listens (loopback by default: put a proxy in front)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = DEFAULT_METRICS_HOST
    port: int = Field(default=DEFAULT_WATCH_PORT, ge=0, le=65_535)


class WatchConfig(BaseModel):
    """Every section of the watchtower's configuration (see the module documentation)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    loop: WatchSettings = WatchSettings()
    monitor: MonitorSettings = MonitorSettings()
    rules: RuleSettings = RuleSettings()
    sla: SlaSettings = SlaSettings()
    probes: ProbeSettings = ProbeSettings()
    #: Seconds between two evaluations of the partner SLAs (their burn-rate alerts).
    sla_interval_s: float = Field(default=60.0, gt=0)
    sinks: SinksConfig = SinksConfig()
    http: HttpSettings = HttpSettings()

    @classmethod
    def build(cls, values: Mapping[str, Any], *, source: str = "the watch configuration") -> WatchConfig:
        """The configuration from `values`; one :class:`ConfigurationError` listing every bad value."""
        try:
            config = cls.model_validate(dict(values))
        except ValidationError as exc:
            problems = validation_problems(exc, root="config")
            raise ConfigurationError(f"{source}: " + "; ".join(problems)) from None
        # The sections that check more than their fields' types (known roles, addresses, a positive
        # interval) are built again through their own checks, their errors naming the file too.
        try:
            RuleSettings.build(**config.rules.model_dump())
            ProbeSettings.build(**config.probes.model_dump())
        except ConfigurationError as exc:
            raise ConfigurationError(f"{source}: {exc}") from None
        return config

    @classmethod
    def load(cls, path: Path | None = None, **overrides: Any) -> WatchConfig:
        """The configuration in YAML file `path` (none: the defaults), sections in `overrides` merged over
        it (a section given there replaces the file's keys one by one)."""
        values: dict[str, Any] = {}
        source = "the watch configuration"
        if path is not None:
            source = str(path)
            try:
                loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise ConfigurationError(f"no watch configuration at {path}: give a YAML file") from None
            except yaml.YAMLError as exc:
                raise ConfigurationError(f"{path} is not valid YAML: {exc}") from None
            if loaded is None:
                loaded = {}
            if not isinstance(loaded, dict):
                raise ConfigurationError(
                    f"{path} must be a YAML mapping of sections (loop, monitor, rules, sla, probes, sinks, "
                    "http)"
                )
            values = loaded
        for section, given in overrides.items():
            if isinstance(given, Mapping) and isinstance(values.get(section), Mapping):
                values[section] = {**values[section], **given}
            else:
                values[section] = given
        return cls.build(values, source=source)
