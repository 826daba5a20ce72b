"""`make compile` never leaves a stale contract: in a scratch copy of the project, editing a constant of the
claim library rebuilds the cube contract, and editing the partner clone rebuilds the factory that embeds
its creation code (`new PartnerBenefits`), while an unrelated contract is left alone."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from _build import ROOT, contracts_build

#: What `make compile` reads besides the toolchain, which is linked from this checkout.
COPIED = (
    "Makefile",
    "ape-config.yaml",
    "package.json",
    "package-lock.json",
    "pyproject.toml",
    "requirements.lock",
    "contracts",
    "tools",
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


def bytecode(root: Path, name: str) -> str:
    manifest = json.loads((root / contracts_build.MANIFEST).read_text())
    return str(manifest["contractTypes"][name]["deploymentBytecode"]["bytecode"])


def fingerprint(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()[:12]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """A copy of the project that shares this checkout's toolchain and starts from its build, if any."""
    missing = [name for name in LINKED if not (ROOT / name).exists()]
    if missing:
        pytest.fail(f"run `make setup` first: {', '.join(missing)} missing")
    root = tmp_path_factory.mktemp("project")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns(".cache"))
        else:
            shutil.copy2(source, root / name)
    for name in LINKED:
        (root / name).symlink_to(ROOT / name)
    if (ROOT / ".build").is_dir():
        shutil.copytree(ROOT / ".build", root / ".build")
    make_compile(root)  # whatever the copied build lacked; afterwards the copy is up to date
    return root


def test_make_compile__up_to_date__compiles_nothing(scratch):
    assert "contracts: up to date" in make_compile(scratch)


def test_make_compile__library_constant_and_clone_edited__rebuilds_exactly_their_importers(scratch):
    before = {
        name: bytecode(scratch, name)
        for name in ("OptimizedCubeManagement", "PartnerBenefits", "PartnerFactory", "LBCToken", "CubeLens")
    }

    library = scratch / LIBRARY
    text = library.read_text()
    assert "uint256 internal constant UNIT = 1e12;" in text
    library.write_text(
        text.replace("uint256 internal constant UNIT = 1e12;", "uint256 internal constant UNIT = 1e13;")
    )
    clone = scratch / CLONE
    text = clone.read_text().rstrip()
    assert text.endswith("}")
    clone.write_text(
        text[:-1] + "    function scratchMarker() external pure returns (uint256) {\n"
        "        return 7;\n    }\n}\n"
    )

    output = make_compile(scratch)

    assert (
        "contracts: recompiling 4 sources; changed: contracts/libraries/CubeNode.sol, "
        "contracts/partners/PartnerBenefits.sol; importers: contracts/OptimizedCubeManagement.sol, "
        "contracts/partners/PartnerFactory.sol"
    ) in output
    after = {name: bytecode(scratch, name) for name in before}
    changed = {name for name in before if fingerprint(before[name]) != fingerprint(after[name])}
    assert changed == {"OptimizedCubeManagement", "PartnerBenefits", "PartnerFactory"}
    # The factory deploys the new clone implementation, not yesterday's.
    assert after["PartnerBenefits"].removeprefix("0x") in after["PartnerFactory"]
    assert before["PartnerBenefits"].removeprefix("0x") not in after["PartnerFactory"]
    assert "contracts: up to date" in make_compile(scratch)
