"""How many blocks to ask ``eth_getLogs`` for: an adaptive range, and what providers' refusals mean.

Providers bound ``eth_getLogs`` by block range, by results, by response size or by time, and say so in
words of their own. :func:`classify_logs_error` reads them:

- a block-range limit ("range 1000000 exceeds limit of 10000" (Infura), "eth_getLogs and eth_newFilter are
  limited to a 10,000 blocks range" (QuickNode), "You can make eth_getLogs requests with up to a 500 block
  range" (Alchemy), "query exceeds max block range 100000" (reth), "block range is too wide (maximum
  1024)", "exceed maximum block range: 5000"): the stated limit is used;
- a result or size limit ("query returned more than 10000 results" (geth, Infura), "Log response size
  exceeded" (Alchemy), "query exceeds max results 20000, retry with the range 24383075-24383096" (reth)):
  the range the provider suggests ("Try with this block range [0x…, 0x…]", "this block range should
  work: [0x…, 0x…]") is used, else the range is halved;
- a timeout (of the client, or "query timeout exceeded", "context deadline exceeded" from the node): the
  range is halved.

Anything else is not about the range and is raised as it is. :class:`AdaptiveRange` grows the range after
each answer that came back comfortably (doubling, up to its maximum) and shrinks it on a refusal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from link_ops.index.rpc import RpcTimeoutError

RefusalKind = Literal["range", "results", "timeout"]


@dataclass(frozen=True)
class Refusal:
    """Why a node refused an ``eth_getLogs`` range, and what it suggests instead."""

    kind: RefusalKind
    #: The largest block range the node accepts, when it said so.
    max_blocks: int | None = None
    #: The last block of a range the node suggests (from the same first block), when it said so.
    suggested_to: int | None = None


_RANGE_LIMIT = re.compile(
    r"(?:"
    r"(?:up to|limited to)\s+an?\s+(?P<a>\d[\d,]*)[\s-]*blocks?\s+range"  # Alchemy, QuickNode
    r"|exceeds?\s+(?:the\s+)?limit\s+of\s+(?P<b>\d[\d,]*)"  # Infura
    r"|range\s+limit\s+(?:of\s+)?(?P<c>\d[\d,]*)"  # "is bigger than range limit 2000"
    r"|max(?:imum)?\s+block\s+range(?:\s+is)?\s*[:=]?\s*(?P<d>\d[\d,]*)"  # reth, BSC, morph
    r"|\(maximum\s+(?P<e>\d[\d,]*)\)"  # frontier: "block range is too wide (maximum 1024)"
    r"|block\s+range\s+(?:limit|too\s+large)[^\d]{0,20}(?P<f>\d[\d,]*)"
    r")",
    re.IGNORECASE,
)
_RANGE_WORDS = (
    "block range",
    "blocks range",
    "range too large",
    "range is too large",
    "range too wide",
    "range is too wide",
    "range too high",
    "exceeds limit of",
    "range limit",
    "maxblockrange",
    "max block range",
    "maximum block range",
)
_RESULT_WORDS = (
    "more than",
    "too many results",
    "max results",
    "response size",
    "too many logs",
    "log response",
    "results limit",
    "limit exceeded",
    "response too large",
)
_TIMEOUT_WORDS = ("timeout", "timed out", "deadline exceeded", "took too long")
_HEX_PAIR = re.compile(r"\[\s*(0x[0-9a-fA-F]+)\s*,\s*(0x[0-9a-fA-F]+)\s*\]")
_DECIMAL_PAIR = re.compile(r"retry with the range\s+(\d+)\s*-\s*(\d+)", re.IGNORECASE)


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def classify_logs_error(exc: BaseException) -> Refusal | None:
    """What `exc`, raised by an ``eth_getLogs`` request, says about the block range; None when it is about
    something else (then it is a real failure)."""
    text = " ".join(str(part) for part in (exc, getattr(exc, "data", None) or "") if part)
    lowered = text.lower()
    suggested: int | None = None
    if match := _HEX_PAIR.search(text):
        suggested = int(match.group(2), 16)
    elif match := _DECIMAL_PAIR.search(text):
        suggested = int(match.group(2))
    if isinstance(exc, (RpcTimeoutError, TimeoutError)) or any(w in lowered for w in _TIMEOUT_WORDS):
        return Refusal("timeout", suggested_to=suggested)
    limit_match = _RANGE_LIMIT.search(text)
    if limit_match is not None:
        value = next(v for v in limit_match.groupdict().values() if v)
        return Refusal("range", max_blocks=max(1, _number(value)), suggested_to=suggested)
    if any(w in lowered for w in _RESULT_WORDS):
        return Refusal("results", suggested_to=suggested)
    if any(w in lowered for w in _RANGE_WORDS):
        return Refusal("range", suggested_to=suggested)
    return None


class AdaptiveRange:
    """The number of blocks the next ``eth_getLogs`` asks for, between `minimum` and `maximum`.

    After an answer of `logs` logs over `blocks` blocks: when it came back with at most `target_logs`
    logs, the next range doubles (up to `maximum`); with more, it shrinks in proportion, so the next answer
    holds about `target_logs`. After a refusal (:class:`Refusal`) it drops to the node's stated limit or
    suggestion, else to half of what was refused. A range the node limited is never grown past that limit
    again (providers' limits do not move).
    """

    def __init__(self, *, initial: int, minimum: int, maximum: int, target_logs: int) -> None:
        if not 1 <= minimum <= initial <= maximum:
            raise ValueError(f"need 1 <= minimum <= initial <= maximum, got {minimum}, {initial}, {maximum}")
        if target_logs < 1:
            raise ValueError(f"target_logs must be at least 1, got {target_logs}")
        self.minimum = minimum
        self.maximum = maximum
        self.target_logs = target_logs
        self.blocks = initial

    def answered(self, blocks: int, logs: int) -> None:
        """A range of `blocks` blocks came back with `logs` logs."""
        if logs > self.target_logs:
            wanted = max(1, blocks * self.target_logs // logs)
        elif blocks >= self.blocks:
            wanted = self.blocks * 2
        else:
            wanted = self.blocks  # a short range (the head was near): no evidence to grow on
        self.blocks = max(self.minimum, min(self.maximum, wanted))

    def refused(self, blocks: int, refusal: Refusal, first_block: int) -> bool:
        """A range of `blocks` blocks from `first_block` was refused; returns False when it is already at
        the minimum (nothing smaller to try)."""
        if blocks <= self.minimum:
            return False
        wanted = blocks // 2
        if (
            refusal.suggested_to is not None
            and first_block <= refusal.suggested_to < first_block + blocks - 1
        ):
            wanted = refusal.suggested_to - first_block + 1
        if refusal.max_blocks is not None and refusal.max_blocks < blocks:
            wanted = refusal.max_blocks
            self.maximum = max(self.minimum, min(self.maximum, refusal.max_blocks))
        self.blocks = max(self.minimum, min(wanted, blocks - 1))
        return True
