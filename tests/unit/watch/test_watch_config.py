"""The watchtower's YAML configuration: defaults, sections merged with the command line's, and every bad
value reported at once with its path."""

from __future__ import annotations

from pathlib import Path

import pytest

from link_ops.exceptions import ConfigurationError
from link_ops.watch.alerts import Severity
from link_ops.watch.config import DEFAULT_WATCH_PORT, WatchConfig


def test_no_file__the_briefs_numbers() -> None:
    config = WatchConfig.load()
    assert config.monitor.response_time_s == 0.2 and config.monitor.concurrent_users == 8_000
    assert config.monitor.error_rate == 0.01 and config.http.port == DEFAULT_WATCH_PORT
    assert config.sinks.console and config.sinks.webhooks == () and not config.loop.judge_history


def test_file_sections__read_and_the_command_lines_merged_over_them(tmp_path: Path) -> None:
    path = tmp_path / "watch.yaml"
    path.write_text(
        "monitor: {error_rate: 0.02}\n"
        "rules: {cap_used: 0.9}\n"
        "sinks:\n  webhooks:\n    - {name: pager, url: 'https://hooks.example/p', min_severity: high}\n"
        "http: {host: 0.0.0.0, port: 9000}\n"
    )

    config = WatchConfig.load(path, http={"port": 0})

    assert config.monitor.error_rate == 0.02 and config.rules.cap_used == 0.9
    assert config.http.host == "0.0.0.0" and config.http.port == 0  # the file's host, the given port
    assert config.sinks.routes()["pager"] is Severity.HIGH


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("monitor: [1, 2\n", "is not valid YAML"),
        ("- a\n- b\n", "must be a YAML mapping of sections"),
        ("monitr: {}\n", "monitr: Extra inputs are not permitted"),
        ("rules: {critical_roles: [OWNER_ROLE]}\n", "unknown role OWNER_ROLE"),
        ("probes: {interval: PT0S}\n", "interval must be positive"),
    ],
)
def test_bad_file__one_error_naming_it_and_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "watch.yaml"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match=message) as caught:
        WatchConfig.load(path)
    assert str(path) in str(caught.value)


def test_empty_file__the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "watch.yaml"
    path.write_text("")
    assert WatchConfig.load(path) == WatchConfig.load()
