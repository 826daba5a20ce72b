"""A throwaway PostgreSQL server for tests: a private cluster in a temporary folder, on a free loopback port.

::

    with throwaway_postgres() as url:          # postgresql+psycopg://postgres@127.0.0.1:<port>/link_ops
        with OpsStore(url) as store: ...

:class:`ThrowawayPostgres` runs Debian's ``postgresql`` package (the newest
``/usr/lib/postgresql/<version>/bin``, else ``initdb`` on PATH): ``initdb`` into a temporary folder, then
``postgres`` itself as a child process, listening on 127.0.0.1 and on a unix socket in that folder, with
``fsync`` and the like off (its data dies with it). PostgreSQL refuses to run as root, so when this process
is root the cluster runs as the ``postgres`` user the package creates, and the folder belongs to it.
Readiness is awaited with ``pg_isready`` under a generous deadline. Leaving the block stops the server
(fast shutdown, like ``pg_ctl stop -m fast``), waits until its process is gone and removes the folder, also
when the block raised. Should this process die without that, the server gets SIGINT from the kernel
(``setpriv --pdeathsig``) and shuts down by itself; the next cluster removes the folder it left.

:class:`ExternalPostgres` is the same interface on an existing server, for ``$LINK_OPS_TEST_POSTGRES_URL``.
Imported by tests only (``link_ops.testing.pytest_postgres`` holds the fixtures).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Protocol

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from typing_extensions import Self

from link_ops.exceptions import LinkOpsError

#: Where Debian's postgresql package puts each version's binaries.
DEBIAN_POSTGRES_LIB = Path("/usr/lib/postgresql")

#: Points the tests at an existing server instead of a throwaway cluster: a URL of a database there whose
#: user may CREATE DATABASE (each test gets its own database, dropped afterwards).
TEST_POSTGRES_URL_ENV = "LINK_OPS_TEST_POSTGRES_URL"

#: The cluster's superuser (trust authentication on loopback and the socket: no password).
SUPERUSER = "postgres"

#: The system user a root process runs the cluster as.
SERVER_OS_USER = "postgres"

#: Prefix of the clusters' temporary folders (in the system's temp folder).
FOLDER_PREFIX = "link-ops-pg-"

#: How long the server may take to start or to stop, in seconds: generous, for a loaded machine.
DEADLINE_S = 180.0

_DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

#: Settings for a server whose data need not survive a crash: speed over durability.
SERVER_SETTINGS: dict[str, str] = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "autovacuum": "off",
    "jit": "off",
    "max_connections": "60",
    "shared_buffers": "32MB",
    "max_wal_size": "1GB",
    "checkpoint_timeout": "1h",
    "log_min_messages": "warning",
}


class PostgresNotInstalledError(LinkOpsError):
    """PostgreSQL's server binaries (initdb, postgres) are not on this machine."""


class PostgresServerError(LinkOpsError):
    """The throwaway server did not start, or did not stop, in time."""


class PostgresServer(Protocol):
    """A server on which tests create and drop databases."""

    def create_database(self, name: str, *, icu_locale: str | None = None) -> str:
        """Creates the empty database `name` (collating by the ICU locale `icu_locale` when given) and
        returns its SQLAlchemy URL."""

    def drop_database(self, name: str) -> None:
        """Drops the database `name` (its open connections closed)."""


