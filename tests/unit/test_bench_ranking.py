"""bench/ranking.py: matching ktmb's findings to an architect's risks, and the rank statistics."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from workflow.domain.threat_model import Finding, Phase


def _bench_module() -> Any:
    """bench/ranking.py, a script rather than a package module (mypy sees it as 'ranking')."""
    path = Path(__file__).resolve().parents[2] / "bench" / "ranking.py"
    spec = importlib.util.spec_from_file_location("bench_ranking", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


_RANKING = _bench_module()
RANKINGS, Risk, kendall_tau, load_ranking = (
    _RANKING.RANKINGS, _RANKING.Risk, _RANKING.kendall_tau, _RANKING.load_ranking)


def _finding(rule: str, *resources: str) -> Finding:
    return Finding(id=f"{rule}@{resources[0]}", rule=rule, title="t", phase=Phase.DATA,
                   resources=resources)


def test_kendall_tau_of_identical_orders_is_one() -> None:
    """The same order agrees completely."""
    assert 1.0 == kendall_tau([(1, 1), (2, 2), (3, 5)])


def test_kendall_tau_of_reversed_orders_is_minus_one() -> None:
    """The reverse order disagrees completely."""
    assert -1.0 == kendall_tau([(1, 3), (2, 2), (3, 1)])


def test_kendall_tau_needs_two_pairs() -> None:
    """One shared item has no order to compare."""
    assert kendall_tau([(1, 1)]) is None


def test_kendall_tau_b_corrects_for_ties() -> None:
    """A tie on one side (one finding stating two risks) is neither for nor against."""
    assert pytest.approx(0.8165, abs=1e-4) == kendall_tau([(1, 1), (2, 1), (3, 2)])


def test_risk_matches_rule_and_resource_patterns() -> None:
    """The rule pattern must match, and a resource pattern when one is given."""
    risk = Risk(rank=1, risk="r", why="w", match=(
        ("network.pod-not-isolated", "Deployment/*/redis-master"), ("data.default-*", None)))
    assert risk.stated_by(_finding("network.pod-not-isolated", "Deployment/default/redis-master"))
    assert not risk.stated_by(_finding("network.pod-not-isolated", "Deployment/default/web"))
    assert risk.stated_by(_finding("data.default-credential", "Secret/x/y"))


def test_every_ranking_file_has_ten_risks_with_matches() -> None:
    """The committed rankings load: ten risks, each with at least one match."""
    paths = sorted(RANKINGS.glob("*.yaml"))
    assert 7 == len(paths)
    for path in paths:
        ranking = load_ranking(path)
        assert path.stem == ranking.app
        assert all(risk.match for risk in ranking.risks)


def test_malformed_ranking_names_the_file(tmp_path: Path) -> None:
    """A ranking without its list of risks is refused with the file's name."""
    path = tmp_path / "bad.yaml"
    path.write_text("app: x\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.yaml"):
        load_ranking(path)
