"""`make audit`'s judgement (tools/audit.py), fed recorded and synthetic Slither output: an untriaged
finding of impact Medium or High fails with one message per finding, a triaged one passes, lower impacts
are counted and never fail, stale entries are reported (and fail with --strict-stale), and a triage file
that cannot be trusted (no reason, a typo, bad TOML) stops the gate with one error naming the entry.

`tests/unit/data/slither_recorded.json` is eleven results of a real run (Slither 0.11.6 on the contracts of
2026-11-28), kept verbatim so the parser meets Slither's real shapes. Slither itself is not run here: `make
test` runs `make audit` (about 35 s) on the real contracts, which is the end-to-end check; running it again
from the suite would only repeat it.
"""

from __future__ import annotations

import io
import json
import re
import stat
import textwrap
from pathlib import Path

import pytest
from _build import ROOT, load_tool
from rich.console import Console

audit = load_tool("audit")
Key = audit.Key

RECORDED = Path(__file__).parent / "data" / "slither_recorded.json"
#: The recorded results that fail the gate when not triaged, by key.
RECORDED_GATING = {
    Key("unchecked-transfer", "PlainPartnerBenefits", "claimWelcome"): "High",
    Key("shadowing-state", "OptimizedCubeManagement", "_ERC721_MASTER_SLOT_SEED"): "High",
    Key("uninitialized-local", "PlainPartnerBenefits", "claimWelcome.count"): "Medium",
    Key("unused-return", "CubeBridge", "send"): "Medium",
    Key("reentrancy-no-eth", "SeedCubeManagement", "mintBatch"): "Medium",
    Key("locked-ether", "RemoteCube", ""): "Medium",
}
REASON = "A sentence that says why this finding is safe in this code."


def _run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = audit.main(list(args), console=Console(file=out, width=200, color_system=None))
    return code, out.getvalue()


