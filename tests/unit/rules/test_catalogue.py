"""Guards over the whole rule catalogue (ids, metadata, fixtures, generated docs)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from agents.catalogue import ALL_RULES, BY_PHASE, render_markdown, render_topics, rules_for
from agents.rules.refs import FRAMEWORK_NAMES, framework_of
from workflow.domain.threat_model import PHASES

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = Path(__file__).parent / "fixtures"
RULE_IDS = [r.RULE.id for r in ALL_RULES]


def _by_id(rule_id: str) -> Any:
    return next(r for r in ALL_RULES if r.RULE.id == rule_id)


def test_rule_ids_are_unique() -> None:
    """No two rules share an id."""
    assert len(RULE_IDS) == len(set(RULE_IDS))


def test_every_phase_has_rules() -> None:
    """All eight phases contribute rules, and rules_for agrees with BY_PHASE."""
    assert set(PHASES) == {p for p, rules in BY_PHASE.items() if rules}
    for phase in PHASES:
        assert BY_PHASE[phase] == rules_for(phase.value)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_id_shape_and_module_name(rule_id: str) -> None:
    """Ids are <phase>.<kebab-slug>, the phase matches, the module is the slug in snake_case."""
    rule = _by_id(rule_id)
    phase, _, slug = rule_id.partition(".")
    assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", slug)
    assert rule.RULE.phase.value == phase
    assert f"agents.rules.{phase}.{slug.replace('-', '_')}" == rule.__name__


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_metadata_is_complete(rule_id: str) -> None:
    """Title, STRIDE, scales, remediation with a final period, ATT&CK ids well formed."""
    meta = _by_id(rule_id).RULE
    assert meta.title
    assert meta.stride
    assert 1 <= meta.likelihood <= 5
    assert 1 <= meta.impact <= 5
    assert meta.remediation.endswith(".")
    assert meta.false_positives
    assert meta.kb_topics
    assert meta.techniques
    assert all(re.fullmatch(r"TA\d{4}", t) for t in meta.tactics)
    assert all(re.fullmatch(r"T\d{4}(\.\d{3})?", t) for t in meta.techniques)
    assert all(re.fullmatch(r"MS-TA90\d{2}", m) for m in meta.ms_matrix)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_references_use_known_prefixes(rule_id: str) -> None:
    """Every reference is <known prefix>:<control>; OWASP comes in both editions."""
    refs = _by_id(rule_id).RULE.references
    assert refs
    assert [] == [r for r in refs if framework_of(r) is None]
    owasp = {r.split(":", 1)[0] for r in refs if r.startswith("OWASP")}
    if owasp and not rule_id.startswith("controls.image-"):
        assert "OWASP-K8S-2025" in owasp


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_every_rule_has_pass_and_fail_fixtures(rule_id: str) -> None:
    """Each rule has at least one pass_*.yaml and one fail_*.yaml fixture."""
    names = [p.name for p in (FIXTURES / rule_id).glob("*.yaml")]
    assert any(n.startswith("pass_") for n in names)
    assert any(n.startswith("fail_") for n in names)


def test_no_fixture_directory_without_rule() -> None:
    """Every fixture directory belongs to a rule of the catalogue."""
    assert [] == sorted(p.name for p in FIXTURES.iterdir() if p.name not in set(RULE_IDS))


def test_known_prefixes_cover_the_frameworks() -> None:
    """The known prefixes name CIS, NSA/CISA, both OWASP editions, PSS and the regulations."""
    expected = {"CIS-1.10", "NSA-CISA-1.2", "OWASP-K8S-2022", "OWASP-K8S-2025", "PSS",
                "PCI-DSS-4.0", "GDPR"}
    assert expected == set(FRAMEWORK_NAMES)


def test_rules_md_is_current() -> None:
    """docs/RULES.md equals the catalogue rendered now (regenerate it after a change)."""
    assert render_markdown() == (ROOT / "docs" / "RULES.md").read_text(encoding="utf-8")


def test_topics_md_is_current() -> None:
    """agents/rules/TOPICS.md equals the topic list rendered now."""
    text = (ROOT / "agents" / "rules" / "TOPICS.md").read_text(encoding="utf-8")
    assert render_topics() == text


def test_topics_exist_in_the_knowledge_base() -> None:
    """Every kb_topics key the rules cite is a topic of kb/rule_topics.py."""
    kb = pytest.importorskip("kb.rule_topics")
    used = {k for r in ALL_RULES for k in r.RULE.kb_topics}
    assert [] == sorted(used - set(kb.TOPICS))
