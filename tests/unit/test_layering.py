"""The house rules of ARCHITECTURE.md that a test can hold: pure modules import no ape, web3 or network
client, and the library never imports link_ops.testing."""

from __future__ import annotations

import ast
import subprocess
import sys

from _ape import ROOT

PURE = [
    "link_ops.model.rewards",
    "link_ops.model.reward_errors",
    "link_ops.model.layout",
    "link_ops.model.attest",
    "link_ops.model.chains",
    "link_ops.model.partner_config",
    "link_ops.store",
    "link_ops.watch.alerts",
    "link_ops.watch.sla",
]
FORBIDDEN = ("ape", "web3", "requests")  # and every ape_* plugin


def test_pure_modules__import_no_ape_web3_or_network_client():
    probe = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in PURE)
        + f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r} "
        "or m.split('.')[0].startswith('ape_')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout


def test_the_library_never_imports_link_ops_testing():
    offenders = []
    for path in (ROOT / "src" / "link_ops").rglob("*.py"):
        if "testing" in path.relative_to(ROOT / "src" / "link_ops").parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            offenders += [f"{path.name}: {n}" for n in names if n.startswith("link_ops.testing")]
    assert offenders == []
