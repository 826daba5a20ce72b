"""Onboarding step 1: checking a partner's technical integration before anything touches a chain.

:func:`validate_integration` GETs every API endpoint of a
:class:`~link_ops.model.partner_config.PartnerConfig` at once and checks its auth method; it reports every
problem together, so a partner fixes them in one round.
No ape: the only network traffic is the HTTP checks.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import get_args

import requests
from urllib3.exceptions import NameResolutionError

from link_ops.exceptions import ConfigurationError
from link_ops.model.partner_config import AuthMethod, PartnerConfig

#: Auth methods link-ops can set up for an integration.
SUPPORTED_AUTH_METHODS: tuple[str, ...] = get_args(AuthMethod)


#: Most endpoints checked at the same time.
MAX_PARALLEL_CHECKS = 16


USER_AGENT = "link-ops-partner-validation"


@dataclass(frozen=True)
class EndpointCheck:
    """The outcome of GETting one endpoint."""

    url: str
    #: True only for a 2xx answer within the timeout.
    ok: bool
    #: The HTTP status of the answer; None when there was none.
    status: int | None
    #: Seconds from the request to the answer (or to the failure).
    elapsed_s: float
    #: What went wrong, for people; None when ok.
    problem: str | None


class PartnerValidationError(ConfigurationError):
    """A partner's integration failed step 1: ``problems`` lists each, ``checks`` holds every endpoint's."""

    def __init__(self, partner_id: str, problems: Sequence[str], checks: Sequence[EndpointCheck]) -> None:
        self.partner_id = partner_id
        self.problems = list(problems)
        self.checks = list(checks)
        count = "1 problem" if len(self.problems) == 1 else f"{len(self.problems)} problems"
        lines = [
            f"partner {partner_id!r} failed integration validation ({count}):",
            *(f"  {p}" for p in self.problems),
            "Nothing was deployed. Have the partner fix its endpoints (or fix the config's api_endpoints and "
            "auth_method), then validate again.",
        ]
        super().__init__("\n".join(lines))


def check_endpoints(urls: Sequence[str], timeout: float = 10.0) -> list[EndpointCheck]:
    """GETs every URL concurrently; one check per URL, in the order given.

    An endpoint passes only when it answers 2xx within `timeout` seconds (redirects followed, body not
    read). A bad endpoint never raises: its check says what happened.
    """
    if timeout <= 0:
        raise ConfigurationError(f"timeout must be a positive number of seconds, got {timeout}")
    if not urls:
        return []
    with ThreadPoolExecutor(max_workers=min(len(urls), MAX_PARALLEL_CHECKS)) as pool:
        return list(pool.map(lambda url: _check(url, timeout), urls))


def validate_integration(config: PartnerConfig, timeout: float = 10.0) -> list[EndpointCheck]:
    """Onboarding step 1: every endpoint of `config` answers and its auth method is supported.

    Returns the endpoint checks. Raises :class:`PartnerValidationError` listing every problem (one line per
    failed endpoint with its URL, and the auth method when unsupported).
    """
    checks = check_endpoints(config.api_endpoints, timeout)
    problems = [f"{check.url}: {check.problem}" for check in checks if not check.ok]
    if config.auth_method not in SUPPORTED_AUTH_METHODS:
        supported = ", ".join(SUPPORTED_AUTH_METHODS)
        problems.append(f"auth_method {config.auth_method!r} is not supported: use one of {supported}")
    if problems:
        raise PartnerValidationError(config.partner_id, problems, checks)
    return checks


def _check(url: str, timeout: float) -> EndpointCheck:
    start = time.monotonic()

    def failed(problem: str, status: int | None = None) -> EndpointCheck:
        return EndpointCheck(url, False, status, time.monotonic() - start, problem)

    try:
        # stream=True: only the status line and headers are awaited; the body is never downloaded.
        with requests.get(url, timeout=timeout, stream=True, headers={"User-Agent": USER_AGENT}) as response:
            status = response.status_code
            reason = response.reason
    except requests.Timeout:
        return failed(f"did not answer within {_seconds(timeout)} s")
    except requests.ConnectionError as exc:
        return failed(_connection_problem(exc))
    except (
        requests.exceptions.InvalidURL,
        requests.exceptions.MissingSchema,
        requests.exceptions.InvalidSchema,
    ) as exc:
        return failed(f"is not a valid http(s) URL ({exc})")
    except (requests.RequestException, OSError, ValueError) as exc:
        return failed(f"could not be requested ({exc.__class__.__name__}: {exc})")
    elapsed = time.monotonic() - start
    if elapsed > timeout:
        # requests times the connection and each read separately; the check holds to one overall limit.
        return failed(f"did not answer within {_seconds(timeout)} s (took {elapsed:.1f} s)", status)
    if not 200 <= status < 300:
        return failed(f"answered {status}" + (f" {reason}" if reason else ""), status)
    return EndpointCheck(url, True, status, elapsed, None)


def _connection_problem(exc: BaseException) -> str:
    """Why a connection failed, told from the exceptions chained inside requests' ConnectionError."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    causes: list[BaseException] = []
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        causes.append(current)
        reason = getattr(current, "reason", None)
        todo.extend(
            [current.__cause__, current.__context__, reason if isinstance(reason, BaseException) else None]
        )
        todo.extend(arg for arg in current.args if isinstance(arg, BaseException))
    if any(isinstance(c, (NameResolutionError, socket.gaierror)) for c in causes):
        return "host name did not resolve (DNS failure)"
    if any(isinstance(c, ConnectionRefusedError) for c in causes) or "refused" in str(exc).lower():
        return "connection refused (nothing listens there)"
    if any(isinstance(c, requests.exceptions.SSLError) for c in causes):
        return f"TLS handshake failed ({exc})"
    return f"could not connect ({exc})"


def _seconds(value: float) -> str:
    """`value` for messages: 2.0 -> "2.0", 0.25 -> "0.25"."""
    return f"{value:.1f}" if round(value, 1) == value else f"{value:g}"
