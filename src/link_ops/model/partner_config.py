"""Partner configs: who a partner is, how to reach it and what its cube holders get.

A partner (a café, a service, a dApp) is described by one YAML or JSON file, ``partners/<partner_id>.yaml``
(``partners/example.yaml`` shows every field). :meth:`PartnerConfig.from_file` reads and checks it whole: it
reports every problem at once, one per line with the field's path, so a config is fixed in one round.

Pure module: no ape, no network. One module for the model and its reader, because the reader's messages
name the model's fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from eth_utils.address import is_checksum_address, is_hex_address, to_checksum_address
from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    TypeAdapter,
    ValidationError,
    field_validator,
)
from pydantic_core import ErrorDetails

from link_ops.exceptions import ConfigurationError
from link_ops.model.layout import TIERS

#: How an integration authenticates; the only ones link-ops knows how to set up.
AuthMethod = Literal["api_key", "oauth2", "hmac", "mtls"]


#: The token value that means the protocol's own LBC token.
LBC_TOKEN = "LBC"


#: A discount of 100 %, in basis points.
MAX_BPS = 10_000


#: Benefit amounts are stored on chain in 96 bits.
AMOUNT_LIMIT = 2**96


#: Longest claim window: ten years.
MAX_CLAIM_WINDOW_DAYS = 3650


#: Longest partner name, in characters.
MAX_NAME_CHARS = 64


#: A bytes32 holds this many UTF-8 bytes.
BYTES32 = 32


PARTNER_ID_RE = re.compile(r"[a-z0-9-]{3,32}")


CONFIG_SUFFIXES = (".yaml", ".yml", ".json")


EXAMPLE_CONFIG = "partners/example.yaml"


StrictInt = Annotated[int, Strict()]


class PartnerConfigError(ConfigurationError):
    """A partner config is missing, unreadable or invalid.

    ``problems`` lists each problem as ``field.path: what is wrong``; ``source`` names the file (or mapping).
    """

    def __init__(self, source: str, problems: Sequence[str], todo: str) -> None:
        self.source = source
        self.problems = list(problems)
        count = "1 problem" if len(self.problems) == 1 else f"{len(self.problems)} problems"
        lines = [f"{source}: {count} in the partner config:", *(f"  {p}" for p in self.problems), todo]
        super().__init__("\n".join(lines))


def to_bytes32(text: str) -> bytes:
    """`text` as UTF-8, right-padded with zero bytes to 32 bytes: the ``bytes32`` of a short string."""
    raw = text.encode("utf-8")
    if len(raw) > BYTES32:
        raise ConfigurationError(f"{text!r} is {len(raw)} UTF-8 bytes: a bytes32 holds at most {BYTES32}")
    return raw.ljust(BYTES32, b"\0")


def is_valid_address(value: object) -> bool:
    """Whether `value` is ``0x`` and 40 hex digits, in one case or with a valid EIP-55 checksum."""
    if not isinstance(value, str) or not value.startswith("0x") or not is_hex_address(value):
        return False
    digits = value[2:]
    return digits in (digits.lower(), digits.upper()) or is_checksum_address(value)


def _check_url(value: str) -> str:
    if value != value.strip():
        raise ValueError(f"must not start or end with whitespace, got {value!r}")
    try:
        TypeAdapter(AnyHttpUrl).validate_python(value)
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"]
        raise ValueError(f"must be an http:// or https:// URL, got {value!r} ({reason})") from None
    return value


def _check_service(value: str) -> str:
    if not value.strip():
        raise ValueError(f"must be a non-empty name, got {value!r}")
    if value != value.strip():
        raise ValueError(f"must not start or end with whitespace, got {value!r}")
    if "\0" in value:
        raise ValueError(f"must not contain NUL characters (they would vanish in the bytes32), got {value!r}")
    size = len(value.encode("utf-8"))
    if size > BYTES32:
        raise ValueError(
            f"must be at most {BYTES32} UTF-8 bytes (it becomes a bytes32), got {size}: {value!r}"
        )
    return value


def _check_tier(value: int) -> int:
    if not 0 <= value < TIERS:
        raise ValueError(f"must be a cube tier from 0 to {TIERS - 1}, got {value}")
    return value


def _duplicates_problem(values: Sequence[Any]) -> str | None:
    """What is wrong with `values` having repeated items, or None when they are distinct."""
    hashable = [v for v in values if isinstance(v, str)]
    duplicates = [v for v in dict.fromkeys(hashable) if hashable.count(v) > 1]
    if not duplicates:
        return None
    names = ", ".join(repr(d) for d in duplicates)
    return f"must be distinct, but {names} appear{'s' if len(duplicates) == 1 else ''} more than once"


Url = Annotated[str, AfterValidator(_check_url)]


ServiceName = Annotated[str, AfterValidator(_check_service)]


Tier = Annotated[int, AfterValidator(_check_tier)]


Bps = Annotated[int, Strict(), Field(ge=0, le=MAX_BPS)]


class BenefitStructure(BaseModel):
    """What holders of each cube tier get at the partner."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    discount_bps: dict[Tier, Bps] = Field(
        description="discount per cube tier (0..3) in basis points (10000 = 100 %); a missing tier gets 0"
    )

    def as_list(self) -> list[int]:
        """The discount of tiers 0..3 in order, 0 for a tier not given."""
        return [self.discount_bps.get(tier, 0) for tier in range(TIERS)]


