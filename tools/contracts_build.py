"""`make compile`: rebuild every contract when any source changed, not only the file that changed.

ape 0.8 decides per file: a contract whose imported library changed keeps its old bytecode in `.build/`
(and a factory that does `new X` keeps the old `X`), and only `ape compile --force` rebuilds it. Forcing
just the changed files and their importers is not enough either: ape-solidity gives each compilation only
the remappings its own files use, and those are part of the metadata hash at the end of every contract's
bytecode, so a partial rebuild yields bytecode that differs from a clean build's (and would not verify
against it). So this tool keeps its own record of what the last successful build compiled,
`.build/link-ops-sources.json` (the SHA-256 of every project source, and of what decides the output of
all of them: `ape-config.yaml`, the npm lock that pins the compiler and the libraries, the compiler
wrapper), and when anything differs it has ape compile every source again (`ape compile --force`, about
25 s on two cores). The result is byte for byte what a fresh clone builds, whatever was edited before.

The record is written only after ape succeeded, so a failed build is retried next time.

With ``--artifacts`` it then writes the contract types that ship with the package
(`src/link_ops/contracts/artifacts/`, see :mod:`link_ops.contracts`); ``make artifacts`` runs that.

Usage: ``python tools/contracts_build.py [--root DIR] [--dry-run] [--artifacts]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

RECORD = Path(".build") / "link-ops-sources.json"
MANIFEST = Path(".build") / "__local__.json"
#: Files that decide the output of every contract: settings, compiler and library versions.
SETTINGS_FILES = ("ape-config.yaml", "package-lock.json", "tools/solc.cjs")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def contracts_folder(root: Path) -> Path:
    """`contracts_folder` of ape-config.yaml (ape's default, `contracts`, when it names none)."""
    config = root / "ape-config.yaml"
    settings = yaml.safe_load(config.read_text("utf-8")) if config.is_file() else None
    return root / str((settings or {}).get("contracts_folder", "contracts"))


def read_sources(root: Path) -> dict[str, str]:
    """Every Solidity source of the project, by root-relative posix path (ape's source ids)."""
    folder = contracts_folder(root)
    return {
        path.relative_to(root).as_posix(): path.read_text("utf-8")
        for path in sorted(folder.rglob("*.sol"))
        if ".cache" not in path.relative_to(folder).parts
    }


def settings_digest(root: Path) -> str:
    parts = []
    for name in SETTINGS_FILES:
        path = root / name
        parts.append(f"{name}:{_digest(path.read_bytes()) if path.is_file() else '-'}")
    return _digest("\n".join(parts).encode())


@dataclass(frozen=True)
class Plan:
    """Whether this build compiles everything, and why: which sources changed, or another reason."""

    everything: bool
    changed: tuple[str, ...]
    reason: str

    @property
    def nothing(self) -> bool:
        return not self.everything


def plan(root: Path, sources: Mapping[str, str] | None = None) -> Plan:
    """Compares the project's sources and settings with the record of the last successful build."""
    sources = read_sources(root) if sources is None else sources
    if not (root / MANIFEST).is_file():
        return Plan(True, (), "no build yet")
    try:
        record = json.loads((root / RECORD).read_text("utf-8"))
        recorded: dict[str, str] = dict(record["sources"])
        recorded_settings = str(record["settings"])
    except (OSError, ValueError, KeyError, TypeError):
        return Plan(True, (), f"no readable {RECORD}")
    if recorded_settings != settings_digest(root):
        return Plan(True, (), f"the build settings changed (one of {', '.join(SETTINGS_FILES)})")
    now = {source_id: _digest(text.encode("utf-8")) for source_id, text in sources.items()}
    changed = {s for s in now if recorded.get(s) != now[s]} | {s for s in recorded if s not in now}
    if not changed:
        return Plan(False, (), "up to date")
    return Plan(True, tuple(sorted(changed)), "sources changed")


def write_record(root: Path, sources: Mapping[str, str]) -> None:
    """Records `sources` as built (atomically: a half-written record would read as no record)."""
    record = {
        "settings": settings_digest(root),
        "sources": {s: _digest(text.encode("utf-8")) for s, text in sorted(sources.items())},
    }
    target = root / RECORD
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".link-ops-sources.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=1, sort_keys=True)
    os.replace(temporary, target)


def describe(build: Plan) -> str:
    if build.nothing:
        return "contracts: up to date"
    why = f"changed: {', '.join(build.changed)}" if build.changed else build.reason
    return f"contracts: compiling every source ({why})"


def build(root: Path, ape: str = "ape", dry_run: bool = False) -> Plan:
    """Brings `.build/` up to date with the sources (see the module docstring) and returns what it did."""
    sources = read_sources(root)
    todo = plan(root, sources)
    print(describe(todo), flush=True)
    if todo.nothing or dry_run:
        return todo
    try:
        done = subprocess.run([ape, "compile", "--force"], cwd=root, check=False)
    finally:
        # ape copies dependency sources into contracts/.cache while compiling, and later lists only the
        # first 500 files under contracts/: with that copy present, contracts in subfolders vanish.
        shutil.rmtree(contracts_folder(root) / ".cache", ignore_errors=True)
    if done.returncode != 0:
        raise SystemExit(f"contracts: ape compile failed (exit {done.returncode}); fix the error above")
    write_record(root, sources)
    return todo


#: The contract type fields a packaged artifact keeps (source maps are for debuggers, and large).
ARTIFACT_FIELDS = (
    "contractName",
    "sourceId",
    "abi",
    "deploymentBytecode",
    "runtimeBytecode",
    "methodIdentifiers",
    "devdoc",
    "userdoc",
)
#: Sources whose contracts are never packaged.
TEST_ONLY = "contracts/test/"
PACKAGED = Path("src") / "link_ops" / "contracts" / "artifacts"


def artifacts(root: Path) -> dict[str, str]:
    """File name -> JSON text of every packaged artifact, from the build in `root`'s `.build/`."""
    manifest = json.loads((root / MANIFEST).read_text("utf-8"))
    result = {}
    for name, contract in sorted(manifest.get("contractTypes", {}).items()):
        if str(contract.get("sourceId", "")).startswith(TEST_ONLY):
            continue
        kept = {field: contract[field] for field in ARTIFACT_FIELDS if field in contract}
        result[f"{name}.json"] = json.dumps(kept, indent=1, sort_keys=True) + "\n"
    return result


def artifact_drift(root: Path) -> list[str]:
    """What differs between the packaged artifacts and the build: missing, stale or extra files."""
    expected = artifacts(root)
    folder = root / PACKAGED
    present = {path.name: path.read_text("utf-8") for path in folder.glob("*.json")}
    drift = [f"{name} missing" for name in sorted(set(expected) - set(present))]
    drift += [
        f"{name} stale" for name in sorted(set(expected) & set(present)) if present[name] != expected[name]
    ]
    drift += [f"{name} not in the build" for name in sorted(set(present) - set(expected))]
    return drift


def write_artifacts(root: Path) -> int:
    """Writes the packaged artifacts from the build (removing those of contracts that are gone)."""
    expected = artifacts(root)
    folder = root / PACKAGED
    folder.mkdir(parents=True, exist_ok=True)
    for path in folder.glob("*.json"):
        if path.name not in expected:
            path.unlink()
    for name, text in expected.items():
        path = folder / name
        if not path.is_file() or path.read_text("utf-8") != text:
            path.write_text(text, "utf-8")
    return len(expected)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Compile every contract again when any source or build setting changed since the last "
        "successful build; nothing when none did."
    )
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="project root (default: cwd)")
    parser.add_argument("--dry-run", action="store_true", help="say what would be compiled, compile nothing")
    parser.add_argument(
        "--artifacts", action="store_true", help=f"then write the packaged contract types to {PACKAGED}/"
    )
    args = parser.parse_args(argv)
    root = args.root.resolve()
    build(root, ape=shutil.which("ape") or "ape", dry_run=args.dry_run)
    if args.artifacts and not args.dry_run:
        print(f"contracts: {write_artifacts(root)} artifacts in {PACKAGED}/", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
