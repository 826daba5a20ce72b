"""A pytest plugin that gives ``ape test --network polygon:<net>-fork:foundry`` its upstream.

ape connects to ``--network`` right after collection, in a hook that wraps this plugin's
``pytest_collection_finish``, so the upstream is ready before ape's fork starts: ``$POLYGON_RPC_URL`` (or
``$AMOY_RPC_URL``), checked, or else a local stand-in (see
:func:`link_ops.testing.standin.open_fork_session`). The stand-in gets the protocol deployed on it only
when a collected test asks for the ``live`` fixture.
Whatever happens in the session, pass or fail, the stand-in is stopped and its port released when pytest
unconfigures (and, should that never run, at interpreter exit).

Load it with ``pytest_plugins = ["link_ops.testing.pytest_fork"]`` in a conftest, or
``-p link_ops.testing.pytest_fork``.
"""

from __future__ import annotations

import atexit
import os
from pathlib import Path

import pytest

from link_ops.exceptions import UpstreamError
from link_ops.fork import fork_target, upstream_from_env
from link_ops.testing.standin import ForkSession, open_fork_session

#: The fixture that needs the recorded live deployment (tests/fork/conftest.py provides it).
LIVE_FIXTURE = "live"


_SESSION = pytest.StashKey[ForkSession]()


def pytest_sessionstart(session: pytest.Session) -> None:
    # A bad $POLYGON_RPC_URL stops the session here, with one line, before anything is collected.
    target = fork_target(session.config.getoption("network", default=None))
    if target is not None and os.environ.get(target.env_var, "").strip():
        try:
            upstream_from_env(target)
        except UpstreamError as exc:
            raise pytest.UsageError(str(exc)) from None


def pytest_collection_finish(session: pytest.Session) -> None:
    target = fork_target(session.config.getoption("network", default=None))
    if target is None or not session.items:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")

    def say(line: str) -> None:
        if reporter is not None:
            reporter.write_line(f"fork upstream: {line}")

    from ape import project

    deploy = any(LIVE_FIXTURE in getattr(item, "fixturenames", ()) for item in session.items)
    try:
        fork_session = open_fork_session(target, project_path=Path(project.path), deploy=deploy, say=say)
    except UpstreamError as exc:
        raise pytest.UsageError(str(exc)) from None
    atexit.register(fork_session.close)
    session.config.stash[_SESSION] = fork_session


def pytest_unconfigure(config: pytest.Config) -> None:
    fork_session = config.stash.get(_SESSION, None)
    if fork_session is not None:
        fork_session.close()


@pytest.fixture(scope="session")
def fork_session(request: pytest.FixtureRequest) -> ForkSession:
    """The upstream of this fork session; skips the test when the session is not on a polygon fork."""
    fork_session = request.config.stash.get(_SESSION, None)
    if fork_session is None:
        pytest.skip(
            "the fork suite runs on a Polygon fork: `make test-fork`, or "
            "`ape test tests/fork --network polygon:mainnet-fork:foundry`"
        )
    return fork_session