class InitialBenefits(BaseModel):
    """What is funded for each cube when the partner is onboarded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token: str = Field(description='"LBC" for the protocol token, else the 0x address of an ERC-20')
    amount_per_cube: StrictInt = Field(description="wei of `token` per cube, below 2**96")

    @field_validator("token")
    @classmethod
    def _token(cls, value: str) -> str:
        if value == LBC_TOKEN:
            return value
        if not is_valid_address(value):
            raise ValueError(
                f'must be "{LBC_TOKEN}" or a 0x address of 40 hex digits (mixed case only with a valid '
                f"EIP-55 checksum), got {value!r}"
            )
        if int(value, 16) == 0:
            raise ValueError(f"must not be the zero address, got {value!r}")
        return to_checksum_address(value)

    @field_validator("amount_per_cube")
    @classmethod
    def _amount(cls, value: int) -> int:
        if value < 0:
            raise ValueError(f"must be at least 0 wei, got {value}")
        if value >= AMOUNT_LIMIT:
            raise ValueError(
                f"must be below 2**96 = {AMOUNT_LIMIT} wei (it is stored in 96 bits), got {value}"
            )
        return value

    @property
    def is_lbc(self) -> bool:
        """Whether the benefits are paid in the protocol's LBC token."""
        return self.token == LBC_TOKEN


