"""Every rule against its own pass and fail fixtures, through the real input pipeline.

A fixture ``<case>.yaml`` may come with an application profile, ``profiles/<case>.ktmb.yaml``
(the rules that read the profile's answers).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agents.catalogue import ALL_RULES
from agents.facts.derived import Facts
from agents.rules.base import Rule
from tests.unit.rules.chained import facts_for
from workflow.domain.inputs import LoadedInputs, load_inputs
from workflow.domain.settings import Settings
from workflow.domain.threat_model import FindingStatus

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def load(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., LoadedInputs]:
    """Load a fixture (and its profile, if it has one) through the real input pipeline.

    Defined here rather than in a conftest.py: a second conftest module would shadow the
    top-level one for tests that import it by name.
    """
    settings = Settings(home=tmp_path_factory.mktemp("ktmb-home"))

    def _load(path: Path) -> LoadedInputs:
        profile = path.parent / "profiles" / f"{path.stem}.ktmb.yaml"
        return load_inputs([path], settings=settings,
                           profile=profile if profile.is_file() else None)

    return _load


def _facts(rule: Rule, inputs: LoadedInputs) -> Facts:
    return facts_for(rule.RULE.phase, inputs.inventory, inputs.profile)


def _cases() -> list[Any]:
    cases = []
    for rule in ALL_RULES:
        for path in sorted((FIXTURES / rule.RULE.id).glob("*.yaml")):
            cases.append(pytest.param(rule, path, id=f"{rule.RULE.id}/{path.stem}"))
    return cases


def _expected(path: Path) -> str | None:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# expect: "):
            return line.removeprefix("# expect: ").strip()
    return None


@pytest.mark.parametrize(("rule", "path"), _cases())
def test_rule_fixture(rule: Rule, path: Path, load: Callable[..., LoadedInputs]) -> None:
    """A fail fixture draws the rule's finding (with the expected id); a pass fixture none."""
    found = list(rule.evaluate(_facts(rule, load(path))))
    ids = sorted(f.id for f in found)
    if path.stem.startswith("pass_"):
        assert [] == ids
        return
    assert path.stem.startswith("fail_")
    assert ids, f"{rule.RULE.id} found nothing in {path.name}"
    expected = _expected(path)
    if expected is not None:
        assert expected in ids
    for item in found:
        assert rule.RULE.id == item.rule
        assert item.id.startswith(rule.RULE.id + "@")
        if item.status == FindingStatus.QUESTION:
            assert item.title.endswith("?"), "open questions are phrased as questions"


@pytest.mark.parametrize(("rule", "path"), _cases())
def test_rule_fixture_is_deterministic(rule: Rule, path: Path,
                                       load: Callable[..., LoadedInputs]) -> None:
    """Loading the same fixture twice gives the same findings in the same order."""
    first = [f.model_dump() for f in rule.evaluate(_facts(rule, load(path)))]
    second = [f.model_dump() for f in rule.evaluate(_facts(rule, load(path)))]
    assert first == second


def test_logging_phase_states_no_invented_facts(load: Callable[..., LoadedInputs]) -> None:
    """Logging findings about what manifests cannot show are questions, never open facts."""
    from agents.catalogue import rules_for

    inv = load(FIXTURES / "logging.no-log-shipping" / "fail_no_agent.yaml").inventory
    found = [f for rule in rules_for("logging") for f in rule.evaluate(Facts(inv))]
    assert found
    assert {FindingStatus.QUESTION} == {f.status for f in found}
