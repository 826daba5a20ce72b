"""One hierarchy of errors. Every message says what is wrong and what to do about it."""

from __future__ import annotations


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
