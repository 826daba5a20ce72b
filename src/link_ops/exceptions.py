"""One hierarchy of errors. Every message says what is wrong and what to do about it."""

from __future__ import annotations

from typing import Any


class LinkOpsError(Exception):
    """Base of every error raised by link_ops."""


class ConfigurationError(LinkOpsError, ValueError):
    """An argument or configuration value is invalid; nothing was sent to any chain."""


class MissingAccountError(ConfigurationError):
    """No account to sign with was given."""


class WrongChainError(LinkOpsError):
    """The connected chain is not the one the operation or its records expect."""


class DeploymentRecordError(LinkOpsError):
    """A deployment record is unreadable, or does not match what is on chain."""


class RecordedContractMissingError(DeploymentRecordError):
    """A deployment record names an address that holds no contract code."""


class UpstreamError(ConfigurationError):
    """A fork's upstream RPC URL is missing, unreachable, or serves another chain."""


class UnsupportedChainError(ConfigurationError):
    """A chain key or id that link-ops does not know.

    ``str()`` is exactly ``Unsupported chain: <chain>`` (the wording is part of the interface); what to do
    instead is in :attr:`hint`, and the keys that would work are in :attr:`supported`.
    """

    def __init__(self, chain: object, supported: tuple[str, ...] = ()) -> None:
        super().__init__(f"Unsupported chain: {chain}")
        self.chain = chain
        self.supported = supported

    @property
    def hint(self) -> str:
        if not self.supported:
            return "use a chain link-ops knows (see link_ops.model.chains.CHAINS)"
        return f"use one of: {', '.join(self.supported)}"


class StandInError(ConfigurationError):
    """A local stand-in chain is not running, or cannot start beside what this process is connected to."""


class GovernanceError(LinkOpsError):
    """A governance step (Safe, timelock) cannot go ahead as asked; nothing was sent."""


class SafeError(GovernanceError):
    """No usable Safe: none at the address, no Safe contracts on the chain, or a bad owner set."""


class SignatureError(GovernanceError):
    """The Safe owners' signatures do not authorise the transaction: too few, a non-owner, a bad one."""


class OperationStateError(GovernanceError):
    """A timelock operation is not in the state the step needs (unknown, not ready yet, done, cancelled)."""


class OperationNotReadyError(OperationStateError):
    """A timelock operation's delay has not passed: :attr:`eta` is when it may execute, in
    :attr:`wait_seconds` (chain time)."""

    def __init__(self, message: str, *, eta: int, wait_seconds: int) -> None:
        super().__init__(message)
        self.eta = eta
        self.wait_seconds = wait_seconds


class RoleError(GovernanceError):
    """An account lacks the role a step needs, or one that should hold none still does."""


class SimulationError(GovernanceError):
    """The transaction would revert: the simulation before sending (or the dry run) says why."""


class RpcConfigurationError(ConfigurationError):
    """The RPC pool's URLs or settings are invalid (a bad or repeated URL, a local chain, a bad interval)."""


class RpcPoolError(LinkOpsError):
    """A request through the RPC pool (:mod:`link_ops.rpc`) did not get an answer."""


class RpcError(RpcPoolError):
    """A JSON-RPC error that is the call's own answer (a revert, invalid params, nonce too low, …).

    It was given by :attr:`upstream` and is never retried on another node: every node would say the same.
    :attr:`code`, :attr:`rpc_message` and :attr:`data` are the node's error object, unchanged.
    """

    def __init__(
        self, method: str, code: int, message: str, data: object = None, *, upstream: str = ""
    ) -> None:
        where = f" (from {upstream})" if upstream else ""
        super().__init__(f"{method} answered JSON-RPC error {code}: {message}{where}")
        self.method = method
        self.code = code
        self.rpc_message = message
        self.data = data
        self.upstream = upstream

    def as_error_object(self) -> dict[str, object]:
        """The JSON-RPC error object (``{"code", "message", "data"?}``) as the node gave it."""
        error: dict[str, object] = {"code": self.code, "message": self.rpc_message}
        if self.data is not None:
            error["data"] = self.data
        return error


class RpcUnavailableError(RpcPoolError):
    """Every upstream the pool tried for a read failed (transport errors, timeouts, HTTP 429/5xx)."""


class NoHealthyUpstreamError(RpcUnavailableError):
    """No upstream may be used now: each is unhealthy, lagging, of the wrong chain or not yet checked."""


class PinnedUpstreamError(RpcPoolError):
    """The upstream a pinned operation (``pool.pinned()``) is bound to failed: nothing was retried
    elsewhere. Nothing was sent either, so run the whole operation again (it pins a healthy upstream)."""


class SendError(RpcPoolError):
    """A transaction could not be handed to a node through the pool (never retried on another one)."""

    def __init__(self, message: str, *, upstream: str, tx_hash: str | None) -> None:
        super().__init__(message)
        self.upstream = upstream
        self.tx_hash = tx_hash


class TransactionNotSentError(SendError):
    """The node refused the transaction before taking it (no connection, HTTP 429, rate limited): it was
    not sent, and sending it again is safe."""


class AmbiguousSendError(SendError):
    """The transaction reached a node but no answer came back (a timeout, a dropped connection, HTTP 5xx):
    it may be in that node's pool. :attr:`tx_hash` says what to look up before sending anything else."""


def validation_problems(exc: Any, *, root: str = "settings", with_input: bool = False) -> list[str]:
    """Each error of a pydantic ``ValidationError`` `exc` as ``path.to.field: what is wrong`` (the field's
    path, or `root` for the whole), pydantic's "Value error, " prefix dropped, and with `with_input` the
    value given (``(got 2)``): what a settings model's ``build`` joins into its one error."""
    problems = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or root
        text = f"{where}: {str(error['msg']).removeprefix('Value error, ')}"
        problems.append(f"{text} (got {error.get('input')!r})" if with_input else text)
    return problems
