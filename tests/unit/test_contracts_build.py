"""`make compile`'s planner (tools/contracts_build.py): any changed, added or removed source, or changed
build settings, compile everything again; nothing changed, nothing runs; the record of what was built is
written only after ape succeeded."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from _build import contracts_build

cb = contracts_build


# ------------------------------------------------------------------------------------------------- plan


def _project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def project_dir(tmp_path) -> Path:
    return _project(
        tmp_path,
        {
            "ape-config.yaml": "name: scratch\ncontracts_folder: contracts\n",
            "package-lock.json": "{}\n",
            "contracts/lib/Lib.sol": "library Lib {}\n",
            "contracts/Uses.sol": 'import {Lib} from "./lib/Lib.sol";\ncontract Uses {}\n',
            "contracts/Factory.sol": 'import {Uses} from "./Uses.sol";\ncontract Factory {}\n',
            "contracts/Alone.sol": "contract Alone {}\n",
            "contracts/.cache/dep/Ignored.sol": "contract Ignored {}\n",
        },
    )


def _built(root: Path) -> None:
    """As after a successful build: a manifest and the record of the current sources."""
    (root / ".build").mkdir(exist_ok=True)
    (root / cb.MANIFEST).write_text("{}")
    cb.write_record(root, cb.read_sources(root))


def test_read_sources__skips_apes_dependency_cache(project_dir):
    assert sorted(cb.read_sources(project_dir)) == [
        "contracts/Alone.sol",
        "contracts/Factory.sol",
        "contracts/Uses.sol",
        "contracts/lib/Lib.sol",
    ]


def test_plan__no_build_yet__compiles_everything(project_dir):
    plan = cb.plan(project_dir)
    assert plan.everything and plan.reason == "no build yet"


def test_plan__build_without_record__compiles_everything(project_dir):
    (project_dir / ".build").mkdir()
    (project_dir / cb.MANIFEST).write_text("{}")
    assert cb.plan(project_dir).everything


def test_plan__unreadable_record__compiles_everything(project_dir):
    _built(project_dir)
    (project_dir / cb.RECORD).write_text('{"settings": ')
    assert cb.plan(project_dir).everything


def test_plan__nothing_changed__compiles_nothing(project_dir):
    _built(project_dir)
    plan = cb.plan(project_dir)
    assert plan.nothing and cb.describe(plan) == "contracts: up to date"


def test_plan__library_changed__compiles_everything_naming_the_change(project_dir):
    _built(project_dir)
    (project_dir / "contracts/lib/Lib.sol").write_text("library Lib { uint256 constant X = 2; }\n")
    plan = cb.plan(project_dir)
    assert plan.everything and plan.changed == ("contracts/lib/Lib.sol",)
    assert cb.describe(plan) == "contracts: compiling every source (changed: contracts/lib/Lib.sol)"


def test_plan__whitespace_only_change__still_counts(project_dir):
    _built(project_dir)
    path = project_dir / "contracts/Alone.sol"
    path.write_text(path.read_text() + "\n")
    assert cb.plan(project_dir).changed == ("contracts/Alone.sol",)


def test_plan__source_added__compiles_everything(project_dir):
    _built(project_dir)
    _project(project_dir, {"contracts/New.sol": "contract New {}\n"})
    assert cb.plan(project_dir).changed == ("contracts/New.sol",)


def test_plan__source_removed__compiles_everything(project_dir):
    _built(project_dir)
    (project_dir / "contracts/lib/Lib.sol").unlink()
    plan = cb.plan(project_dir)
    assert plan.everything and plan.changed == ("contracts/lib/Lib.sol",)


def test_plan__dependency_cache_changed__is_not_a_source_change(project_dir):
    _built(project_dir)
    (project_dir / "contracts/.cache/dep/Ignored.sol").write_text("contract Other {}\n")
    assert cb.plan(project_dir).nothing


@pytest.mark.parametrize("settings_file", cb.SETTINGS_FILES)
def test_plan__compiler_settings_or_versions_changed__compiles_everything(project_dir, settings_file):
    _built(project_dir)
    path = project_dir / settings_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text((path.read_text() if path.is_file() else "") + "\n# changed\n")
    plan = cb.plan(project_dir)
    assert plan.everything and settings_file in plan.reason


# ------------------------------------------------------------------------------------------------ build


def _fake_ape(tmp_path: Path, exit_code: int) -> str:
    """An `ape` stand-in that logs its arguments and exits with `exit_code`."""
    script = tmp_path / "bin" / "ape"
    script.parent.mkdir()
    script.write_text(f'#!/bin/sh\necho "$@" >> "{tmp_path}/ape.log"\nexit {exit_code}\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_build__ape_succeeds__forces_every_source_and_records_them(project_dir, tmp_path, capsys):
    _built(project_dir)
    (project_dir / "contracts/Uses.sol").write_text('import "./lib/Lib.sol";\ncontract Uses2 {}\n')
    cb.build(project_dir, ape=_fake_ape(tmp_path, 0))
    assert (tmp_path / "ape.log").read_text().split() == ["compile", "--force"]
    assert not (project_dir / "contracts" / ".cache").exists()
    assert cb.plan(project_dir).nothing
    assert "changed: contracts/Uses.sol" in capsys.readouterr().out


def test_build__ape_fails__keeps_the_old_record_so_the_next_run_compiles_the_same(project_dir, tmp_path):
    _built(project_dir)
    before = (project_dir / cb.RECORD).read_text()
    (project_dir / "contracts/lib/Lib.sol").write_text("library Lib { error Broken( }\n")
    with pytest.raises(SystemExit, match=r"ape compile failed \(exit 1\); fix the error above"):
        cb.build(project_dir, ape=_fake_ape(tmp_path, 1))
    assert (project_dir / cb.RECORD).read_text() == before
    assert cb.plan(project_dir).changed == ("contracts/lib/Lib.sol",)


def test_build__nothing_changed__does_not_run_ape(project_dir, tmp_path):
    _built(project_dir)
    cb.build(project_dir, ape=_fake_ape(tmp_path, 0))
    assert not (tmp_path / "ape.log").exists()


def test_write_record__leaves_no_temporary_files_and_is_json(project_dir):
    _built(project_dir)
    record = json.loads((project_dir / cb.RECORD).read_text())
    assert set(record) == {"settings", "sources"} and len(record["sources"]) == 4
    assert [p.name for p in (project_dir / ".build").iterdir() if p.name.startswith(".")] == []
    assert os.access(project_dir / cb.RECORD, os.R_OK)