def postgres_bindir() -> Path:
    """The folder of ``initdb`` and ``postgres``: the newest of Debian's ``/usr/lib/postgresql/<version>``,
    else where ``initdb`` is on PATH. Raises :class:`PostgresNotInstalledError`."""
    versions = []
    for initdb in DEBIAN_POSTGRES_LIB.glob("*/bin/initdb"):
        version = initdb.parent.parent.name
        if version.isdigit() and (initdb.parent / "postgres").is_file():
            versions.append((int(version), initdb.parent))
    if versions:
        return max(versions)[1]
    on_path = shutil.which("initdb")
    if on_path is not None and (Path(on_path).parent / "postgres").is_file():
        return Path(on_path).parent
    raise PostgresNotInstalledError(
        f"PostgreSQL's server is not installed (no {DEBIAN_POSTGRES_LIB}/<version>/bin/initdb, no initdb on "
        "PATH), and the store's tests start a throwaway PostgreSQL: install it with "
        "`sudo apt-get install postgresql` (Debian/Ubuntu; .ci/run does it), or set "
        f"{TEST_POSTGRES_URL_ENV} to a server where you may create databases, or leave the PostgreSQL "
        'tests out with -m "not postgres"'
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def process_alive(pid: int) -> bool:
    """Whether process `pid` exists and is not a zombie (an exited child nobody has reaped yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust kill()
    return stat.rpartition(")")[2].split()[0] != "Z"


def _check_name(name: str) -> str:
    if not _DATABASE_NAME.match(name):
        raise ValueError(f"database names here are [a-z_][a-z0-9_]*, at most 63 characters: got {name!r}")
    return name


def remove_stale_folders() -> list[Path]:
    """Removes the folders of throwaway clusters whose owner process and server are both gone (a test run
    that was killed); returns them. Never touches a folder whose owner or server still runs."""
    removed = []
    for folder in Path(tempfile.gettempdir()).glob(f"{FOLDER_PREFIX}*"):
        pids = []
        for name in ("owner.pid", "data/postmaster.pid"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                pids.append(int((folder / name).read_text().split()[0]))
        if not pids or any(process_alive(pid) for pid in pids):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


class ThrowawayPostgres:
    """A private PostgreSQL cluster for tests (see the module's docstring). :meth:`start` it (or use it as
    a context manager), :meth:`create_database`, then :meth:`stop` it.

    `bindir` defaults to :func:`postgres_bindir`; `deadline_s` bounds starting and stopping.
    """

    def __init__(self, *, bindir: Path | None = None, deadline_s: float = DEADLINE_S) -> None:
        self.bindir = bindir if bindir is not None else postgres_bindir()
        self.deadline_s = deadline_s
        #: The cluster's temporary folder (data/, the socket, postgres.log) while it exists.
        self.folder: Path | None = None
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._run_as: pwd.struct_passwd | None = None

    def __repr__(self) -> str:
        state = f"port {self.port}, pid {self.pid}" if self.running else "stopped"
        return f"{type(self).__name__}({state})"

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def log(self) -> str:
        """The server's log so far (initdb's and postgres')."""
        if self.folder is None or not (self.folder / "postgres.log").is_file():
            return ""
        return (self.folder / "postgres.log").read_text(errors="replace")

    # -- lifecycle

    def start(self) -> Self:
        """initdb, start the server on a free loopback port, and wait until it accepts connections."""
        if self._process is not None:
            raise PostgresServerError("this throwaway PostgreSQL is already started")
        remove_stale_folders()
        if os.geteuid() == 0:
            try:
                self._run_as = pwd.getpwnam(SERVER_OS_USER)
            except KeyError:
                raise PostgresNotInstalledError(
                    f"PostgreSQL refuses to run as root, and there is no {SERVER_OS_USER!r} user to run it "
                    "as: install Debian's postgresql package (it creates that user), or run the tests as "
                    "another user"
                ) from None
        self.folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX))
        try:
            (self.folder / "owner.pid").write_text(f"{os.getpid()}\n")
            if self._run_as is not None:
                os.chown(self.folder, self._run_as.pw_uid, self._run_as.pw_gid)
            self._initdb()
            for _attempt in range(5):
                self.port = _free_port()
                if self._launch():
                    return self
                if "could not bind" not in self.log and "in use" not in self.log:
                    break
            raise PostgresServerError(
                f"PostgreSQL ({self.bindir}) did not start; its log ends:\n{self.log[-2000:]}"
            )
        except BaseException:
            self.stop()
            raise

    def _run(self, argv: list[str]) -> None:
        assert self.folder is not None
        with open(self.folder / "postgres.log", "ab") as log:
            done = subprocess.run(
                argv,
                cwd=self.folder,
                env=self._env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=self.deadline_s,
                check=False,
                user=self._uid,
                group=self._gid,
                extra_groups=self._groups,
            )
        if done.returncode != 0:
            raise PostgresServerError(
                f"{argv[0]} failed ({done.returncode}); its log ends:\n{self.log[-2000:]}"
            )

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C.UTF-8"
        if self._run_as is not None:
            env["HOME"] = self._run_as.pw_dir
            env["USER"] = env["LOGNAME"] = self._run_as.pw_name
        return env

    @property
    def _uid(self) -> int | None:
        return None if self._run_as is None else self._run_as.pw_uid

    @property
    def _gid(self) -> int | None:
        return None if self._run_as is None else self._run_as.pw_gid

    @property
    def _groups(self) -> list[int] | None:
        """No supplementary groups (root's would stay otherwise)."""
        return None if self._run_as is None else []

    def _initdb(self) -> None:
        assert self.folder is not None
        self._run(
            [
                str(self.bindir / "initdb"),
                "--pgdata",
                str(self.folder / "data"),
                "--username",
                SUPERUSER,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--locale",
                "C.UTF-8",
                "--no-sync",
            ]
        )

    def _launch(self) -> bool:
        """Starts postgres on :attr:`port`; True once it accepts connections, False if it exited."""
        assert self.folder is not None and self.port is not None
        settings = {**SERVER_SETTINGS, "port": str(self.port), "unix_socket_directories": str(self.folder)}
        argv = [str(self.bindir / "postgres"), "-D", str(self.folder / "data")]
        for key, value in settings.items():
            argv += ["-c", f"{key}={value}"]
        # The kernel stops the server (fast shutdown) should this process die without stopping it.
        setpriv = shutil.which("setpriv")
        if setpriv is not None:
            argv = [setpriv, "--pdeathsig", "INT", "--", *argv]
        with open(self.folder / "postgres.log", "ab") as log:
            self._process = subprocess.Popen(
                argv,
                cwd=self.folder,
                env=self._env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                user=self._uid,
                group=self._gid,
                extra_groups=self._groups,
            )
        deadline = time.monotonic() + self.deadline_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                return False
            ready = subprocess.run(
                [
                    str(self.bindir / "pg_isready"),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--username",
                    SUPERUSER,
                    "--dbname",
                    "postgres",
                    "--timeout",
                    "10",
                ],
                capture_output=True,
                env=self._env(),
                check=False,
            )
            if ready.returncode == 0:
                return True
            time.sleep(0.1)
        raise PostgresServerError(
            f"PostgreSQL did not accept connections within {self.deadline_s:.0f} s; its log ends:\n"
            f"{self.log[-2000:]}"
        )

    def stop(self) -> None:
        """Fast shutdown (clients disconnected, like ``pg_ctl stop -m fast``), then the folder removed.

        Waits until the server's process is gone; escalates to an immediate shutdown, then SIGKILL, if it
        does not go within the deadline. Safe to call twice, and on a server that never started.
        """
        process, self._process = self._process, None
        try:
            if process is not None and process.poll() is None:
                for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGKILL):
                    with contextlib.suppress(ProcessLookupError):
                        process.send_signal(sig)
                    try:
                        process.wait(timeout=self.deadline_s)
                        break
                    except subprocess.TimeoutExpired:
                        continue
        finally:
            if self.folder is not None:
                shutil.rmtree(self.folder, ignore_errors=True)
                self.folder = None
            self.port = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- databases

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of `database` on this server (psycopg 3, loopback, no password)."""
        if self.port is None:
            raise PostgresServerError("the throwaway PostgreSQL is not running: start() it first")
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{_check_name(database)}"

    def create_database(self, name: str, *, icu_locale: str | None = None) -> str:
        """Creates the empty database `name` and returns its URL; `icu_locale` (e.g. ``und-u-ka-shifted``)
        makes it collate by that ICU locale instead of the cluster's C.UTF-8."""
        _admin_sql(self.url(), _create_database_sql(name, icu_locale))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drops the database `name`, closing its connections first."""
        _admin_sql(self.url(), f'DROP DATABASE IF EXISTS "{_check_name(name)}" WITH (FORCE)')


class ExternalPostgres:
    """An existing server, reached through `url` (a database there whose user may create databases):
    the tests' databases are created beside it and dropped after."""

    def __init__(self, url: str) -> None:
        self._url = make_url(url)
        if self._url.get_backend_name() != "postgresql":
            raise ValueError(f"{TEST_POSTGRES_URL_ENV} must be a postgresql:// URL, got {url!r}")
        if self._url.drivername == "postgresql":
            self._url = self._url.set(drivername="postgresql+psycopg")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._url.render_as_string(hide_password=True)!r})"

    def url(self, database: str) -> str:
        return self._url.set(database=_check_name(database)).render_as_string(hide_password=False)

    def create_database(self, name: str, *, icu_locale: str | None = None) -> str:
        _admin_sql(self._url.render_as_string(hide_password=False), _create_database_sql(name, icu_locale))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        _admin_sql(
            self._url.render_as_string(hide_password=False),
            f'DROP DATABASE IF EXISTS "{_check_name(name)}" WITH (FORCE)',
        )


