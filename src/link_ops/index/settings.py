"""How the index reads: confirmation depths per chain and the ``eth_getLogs`` range bounds (pydantic)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from link_ops.exceptions import ConfigurationError, validation_problems
from link_ops.model.chains import ChainInfo, chain_keys

#: Blocks after which a block is taken as final, per chain key: a reorganisation deeper than this is not
#: followed (the index stops and says so). Polygon PoS has seen reorgs of over 100 blocks before its
#: milestones; Ethereum finalises in two epochs (64 blocks); BNB Smart Chain's fast finality needs a few
#: blocks, 15 is the exchanges' margin. Local chains have no reorganisations of their own.
DEFAULT_CONFIRMATIONS: Mapping[str, int] = {
    "polygon": 128,
    "amoy": 128,
    "ethereum": 64,
    "sepolia": 64,
    "bsc": 15,
    "bsc-testnet": 15,
    "local": 0,
    "ethereum-local": 0,
}


class IndexSettingsError(ConfigurationError):
    """The index settings are invalid; every problem is listed, with its field."""


class IndexSettings(BaseModel):
    """The index's settings; :meth:`build` reports every invalid field at once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Confirmation depths by chain key, over :data:`DEFAULT_CONFIRMATIONS`.
    confirmations: dict[str, int] = Field(default_factory=dict)
    #: Blocks per ``eth_getLogs`` to begin with, and the bounds of the adaptive range.
    initial_range: int = Field(default=500, ge=1)
    min_range: int = Field(default=1, ge=1)
    max_range: int = Field(default=5_000, ge=1)
    #: About how many logs one ``eth_getLogs`` answer should hold (providers cap answers at 10,000).
    target_logs: int = Field(default=5_000, ge=1)
    #: How often a request refused at the smallest range, or a failing call, is tried before giving up.
    attempts: int = Field(default=5, ge=1)
    #: Seconds between such tries.
    retry_delay: float = Field(default=1.0, ge=0)

    @field_validator("confirmations")
    @classmethod
    def _known_chains(cls, value: dict[str, int]) -> dict[str, int]:
        problems = [k for k in value if k not in chain_keys()]
        if problems:
            raise ValueError(f"unknown chain {', '.join(problems)}: use one of {', '.join(chain_keys())}")
        negative = [f"{k}={v}" for k, v in value.items() if v < 0]
        if negative:
            raise ValueError(f"a confirmation depth is 0 or more blocks, got {', '.join(negative)}")
        return value

    @model_validator(mode="after")
    def _bounds(self) -> IndexSettings:
        if self.min_range > self.max_range:
            raise ValueError(f"min_range {self.min_range} is above max_range {self.max_range}")
        return self

    @classmethod
    def build(cls, **values: Any) -> IndexSettings:
        """Settings from `values` (the fields above); raises :class:`IndexSettingsError` listing every
        problem with its field."""
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = validation_problems(exc)
            raise IndexSettingsError("invalid index settings: " + "; ".join(problems)) from None

    def confirmations_for(self, info: ChainInfo) -> int:
        """The confirmation depth of `info`'s chain."""
        if info.key in self.confirmations:
            return self.confirmations[info.key]
        return DEFAULT_CONFIRMATIONS.get(info.key, 64)

    @property
    def first_range(self) -> int:
        """:attr:`initial_range` within the bounds."""
        return max(self.min_range, min(self.max_range, self.initial_range))


def parse_confirmations(text: str) -> dict[str, int]:
    """``polygon=128,ethereum=64`` as a mapping; raises :class:`IndexSettingsError` on a malformed pair."""
    out: dict[str, int] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not value.strip().isdigit():
            raise IndexSettingsError(
                f"--confirmations takes KEY=BLOCKS pairs, e.g. polygon=128,ethereum=64; got {part!r}"
            )
        out[key.strip().lower()] = int(value)
    return out
