"""`make audit`: Slither over every contract, gated by a committed triage (issue 10, point 4).

What it does, in order:

1. writes a standard-JSON compiler input naming every `contracts/**/*.sol` (`contracts/test` included,
   ape's `contracts/.cache` not) with the project's remappings and settings, to `build/audit/input.json`;
   Slither analyses only the top-level files of a directory target, while an input file covers every folder;
2. runs Slither (`.venv-audit`, pinned by `audit/requirements.lock`, apart from ape's pins) on it through
   the project's solc-js wrapper, offline, with `--json -`; the raw output is kept in
   `build/audit/slither.json` (`--results` reads such a file back instead of running Slither again);
3. drops the findings of the libraries: a finding whose every element lies under `node_modules/`. (Slither's
   own `--filter-paths node_modules` drops a finding when *any* element lies there, and so hid findings in
   the project's contracts that merely name a library function; `--exclude-dependencies` drops nothing here,
   crytic-compile's standard-JSON mode marks no file as a dependency.)
4. compares the rest with `audit/triage.toml` and prints a table; the exit code says whether the gate holds.

Slither is run with `--show-ignored-findings`: `// slither-disable-…` comments in the sources and a
`slither.db.json` do not hide anything, so the triage file is the one place where a finding is accepted, with
its reason, in review. A `slither.config.json` at the root (which Slither would read) stops the gate.

The triage file holds one `[[accepted]]` table per accepted finding::

    [[accepted]]
    detector = "uninitialized-local"        # Slither's check name
    contract = "PartnerBenefits"            # the contract (or library, or interface) it is in
    element = "claimWelcome.count"          # function, state variable, or function.local; "" or absent
                                            # for the contract itself
    reason = "Counts newly claimed cubes from zero, on purpose: ..."
    count = 1                               # optional: how many findings of this key the reason covers

The key (detector, contract, element) names what Slither points at, never a line number or Slither's
result id, both of which change with unrelated edits. One key can cover several findings (two unused
return values in one function): `count` says how many the reason covers, and one more fails the gate.

The policy:

- a finding of impact **High** or **Medium** that the triage does not accept fails the gate (exit 1), with
  one message per finding: detector, impact, file:line, Slither's description, what to do;
- **Low**, **Informational** and **Optimization** findings are counted per detector and do not fail
  (`--show-low` lists them); accepting one in the triage is allowed and keeps it out of the counts;
- an entry that matches fewer findings than it accepts (the code changed, or the finding was fixed) is
  reported as **stale**, so the file does not rot; `--strict-stale` makes that fail the gate as well;
- a triage file that cannot be read, an entry without a reason (or a reason shorter than a sentence), an
  unknown field or a repeated key stops the gate with one error naming the entry (exit 2), as does a
  Slither run that fails.

Usage: ``python tools/audit.py [--results FILE] [--triage FILE] [--strict-stale] [--show-low]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (pytest brings tomli there)
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
TRIAGE = Path("audit") / "triage.toml"
SLITHER = Path(".venv-audit") / "bin" / "slither"
SOLC = Path(".solcx") / "solc-v0.8.30"
WORK = Path("build") / "audit"
#: As ape-config.yaml compiles: the remappings ape derives from its `dependencies`, and its settings.
REMAPPINGS = (
    "@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/",
    "solady/=node_modules/solady/",
)
DEPENDENCIES = "node_modules/"
#: Files Slither reads settings from when they sit in the folder it runs in.
SLITHER_CONFIGS = ("slither.config.json", "slither.conf.json")

IMPACTS = ("High", "Medium", "Low", "Informational", "Optimization")
GATING = frozenset({"High", "Medium"})
ENTRY_FIELDS = frozenset({"detector", "contract", "element", "reason", "count"})
#: A reason is a sentence saying why the finding is safe, not "ok" or "false positive".
MIN_REASON = 20


class AuditError(Exception):
    """Stops the gate before it can judge (exit 2); the message says what to do."""


class TriageError(AuditError):
    """The triage file cannot be used as it is."""


class SlitherError(AuditError):
    """Slither did not run, or did not produce results."""


# ------------------------------------------------------------------------------------------------ model


@dataclass(frozen=True, order=True)
class Key:
    """What a finding is about, stable across edits elsewhere: detector, contract, element in it."""

    detector: str
    contract: str
    element: str = ""

    @property
    def where(self) -> str:
        return f"{self.contract}.{self.element}" if self.element else self.contract

    def __str__(self) -> str:
        return f"{self.detector} {self.where}"

    def stanza(self) -> str:
        """The triage table that would accept this key, for the reader to fill in."""
        lines = [
            "[[accepted]]",
            f"detector = {json.dumps(self.detector)}",
            f"contract = {json.dumps(self.contract)}",
        ]
        if self.element:
            lines.append(f"element = {json.dumps(self.element)}")
        lines.append('reason = "<why this is safe, specifically>"')
        return "\n".join(lines)


@dataclass(frozen=True)
class Finding:
    """One Slither result in the project's contracts."""

    key: Key
    impact: str
    confidence: str
    location: str  # file:line
    description: str

    @property
    def gating(self) -> bool:
        return self.impact in GATING