def _create_database_sql(name: str, icu_locale: str | None) -> str:
    statement = f'CREATE DATABASE "{_check_name(name)}"'
    if icu_locale is None:
        return statement
    if not re.fullmatch(r"[A-Za-z0-9-]+", icu_locale):
        raise ValueError(
            f"an ICU locale is letters, digits and '-', e.g. und-u-ka-shifted: got {icu_locale!r}"
        )
    return f"{statement} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '{icu_locale}' LOCALE 'C.UTF-8'"


def _admin_sql(url: str, statement: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


@contextlib.contextmanager
def throwaway_postgres(database: str = "link_ops") -> Iterator[str]:
    """A throwaway cluster holding the empty database `database`; yields its
    ``postgresql+psycopg://`` URL, and stops the cluster and removes its folder on leaving."""
    with ThrowawayPostgres() as server:
        yield server.create_database(database)


def main() -> None:
    """``python -m link_ops.testing.postgres``: says which PostgreSQL the tests would start, or fails with
    what to install (``make test`` checks this first)."""
    import sys

    if os.environ.get(TEST_POSTGRES_URL_ENV, "").strip():
        print(f"the tests use the server of ${TEST_POSTGRES_URL_ENV}")
        return
    try:
        bindir = postgres_bindir()
    except PostgresNotInstalledError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"the tests start throwaway PostgreSQL clusters from {bindir}")


if __name__ == "__main__":
    main()
