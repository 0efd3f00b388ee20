"""Every attack type against its own enabled and blocked fixtures, through the real pipeline.

``fixtures/<TYPE>/enabled_*.yaml`` must yield a live step of that attack type on a path between
the two vertices its ``# expect:`` line names; ``blocked_*.yaml`` (the condition missing, or a
positive control that stops it) must not.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from agents.attack_graph.build import build_graph
from agents.attack_graph.kinds import ATTACKS, AttackType
from tests.unit.rules.chained import facts_for
from workflow.domain.inputs import load_inputs
from workflow.domain.inventory import Inventory
from workflow.domain.settings import Settings
from workflow.domain.threat_model import Phase

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def load(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Inventory]:
    """Load a fixture into an inventory through the real input pipeline."""
    settings = Settings(home=tmp_path_factory.mktemp("ktmb-home"))

    def _load(path: Path) -> Inventory:
        return load_inputs([path], settings=settings).inventory

    return _load


def _cases() -> list[Any]:
    return [pytest.param(path.parent.name, path, id=f"{path.parent.name}/{path.stem}")
            for path in sorted(FIXTURES.glob("*/*.yaml"))]


def _expect(path: Path) -> tuple[str, str]:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# expect: "):
            source, _, target = line.removeprefix("# expect: ").partition(" -> ")
            return source.strip(), target.strip()
    raise AssertionError(f"{path} has no '# expect:' line")


def _on_a_path(attack: str, path: Path, inv: Inventory) -> list[str]:
    """The live steps of ``attack`` that lie on a path between the expected vertices."""
    source, target = _expect(path)
    graph = build_graph(facts_for(Phase.RISK_REVIEW, inv))
    search = graph.search_graph()
    if source not in search or target not in search:
        return []
    ahead = nx.descendants(search, source) | {source}
    behind = nx.ancestors(search, target) | {target}
    return [f"{s.source} -> {s.target}" for s in graph.steps()
            if s.attack.value == attack and not s.blocked
            and s.source in ahead and s.target in behind]


def test_every_attack_type_has_an_enabled_and_a_blocked_fixture() -> None:
    """Each of the attack types has both fixtures, and no fixture names an unknown type."""
    found = {p.parent.name for p in FIXTURES.glob("*/enabled_*.yaml")}
    blocked = {p.parent.name for p in FIXTURES.glob("*/blocked_*.yaml")}
    assert {a.value for a in AttackType} == found == blocked
    assert set(ATTACKS) == set(AttackType)


@pytest.mark.parametrize(("attack", "path"), _cases())
def test_attack_fixture(attack: str, path: Path, load: Callable[..., Inventory]) -> None:
    """Enabled: a live step of this attack joins the expected vertices; blocked: none does."""
    steps = _on_a_path(attack, path, load(path))
    if path.stem.startswith("enabled_"):
        assert steps, f"no {attack} step between the expected vertices of {path.name}"
    else:
        assert path.stem.startswith("blocked_")
        assert [] == steps


def test_attacks_md_is_current() -> None:
    """docs/ATTACKS.md equals the attack catalogue rendered now (regenerate it after a change)."""
    from agents.attack_graph.docs import render_attacks

    docs = Path(__file__).resolve().parents[3] / "docs" / "ATTACKS.md"
    assert render_attacks() == docs.read_text(encoding="utf-8")
