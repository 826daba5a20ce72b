""".ci/run installs Debian's postgresql and chromium when they are missing (as root, or through sudo;
the package lists refreshed only when the install needs them), then runs exactly `make test`. Run here with
stand-ins for id, sudo, apt-get, chromium and make that record what they were asked."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from _ape import ROOT

CI_RUN = ROOT / ".ci" / "run"

# Each stand-in appends its name and arguments (and DEBIAN_FRONTEND) to $CALLS.
STAND_IN = """#!/bin/bash
echo "$(basename "$0") $* [DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-}]" >> "$CALLS"
"""


@pytest.fixture
def machine(tmp_path: Path):
    """A machine of stand-ins: returns run(uid=..., sudo=..., postgres=..., chromium=...,
    install_fails_first=...)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in (
        "bash",
        "basename",
        "chmod",
        "dirname",
        "env",
        "mkdir",
        "touch",
    ):  # and nothing else of the machine's
        real = shutil.which(tool)
        assert real is not None, tool
        (bin_dir / tool).symlink_to(real)
    calls = tmp_path / "calls"
    lib = tmp_path / "postgresql"

    def stand_in(name: str, body: str = "") -> None:
        path = bin_dir / name
        path.write_text(STAND_IN + body)
        path.chmod(0o755)

    def run(
        *, uid: int, sudo: bool, postgres: bool, chromium: bool = True, install_fails_first: bool = False
    ):
        if chromium:
            stand_in("chromium")
        if postgres:
            (lib / "15" / "bin").mkdir(parents=True, exist_ok=True)
            (lib / "15" / "bin" / "initdb").touch()
        stand_in("id", f'[ "$1" = "-u" ] && echo {uid}\n')
        stand_in("make")
        # apt-get "installs" postgresql by creating its initdb; the first install fails when asked.
        stand_in(
            "apt-get",
            f"""fail_first={int(install_fails_first)}
if [ "$1" = install ] && [ $fail_first = 1 ] && ! [ -e "{tmp_path}/updated" ]; then
  exit 100
fi
[ "$1" = update ] && touch "{tmp_path}/updated"
package="${{@: -1}}"
[ "$1" = install ] && [ "$package" = postgresql ] && mkdir -p "{lib}/15/bin" && touch "{lib}/15/bin/initdb"
[ "$1" = install ] && [ "$package" = chromium ] && touch "{bin_dir}/chromium" && chmod +x "{bin_dir}/chromium"
exit 0
""",
        )
        if sudo:
            stand_in("sudo", 'exec "$@"\n')
        env = {
            "PATH": str(bin_dir),
            "CALLS": str(calls),
            "LINK_OPS_POSTGRES_LIB": str(lib),
            "HOME": str(tmp_path),
        }
        done = subprocess.run(
            [str(bin_dir / "bash"), str(CI_RUN)], env=env, capture_output=True, text=True, timeout=120
        )
        logged = calls.read_text().splitlines() if calls.exists() else []
        return done, [line for line in logged if not line.startswith("id ")]

    return run


def test_ci_run__postgresql_installed__only_make_test(machine) -> None:
    done, calls = machine(uid=0, sudo=False, postgres=True)

    assert done.returncode == 0, done.stderr
    assert calls == ["make test [DEBIAN_FRONTEND=]"]


def test_ci_run__missing_as_root__apt_get_installs_it_non_interactively_then_make_test(machine) -> None:
    done, calls = machine(uid=0, sudo=False, postgres=False)

    assert done.returncode == 0, done.stderr
    assert calls == [
        "apt-get install -y -q --no-install-recommends postgresql [DEBIAN_FRONTEND=noninteractive]",
        "make test [DEBIAN_FRONTEND=]",
    ]


def test_ci_run__missing_and_not_root__installs_through_sudo(machine) -> None:
    done, calls = machine(uid=1000, sudo=True, postgres=False)

    assert done.returncode == 0, done.stderr
    assert calls == [
        "sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql "
        "[DEBIAN_FRONTEND=]",
        "apt-get install -y -q --no-install-recommends postgresql [DEBIAN_FRONTEND=noninteractive]",
        "make test [DEBIAN_FRONTEND=]",
    ]


def test_ci_run__install_needs_fresh_package_lists__apt_get_update_then_install(machine) -> None:
    done, calls = machine(uid=0, sudo=False, postgres=False, install_fails_first=True)

    assert done.returncode == 0, done.stderr
    assert calls == [
        "apt-get install -y -q --no-install-recommends postgresql [DEBIAN_FRONTEND=noninteractive]",
        "apt-get update -q [DEBIAN_FRONTEND=noninteractive]",
        "apt-get install -y -q --no-install-recommends postgresql [DEBIAN_FRONTEND=noninteractive]",
        "make test [DEBIAN_FRONTEND=]",
    ]


def test_ci_run__missing_not_root_no_sudo__fails_saying_what_to_install(machine) -> None:
    done, calls = machine(uid=1000, sudo=False, postgres=False)

    assert done.returncode == 1
    assert "install Debian's postgresql package" in done.stderr
    assert calls == []


def test_ci_run__chromium_missing_as_root__apt_get_installs_it_then_make_test(machine) -> None:
    done, calls = machine(uid=0, sudo=False, postgres=True, chromium=False)

    assert done.returncode == 0, done.stderr
    assert calls == [
        "apt-get install -y -q --no-install-recommends chromium [DEBIAN_FRONTEND=noninteractive]",
        "make test [DEBIAN_FRONTEND=]",
    ]
    assert "the watchtower's status page is tested in it" in done.stdout


def test_ci_run__both_missing_through_sudo__postgresql_then_chromium_then_make_test(machine) -> None:
    done, calls = machine(uid=1000, sudo=True, postgres=False, chromium=False)

    assert done.returncode == 0, done.stderr
    assert [c for c in calls if c.startswith(("apt-get", "make"))] == [
        "apt-get install -y -q --no-install-recommends postgresql [DEBIAN_FRONTEND=noninteractive]",
        "apt-get install -y -q --no-install-recommends chromium [DEBIAN_FRONTEND=noninteractive]",
        "make test [DEBIAN_FRONTEND=]",
    ]


def test_ci_run__chromium_missing_not_root_no_sudo__fails_saying_what_to_install(machine) -> None:
    done, calls = machine(uid=1000, sudo=False, postgres=True, chromium=False)

    assert done.returncode == 1
    assert "install Debian's chromium package" in done.stderr
    assert calls == []


def test_ci_run__is_executable() -> None:
    assert os.access(CI_RUN, os.X_OK)