@dataclass(frozen=True)
class Entry:
    """One `[[accepted]]` table of the triage file."""

    key: Key
    reason: str
    count: int = 1


@dataclass(frozen=True)
class Untriaged:
    """A gating finding the triage does not accept; `entry` is set when its key is triaged for fewer."""

    finding: Finding
    entry: Entry | None = None
    found: int = 1


@dataclass(frozen=True)
class Stale:
    """A triage entry that accepts more findings than Slither reports now (`found` of `entry.count`)."""

    entry: Entry
    found: int


@dataclass(frozen=True)
class Report:
    untriaged: tuple[Untriaged, ...]
    accepted: tuple[tuple[Finding, Entry], ...]
    below: tuple[Finding, ...]  # not gating and not triaged: counted, not judged
    stale: tuple[Stale, ...]

    def failed(self, strict_stale: bool = False) -> bool:
        return bool(self.untriaged) or (strict_stale and bool(self.stale))


def _rank(impact: str) -> int:
    return IMPACTS.index(impact) if impact in IMPACTS else len(IMPACTS)


def _order(finding: Finding) -> tuple[int, Key, str]:
    return (_rank(finding.impact), finding.key, finding.location)


def compare(findings: Iterable[Finding], triage: Mapping[Key, Entry]) -> Report:
    """Judges `findings` against the accepted `triage` entries."""
    by_key: dict[Key, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_key[finding.key].append(finding)
    untriaged: list[Untriaged] = []
    accepted: list[tuple[Finding, Entry]] = []
    below: list[Finding] = []
    for key, group in by_key.items():
        entry = triage.get(key)
        if entry is not None and len(group) <= entry.count:
            accepted.extend((finding, entry) for finding in group)
            continue
        # Not triaged, or more findings than the reason covers: which one is new cannot be told apart,
        # so each is shown (and a gating one fails) until the entry's count or the code says otherwise.
        for finding in group:
            if finding.gating:
                untriaged.append(Untriaged(finding, entry, len(group)))
            else:
                below.append(finding)
    stale = [
        Stale(entry, len(by_key.get(key, ())))
        for key, entry in sorted(triage.items())
        if len(by_key.get(key, ())) < entry.count
    ]
    return Report(
        untriaged=tuple(sorted(untriaged, key=lambda u: _order(u.finding))),
        accepted=tuple(sorted(accepted, key=lambda pair: _order(pair[0]))),
        below=tuple(sorted(below, key=_order)),
        stale=tuple(stale),
    )


# ---------------------------------------------------------------------------------------------- triage


def load_triage(path: Path) -> dict[Key, Entry]:
    """The accepted entries of the triage file at `path`; :class:`TriageError` names the first problem."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise TriageError(
            f"{path}: no such file; create it (a file with no entries accepts nothing)"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TriageError(f"{path} is not valid TOML ({exc}): fix the syntax") from None
    if extra := sorted(set(data) - {"accepted"}):
        raise TriageError(f"{path}: unknown top-level key {extra[0]!r}; entries go in [[accepted]] tables")
    raw_entries = data.get("accepted", [])
    if not isinstance(raw_entries, list) or not all(isinstance(raw, dict) for raw in raw_entries):
        raise TriageError(f"{path}: `accepted` must be a list of tables, each written as [[accepted]]")
    entries: dict[Key, Entry] = {}
    first_seen: dict[Key, int] = {}
    for number, raw in enumerate(raw_entries, 1):
        entry = _entry(raw, f"{path}: entry {number}")
        if entry.key in entries:
            raise TriageError(
                f"{path}: entry {number} ({entry.key}) repeats entry {first_seen[entry.key]}; keep one "
                "entry per key (raise its `count` if the reason covers several findings)"
            )
        entries[entry.key] = entry
        first_seen[entry.key] = number
    return entries


def _entry(raw: Mapping[str, Any], where: str) -> Entry:
    element_name = raw.get("element")
    inside = f"{raw.get('contract', '?')}.{element_name}" if element_name else raw.get("contract", "?")
    named = f"{where} ({raw.get('detector', '?')} {inside})"
    if extra := sorted(set(raw) - ENTRY_FIELDS):
        raise TriageError(
            f"{named}: unknown field {extra[0]!r}; the fields are {', '.join(sorted(ENTRY_FIELDS))}"
        )
    for field in ("detector", "contract"):
        if not isinstance(raw.get(field), str) or not raw[field].strip():
            raise TriageError(f"{named}: `{field}` is missing; copy it from the finding `make audit` printed")
    element = raw.get("element", "")
    if not isinstance(element, str):
        raise TriageError(f"{named}: `element` must be a string")
    reason = raw.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise TriageError(f"{named}: no `reason`; every accepted finding says why it is safe")
    if len(reason.strip()) < MIN_REASON:
        raise TriageError(
            f"{named}: reason {reason.strip()!r} is too short; say in a sentence why it is safe here"
        )
    count = raw.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise TriageError(f"{named}: `count` must be a whole number of at least 1, not {count!r}")
    return Entry(
        Key(raw["detector"].strip(), raw["contract"].strip(), element.strip()),
        " ".join(reason.split()),
        count,
    )


# --------------------------------------------------------------------------------------------- slither


def standard_input(root: Path = ROOT) -> dict[str, object]:
    """The compiler input naming every project source (Slither reads this instead of a folder)."""
    folder = root / "contracts"
    sources = {
        path.relative_to(root).as_posix(): {"urls": [path.relative_to(root).as_posix()]}
        for path in sorted(folder.rglob("*.sol"))
        if ".cache" not in path.relative_to(folder).parts
    }
    return {
        "language": "Solidity",
        "sources": sources,
        "settings": {
            "remappings": list(REMAPPINGS),
            "optimizer": {"enabled": True, "runs": 1_000_000},
            "evmVersion": "cancun",
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode", "evm.deployedBytecode"], "": ["ast"]}},
        },
    }


def run_slither(root: Path, slither: Path, solc: Path, work: Path) -> dict[str, Any]:
    """Runs Slither on every contract of `root` and returns its JSON output (also kept in `work`)."""
    slither, solc, work = root / slither, root / solc, root / work
    if not slither.is_file():
        raise SlitherError(
            f"{slither} not found: `make audit` creates .venv-audit from audit/requirements.lock"
        )
    if not solc.is_file():
        raise SlitherError(f"{solc} not found: run `make setup` (it writes the solc-js wrapper)")
    for name in SLITHER_CONFIGS:
        if (root / name).exists():
            raise AuditError(
                f"{name}: Slither would take settings from it and change what the gate sees; the gate's "
                "settings are in tools/audit.py and its exceptions in audit/triage.toml, so remove it"
            )
    work.mkdir(parents=True, exist_ok=True)
    source = work / "input.json"
    source.write_text(json.dumps(standard_input(root), indent=1) + "\n")
    command = [
        str(slither),
        source.relative_to(root).as_posix(),
        "--compile-force-framework",
        "solc-json",
        "--solc",
        str(solc),
        "--show-ignored-findings",  # no slither-disable comment or slither.db.json hides a finding
        "--fail-none",  # the exit code says whether Slither ran; this tool judges the findings
        "--json",
        "-",
    ]
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    (work / "slither.json").write_text(done.stdout)
    try:
        output = json.loads(done.stdout)
    except ValueError:
        output = None
    if not isinstance(output, dict) or done.returncode != 0 or output.get("success") is not True:
        error = output.get("error") if isinstance(output, dict) else None
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise SlitherError(f"Slither failed (exit {done.returncode}): {error or tail or 'no output'}")
    return output


def read_results(path: Path) -> dict[str, Any]:
    """A Slither `--json` output saved earlier (`build/audit/slither.json`)."""
    try:
        output = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise SlitherError(f"{path}: cannot read Slither's JSON output ({exc})") from None
    if not isinstance(output, dict):
        raise SlitherError(f"{path}: not a Slither --json output")
    return output


def parse_findings(output: Mapping[str, Any]) -> list[Finding]:
    """The findings of Slither's `--json` `output` in the project's own contracts."""
    if output.get("success") is not True:
        raise SlitherError(f"Slither reported a failure: {output.get('error') or 'no error given'}")
    results = output.get("results") or {}
    detectors = results.get("detectors", []) if isinstance(results, dict) else None
    if not isinstance(detectors, list):
        raise SlitherError("Slither's output has no list of detector results (results.detectors)")
    findings = []
    for result in detectors:
        try:
            finding = _finding(result)
        except (KeyError, TypeError, AttributeError) as exc:
            raise SlitherError(
                f"unexpected shape of a Slither result ({exc!r}): {str(result)[:300]}"
            ) from None
        if finding is not None:
            findings.append(finding)
    return findings


def _file(element: Mapping[str, Any]) -> str | None:
    mapping = element.get("source_mapping") or {}
    name = mapping.get("filename_relative")
    return name if isinstance(name, str) and name else None


def _finding(result: Mapping[str, Any]) -> Finding | None:
    elements: Sequence[Mapping[str, Any]] = result.get("elements") or []
    files = [name for name in map(_file, elements) if name]
    if files and all(name.startswith(DEPENDENCIES) for name in files):
        return None  # wholly inside a library
    key = _key(str(result["check"]), elements[0]) if elements else Key(str(result["check"]), "", "")
    # The line Slither points at: the first statement it names, else where its first element starts.
    located = next(
        (e for e in elements if e.get("type") == "node" and _file(e)), elements[0] if elements else None
    )
    location = ""
    if located is not None and (name := _file(located)):
        lines = located["source_mapping"].get("lines") or []
        location = f"{name}:{lines[0]}" if lines else name
    return Finding(
        key=key,
        impact=str(result["impact"]),
        confidence=str(result.get("confidence", "")),
        location=location,
        description=str(result.get("description", "")).strip(),
    )


def _key(detector: str, element: Mapping[str, Any]) -> Key:
    """detector, the enclosing contract, and the path to the element within it (statements left out)."""
    chain: list[Mapping[str, Any]] = []
    current: Any = element
    while isinstance(current, Mapping):
        chain.append(current)
        current = (current.get("type_specific_fields") or {}).get("parent")
    at = next((i for i, item in enumerate(chain) if item.get("type") == "contract"), None)
    inner = chain if at is None else chain[:at]
    names = [str(item["name"]) for item in reversed(inner) if item.get("type") != "node"]
    # Outside any contract (a pragma, a free function): the file is the container.
    contract = str(chain[at]["name"]) if at is not None else (_file(element) or "")
    return Key(detector, contract, ".".join(names))


# -------------------------------------------------------------------------------------------- printing


def render(
    report: Report, console: Console, *, triage: Path, show_low: bool = False, strict_stale: bool = False
) -> None:
    """The table of judged findings, the counts of the others, stale entries, and one message per failure."""
    table = Table(title="Slither findings: gating (High, Medium) and triaged", title_justify="left")
    for column in ("status", "impact", "detector", "where", "location"):
        table.add_column(column, overflow="fold")
    for item in report.untriaged:
        f = item.finding
        table.add_row(
            "[bold red]UNTRIAGED[/]", *map(escape, (f.impact, f.key.detector, f.key.where, f.location))
        )
    for f, _ in report.accepted:
        table.add_row("[green]accepted[/]", *map(escape, (f.impact, f.key.detector, f.key.where, f.location)))
    console.print(table)

    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for f in report.below:
        counts[f.impact][f.key.detector] += 1
    if counts:
        lower = Table(
            title="Below the gate (counted, not judged; --show-low lists them)", title_justify="left"
        )
        for column in ("impact", "findings", "detectors"):
            lower.add_column(column, overflow="fold")
        for impact in sorted(counts, key=_rank):
            detail = ", ".join(f"{name} {n}" for name, n in counts[impact].most_common())
            lower.add_row(escape(impact), str(sum(counts[impact].values())), escape(detail))
        console.print(lower)
    if show_low:
        for f in report.below:
            console.print(
                escape(f"{f.impact} {f.key} at {f.location}\n{_indent(f.description)}"), soft_wrap=True
            )

    for stale in report.stale:
        e = stale.entry
        console.print(
            f"[yellow]stale triage entry[/] {escape(str(e.key))}: accepts {e.count}, Slither reports "
            f"{stale.found} now; remove it from {escape(str(triage))} (or lower its count)",
            soft_wrap=True,
        )

    for item in report.untriaged:
        console.print(_untriaged_message(item, triage), soft_wrap=True)

    summary = (
        f"{len(report.accepted)} accepted, {len(report.below)} below the gate, {len(report.stale)} stale"
    )
    if report.untriaged:
        console.print(
            f"[bold red]make audit: FAILED[/]: {len(report.untriaged)} finding(s) of impact Medium or High "
            f"not triaged ({summary})",
            soft_wrap=True,
        )
    elif strict_stale and report.stale:
        console.print(f"[bold red]make audit: FAILED[/]: stale triage entries, --strict-stale ({summary})")
    else:
        console.print(f"[bold green]make audit: passed[/] ({summary})", soft_wrap=True)


def _untriaged_message(item: Untriaged, triage: Path) -> str:
    """What failed and what to do, as rich markup: detector, impact, file:line, description, the way out."""
    f = item.finding
    if item.entry is None:
        why = "not triaged"
    else:
        why = f"{item.found} findings of this key, the triage accepts {item.entry.count}"
    what = f"{f.impact} {f.key.detector} at {f.location} ({f.key.where}): {why}"
    todo = f"Fix it; or, if it is safe, accept it in {triage} with the reason:"
    if item.entry is not None:
        todo = f"Fix the new one; or, if the reason covers them all, raise that entry's count in {triage}:"
    body = f"{_indent(f.description)}\n  {todo}\n{_indent(f.key.stanza(), '    ')}"
    return f"[bold red]UNTRIAGED[/] {escape(what)}\n{escape(body)}"


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


# ------------------------------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--root", type=Path, default=ROOT, help="the project (default: this checkout)")
    parser.add_argument("--triage", type=Path, default=TRIAGE, help=f"the triage file (default: {TRIAGE})")
    parser.add_argument(
        "--results", type=Path, help="judge a saved Slither --json output instead of running it"
    )
    parser.add_argument(
        "--slither", type=Path, default=SLITHER, help=f"the slither command (default: {SLITHER})"
    )
    parser.add_argument("--solc", type=Path, default=SOLC, help=f"the solc wrapper (default: {SOLC})")
    parser.add_argument("--strict-stale", action="store_true", help="stale triage entries fail the gate too")
    parser.add_argument("--show-low", action="store_true", help="list the findings below the gate")
    args = parser.parse_args(argv)
    # CI logs are not terminals: give the table room instead of rich's 80 columns.
    console = console or Console(highlight=False, width=None if sys.stdout.isatty() else 140)
    triage = args.triage if args.triage.is_absolute() else args.root / args.triage
    try:
        entries = load_triage(triage)
        output = (
            read_results(args.results)
            if args.results
            else run_slither(args.root, args.slither, args.solc, WORK)
        )
        findings = parse_findings(output)
    except AuditError as exc:
        console.print(f"[bold red]make audit: error[/]: {escape(str(exc))}", soft_wrap=True)
        return 2
    report = compare(findings, entries)
    shown = triage.relative_to(args.root) if triage.is_relative_to(args.root) else triage
    render(report, console, triage=shown, show_low=args.show_low, strict_stale=args.strict_stale)
    return 1 if report.failed(args.strict_stale) else 0


if __name__ == "__main__":
    sys.exit(main())
