"""`make compile`: rebuild every contract whose own source or any source it imports changed.

ape 0.8 decides per file: a contract whose imported library changed keeps its old bytecode in `.build/`
(and a factory that does `new X` keeps the old `X`), and only `ape compile --force` rebuilds it. This tool
keeps its own record of what the last successful build compiled, `.build/link-ops-sources.json`: the
SHA-256 of every project source, and of what decides the output of all of them (`ape-config.yaml`, the
npm lock that pins the compiler and the libraries, the compiler wrapper). On each run:

- the build settings changed, or there is no record or no build: everything is compiled (`--force`);
- otherwise the sources that changed, were added or were removed, closed over "is imported by", are
  compiled with `ape compile --force <those files>`; the rest is left alone;
- nothing changed: nothing runs.

The record is written only after ape succeeded, so whatever a failed build was to compile is compiled
again next time. Imports
are read from the sources themselves (comments and strings understood), resolved relative to the
importing file or to the project root; remapped library imports (`@openzeppelin/...`, `solady/...`) are
covered by the lock file's hash.

Usage: ``python tools/contracts_build.py [--root DIR] [--dry-run]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

RECORD = Path(".build") / "link-ops-sources.json"
MANIFEST = Path(".build") / "__local__.json"
#: Files that decide the output of every contract: settings, compiler and library versions.
SETTINGS_FILES = ("ape-config.yaml", "package-lock.json", "tools/solc.cjs")
_IMPORT = re.compile(r"\bimport\b")
_STRING = re.compile(r"""\s*(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)')""")


def strip_comments(source: str) -> str:
    """`source` with every comment replaced by spaces (newlines kept); string literals untouched."""
    out: list[str] = []
    i, n = 0, len(source)
    while i < n:
        char = source[i]
        if char in "\"'":
            end = i + 1
            while end < n and source[end] != char and source[end] != "\n":
                end += 2 if source[end] == "\\" else 1
            out.append(source[i : end + 1])
            i = end + 1
        elif source.startswith("//", i):
            end = source.find("\n", i)
            end = n if end == -1 else end
            out.append(" " * (end - i))
            i = end
        elif source.startswith("/*", i):
            end = source.find("*/", i + 2)
            end = n if end == -1 else end + 2
            out.append(re.sub(r"[^\n]", " ", source[i:end]))
            i = end
        else:
            out.append(char)
            i += 1
    return "".join(out)


def imported_paths(source: str) -> list[str]:
    """The path of every import directive in `source`, in order, as written.

    Handles ``import "p";``, ``import "p" as X;``, ``import * as X from "p";`` and
    ``import {A, B as C} from "p";`` (across lines too)."""
    code = strip_comments(source)
    paths: list[str] = []
    for keyword in _IMPORT.finditer(code):
        end = code.find(";", keyword.end())
        if end == -1:
            break
        directive = code[keyword.end() : end]
        # The path is the statement's only string literal: right after `import`, or after `from`.
        literal = _STRING.match(directive) or _STRING.search(directive.rsplit("from", 1)[-1])
        if literal is not None:
            paths.append(literal.group(1) if literal.group(1) is not None else literal.group(2))
    return paths


def resolve(importer: str, path: str, sources: Iterable[str]) -> str | None:
    """The project source (a root-relative posix path) that `importer` means by `path`, or None when it
    is not one of `sources` (a remapped library)."""
    known = set(sources)
    if path.startswith(("./", "../")):
        candidate = posixpath.normpath(posixpath.join(posixpath.dirname(importer), path))
    else:
        candidate = posixpath.normpath(path)
    return candidate if candidate in known else None


def import_graph(sources: Mapping[str, str], known: Iterable[str] = ()) -> dict[str, set[str]]:
    """Source id -> the project sources it imports directly: those in `sources` and in `known` (sources
    that were removed since the last build, still imported by someone)."""
    targets = set(sources) | set(known)
    return {
        source_id: {
            target
            for path in imported_paths(text)
            if (target := resolve(source_id, path, targets)) is not None
        }
        for source_id, text in sources.items()
    }


