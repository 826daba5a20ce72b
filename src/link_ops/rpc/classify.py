"""What a node's reply means for the pool: the call's answer, or a failure of that node.

Pure: no network access. The rules, in order:

1. **No reply** (connection refused, reset, DNS) is a ``transport`` failure, a reply too slow a ``timeout``.
2. **HTTP 429 and 5xx** are ``http_status`` failures, whatever the body says. Any other status but 200 is
   one too, except a 400 carrying a JSON-RPC error object (some nodes answer invalid params that way),
   which is judged by rule 4.
3. **A body that is not a JSON-RPC reply to our request** (not JSON, no ``result`` nor ``error``, another
   ``id``) is a ``bad_response`` failure.
4. **A JSON-RPC error** is the call's own answer (``rpc_answer``: returned to the caller, never retried on
   another node, since every node would say the same) unless it says that *this node* cannot answer now:
   an error with revert data or a message about a revert is always an answer (code 3, Hardhat's -32603),
   and so is one saying the query is too large (``query returned more than 10000 results``, a block-range
   limit: :data:`QUERY_LIMIT_PHRASES`; the caller asks for less);
   otherwise codes -32005 (limit exceeded), -32603 (internal error), -32002 (resource unavailable),
   -32004 and -32601 (method not supported / not found) and -32000 messages about rate limits, overload,
   timeouts or missing state (``header not found``, ``missing trie node``) are ``rpc_upstream`` failures.
   Everything else (-32602 invalid params, -32000 ``nonce too low``, ``insufficient funds``, …) is an
   answer.

A failure of a read is retried on another upstream. Rate limits, overload and all transport, timeout and
HTTP failures also count against the node's health; missing state and unsupported methods do not (the node
is fine, it only lacks what this call needs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

#: Kinds of failure: the ``kind`` label of ``link_ops_rpc_errors_total`` (with ``rpc_answer``, see Answer).
FailureKind = Literal["transport", "timeout", "http_status", "bad_response", "rpc_upstream"]

#: Methods that change state: sent through exactly one upstream, never retried on another.
SEND_METHODS = frozenset({"eth_sendRawTransaction", "eth_sendTransaction"})
#: Method prefixes that change a node's own state (test chains, admin): one upstream, no retry either.
WRITE_PREFIXES = ("evm_", "anvil_", "hardhat_", "miner_", "admin_", "personal_", "eth_sign", "eth_submit")
#: Methods that create a filter on one node: later calls with its id go to that node.
FILTER_CREATORS = frozenset({"eth_newFilter", "eth_newBlockFilter", "eth_newPendingTransactionFilter"})
#: Methods that use a filter id (their first parameter).
FILTER_USERS = frozenset({"eth_getFilterChanges", "eth_getFilterLogs", "eth_uninstallFilter"})
#: Methods that look up a transaction by hash (their first parameter): after a send they prefer its node.
TX_LOOKUPS = frozenset({"eth_getTransactionReceipt", "eth_getTransactionByHash"})

#: The ``method`` label values of the request counter; anything else is counted as ``other``.
METRIC_METHODS = frozenset(
    {
        "eth_blockNumber",
        "eth_call",
        "eth_chainId",
        "eth_estimateGas",
        "eth_feeHistory",
        "eth_gasPrice",
        "eth_getBalance",
        "eth_getBlockByHash",
        "eth_getBlockByNumber",
        "eth_getCode",
        "eth_getLogs",
        "eth_getStorageAt",
        "eth_getTransactionByHash",
        "eth_getTransactionCount",
        "eth_getTransactionReceipt",
        "eth_maxPriorityFeePerGas",
        "eth_sendRawTransaction",
        "eth_sendTransaction",
        "net_version",
        "web3_clientVersion",
    }
)

#: JSON-RPC codes that say the node cannot answer now (EIP-1474 and JSON-RPC 2.0).
UPSTREAM_CODES = frozenset({-32005, -32603, -32002, -32004, -32601})
#: The subset of :data:`UPSTREAM_CODES` that also counts against the node's health (it is overloaded).
UNHEALTHY_CODES = frozenset({-32005, -32603})
#: Phrases in a -32000 (or other) error message that say the node is overloaded or rate limited.
OVERLOAD_PHRASES = (
    "rate limit",
    "too many requests",
    "limit exceeded",
    "timeout",
    "timed out",
    "overload",
    "busy",
)
#: Phrases that say the query itself is too large for the node's limits (an ``eth_getLogs`` over too many
#: blocks or results): the call's answer, whatever its code (Infura sends -32005), so the caller asks for
#: less; never a failure of the node, or a large query would mark every node unhealthy.
QUERY_LIMIT_PHRASES = (
    "returned more than",
    "block range",
    "blocks range",
    "range limit",
    "range too",
    "range is too",
    "response size",
    "too many results",
    "max results",
    "log response",
    "response too large",
    "exceeds limit of",
)
#: Phrases that say the node lacks the state the call needs (another node may have it).
MISSING_STATE_PHRASES = ("header not found", "missing trie node", "unknown block", "state is not available")


def metric_method(method: str) -> str:
    """`method` when it is one of :data:`METRIC_METHODS`, else ``other`` (a label of bounded size)."""
    return method if method in METRIC_METHODS else "other"


def is_write(method: str) -> bool:
    """Whether `method` changes state, so the pool must never send it to a second upstream."""
    return method in SEND_METHODS or method.startswith(WRITE_PREFIXES)


@dataclass(frozen=True)
class Success:
    """The node answered with a result."""

    result: Any


@dataclass(frozen=True)
class Answer:
    """The node answered with a JSON-RPC error that is the call's own answer (never retried elsewhere)."""

    code: int
    message: str
    data: Any = None