def _triage(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "triage.toml"
    path.write_text(textwrap.dedent(text))
    return path


def _stanza(key: Key, reason: str = REASON, count: int | None = None) -> str:
    lines = ["[[accepted]]", f'detector = "{key.detector}"', f'contract = "{key.contract}"']
    if key.element:
        lines.append(f'element = "{key.element}"')
    lines.append(f'reason = "{reason}"')
    if count is not None:
        lines.append(f"count = {count}")
    return "\n".join(lines) + "\n\n"


def _result(
    check: str, impact: str, element: dict[str, object], *more: dict[str, object]
) -> dict[str, object]:
    return {
        "check": check,
        "impact": impact,
        "confidence": "High",
        "description": f"{check} in a synthetic contract\n\t- second line\n",
        "elements": [element, *more],
    }


def _function(contract: str, name: str, file: str = "contracts/X.sol", line: int = 10) -> dict[str, object]:
    parent = {
        "type": "contract",
        "name": contract,
        "source_mapping": {"filename_relative": file, "lines": [1]},
    }
    return {
        "type": "function",
        "name": name,
        "source_mapping": {"filename_relative": file, "lines": [line, line + 1]},
        "type_specific_fields": {"parent": parent, "signature": f"{name}()"},
    }


def _node(function: dict[str, object], line: int) -> dict[str, object]:
    file = function["source_mapping"]["filename_relative"]  # type: ignore[index]
    return {
        "type": "node",
        "name": "x == y",
        "source_mapping": {"filename_relative": file, "lines": [line]},
        "type_specific_fields": {"parent": function},
    }


def _output(tmp_path: Path, *results: dict[str, object]) -> Path:
    path = tmp_path / "slither.json"
    path.write_text(json.dumps({"success": True, "error": None, "results": {"detectors": list(results)}}))
    return path


# ------------------------------------------------------------------------------------------- parsing


def test_recorded_output__keys_name_detector_contract_and_element_never_a_line():
    findings = audit.parse_findings(json.loads(RECORDED.read_text()))
    by_key = {f.key: f for f in findings}
    assert {key: by_key[key].impact for key in RECORDED_GATING} == RECORDED_GATING
    # Lower impacts are parsed too: a state variable, a statement (keyed by its function), a function.
    assert by_key[Key("immutable-states", "SeedCubeManagement", "ratePerSecond")].impact == "Optimization"
    assert by_key[Key("cache-array-length", "AttestedMessenger", "_setSigners")].impact == "Optimization"
    assert by_key[Key("calls-loop", "CubeLens", "inspect")].impact == "Low"
    assert len(findings) == 10  # the eleventh lies wholly in node_modules


def test_recorded_output__location_is_the_statement_slither_names():
    findings = {f.key: f for f in audit.parse_findings(json.loads(RECORDED.read_text()))}
    transfer = findings[Key("unchecked-transfer", "PlainPartnerBenefits", "claimWelcome")]
    assert transfer.location == "contracts/test/PlainPartnerBenefits.sol:58"
    assert "IERC20(welcomeToken).transfer(msg.sender,paid)" in transfer.description
    assert findings[Key("locked-ether", "RemoteCube", "")].location == "contracts/bridge/RemoteCube.sol:14"


def test_library_findings__dropped_only_when_every_element_is_in_node_modules():
    """Slither's --filter-paths drops a finding naming any library element; that hid real findings."""
    findings = {f.key for f in audit.parse_findings(json.loads(RECORDED.read_text()))}
    # Both name Solady's ERC721 besides the project's contract, and are kept:
    assert Key("locked-ether", "RemoteCube", "") in findings
    assert Key("shadowing-state", "OptimizedCubeManagement", "_ERC721_MASTER_SLOT_SEED") in findings
    assert not any(key.detector == "dead-code" for key in findings)  # OpenZeppelin's Context only


def test_elements_outside_any_contract__keyed_by_their_file():
    pragma = {
        "type": "pragma",
        "name": "0.8.30",
        "source_mapping": {"filename_relative": "contracts/A.sol", "lines": [2]},
    }
    (finding,) = audit.parse_findings(
        {"success": True, "results": {"detectors": [_result("pragma", "Low", pragma)]}}
    )
    assert finding.key == Key("pragma", "contracts/A.sol", "0.8.30")
    assert finding.location == "contracts/A.sol:2"


def test_no_findings__slither_leaves_results_empty():
    assert audit.parse_findings({"success": True, "error": None, "results": {}}) == []


def test_failed_slither_output__is_an_error_not_a_pass():
    with pytest.raises(audit.SlitherError, match="Invalid compilation"):
        audit.parse_findings({"success": False, "error": "Invalid compilation: ...", "results": {}})


# ------------------------------------------------------------------------------------------ the gate


def test_untriaged_medium_or_high__fails_with_one_message_per_finding(tmp_path):
    code, out = _run("--results", str(RECORDED), "--triage", str(_triage(tmp_path, "")))
    assert code == 1
    messages = [line for line in out.splitlines() if line.startswith("UNTRIAGED ")]
    assert len(messages) == len(RECORDED_GATING)
    # What (impact, detector, file:line, element), Slither's description, and what to do.
    assert (
        "UNTRIAGED Medium unused-return at contracts/bridge/CubeBridge.sol:55 (CubeBridge.send): not triaged"
        in out
    )
    assert (
        "ignores return value by (totalMined,None,None,None) = IOptimizedCubeManagement(_CUBES).nodeData(id)"
        in out
    )
    assert "Fix it; or, if it is safe, accept it in" in out
    assert 'detector = "unused-return"\n    contract = "CubeBridge"\n    element = "send"' in out
    assert "make audit: FAILED: 6 finding(s) of impact Medium or High not triaged" in out


def test_triaged_findings__pass(tmp_path):
    triage = _triage(tmp_path, "".join(_stanza(key) for key in RECORDED_GATING))
    code, out = _run("--results", str(RECORDED), "--triage", str(triage))
    assert code == 0, out
    assert "UNTRIAGED" not in out
    assert "make audit: passed (6 accepted, 4 below the gate, 0 stale)" in out


def test_low_informational_and_optimization__counted_never_failing(tmp_path):
    results = _output(
        tmp_path,
        _result("calls-loop", "Low", _function("A", "f")),
        _result("calls-loop", "Low", _function("A", "g")),
        _result("naming-convention", "Informational", _function("A", "F_")),
        _result("immutable-states", "Optimization", _function("A", "h")),
    )
    code, out = _run("--results", str(results), "--triage", str(_triage(tmp_path, "")))
    assert code == 0, out
    assert re.search(r"Low +│ 2 +│ calls-loop 2", out)
    assert re.search(r"Informational +│ 1 +│ naming-convention 1", out)
    assert "make audit: passed (0 accepted, 4 below the gate, 0 stale)" in out
    code, out = _run("--results", str(results), "--triage", str(_triage(tmp_path, "")), "--show-low")
    assert code == 0 and "Low calls-loop A.f at contracts/X.sol:10" in out


def test_stale_entries__reported_and_fail_only_with_strict_stale(tmp_path):
    gone = Key("unused-return", "Removed", "function")
    triage = _triage(tmp_path, "".join(_stanza(key) for key in RECORDED_GATING) + _stanza(gone))
    code, out = _run("--results", str(RECORDED), "--triage", str(triage))
    assert code == 0, out
    assert "stale triage entry unused-return Removed.function: accepts 1, Slither reports 0 now" in out
    code, out = _run("--results", str(RECORDED), "--triage", str(triage), "--strict-stale")
    assert code == 1
    assert "make audit: FAILED: stale triage entries" in out


def test_a_key_with_more_findings_than_its_count__fails_until_the_count_says_so(tmp_path):
    f = _function("Vault", "pay")
    results = _output(
        tmp_path,
        _result("unused-return", "Medium", f, _node(f, 12)),
        _result("unused-return", "Medium", f, _node(f, 14)),
    )
    key = Key("unused-return", "Vault", "pay")
    code, out = _run("--results", str(results), "--triage", str(_triage(tmp_path, _stanza(key))))
    assert code == 1
    assert "contracts/X.sol:12 (Vault.pay): 2 findings of this key, the triage accepts 1" in out
    assert "contracts/X.sol:14 (Vault.pay): 2 findings of this key, the triage accepts 1" in out
    assert "raise that entry's count" in out
    assert _run("--results", str(results), "--triage", str(_triage(tmp_path, _stanza(key, count=2))))[0] == 0
    code, out = _run("--results", str(results), "--triage", str(_triage(tmp_path, _stanza(key, count=3))))
    assert code == 0 and "stale triage entry unused-return Vault.pay: accepts 3, Slither reports 2 now" in out


# ----------------------------------------------------------------------------------- the triage file


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        (
            'detector = "unused-return"\ncontract = "A"\nelement = "f"\n',
            r"entry 1 \(unused-return A\.f\): no `reason`",
        ),
        (
            'detector = "unused-return"\ncontract = "A"\nreason = "  "\n',
            r"entry 1 \(unused-return A\): no `reason`",
        ),
        ('detector = "unused-return"\ncontract = "A"\nreason = "false positive"\n', "is too short"),
        (
            'detector = "unused-return"\ncontract = "A"\nreasons = "a long enough reason, misspelt"\n',
            "unknown field 'reasons'",
        ),
        (f'contract = "A"\nreason = "{REASON}"\n', "`detector` is missing"),
        (
            f'detector = "x"\ncontract = "A"\nreason = "{REASON}"\ncount = 0\n',
            "`count` must be a whole number",
        ),
        (
            f'detector = "x"\ncontract = "A"\nreason = "{REASON}"\ncount = true\n',
            "`count` must be a whole number",
        ),
    ],
)
def test_an_entry_that_cannot_be_trusted__is_refused_by_name(tmp_path, entry, error):
    triage = _triage(tmp_path, "[[accepted]]\n" + entry)
    with pytest.raises(audit.TriageError, match=error):
        audit.load_triage(triage)
    code, out = _run("--results", str(RECORDED), "--triage", str(triage))
    assert code == 2
    assert out.startswith("make audit: error: ") and out.count("\n") == 1


