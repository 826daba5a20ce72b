"""`make compile`'s planner (tools/contracts_build.py): imports read from Solidity, importers of a change
rebuilt, everything rebuilt when the settings change, the record written only after ape succeeded."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from _build import ROOT, contracts_build
from hypothesis import given
from hypothesis import strategies as st

cb = contracts_build


# ---------------------------------------------------------------------------------------------- imports


def test_imported_paths__every_import_form__in_order():
    source = """
pragma solidity 0.8.30;
import "./A.sol";
import "./B.sol" as B;
import * as C from "../C.sol";
import {D, E as F} from '@openzeppelin/contracts/D.sol';
import {
    G,
    H
} from "solady/src/G.sol";
contract X {}
"""
    assert cb.imported_paths(source) == [
        "./A.sol",
        "./B.sol",
        "../C.sol",
        "@openzeppelin/contracts/D.sol",
        "solady/src/G.sol",
    ]


def test_imported_paths__commented_out_imports__are_ignored():
    source = """
// import "./Line.sol";
/* import "./Block.sol";
   import "./Block2.sol"; */
/// @dev see import "./Doc.sol";
import "./Real.sol"; // import "./Trailing.sol";
"""
    assert cb.imported_paths(source) == ["./Real.sol"]


def test_imported_paths__slashes_inside_a_string__do_not_start_a_comment():
    source = 'string constant URI = "ipfs://cubes/"; /* x */\nimport "./After.sol";\n'
    assert cb.imported_paths(source) == ["./After.sol"]


def test_imported_paths__identifiers_containing_import__are_not_imports():
    assert cb.imported_paths("uint256 importance; function reimport() {}\n") == []


def test_strip_comments__keeps_line_numbers_and_strings():
    source = 'a /* one\ntwo */ b // three\n"//not" c'
    stripped = cb.strip_comments(source)
    assert stripped.count("\n") == source.count("\n")
    assert stripped.split() == ["a", "b", '"//not"', "c"]


@given(st.text(alphabet='abc/*"\\\n ;import', max_size=60))
def test_strip_comments__any_text__same_length_and_same_lines(source):
    stripped = cb.strip_comments(source)
    assert len(stripped) == len(source)
    assert [i for i, c in enumerate(stripped) if c == "\n"] == [i for i, c in enumerate(source) if c == "\n"]


def test_resolve__relative_and_root_paths__inside_the_project_only():
    sources = {"contracts/A.sol", "contracts/lib/B.sol"}
    assert cb.resolve("contracts/lib/B.sol", "../A.sol", sources) == "contracts/A.sol"
    assert cb.resolve("contracts/A.sol", "./lib/B.sol", sources) == "contracts/lib/B.sol"
    assert cb.resolve("contracts/A.sol", "contracts/lib/B.sol", sources) == "contracts/lib/B.sol"
    assert cb.resolve("contracts/A.sol", "@openzeppelin/contracts/A.sol", sources) is None
    assert cb.resolve("contracts/A.sol", "./Missing.sol", sources) is None


def test_dependents__closes_over_importers_transitively_and_stops_there():
    graph = {
        "lib": set(),
        "mid": {"lib"},
        "top": {"mid"},
        "factory": {"top"},
        "other": set(),
        "cycle_a": {"cycle_b", "lib"},
        "cycle_b": {"cycle_a"},
    }
    assert cb.dependents(graph, ["lib"]) == {"lib", "mid", "top", "factory", "cycle_a", "cycle_b"}
    assert cb.dependents(graph, ["top"]) == {"top", "factory"}
    assert cb.dependents(graph, ["other"]) == {"other"}
    assert cb.dependents(graph, []) == set()


def test_import_graph__this_project__cube_contract_imports_the_claim_library_and_factory_the_clone():
    graph = cb.import_graph(cb.read_sources(ROOT))
    assert "contracts/libraries/CubeNode.sol" in graph["contracts/OptimizedCubeManagement.sol"]
    assert "contracts/partners/PartnerBenefits.sol" in graph["contracts/partners/PartnerFactory.sol"]
    rebuilt = cb.dependents(graph, ["contracts/libraries/CubeNode.sol"])
    assert rebuilt == {"contracts/libraries/CubeNode.sol", "contracts/OptimizedCubeManagement.sol"}


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


def test_plan__library_changed__recompiles_it_and_every_importer_but_nothing_else(project_dir):
    _built(project_dir)
    (project_dir / "contracts/lib/Lib.sol").write_text("library Lib { uint256 constant X = 2; }\n")
    plan = cb.plan(project_dir)
    assert not plan.everything
    assert plan.changed == ("contracts/lib/Lib.sol",)
    assert plan.sources == ("contracts/Factory.sol", "contracts/Uses.sol", "contracts/lib/Lib.sol")
    assert cb.describe(plan) == (
        "contracts: recompiling 3 sources; changed: contracts/lib/Lib.sol; "
        "importers: contracts/Factory.sol, contracts/Uses.sol"
    )


def test_plan__leaf_changed__recompiles_only_the_leaf(project_dir):
    _built(project_dir)
    (project_dir / "contracts/Factory.sol").write_text('import {Uses} from "./Uses.sol";\ncontract F2 {}\n')
    assert cb.plan(project_dir).sources == ("contracts/Factory.sol",)


def test_plan__source_added__compiles_it(project_dir):
    _built(project_dir)
    _project(project_dir, {"contracts/New.sol": "contract New {}\n"})
    assert cb.plan(project_dir).sources == ("contracts/New.sol",)


def test_plan__imported_source_removed__recompiles_whoever_still_imports_it(project_dir):
    _built(project_dir)
    (project_dir / "contracts/lib/Lib.sol").unlink()
    plan = cb.plan(project_dir)
    assert plan.changed == ("contracts/lib/Lib.sol",)
    assert plan.sources == ("contracts/Factory.sol", "contracts/Uses.sol")


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


def test_build__ape_succeeds__runs_force_on_the_plan_and_records_the_sources(project_dir, tmp_path, capsys):
    _built(project_dir)
    (project_dir / "contracts/Uses.sol").write_text('import "./lib/Lib.sol";\ncontract Uses2 {}\n')
    ape = _fake_ape(tmp_path, 0)
    cb.build(project_dir, ape=ape)
    assert (tmp_path / "ape.log").read_text().split() == [
        "compile",
        "--force",
        "contracts/Factory.sol",
        "contracts/Uses.sol",
    ]
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
