"""The import-linter contracts of ``pyproject.toml`` hold: layers point one way, no cycles."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_layer_contracts_are_kept() -> None:
    """``lint-imports`` keeps every contract (its report is shown when one is broken)."""
    script = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(script), "--no-cache"], cwd=REPO, capture_output=True,
                            text=True, timeout=300, check=False)
    assert 0 == result.returncode, result.stdout[-4000:] + result.stderr[-2000:]
    assert ", 0 broken." in result.stdout
