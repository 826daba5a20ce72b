"""Shared worlds: named actors, a deployed protocol, and factories that build on it."""

from __future__ import annotations

from collections.abc import Callable

import _ape_speed
import pytest
from _build import ROOT, contracts_build

from link_ops.cli.network import patient_anvil_start
from link_ops.protocol.deploy import DEFAULT_TIER_RATES, Protocol, deploy_protocol

# `fork_session` and the upstream of `--network polygon:mainnet-fork:foundry` (see tests/fork/); an error
# for any test whose chain changes outlive it (ape's own isolation fails quietly); the store's databases on
# both backends (link_ops.testing.pytest_postgres):
#   db_url       a new, empty database per test, on SQLite and on PostgreSQL (ids [sqlite], [postgresql])
#   ops_store    an OpsStore on db_url
#   sqlite_url, postgres_url   one backend only; postgres_server (session): this worker's PostgreSQL
# PostgreSQL is a throwaway cluster per xdist worker (Debian's postgresql package: `make test` checks for it,
# .ci/run installs it), or the server of $LINK_OPS_TEST_POSTGRES_URL; -m "not postgres" leaves it out.
pytest_plugins = [
    "link_ops.testing.pytest_fork",
    "link_ops.testing.pytest_isolation",
    "link_ops.testing.pytest_postgres",
]


def pytest_configure(config: pytest.Config) -> None:
    # ape's per-call overheads that the suite does not need (see tests/_ape_speed.py).
    _ape_speed.install()
    # The session's anvil may start slowly on a loaded machine: wait for it (as every script does).
    patient_anvil_start()


# The files that take longest, first: `make test` runs two workers, one file per worker at a time, and a
# long file started last would keep one worker busy after the other has finished.
LONGEST_FIRST = (
    "integration/test_stale_build.py",
    "property/test_claims_state_machine.py",
    "integration/test_deploy_bridge_script.py",
    "integration/test_installed_package.py",
    "integration/test_bridge_scripts.py",
    "unit/bridge/test_lbc_bridge.py",
    "integration/test_fork_upstream.py",
    "unit/bridge/test_cube_bridge.py",
    "property/test_bridge_state_machine.py",
    "integration/test_governed_bridge.py",
    "integration/test_govern_script.py",
    "integration/test_isolation_plugin.py",
    "integration/test_demo_and_gas.py",
    "integration/test_governance_setup.py",
    "integration/test_governance_flow.py",
    "unit/test_store_migrations.py",
    "unit/test_store.py",
    "unit/watch/test_watch_store.py",
    "unit/test_sla_store.py",
    "integration/watch/test_watch_script.py",
    "integration/watch/test_webhook_delivery.py",
    "integration/watch/test_watch_http.py",
    "integration/test_rpc_proxy.py",
    "integration/test_rpc_pool.py",
    "integration/index/test_index_kill.py",
    "integration/index/test_index_script.py",
    "integration/watch/test_watch_scenarios.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Puts the :data:`LONGEST_FIRST` files first (each file's tests stay together and in order)."""
    tests = ROOT / "tests"

    def rank(item: pytest.Item) -> int:
        try:
            name = item.path.relative_to(tests).as_posix()
        except ValueError:
            return len(LONGEST_FIRST)
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuses to test yesterday's contracts: ape rebuilds only the files that changed, not the contracts
    that import them, so a session started after such an edit without `make compile` would test stale
    bytecode; and the library deploys the contract types packaged with it, which `make artifacts`
    refreshes. (With no build at all, ape compiles everything itself.)"""
    plan = contracts_build.plan(ROOT)
    if plan.reason == "no build yet":
        return
    if not plan.nothing:
        what = ", ".join(plan.changed) if plan.changed else plan.reason
        raise pytest.UsageError(
            f"the contracts changed since the last `make compile` ({what}) and ape would not rebuild what "
            "imports them: run `make compile` (or `make test`) first"
        )
    # The library deploys the packaged contract types: testing it on stale ones would test yesterday's code.
    if drift := contracts_build.artifact_drift(ROOT):
        raise pytest.UsageError(
            f"the contract types packaged in link_ops differ from the build ({', '.join(drift[:3])}"
            f"{', …' if len(drift) > 3 else ''}): run `make artifacts` and commit them"
        )


@pytest.fixture(scope="session")
def admin(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def alice(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def bob(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def operator(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def stranger(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def protocol(admin) -> Protocol:
    """LBC + cubes with the default rates, wired, not recorded on disk."""
    return deploy_protocol(admin, record=False)


@pytest.fixture(scope="session")
def lbc(protocol):
    return protocol.lbc


@pytest.fixture(scope="session")
def cubes(protocol):
    return protocol.cubes


@pytest.fixture
def mint_cubes(cubes, admin) -> Callable[..., list[int]]:
    """Mints `quantity` cubes of `tier` to `to` and returns their ids."""

    def mint(to, quantity: int = 1, tier: int = 0) -> list[int]:
        first = cubes.totalMinted() + 1
        cubes.mintBatch(to, tier, quantity, sender=admin)
        return list(range(first, first + quantity))

    return mint


@pytest.fixture
def advance(chain) -> Callable[[int], int]:
    """Moves the chain `seconds` forward (mining a block) and returns the new timestamp."""

    def advance(seconds: int) -> int:
        chain.mine(timestamp=chain.pending_timestamp + seconds)
        return int(chain.blocks.head.timestamp)

    return advance


@pytest.fixture(scope="session")
def default_rates() -> tuple[int, ...]:
    return DEFAULT_TIER_RATES


@pytest.fixture(scope="session")
def failing_deployer(accounts):
    """Sends the deployments that are meant to revert, and nothing else.

    ape describes a failed deployment with whatever contract type it last saw at the would-be address; on
    a shared deployer, an earlier (since reverted) test may have put another contract there. This account's
    addresses never hold anything.
    """
    return accounts[9]


@pytest.fixture(scope="module")
def factory(project, admin, cubes):
    """A PartnerFactory of its own for each partner test module."""
    return project.PartnerFactory.deploy(admin, cubes, sender=admin)


@pytest.fixture(scope="module")
def token(project, admin):
    """A mintable ERC-20 for welcome grants (contracts/test/MockERC20.sol)."""
    return project.MockERC20.deploy("Welcome", "WEL", sender=admin)


@pytest.fixture(scope="module")
def partner(accounts):
    """The partner's own account (withdraws what is left after the claim window)."""
    return accounts[5]