def test_a_repeated_key__is_refused(tmp_path):
    key = Key("unused-return", "A", "f")
    with pytest.raises(audit.TriageError, match=r"entry 2 \(unused-return A\.f\) repeats entry 1"):
        audit.load_triage(_triage(tmp_path, _stanza(key) + _stanza(key)))


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[[accepted]\ndetector = 1\n", r"is not valid TOML \(.*line 1.*\): fix the syntax"),
        (
            '[accepted]\ndetector = "x"\n',
            r"`accepted` must be a list of tables, each written as \[\[accepted\]\]",
        ),
        (f'[[accept]]\ndetector = "x"\nreason = "{REASON}"\n', "unknown top-level key 'accept'"),
    ],
)
def test_a_malformed_triage_file__gives_one_clear_error(tmp_path, text, error):
    triage = _triage(tmp_path, text)
    with pytest.raises(audit.TriageError, match=error):
        audit.load_triage(triage)
    code, out = _run("--results", str(RECORDED), "--triage", str(triage))
    assert code == 2
    assert out.startswith(f"make audit: error: {triage}") and out.count("\n") == 1


def test_the_committed_triage_file__loads_and_every_entry_has_a_reason():
    entries = audit.load_triage(ROOT / audit.TRIAGE)
    assert entries, "audit/triage.toml accepts nothing"
    assert all(len(entry.reason) >= audit.MIN_REASON for entry in entries.values())


