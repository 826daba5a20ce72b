"""tools/contracts_build.py, importable from tests (tools/ is not a package)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_PATH = ROOT / "tools" / "contracts_build.py"
_spec = importlib.util.spec_from_file_location("contracts_build", _PATH)
assert _spec is not None and _spec.loader is not None
contracts_build = importlib.util.module_from_spec(_spec)
sys.modules["contracts_build"] = contracts_build  # dataclasses look their module up by name
_spec.loader.exec_module(contracts_build)
