"""Specs of link_ops.partners.validation (onboarding step 1), against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from link_ops.exceptions import ConfigurationError
from link_ops.model.partner_config import PartnerConfig
from link_ops.partners.validation import (
    SUPPORTED_AUTH_METHODS,
    EndpointCheck,
    PartnerValidationError,
    check_endpoints,
    validate_integration,
)

#: How long /slow takes to answer, and the timeout the tests give it: it always times out.
SLOW_S = 1.5
TIMEOUT_S = 0.5


class _Handler(BaseHTTPRequestHandler):
    """/ok answers 200, /fail 503, /slow* 200 after SLOW_S seconds, /moved redirects to /ok, others 404."""

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path.startswith("/slow"):
            time.sleep(SLOW_S)
        status = {"/ok": 200, "/fail": 503, "/moved": 302}.get(path, 200 if path.startswith("/slow") else 404)
        try:
            self.send_response(status)
            if status == 302:
                self.send_header("Location", "/ok")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")
        except OSError:  # the client gave up (timed out) first
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # do not wait for /slow requests still sleeping

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The base URL of a live local HTTP server."""
    httpd = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/health"


def config_with(urls: list[str], auth_method: str = "api_key") -> PartnerConfig:
    config = PartnerConfig.from_mapping(
        {
            "partner_id": "cafe-seoul",
            "name": "Hangang Roasters Seoul",
            "api_endpoints": urls,
            "auth_method": "api_key",
            "services": ["coffee"],
            "benefit_structure": {"discount_bps": {0: 500}},
            "initial_benefits": {"token": "LBC", "amount_per_cube": 10**18},
            "claim_window_days": 30,
        }
    )
    # model_copy skips validation: the way to get a config with an auth method the model would refuse.
    return config if auth_method == "api_key" else config.model_copy(update={"auth_method": auth_method})


# ------------------------------------------------------------------------------------------ check_endpoints


def test_check_endpoints__2xx__is_ok_with_its_status(server: str) -> None:
    [check] = check_endpoints([f"{server}/ok"], timeout=TIMEOUT_S)

    assert check == EndpointCheck(f"{server}/ok", True, 200, check.elapsed_s, None)
    assert 0 <= check.elapsed_s < TIMEOUT_S


def test_check_endpoints__redirect_to_2xx__is_ok(server: str) -> None:
    [check] = check_endpoints([f"{server}/moved"], timeout=TIMEOUT_S)

    assert check.ok and check.status == 200


def test_check_endpoints__503__fails_saying_what_it_answered(server: str) -> None:
    [check] = check_endpoints([f"{server}/fail"], timeout=TIMEOUT_S)

    assert not check.ok
    assert check.status == 503
    assert check.problem is not None and check.problem.startswith("answered 503")


def test_check_endpoints__404__fails(server: str) -> None:
    [check] = check_endpoints([f"{server}/missing"], timeout=TIMEOUT_S)

    assert not check.ok and check.problem is not None and check.problem.startswith("answered 404")


def test_check_endpoints__slower_than_the_timeout__fails_as_timed_out_without_waiting(server: str) -> None:
    [check] = check_endpoints([f"{server}/slow"], timeout=TIMEOUT_S)

    assert not check.ok
    assert check.status is None
    assert check.problem == f"did not answer within {TIMEOUT_S} s"
    assert check.elapsed_s < SLOW_S


def test_check_endpoints__closed_port__fails_as_connection_refused(closed_port_url: str) -> None:
    [check] = check_endpoints([closed_port_url], timeout=TIMEOUT_S)

    assert not check.ok and check.status is None
    assert check.problem is not None and "connection refused" in check.problem


def test_check_endpoints__unresolvable_host__fails_as_dns_failure() -> None:
    host = "link-ops-partner.invalid"  # .invalid never resolves (RFC 2606)
    try:
        socket.getaddrinfo(host, 80)
    except OSError:
        pass
    else:
        pytest.skip("this machine's resolver answers for .invalid names")

    [check] = check_endpoints([f"http://{host}/health"], timeout=2.0)

    assert not check.ok
    assert check.problem is not None and "did not resolve" in check.problem


