"""Specs of link_ops.testing.postgres: the throwaway PostgreSQL the store's suites run on, started as a
non-root user, and gone (every process, its folder) when it is stopped, when its block raises, and when its
owner is killed."""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from link_ops.store import OpsStore
from link_ops.testing import postgres
from link_ops.testing.postgres import (
    FOLDER_PREFIX,
    SERVER_OS_USER,
    TEST_POSTGRES_URL_ENV,
    ExternalPostgres,
    PostgresNotInstalledError,
    ThrowawayPostgres,
    postgres_bindir,
    process_alive,
    remove_stale_folders,
    throwaway_postgres,
)

DEADLINE_S = 120.0


def _sql(url: str, statement: str) -> object:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(statement)).scalar_one()
    finally:
        engine.dispose()


def _processes_mentioning(fragment: str) -> list[int]:
    """Every live process whose command line contains `fragment` (the server and its children name the
    data folder, or are named after the port)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if fragment in cmdline and process_alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while process_alive(pid):
        assert time.monotonic() < deadline, f"process {pid} is still running"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def cluster() -> Iterator[ThrowawayPostgres]:
    with ThrowawayPostgres() as server:
        yield server


@pytest.mark.postgres
def test_cluster__runs_as_a_non_root_user_on_loopback_with_durability_off(cluster: ThrowawayPostgres) -> None:
    assert cluster.pid is not None and cluster.running
    uid = int(Path(f"/proc/{cluster.pid}/status").read_text().split("Uid:")[1].split()[0])
    expected = pwd.getpwnam(SERVER_OS_USER).pw_uid if os.geteuid() == 0 else os.geteuid()
    assert uid == expected and uid != 0
    url = cluster.url()
    assert make_url(url).host == "127.0.0.1" and make_url(url).port == cluster.port
    assert _sql(url, "SHOW listen_addresses") == "127.0.0.1"
    assert _sql(url, "SHOW fsync") == "off"
    assert _sql(url, "SELECT current_user") == "postgres"


@pytest.mark.postgres
def test_cluster__create_database__an_empty_database_the_store_migrates(cluster: ThrowawayPostgres) -> None:
    url = cluster.create_database("store_probe")
    try:
        assert make_url(url).database == "store_probe"
        with OpsStore(url) as store:
            assert store.relayer.list_messages() == []
    finally:
        cluster.drop_database("store_probe")
    assert _sql(cluster.url(), "SELECT count(*) FROM pg_database WHERE datname = 'store_probe'") == 0


@pytest.mark.postgres
def test_external_postgres__creates_and_drops_databases_beside_its_url(cluster: ThrowawayPostgres) -> None:
    external = ExternalPostgres(cluster.url().replace("postgresql+psycopg://", "postgresql://"))

    url = external.create_database("external_probe")
    try:
        assert make_url(url).drivername == "postgresql+psycopg"
        assert _sql(url, "SELECT current_database()") == "external_probe"
    finally:
        external.drop_database("external_probe")
    assert _sql(cluster.url(), "SELECT count(*) FROM pg_database WHERE datname = 'external_probe'") == 0


def test_external_postgres__not_a_postgresql_url__refused() -> None:
    with pytest.raises(ValueError, match=f"{TEST_POSTGRES_URL_ENV} must be a postgresql:// URL"):
        ExternalPostgres("sqlite:///ops.db")


@pytest.mark.postgres
@pytest.mark.parametrize("name", ["Upper", "drop table x;", "", "9starts_with_a_digit"])
def test_cluster__bad_database_name__refused_before_any_sql(cluster: ThrowawayPostgres, name: str) -> None:
    with pytest.raises(ValueError, match="database names here are"):
        cluster.create_database(name)


@pytest.mark.postgres
def test_stop__server_process_and_its_backends_are_gone_and_the_folder_removed() -> None:
    server = ThrowawayPostgres().start()
    pid, folder, port = server.pid, server.folder, server.port
    assert pid is not None and folder is not None and folder.name.startswith(FOLDER_PREFIX)
    engine = create_engine(server.url())
    connection = engine.connect()  # a client still connected: fast shutdown disconnects it
    backend = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    assert _processes_mentioning(str(folder)) == [pid]

    server.stop()

    connection.invalidate()
    engine.dispose()
    assert not process_alive(pid) and not process_alive(backend)
    assert _processes_mentioning(str(folder)) == []
    assert not folder.exists()
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=10):
        pass
    server.stop()  # twice: nothing to do


@pytest.mark.postgres
def test_throwaway_postgres__block_raises__server_stopped_all_the_same() -> None:
    seen: dict[str, object] = {}

    with pytest.raises(RuntimeError, match="the test failed"), throwaway_postgres("probe") as url:
        seen["url"] = url
        seen["backend"] = _sql(url, "SELECT pg_backend_pid()")
        seen["database"] = _sql(url, "SELECT current_database()")
        raise RuntimeError("the test failed")

    assert seen["database"] == "probe"
    port = make_url(str(seen["url"])).port
    assert port is not None
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=10):
        pass


OWNER = """
import sys, time
from link_ops.testing.postgres import ThrowawayPostgres
server = ThrowawayPostgres().start()
print(server.pid, server.folder, flush=True)
time.sleep(3600)
"""


@pytest.mark.postgres
def test_owner_killed__server_shuts_itself_down_and_the_next_cluster_removes_its_folder() -> None:
    if postgres.shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed: the server cannot be tied to its owner")
    owner = subprocess.Popen([sys.executable, "-c", OWNER], stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None
        line = owner.stdout.readline().split()
        assert len(line) == 2, line
        pid, folder = int(line[0]), Path(line[1])
        assert process_alive(pid)
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=DEADLINE_S)

    _wait_gone(pid)
    assert _processes_mentioning(str(folder)) == []
    assert folder in remove_stale_folders()
    assert not folder.exists()


def test_remove_stale_folders__leaves_a_folder_whose_owner_runs(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(postgres.tempfile, "gettempdir", lambda: str(tmp_path))
    mine = tmp_path / f"{FOLDER_PREFIX}mine"
    mine.mkdir()
    (mine / "owner.pid").write_text(f"{os.getpid()}\n")
    gone = tmp_path / f"{FOLDER_PREFIX}gone"
    gone.mkdir()
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    (gone / "owner.pid").write_text(finished.stdout)
    other = tmp_path / "someone-elses"
    other.mkdir()

    assert remove_stale_folders() == [gone]

    assert mine.is_dir() and other.is_dir() and not gone.exists()


def test_postgres_bindir__newest_debian_version_by_number(tmp_path: Path, monkeypatch) -> None:
    for version in ("9", "13", "15"):
        bindir = tmp_path / version / "bin"
        bindir.mkdir(parents=True)
        (bindir / "initdb").touch()
        (bindir / "postgres").touch()
    monkeypatch.setattr(postgres, "DEBIAN_POSTGRES_LIB", tmp_path)

    assert postgres_bindir() == tmp_path / "15" / "bin"


def test_postgres_bindir__not_installed__says_how_to_install_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(postgres, "DEBIAN_POSTGRES_LIB", tmp_path / "nothing")
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(PostgresNotInstalledError) as missing:
        postgres_bindir()

    message = str(missing.value)
    assert "apt-get install postgresql" in message and ".ci/run" in message
    assert TEST_POSTGRES_URL_ENV in message and 'not postgres"' in message


def test_python_m_link_ops_testing_postgres__fails_with_the_install_hint_when_missing(tmp_path: Path) -> None:
    probe = (
        "import sys; from pathlib import Path; from link_ops.testing import postgres; "
        f"postgres.DEBIAN_POSTGRES_LIB = Path({str(tmp_path)!r}); postgres.main()"
    )
    env = {k: v for k, v in os.environ.items() if k != TEST_POSTGRES_URL_ENV}
    env["PATH"] = str(tmp_path)

    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=DEADLINE_S
    )

    assert done.returncode == 1
    assert "apt-get install postgresql" in done.stderr