def dependents(graph: Mapping[str, set[str]], changed: Iterable[str]) -> set[str]:
    """`changed` and every source that imports one of them, directly or through others."""
    importers: dict[str, set[str]] = {}
    for source_id, imports in graph.items():
        for target in imports:
            importers.setdefault(target, set()).add(source_id)
    result: set[str] = set()
    todo = list(changed)
    while todo:
        source_id = todo.pop()
        if source_id in result:
            continue
        result.add(source_id)
        todo.extend(importers.get(source_id, ()))
    return result


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def contracts_folder(root: Path) -> Path:
    """`contracts_folder` from ape-config.yaml (a plain `key: value` line), else `contracts`."""
    config = root / "ape-config.yaml"
    if config.is_file():
        match = re.search(r"^contracts_folder:\s*(\S+)\s*$", config.read_text("utf-8"), re.MULTILINE)
        if match:
            return root / match.group(1).strip("\"'")
    return root / "contracts"


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
    """What this build compiles: everything, some sources (with the reason), or nothing."""

    everything: bool
    sources: tuple[str, ...]
    changed: tuple[str, ...]
    reason: str

    @property
    def nothing(self) -> bool:
        return not self.everything and not self.sources


def plan(root: Path, sources: Mapping[str, str] | None = None) -> Plan:
    """Compares the project's sources and settings with the record of the last successful build."""
    sources = read_sources(root) if sources is None else sources
    record_path, manifest = root / RECORD, root / MANIFEST
    if not manifest.is_file():
        return Plan(True, tuple(sorted(sources)), (), "no build yet")
    try:
        record = json.loads(record_path.read_text("utf-8"))
        recorded: dict[str, str] = dict(record["sources"])
        recorded_settings = str(record["settings"])
    except (OSError, ValueError, KeyError, TypeError):
        return Plan(True, tuple(sorted(sources)), (), f"no readable {RECORD}")
    if recorded_settings != settings_digest(root):
        return Plan(True, tuple(sorted(sources)), (), f"{', '.join(SETTINGS_FILES)} changed")
    now = {source_id: _digest(text.encode("utf-8")) for source_id, text in sources.items()}
    changed = {s for s in now if recorded.get(s) != now[s]} | {s for s in recorded if s not in now}
    if not changed:
        return Plan(False, (), (), "up to date")
    # A removed source has no imports left to read; whoever still imports it is rebuilt (and fails).
    graph = import_graph(sources, known=recorded)
    rebuild = sorted(s for s in dependents(graph, changed) if s in sources)
    return Plan(False, tuple(rebuild), tuple(sorted(changed)), "sources changed")


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
    if build.everything:
        return f"contracts: compiling all {len(build.sources)} sources ({build.reason})"
    importers = [s for s in build.sources if s not in build.changed]
    line = f"contracts: recompiling {len(build.sources)} sources; changed: {', '.join(build.changed)}"
    return line + (f"; importers: {', '.join(importers)}" if importers else "")


def build(root: Path, ape: str = "ape", dry_run: bool = False) -> Plan:
    """Brings `.build/` up to date with the sources (see the module docstring) and returns what it did."""
    sources = read_sources(root)
    todo = plan(root, sources)
    print(describe(todo), flush=True)
    if todo.nothing or dry_run:
        return todo
    command = [ape, "compile", "--force"]
    if not todo.everything:
        command += list(todo.sources)
    try:
        done = subprocess.run(command, cwd=root, check=False)
    finally:
        # ape copies dependency sources into contracts/.cache while compiling, and later lists only the
        # first 500 files under contracts/: with that copy present, contracts in subfolders vanish.
        shutil.rmtree(contracts_folder(root) / ".cache", ignore_errors=True)
    if done.returncode != 0:
        raise SystemExit(f"contracts: ape compile failed (exit {done.returncode}); fix the error above")
    write_record(root, sources)
    return todo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="project root (default: cwd)")
    parser.add_argument("--dry-run", action="store_true", help="say what would be compiled, compile nothing")
    args = parser.parse_args(argv)
    build(args.root.resolve(), ape=shutil.which("ape") or "ape", dry_run=args.dry_run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
