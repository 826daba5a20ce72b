"""WORK IN PROGRESS (issue 10, branch issue-10-audit): the standard-JSON input Slither reads.

Slither (its own venv: `pip install slither-analyzer`) runs offline through the project's solc-js wrapper
only on a standard-JSON *input file*:

    python tools/slither_input.py build/slither_input.json
    slither build/slither_input.json --compile-force-framework solc-json --solc .solcx/solc-v0.8.30 \
        --exclude-informational --exclude-low --filter-paths node_modules

Measured 2026-11-28: 22 s. --exclude-dependencies does not drop node_modules findings; --filter-paths does.
With every folder (contracts/test included) and node_modules filtered, medium+low excluded: 26 results of
7 detectors: incorrect-equality (cubeId == 0, stoppedAt == end), reentrancy-no-eth (test/SeedCubeReference),
unchecked-transfer, uninitialized-local (zero-initialised on purpose: count, word, previous), unused-return
(nodeData / tierRate / tryRecover tuples), immutable-states, cache-array-length. Next: triage file with a
reason per accepted finding, `make audit` (own venv, slither-analyzer pinned) in `make test`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REMAPPINGS = ("@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/", "solady/=node_modules/solady/")


def standard_input(root: Path = ROOT) -> dict[str, object]:
    sources = {
        path.relative_to(root).as_posix(): {"urls": [path.relative_to(root).as_posix()]}
        for path in sorted((root / "contracts").rglob("*.sol"))
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


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "build/slither_input.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(standard_input(), indent=1))
    print(out)