# ------------------------------------------------------------------------------------ running slither


def _fake_slither(tmp_path: Path, stdout: str, exit_code: int = 0) -> Path:
    script = tmp_path / "bin" / "slither"
    script.parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "stdout.txt").write_text(stdout)
    script.write_text(
        f'#!/bin/sh\necho "$@" > "{tmp_path}/args.txt"\ncat "{tmp_path}/stdout.txt"\nexit {exit_code}\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    for name in (
        "contracts/A.sol",
        "contracts/bridge/B.sol",
        "contracts/test/C.sol",
        "contracts/.cache/dep/D.sol",
    ):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("// SPDX-License-Identifier: MIT\n")
    (root / "solc").write_text("")
    return root


def test_standard_input__names_every_contract_folder_but_apes_cache(project):
    sources = audit.standard_input(project)["sources"]
    assert sorted(sources) == ["contracts/A.sol", "contracts/bridge/B.sol", "contracts/test/C.sol"]


def test_run_slither__asks_for_json_hides_nothing_and_judges_itself(tmp_path, project):
    slither = _fake_slither(tmp_path, json.dumps({"success": True, "error": None, "results": {}}))
    output = audit.run_slither(project, slither, Path("solc"), Path("build/audit"))
    assert output["success"] is True
    args = (tmp_path / "args.txt").read_text().split()
    assert args[0] == "build/audit/input.json"
    assert {"--show-ignored-findings", "--fail-none"} <= set(args)
    assert args[args.index("--json") + 1] == "-"
    assert "--filter-paths" not in args
    assert json.loads((project / "build/audit/input.json").read_text())["sources"]


def test_run_slither__a_failed_compilation_is_an_error(tmp_path, project):
    slither = _fake_slither(tmp_path, json.dumps({"success": False, "error": "Invalid solc compilation"}), 1)
    with pytest.raises(audit.SlitherError, match=r"Slither failed \(exit 1\): Invalid solc compilation"):
        audit.run_slither(project, slither, Path("solc"), Path("build/audit"))


def test_run_slither__without_its_venv_says_how_to_make_it(project):
    with pytest.raises(audit.SlitherError, match=r"`make audit` creates \.venv-audit"):
        audit.run_slither(project, Path(".venv-audit/bin/slither"), Path("solc"), Path("build/audit"))


def test_run_slither__refuses_a_slither_config_that_would_change_what_it_sees(tmp_path, project):
    slither = _fake_slither(tmp_path, "{}")
    (project / "slither.config.json").write_text('{"exclude_medium": true}')
    with pytest.raises(audit.AuditError, match=r"slither\.config\.json: Slither would take settings from it"):
        audit.run_slither(project, slither, Path("solc"), Path("build/audit"))
