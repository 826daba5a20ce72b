"""`make compile` never leaves a stale contract, and builds the same bytes whatever was edited before: in a
scratch copy of the project, editing a constant of the claim library rebuilds the cube contract, editing
the partner clone rebuilds the factory that embeds its creation code (`new PartnerBenefits`), and undoing
both edits gives back every contract's original bytecode."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _build import ROOT, contracts_build

#: What `make compile` and the suite's start read, besides the toolchain, which is linked from this checkout.
COPIED = (
    "Makefile",
    "ape-config.yaml",
    "package.json",
    "package-lock.json",
    "pyproject.toml",
    "requirements.lock",
    "contracts",
    "tools",
    # what `ape test` checks before it starts
    "tests/conftest.py",
    "tests/_build.py",
    "tests/_ape_speed.py",
    "src/link_ops/contracts/artifacts",
)
LINKED = (".venv", "node_modules", ".solcx")
LIBRARY = "contracts/libraries/CubeNode.sol"
CLONE = "contracts/partners/PartnerBenefits.sol"


def make_compile(root: Path) -> str:
    """`make compile` in `root`, the toolchain (`setup`) taken as it is; fails the test on a non-zero exit."""
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("MAKEFLAGS", None)
    done = subprocess.run(
        ["make", "--no-print-directory", "-o", "setup", "compile"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """A copy of the project, built clean, that shares this checkout's toolchain."""
    missing = [name for name in LINKED if not (ROOT / name).exists()]
    if missing:
        pytest.fail(f"run `make setup` first: {', '.join(missing)} missing")
    root = tmp_path_factory.mktemp("project")
    for name in COPIED:
        source = ROOT / name
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns(".cache"))
        else:
            shutil.copy2(source, root / name)
    for name in LINKED:
        (root / name).symlink_to(ROOT / name)
    # Every build is a clean one (see tools/contracts_build.py), so this checkout's, when current, is what a
    # fresh clone compiles; otherwise the copy builds its own.
    if contracts_build.plan(ROOT).nothing:
        shutil.copytree(ROOT / ".build", root / ".build")
    make_compile(root)
    return root


def test_make_compile__up_to_date__compiles_nothing(scratch):
    assert "contracts: up to date" in make_compile(scratch)


def all_bytecode(root: Path) -> dict[str, str]:
    manifest = json.loads((root / contracts_build.MANIFEST).read_text())
    return {
        name: str(ct.get("deploymentBytecode", {}).get("bytecode", ""))
        for name, ct in manifest["contractTypes"].items()
    }


def test_make_compile__library_constant_and_clone_edited__changes_their_importers_then_undone_restores_all(
    scratch,
):
    original = all_bytecode(scratch)
    library, clone = scratch / LIBRARY, scratch / CLONE
    library_text, clone_text = library.read_text(), clone.read_text()
    assert "uint256 internal constant UNIT = 1e12;" in library_text
    library.write_text(
        library_text.replace(
            "uint256 internal constant UNIT = 1e12;", "uint256 internal constant UNIT = 1e13;"
        )
    )
    body = clone_text.rstrip()
    assert body.endswith("}")
    clone.write_text(
        body[:-1]
        + "    function scratchMarker() external pure returns (uint256) {\n        return 7;\n    }\n}\n"
    )

    output = make_compile(scratch)

    assert "contracts: compiling every source (changed: " + ", ".join([LIBRARY, CLONE]) + ")" in output
    edited = all_bytecode(scratch)
    changed = {name for name in original if original[name] != edited[name]}
    # CubeNode itself: its metadata hash (its source changed); the rest: their code.
    assert changed == {"CubeNode", "OptimizedCubeManagement", "PartnerBenefits", "PartnerFactory"}
    # The factory deploys the new clone implementation, not yesterday's.
    assert edited["PartnerBenefits"].removeprefix("0x") in edited["PartnerFactory"]
    assert original["PartnerBenefits"].removeprefix("0x") not in edited["PartnerFactory"]
    assert "contracts: up to date" in make_compile(scratch)

    library.write_text(library_text)
    clone.write_text(clone_text)
    make_compile(scratch)
    # Byte for byte the build before the edits, metadata hashes included.
    assert all_bytecode(scratch) == original


def ape_test_probe(root: Path) -> subprocess.CompletedProcess[str]:
    """`ape test` of one empty test in `root`, which starts with the project's own tests/conftest.py."""
    (root / "tests" / "test_probe.py").write_text("def test_probe():\n    pass\n")
    env = {**os.environ, "NO_COLOR": "1", "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        [str(Path(sys.executable).with_name("ape")), "test", "tests/test_probe.py", "-p", "no:cacheprovider"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


def refusal(root: Path, path: Path, edit: str, replacement: str) -> str:
    """What `ape test` says when it refuses to start with `edit` in `path` replaced (restored after)."""
    text = path.read_text()
    assert edit in text
    path.write_text(text.replace(edit, replacement, 1))
    try:
        result = ape_test_probe(root)
    finally:
        path.write_text(text)
    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, output
    assert "passed" not in output  # nothing ran
    return output


def test_ape_test__after_an_edit_without_make_compile__refuses_to_start_and_says_to_run_it(scratch):
    source = scratch / "contracts" / "LBCToken.sol"
    output = refusal(scratch, source, "contract LBCToken", "// edited\ncontract LBCToken")
    assert "contracts changed since the last `make compile` (contracts/LBCToken.sol)" in output
    assert "run `make compile` (or `make test`) first" in output


def test_ape_test__packaged_contract_types_differ_from_the_build__refuses_to_start_and_says_to_refresh(
    scratch,
):
    artifact = scratch / contracts_build.PACKAGED / "LBCToken.json"
    output = refusal(scratch, artifact, '"LBCToken"', '"Yesterday"')
    assert "packaged in link_ops differ from the build (LBCToken.json stale)" in output
    assert "run `make artifacts` and commit them" in output
    assert ape_test_probe(scratch).returncode == pytest.ExitCode.OK