class PartnerConfig(BaseModel):
    """One partner's onboarding config, checked whole. Build it with :meth:`from_file`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    partner_id: str = Field(description="slug of 3-32 characters a-z, 0-9, '-'; becomes a bytes32 on chain")
    name: str = Field(description=f"display name, 1-{MAX_NAME_CHARS} characters")
    api_endpoints: list[Url] = Field(min_length=1, description="http(s) URLs that must answer 2xx")
    auth_method: AuthMethod
    services: list[ServiceName] = Field(
        min_length=1, description="distinct service names, at most 32 UTF-8 bytes each (bytes32 on chain)"
    )
    benefit_structure: BenefitStructure
    initial_benefits: InitialBenefits
    claim_window_days: StrictInt = Field(ge=1, le=MAX_CLAIM_WINDOW_DAYS)

    @field_validator("partner_id")
    @classmethod
    def _partner_id(cls, value: str) -> str:
        if not PARTNER_ID_RE.fullmatch(value):
            raise ValueError(f"must be 3-32 characters among a-z, 0-9 and '-', got {value!r}")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError(f"must not be empty, got {value!r}")
        if len(value) > MAX_NAME_CHARS:
            raise ValueError(f"must be at most {MAX_NAME_CHARS} characters, got {len(value)}")
        return value

    @field_validator("services")
    @classmethod
    def _distinct_services(cls, value: list[str]) -> list[str]:
        problem = _duplicates_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    def partner_id_bytes32(self) -> bytes:
        """The partner id as a bytes32: its UTF-8 bytes right-padded with zeros."""
        return to_bytes32(self.partner_id)

    def services_bytes32(self) -> list[bytes]:
        """Each service name as a bytes32, in order."""
        return [to_bytes32(service) for service in self.services]

    @classmethod
    def from_mapping(cls, data: Any, source: str = "<config>") -> PartnerConfig:
        """The config held by `data` (a mapping of field names to values, as parsed from YAML or JSON).

        Raises :class:`PartnerConfigError` listing every problem, each with its field path.
        """
        return _validate(data, source, [])

    @classmethod
    def from_file(cls, path: str | Path) -> PartnerConfig:
        """The config in the YAML (``.yaml``, ``.yml``) or JSON (``.json``) file at `path`.

        Raises :class:`PartnerConfigError` when the file is missing, unreadable, not a mapping or invalid; the
        message starts with the path, lists every problem with its field path and ends with what to do.
        """
        path = Path(path)
        source = str(path)
        if path.suffix.lower() not in CONFIG_SUFFIXES:
            raise PartnerConfigError(
                source,
                [f"unsupported file type {path.suffix or '(none)'!r}"],
                f"Write the config as YAML (.yaml, .yml) or JSON (.json); see {EXAMPLE_CONFIG}.",
            )
        if not path.is_file():
            what = "is a directory" if path.is_dir() else "does not exist"
            raise PartnerConfigError(
                source, [f"the file {what}"], f"Check the path, or start from a copy of {EXAMPLE_CONFIG}."
            )
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PartnerConfigError(
                source, [f"cannot read the file: {exc}"], "Check its permissions and that it is UTF-8 text."
            ) from exc
        if path.suffix.lower() == ".json":
            data, duplicates = _parse_json(text, source)
        else:
            data, duplicates = _parse_yaml(text, source)
        return _validate(data, source, duplicates)


def _validate(data: Any, source: str, earlier: list[str]) -> PartnerConfig:
    """`data` validated; `earlier` problems (found while parsing) are reported along with any others."""
    fix = f"Fix the fields above (see {EXAMPLE_CONFIG} for a valid config) and run again."
    if not isinstance(data, Mapping):
        got = "nothing (the file is empty)" if data is None else type(data).__name__
        raise PartnerConfigError(
            source, [*earlier, f"the top level must be a mapping of field names to values, got {got}"], fix
        )
    try:
        config = PartnerConfig.model_validate(dict(data))
    except ValidationError as exc:
        problems = [*earlier, *(_describe(e) for e in exc.errors())]
        # An invalid service name stops pydantic before it compares the names: compare them here too.
        services = data.get("services")
        repeated = _duplicates_problem(services) if isinstance(services, list) else None
        if repeated and f"services: {repeated}" not in problems:
            problems.append(f"services: {repeated}")
        raise PartnerConfigError(source, problems, fix) from exc
    if earlier:
        raise PartnerConfigError(source, earlier, fix)
    return config


def _describe(error: ErrorDetails) -> str:
    """One pydantic error as ``field.path: what is wrong, got <input>``."""
    loc = list(error["loc"])
    is_key = bool(loc) and loc[-1] == "[key]"
    if is_key:
        loc = loc[:-1]
    path = ".".join(str(part) for part in loc) or "(top level)"
    kind = error["type"]
    ctx = error.get("ctx", {})
    got = error.get("input")
    if kind == "value_error":
        message = str(ctx.get("error", error["msg"]))
    elif kind == "missing":
        message = "is required"
    elif kind == "extra_forbidden":
        message = "is not a known field: remove it or fix its spelling"
    elif kind == "too_short":
        message = "must not be empty"
    elif kind in ("greater_than_equal", "less_than_equal"):
        bound = "at least" if kind == "greater_than_equal" else "at most"
        limit = ctx.get("ge", ctx.get("le"))
        message = f"must be {bound} {limit}, got {got!r}"
    elif kind in ("int_type", "int_parsing", "int_from_float"):
        message = f"must be a whole number, got {got!r}"
    elif kind == "string_type":
        message = f"must be a string, got {got!r}"
    elif kind == "list_type":
        message = f"must be a list, got {got!r}"
    elif kind in ("dict_type", "model_type", "model_attributes_type"):
        message = f"must be a mapping, got {got!r}"
    elif kind == "literal_error":
        message = f"must be one of {ctx.get('expected', '')}, got {got!r}"
    else:
        message = f"{error['msg']}, got {got!r}"
    if is_key:
        message = f"key {message}"
    return f"{path}: {message}"


def _parse_json(text: str, source: str) -> tuple[Any, list[str]]:
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in items]
        duplicates.extend(
            f"duplicate key {key!r} in a JSON object" for key in dict.fromkeys(keys) if keys.count(key) > 1
        )
        return dict(items)

    try:
        return json.loads(text, object_pairs_hook=pairs), duplicates
    except json.JSONDecodeError as exc:
        raise PartnerConfigError(
            source,
            [f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"],
            "Fix the syntax there and run again.",
        ) from None


def _parse_yaml(text: str, source: str) -> tuple[Any, list[str]]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise PartnerConfigError(
            source, [f"not valid YAML: {problem}{where}"], "Fix the syntax there and run again."
        ) from None
    return data, list(_yaml_duplicates(root, []))


def _yaml_duplicates(node: Any, path: list[str]) -> Iterator[str]:
    """Keys given twice in a YAML mapping: a plain load would silently keep the last one."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                where = ".".join([*path, name])
                yield f"{where}: duplicate key (line {key.start_mark.line + 1}): keep one"
            seen.add(name)
            yield from _yaml_duplicates(value, [*path, name])
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _yaml_duplicates(item, [*path, str(index)])
