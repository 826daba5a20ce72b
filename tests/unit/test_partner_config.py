"""Specs of link_ops.model.partner_config: a partner config is checked whole and every problem is named."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from link_ops.exceptions import ConfigurationError
from link_ops.model.partner_config import (
    AMOUNT_LIMIT,
    BenefitStructure,
    PartnerConfig,
    PartnerConfigError,
    to_bytes32,
)

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "partners" / "example.yaml"

# EIP-55 spelling of a known address, and the same address in lower case.
CHECKSUMMED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
LOWER = CHECKSUMMED.lower()
BAD_CHECKSUM = "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"

VALID: dict[str, Any] = {
    "partner_id": "cafe-seoul",
    "name": "Hangang Roasters Seoul",
    "api_endpoints": ["http://127.0.0.1:8765/health", "https://partner.example/api/v1/status"],
    "auth_method": "api_key",
    "services": ["coffee", "bakery"],
    "benefit_structure": {"discount_bps": {0: 500, 1: 1000, 2: 1500, 3: 2500}},
    "initial_benefits": {"token": "LBC", "amount_per_cube": 5 * 10**18},
    "claim_window_days": 30,
}


def valid() -> dict[str, Any]:
    """A fresh copy of a valid config mapping."""
    return copy.deepcopy(VALID)


def changed(path: str, value: Any) -> dict[str, Any]:
    """A valid mapping with the field at dotted `path` set to `value`."""
    data = valid()
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[part]
    node[last] = value
    return data


def without(path: str) -> dict[str, Any]:
    """A valid mapping with the field at dotted `path` removed."""
    data = valid()
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[part]
    del node[last]
    return data


def with_bps(discounts: dict[Any, Any]) -> dict[str, Any]:
    return changed("benefit_structure.discount_bps", discounts)


def problems_of(data: Any) -> list[str]:
    with pytest.raises(PartnerConfigError) as caught:
        PartnerConfig.from_mapping(data)
    return caught.value.problems


# ----------------------------------------------------------------------------------------- valid configs


def test_example_yaml__is_a_valid_config_for_the_demo_health_server() -> None:
    config = PartnerConfig.from_file(EXAMPLE)

    assert config.partner_id == "cafe-seoul"
    assert config.api_endpoints == ["http://127.0.0.1:8765/health", "http://127.0.0.1:8765/api/v1/status"]
    assert config.auth_method == "api_key"
    assert 2 <= len(config.services) <= 3
    assert all(bps > 0 for bps in config.benefit_structure.as_list())
    assert config.initial_benefits.token == "LBC" and config.initial_benefits.is_lbc
    assert config.initial_benefits.amount_per_cube == 5 * 10**18
    assert config.claim_window_days == 30


def test_from_mapping__valid_data__keeps_every_field() -> None:
    config = PartnerConfig.from_mapping(valid())

    assert config.partner_id == "cafe-seoul"
    assert config.name == "Hangang Roasters Seoul"
    assert config.api_endpoints == VALID["api_endpoints"]
    assert config.services == ["coffee", "bakery"]
    assert config.benefit_structure.as_list() == [500, 1000, 1500, 2500]
    assert config.initial_benefits.amount_per_cube == 5 * 10**18
    assert config.claim_window_days == 30


def test_from_file__json_and_yaml__give_the_same_config(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(valid()))
    (tmp_path / "p.yml").write_text(yaml.safe_dump(valid()))
    (tmp_path / "p.json").write_text(json.dumps(valid()))  # JSON turns the tier keys into strings

    configs = [PartnerConfig.from_file(tmp_path / name) for name in ("p.yaml", "p.yml", "p.json")]

    assert configs[0] == configs[1] == configs[2] == PartnerConfig.from_mapping(valid())


def test_from_file__accepts_a_str_path(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(valid()))

    assert PartnerConfig.from_file(str(path)).partner_id == "cafe-seoul"


def test_json_round_trip__gives_back_an_equal_config() -> None:
    config = PartnerConfig.from_mapping(changed("initial_benefits.token", LOWER))

    assert PartnerConfig.model_validate_json(config.model_dump_json()) == config


def test_as_list__missing_tiers__count_as_zero() -> None:
    config = PartnerConfig.from_mapping(with_bps({1: 250}))

    assert config.benefit_structure.as_list() == [0, 250, 0, 0]
    assert BenefitStructure(discount_bps={}).as_list() == [0, 0, 0, 0]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("partner_id", "abc"),
        ("partner_id", "a" * 32),
        ("partner_id", "0-9"),
        ("name", "x"),
        ("name", "x" * 64),
        ("name", "카페 서울"),
        ("benefit_structure.discount_bps", {0: 0, 3: 10_000}),
        ("services", ["가" * 10 + "ab"]),  # 32 UTF-8 bytes exactly
        ("initial_benefits.amount_per_cube", 0),
        ("initial_benefits.amount_per_cube", AMOUNT_LIMIT - 1),
        ("claim_window_days", 1),
        ("claim_window_days", 3650),
        ("auth_method", "mtls"),
        ("api_endpoints", ["https://partner.example:8443/health?deep=1"]),
    ],
)
def test_from_mapping__values_at_the_limits__are_accepted(path: str, value: Any) -> None:
    config = PartnerConfig.from_mapping(changed(path, value))

    node: Any = config
    for part in path.split("."):
        node = getattr(node, part)
    assert node == value


@pytest.mark.parametrize("spelling", [LOWER, "0x" + CHECKSUMMED[2:].upper(), CHECKSUMMED])
def test_token__an_address_in_one_case_or_checksummed__is_stored_checksummed(spelling: str) -> None:
    config = PartnerConfig.from_mapping(changed("initial_benefits.token", spelling))

    assert config.initial_benefits.token == CHECKSUMMED
    assert not config.initial_benefits.is_lbc


def test_partner_id_bytes32__is_the_utf8_slug_right_padded_with_zeros() -> None:
    config = PartnerConfig.from_mapping(valid())

    assert config.partner_id_bytes32() == b"cafe-seoul" + b"\0" * 22
    assert len(config.partner_id_bytes32()) == 32


def test_services_bytes32__each_name_utf8_right_padded_in_order() -> None:
    config = PartnerConfig.from_mapping(changed("services", ["coffee", "빵", "가" * 10 + "ab"]))

    assert config.services_bytes32() == [
        b"coffee" + b"\0" * 26,
        "빵".encode() + b"\0" * 29,
        ("가" * 10 + "ab").encode(),
    ]


def test_to_bytes32__more_than_32_utf8_bytes__raises_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="33 UTF-8 bytes"):
        to_bytes32("가" * 11)


def test_config__is_immutable() -> None:
    config = PartnerConfig.from_mapping(valid())

    with pytest.raises(ValidationError):
        config.partner_id = "other"  # type: ignore[misc]


# ------------------------------------------------------------------------------------------- bad fields

BAD_FIELDS: list[tuple[str, Callable[[], dict[str, Any]], str, str]] = [
    # (test id, bad mapping, reported path, part of the message)
    ("partner_id-missing", lambda: without("partner_id"), "partner_id", "is required"),
    ("partner_id-too-short", lambda: changed("partner_id", "ab"), "partner_id", "3-32 characters"),
    ("partner_id-too-long", lambda: changed("partner_id", "a" * 33), "partner_id", "3-32 characters"),
    ("partner_id-upper-case", lambda: changed("partner_id", "Cafe-Seoul"), "partner_id", "'Cafe-Seoul'"),
    ("partner_id-space", lambda: changed("partner_id", "cafe seoul"), "partner_id", "a-z, 0-9 and '-'"),
    ("partner_id-underscore", lambda: changed("partner_id", "cafe_seoul"), "partner_id", "a-z, 0-9 and '-'"),
    ("partner_id-trailing-newline", lambda: changed("partner_id", "cafe\n"), "partner_id", "3-32 characters"),
    ("partner_id-not-a-string", lambda: changed("partner_id", 1234), "partner_id", "must be a string"),
    ("name-missing", lambda: without("name"), "name", "is required"),
    ("name-empty", lambda: changed("name", ""), "name", "must not be empty"),
    ("name-blank", lambda: changed("name", "   "), "name", "must not be empty"),
    ("name-too-long", lambda: changed("name", "x" * 65), "name", "at most 64 characters, got 65"),
    ("endpoints-missing", lambda: without("api_endpoints"), "api_endpoints", "is required"),
    ("endpoints-empty", lambda: changed("api_endpoints", []), "api_endpoints", "must not be empty"),
    (
        "endpoints-not-a-list",
        lambda: changed("api_endpoints", "http://x/"),
        "api_endpoints",
        "must be a list",
    ),
    (
        "endpoint-ftp",
        lambda: changed("api_endpoints", ["ftp://host/x"]),
        "api_endpoints.0",
        "http:// or https://",
    ),
    (
        "endpoint-not-a-url",
        lambda: changed("api_endpoints", ["http://ok.example/", "not a url"]),
        "api_endpoints.1",
        "'not a url'",
    ),
    (
        "endpoint-whitespace",
        lambda: changed("api_endpoints", [" http://x.example/"]),
        "api_endpoints.0",
        "whitespace",
    ),
    ("auth-missing", lambda: without("auth_method"), "auth_method", "is required"),
    ("auth-unsupported", lambda: changed("auth_method", "basic"), "auth_method", "'mtls', got 'basic'"),
    ("services-missing", lambda: without("services"), "services", "is required"),
    ("services-empty", lambda: changed("services", []), "services", "must not be empty"),
    ("service-empty-name", lambda: changed("services", ["coffee", ""]), "services.1", "non-empty name"),
    (
        "service-33-ascii-bytes",
        lambda: changed("services", ["a" * 33]),
        "services.0",
        "at most 32 UTF-8 bytes",
    ),
    ("service-33-utf8-bytes", lambda: changed("services", ["가" * 11]), "services.0", "got 33"),
    (
        "service-duplicate",
        lambda: changed("services", ["tea", "tea"]),
        "services",
        "'tea' appears more than once",
    ),
    ("service-padded", lambda: changed("services", [" coffee"]), "services.0", "whitespace"),
    ("service-nul", lambda: changed("services", ["a\0b"]), "services.0", "NUL"),
    ("service-not-a-string", lambda: changed("services", [5]), "services.0", "must be a string"),
    ("benefits-missing", lambda: without("benefit_structure"), "benefit_structure", "is required"),
    (
        "bps-missing",
        lambda: without("benefit_structure.discount_bps"),
        "benefit_structure.discount_bps",
        "is required",
    ),
    (
        "bps-not-a-mapping",
        lambda: with_bps([100, 200]),
        "benefit_structure.discount_bps",
        "must be a mapping",
    ),
    ("bps-tier-4", lambda: with_bps({4: 100}), "benefit_structure.discount_bps.4", "key must be a cube tier"),
    ("bps-tier-negative", lambda: with_bps({-1: 100}), "benefit_structure.discount_bps.-1", "from 0 to 3"),
    ("bps-tier-not-a-number", lambda: with_bps({"gold": 100}), "benefit_structure.discount_bps.gold", "key"),
    (
        "bps-above-100-percent",
        lambda: with_bps({2: 12000}),
        "benefit_structure.discount_bps.2",
        "at most 10000",
    ),
    ("bps-negative", lambda: with_bps({0: -1}), "benefit_structure.discount_bps.0", "at least 0, got -1"),
    (
        "bps-string",
        lambda: with_bps({0: "500"}),
        "benefit_structure.discount_bps.0",
        "whole number, got '500'",
    ),
    ("bps-float", lambda: with_bps({0: 5.5}), "benefit_structure.discount_bps.0", "whole number, got 5.5"),
    (
        "benefits-unknown-field",
        lambda: changed("benefit_structure.cap", 1),
        "benefit_structure.cap",
        "not a known",
    ),
    ("initial-missing", lambda: without("initial_benefits"), "initial_benefits", "is required"),
    ("token-missing", lambda: without("initial_benefits.token"), "initial_benefits.token", "is required"),
    ("token-lower-lbc", lambda: changed("initial_benefits.token", "lbc"), "initial_benefits.token", '"LBC"'),
    ("token-short", lambda: changed("initial_benefits.token", "0x1234"), "initial_benefits.token", "40 hex"),
    (
        "token-no-0x",
        lambda: changed("initial_benefits.token", LOWER[2:]),
        "initial_benefits.token",
        "0x address",
    ),
    (
        "token-checksum",
        lambda: changed("initial_benefits.token", BAD_CHECKSUM),
        "initial_benefits.token",
        "EIP-55",
    ),
    (
        "token-zero",
        lambda: changed("initial_benefits.token", "0x" + "0" * 40),
        "initial_benefits.token",
        "zero",
    ),
    (
        "amount-missing",
        lambda: without("initial_benefits.amount_per_cube"),
        "initial_benefits.amount_per_cube",
        "is required",
    ),
    (
        "amount-negative",
        lambda: changed("initial_benefits.amount_per_cube", -1),
        "initial_benefits.amount_per_cube",
        "at least 0 wei, got -1",
    ),
    (
        "amount-2-pow-96",
        lambda: changed("initial_benefits.amount_per_cube", AMOUNT_LIMIT),
        "initial_benefits.amount_per_cube",
        "below 2**96",
    ),
    (
        "amount-float",
        lambda: changed("initial_benefits.amount_per_cube", 5e18),
        "initial_benefits.amount_per_cube",
        "whole number",
    ),
    (
        "amount-string",
        lambda: changed("initial_benefits.amount_per_cube", "5"),
        "initial_benefits.amount_per_cube",
        "whole number, got '5'",
    ),
    (
        "amount-bool",
        lambda: changed("initial_benefits.amount_per_cube", True),
        "initial_benefits.amount_per_cube",
        "whole number, got True",
    ),
    (
        "initial-unknown-field",
        lambda: changed("initial_benefits.tokn", "LBC"),
        "initial_benefits.tokn",
        "not a known",
    ),
    ("window-missing", lambda: without("claim_window_days"), "claim_window_days", "is required"),
    ("window-zero", lambda: changed("claim_window_days", 0), "claim_window_days", "at least 1, got 0"),
    (
        "window-too-long",
        lambda: changed("claim_window_days", 3651),
        "claim_window_days",
        "at most 3650, got 3651",
    ),
    ("window-string", lambda: changed("claim_window_days", "30"), "claim_window_days", "whole number"),
    ("unknown-top-level-field", lambda: changed("colour", "blue"), "colour", "remove it or fix its spelling"),
]


@pytest.mark.parametrize(
    ("data", "path", "expected"), [pytest.param(d, p, e, id=i) for i, d, p, e in BAD_FIELDS]
)
def test_from_mapping__each_bad_field__is_the_one_problem_reported_with_its_path(
    data: Callable[[], dict[str, Any]], path: str, expected: str
) -> None:
    problems = problems_of(data())

    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}: "), problems
    assert expected in problems[0]


def test_from_mapping__bps_above_100_percent__message_names_tier_limit_and_value() -> None:
    assert problems_of(with_bps({2: 12000})) == [
        "benefit_structure.discount_bps.2: must be at most 10000, got 12000"
    ]


def test_from_mapping__bad_service_names_and_duplicates__all_reported() -> None:
    problems = problems_of(changed("services", ["", "tea", "tea"]))

    assert [p.split(":")[0] for p in problems] == ["services.0", "services"]
    assert "'tea' appears more than once" in problems[1]


@pytest.mark.parametrize("data", [["partner_id"], "cafe", 42, None])
def test_from_mapping__not_a_mapping__is_reported(data: Any) -> None:
    problems = problems_of(data)

    assert len(problems) == 1
    assert "top level must be a mapping" in problems[0]


def test_from_mapping__error_is_a_configuration_error_and_value_error_naming_the_source() -> None:
    with pytest.raises(PartnerConfigError) as caught:
        PartnerConfig.from_mapping(without("name"), source="cafe-seoul (API)")

    assert isinstance(caught.value, ConfigurationError)
    assert isinstance(caught.value, ValueError)
    assert caught.value.source == "cafe-seoul (API)"
    assert str(caught.value).startswith("cafe-seoul (API): 1 problem in the partner config:")


# ------------------------------------------------------------------------------------------------ files


def test_from_file__every_bad_field__reported_at_once_with_paths(tmp_path: Path) -> None:
    path = tmp_path / "cafe.yaml"
    path.write_text(
        """\