@dataclass(frozen=True)
class Failure:
    """The node did not answer the call: a read moves on to another upstream.

    `unhealthy` says whether it counts against the node's health; `refused` whether the node certainly
    did not take the request (nothing was sent, or it was turned away unread: a send may be tried again).
    `error` keeps a JSON-RPC error (``rpc_upstream``): when no node can answer, the last one is the answer.
    """

    kind: FailureKind
    detail: str
    unhealthy: bool = True
    refused: bool = False
    error: Answer | None = None


Outcome = Success | Answer | Failure


def classify_reply(status: int, body: bytes, request_id: int) -> Outcome:
    """What an HTTP reply (`status`, `body`) to the JSON-RPC request numbered `request_id` means."""
    if status == 429:
        return Failure("http_status", "HTTP 429 (rate limited)", refused=True)
    if status >= 500:
        return Failure("http_status", f"HTTP {status}")
    try:
        reply = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        if status != 200:
            return Failure("http_status", f"HTTP {status}")
        return Failure("bad_response", "the reply is not JSON")
    has_error = isinstance(reply, dict) and isinstance(reply.get("error"), dict)
    if status != 200 and not (status == 400 and has_error):
        return Failure("http_status", f"HTTP {status}")
    if not isinstance(reply, dict) or ("result" not in reply and "error" not in reply):
        return Failure("bad_response", "the reply is not a JSON-RPC response")
    if reply.get("id") not in (request_id, str(request_id)):  # (a few gateways answer ids as strings)
        return Failure("bad_response", f"the reply answers request {reply.get('id')!r}, not {request_id}")
    if "error" in reply:
        return classify_error(reply["error"])
    return Success(reply["result"])


def classify_error(error: Any) -> Answer | Failure:
    """A JSON-RPC error object as the call's :class:`Answer` or this node's :class:`Failure` (see module)."""
    if not isinstance(error, dict):
        return Failure("bad_response", "the reply's error is not a JSON-RPC error object")
    code = error.get("code")
    message = str(error.get("message", ""))
    data = error.get("data")
    if not isinstance(code, int) or isinstance(code, bool):
        return Failure("bad_response", f"the reply's error has no integer code: {message[:100]!r}")
    text = message.lower()
    has_revert_data = isinstance(data, str) and data.startswith("0x") and len(data) > 2
    if code == 3 or has_revert_data or "revert" in text:
        return Answer(code, message, data)
    answer = Answer(code, message, data)
    if any(p in text for p in QUERY_LIMIT_PHRASES):
        return answer
    detail = f"JSON-RPC error {code}: {message[:200]}"
    if any(p in text for p in MISSING_STATE_PHRASES):
        return Failure("rpc_upstream", detail, unhealthy=False, error=answer)
    if code in UPSTREAM_CODES:
        unhealthy, refused = code in UNHEALTHY_CODES, code == -32005
        return Failure("rpc_upstream", detail, unhealthy=unhealthy, refused=refused, error=answer)
    if any(p in text for p in OVERLOAD_PHRASES):
        refused = "limit" in text or "too many" in text
        return Failure("rpc_upstream", detail, refused=refused, error=answer)
    return answer
