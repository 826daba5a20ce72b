"""README.md runs as written: every ```python block, in order, in one namespace, on the session's local
chain (snippets that need more chains start their own)."""

from __future__ import annotations

import re

from _ape import ROOT

from link_ops.testing import isolated

FENCE = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks() -> list[str]:
    return FENCE.findall((ROOT / "README.md").read_text())


def test_readme__has_python_blocks_to_run():
    blocks = python_blocks()
    assert len(blocks) >= 3, blocks
    assert any("deploy_protocol" in b for b in blocks) and any("contracts.abi" in b for b in blocks)


def test_readme__every_python_block_runs_as_written(chain):
    namespace: dict[str, object] = {"__name__": "readme"}
    with isolated(chain):
        for number, block in enumerate(python_blocks(), 1):
            code = compile(block, f"README.md python block {number}", "exec")
            exec(code, namespace)  # the README's own code, as a reader would run it