partner_id: Cafe Seoul
name: ""
api_endpoints: [ftp://files.example/x, http://ok.example/health]
auth_method: basic
services: [coffee, "", coffee]
benefit_structure:
  discount_bps: {0: -5, 2: 12000, 4: 100}
initial_benefits:
  token: "0x1234"
  amount_per_cube: 79228162514264337593543950336
claim_window_days: 0
colour: blue
"""
    )

    with pytest.raises(PartnerConfigError) as caught:
        PartnerConfig.from_file(path)

    message = str(caught.value)
    lines = message.splitlines()
    assert lines[0] == f"{path}: 13 problems in the partner config:"
    assert lines[-1].startswith("Fix the fields above") and lines[-1].endswith("run again.")
    reported = [line.strip().split(": ")[0] for line in lines[1:-1]]
    assert sorted(reported) == sorted(
        [
            "partner_id",
            "name",
            "api_endpoints.0",
            "auth_method",
            "services.1",
            "services",
            "benefit_structure.discount_bps.0",
            "benefit_structure.discount_bps.2",
            "benefit_structure.discount_bps.4",
            "initial_benefits.token",
            "initial_benefits.amount_per_cube",
            "claim_window_days",
            "colour",
        ]
    )
    assert "  benefit_structure.discount_bps.2: must be at most 10000, got 12000" in lines
    assert caught.value.problems == [line.strip() for line in lines[1:-1]]


def test_from_file__missing_file__says_so_and_points_at_the_example(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"

    with pytest.raises(PartnerConfigError) as caught:
        PartnerConfig.from_file(path)

    assert str(caught.value).startswith(str(path))
    assert caught.value.problems == ["the file does not exist"]
    assert "partners/example.yaml" in str(caught.value).splitlines()[-1]


def test_from_file__a_directory__is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "partner.yaml"
    folder.mkdir()

    with pytest.raises(PartnerConfigError, match="is a directory"):
        PartnerConfig.from_file(folder)


def test_from_file__unsupported_extension__is_reported_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "partner.toml"
    path.write_text("partner_id = 'cafe'")

    with pytest.raises(PartnerConfigError) as caught:
        PartnerConfig.from_file(path)

    assert caught.value.problems == ["unsupported file type '.toml'"]
    assert "YAML (.yaml, .yml) or JSON (.json)" in str(caught.value)


def test_from_file__not_utf8__is_reported_as_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "partner.yaml"
    path.write_bytes(b"name: caf\xe9\n")

    with pytest.raises(PartnerConfigError, match="cannot read the file"):
        PartnerConfig.from_file(path)


@pytest.mark.parametrize(
    ("name", "text", "got"),
    [
        ("empty.yaml", "", "nothing (the file is empty)"),
        ("list.yaml", "- partner_id: cafe-seoul\n", "got list"),
        ("scalar.json", "42", "got int"),
    ],
)
def test_from_file__top_level_not_a_mapping__is_reported(
    tmp_path: Path, name: str, text: str, got: str
) -> None:
    path = tmp_path / name
    path.write_text(text)

    with pytest.raises(PartnerConfigError) as caught:
        PartnerConfig.from_file(path)

    assert len(caught.value.problems) == 1
    assert got in caught.value.problems[0]


def test_from_file__bad_yaml_syntax__names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "partner.yaml"
    path.write_text("partner_id: cafe-seoul\nservices: [coffee\nname: x\n")

    with pytest.raises(PartnerConfigError) as caught:
        PartnerConfig.from_file(path)

    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith("not valid YAML")
    assert "line 3" in caught.value.problems[0]


def test_from_file__bad_json_syntax__names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "partner.json"
    path.write_text('{\n  "partner_id": "cafe-seoul",\n  "name": \n}\n')

    with pytest.raises(PartnerConfigError) as caught:
        PartnerConfig.from_file(path)

    assert caught.value.problems[0].startswith("not valid JSON")
    assert "line 4" in caught.value.problems[0]


def test_from_file__duplicate_yaml_keys__reported_with_path_and_line_along_with_other_problems(
    tmp_path: Path,
) -> None:
    data = valid()
    data["claim_window_days"] = 0
    text = yaml.safe_dump(data, sort_keys=False).replace(
        "  discount_bps:\n", "  discount_bps:\n    2: 1\n", 1
    )
    path = tmp_path / "partner.yaml"
    path.write_text(text)
    line = text.splitlines().index("    2: 1500") + 1

    with pytest.raises(PartnerConfigError) as caught:
        PartnerConfig.from_file(path)

    assert caught.value.problems == [
        f"benefit_structure.discount_bps.2: duplicate key (line {line}): keep one",
        "claim_window_days: must be at least 1, got 0",
    ]


def test_from_file__duplicate_yaml_keys_alone__still_fail(tmp_path: Path) -> None:
    path = tmp_path / "partner.yaml"
    path.write_text(yaml.safe_dump(valid()) + "name: Second Name\n")

    with pytest.raises(PartnerConfigError) as caught:
        PartnerConfig.from_file(path)

    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith("name: duplicate key")


def test_from_file__duplicate_json_keys__are_reported(tmp_path: Path) -> None:
    path = tmp_path / "partner.json"
    path.write_text(json.dumps(valid())[:-1] + ', "claim_window_days": 31}')

    with pytest.raises(PartnerConfigError) as caught:
        PartnerConfig.from_file(path)

    assert caught.value.problems == ["duplicate key 'claim_window_days' in a JSON object"]
