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