@pytest.mark.parametrize("url", ["not a url", "ftp://127.0.0.1/health", "http://[::1/health", ""])
def test_check_endpoints__malformed_url__is_a_failed_check_not_an_exception(url: str) -> None:
    [check] = check_endpoints([url], timeout=TIMEOUT_S)

    assert check.url == url
    assert not check.ok and check.status is None
    assert check.problem


def test_check_endpoints__results_follow_the_order_given(server: str, closed_port_url: str) -> None:
    urls = [f"{server}/slow", f"{server}/fail", closed_port_url, f"{server}/ok"]

    checks = check_endpoints(urls, timeout=TIMEOUT_S)

    assert [c.url for c in checks] == urls
    assert [c.ok for c in checks] == [False, False, False, True]


def test_check_endpoints__run_concurrently(server: str) -> None:
    urls = [f"{server}/slow/{n}" for n in range(3)]

    start = time.monotonic()
    checks = check_endpoints(urls, timeout=TIMEOUT_S)
    elapsed = time.monotonic() - start

    assert all(c.problem == f"did not answer within {TIMEOUT_S} s" for c in checks)
    assert elapsed < 1.4  # one after the other they would take at least 3 x 0.5 s


def test_check_endpoints__no_urls__no_checks() -> None:
    assert check_endpoints([]) == []


@pytest.mark.parametrize("timeout", [0, -1.0])
def test_check_endpoints__non_positive_timeout__is_a_configuration_error(timeout: float) -> None:
    with pytest.raises(ConfigurationError, match="timeout must be a positive number"):
        check_endpoints(["http://127.0.0.1/"], timeout=timeout)


# -------------------------------------------------------------------------------------- validate_integration


def test_supported_auth_methods__are_the_four_the_config_accepts() -> None:
    assert SUPPORTED_AUTH_METHODS == ("api_key", "oauth2", "hmac", "mtls")


def test_validate_integration__every_endpoint_answers_2xx__returns_the_checks(server: str) -> None:
    config = config_with([f"{server}/ok", f"{server}/moved"])

    checks = validate_integration(config, timeout=TIMEOUT_S)

    assert [c.url for c in checks] == config.api_endpoints
    assert all(c.ok for c in checks)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("fail", "answered 503"),
        ("slow", f"did not answer within {TIMEOUT_S} s"),
        ("closed", "connection refused"),
    ],
)
def test_validate_integration__one_bad_endpoint__raises_naming_its_url_and_what_happened(
    server: str, closed_port_url: str, kind: str, expected: str
) -> None:
    bad = closed_port_url if kind == "closed" else f"{server}/{kind}"

    with pytest.raises(PartnerValidationError) as caught:
        validate_integration(config_with([f"{server}/ok", bad]), timeout=TIMEOUT_S)

    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(f"{bad}: {expected}")
    assert str(caught.value).splitlines()[1].startswith(f"  {bad}: {expected}")


def test_validate_integration__several_failures__are_all_listed_at_once(
    server: str, closed_port_url: str
) -> None:
    urls = [f"{server}/fail", f"{server}/ok", f"{server}/slow", closed_port_url]

    with pytest.raises(PartnerValidationError) as caught:
        validate_integration(config_with(urls, auth_method="basic"), timeout=TIMEOUT_S)

    error = caught.value
    assert isinstance(error, ConfigurationError) and isinstance(error, ValueError)
    assert [p.split(": ")[0] for p in error.problems] == [
        f"{server}/fail",
        f"{server}/slow",
        closed_port_url,
        "auth_method 'basic' is not supported",
    ]
    assert [c.url for c in error.checks] == urls
    lines = str(error).splitlines()
    assert lines[0] == "partner 'cafe-seoul' failed integration validation (4 problems):"
    assert lines[1:-1] == [f"  {p}" for p in error.problems]
    assert "validate again" in lines[-1]


def test_validate_integration__unsupported_auth_method__raises_naming_the_supported_ones(server: str) -> None:
    with pytest.raises(PartnerValidationError) as caught:
        validate_integration(config_with([f"{server}/ok"], auth_method="basic"), timeout=TIMEOUT_S)

    assert caught.value.problems == [
        "auth_method 'basic' is not supported: use one of api_key, oauth2, hmac, mtls"
    ]
    assert [c.ok for c in caught.value.checks] == [True]
