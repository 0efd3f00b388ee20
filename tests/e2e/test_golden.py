"""The golden threat model of ``examples/payments``: every finding, score and reference pinned.

The reviewed model is ``tests/golden/payments.threat-model.json`` (run id, times and secret
fingerprints normalised); ``tests/golden/REVIEW.md`` records the review of each finding. A
change of any finding, score, path or reference fails here and shows as a diff in review.
After an intended change, regenerate with ``KTMB_UPDATE_GOLDEN=1 pytest tests/e2e/test_golden.py``
and review the diff of both files.
"""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.golden.normalise import normalise

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden" / "payments.threat-model.json"


def _ktmb(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The installed console script, as a user runs it."""
    script = Path(sys.executable).with_name("ktmb")
    return subprocess.run([str(script), *args], env=env, capture_output=True, text=True,
                          timeout=300, check=False, cwd=REPO)


def _text(model: dict[str, Any]) -> str:
    return json.dumps(model, indent=2, ensure_ascii=False) + "\n"


def test_the_payments_threat_model_matches_the_reviewed_golden(
        cli_env: dict[str, str], tmp_path: Path) -> None:
    """``ktmb run`` of the example writes exactly the reviewed model (normalised)."""
    out = tmp_path / "model.json"
    env = {**cli_env, "KTMB_EMBEDDINGS": "off"}
    result = _ktmb(env, "run", "examples/payments/manifests", "--architecture",
                   "examples/payments/ARCHITECTURE.md", "--out", str(out))
    assert 0 == result.returncode, result.stderr
    actual = _text(normalise(json.loads(out.read_text(encoding="utf-8"))))
    if os.environ.get("KTMB_UPDATE_GOLDEN"):
        GOLDEN.write_text(actual, encoding="utf-8")
    expected = GOLDEN.read_text(encoding="utf-8")
    diff = "".join(difflib.unified_diff(expected.splitlines(keepends=True),
                                        actual.splitlines(keepends=True),
                                        "golden", "this run", n=2))
    assert expected == actual, "the threat model changed:\n" + diff[:20_000]


def test_the_scan_of_payments_differs_only_in_citations_and_the_degradation(
        tmp_path: Path) -> None:
    """``ktmb scan`` gives the golden model's findings, scores and paths, without citations."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KTMB_")}
    env.update({"KTMB_HOME": str(tmp_path), "KTMB_REDACTION_KEY": "test-key"})
    result = _ktmb(env, "scan", "examples/payments/manifests", "--architecture",
                   "examples/payments/ARCHITECTURE.md")
    assert 0 == result.returncode, result.stderr
    scanned = normalise(json.loads(result.stdout))
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for model in (scanned, golden):
        for finding in model["findings"]:
            finding["citations"] = []
    assert [d["component"] for d in scanned.pop("degradations")] == ["knowledge_base"]
    golden.pop("degradations")
    assert golden == scanned
