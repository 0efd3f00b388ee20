"""JUnit XML export: suites per phase, a test case per finding, failures and skips."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from workflow.domain.threat_model import Evidence, ThreatModel
from workflow.exports import export

HOSTILE = '<script>alert("x")</script>'  # the web Deployment's name in hostile_model


def _root(model: ThreatModel) -> ET.Element:
    return ET.fromstring(export(model, "junit"))  # noqa: S314 - ktmb's own output


def _case(root: ET.Element, classname: str) -> ET.Element:
    found = [c for c in root.iter("testcase") if c.get("classname") == classname]
    assert 1 == len(found)
    return found[0]


def test_one_suite_per_phase_with_totals(model: ThreatModel) -> None:
    """Eight suites in methodology order; the counts add up at both levels."""
    root = _root(model)
    suites = root.findall("testsuite")
    assert ["architecture", "identity", "data", "logging", "network", "controls", "compliance",
            "risk_review"] == [s.get("name") for s in suites]
    assert str(len(model.findings)) == root.get("tests")
    assert ("3", "3") == (root.get("failures"), root.get("skipped"))
    for suite in suites:
        cases = suite.findall("testcase")
        assert str(len(cases)) == suite.get("tests")
        assert str(sum(c.find("failure") is not None for c in cases)) == suite.get("failures")
        assert str(sum(c.find("skipped") is not None for c in cases)) == suite.get("skipped")
    assert "ktmb threat model of shop" == root.get("name")


def test_an_open_finding_is_a_failure_with_its_evidence(model: ThreatModel) -> None:
    """Failure type is the band; the text has the description, evidence and recommendation."""
    case = _case(_root(model), "controls.privileged-container")
    assert ("Deployment/shop/web#nginx", "k8s/web.yaml", "27") == (
        case.get("name"), case.get("file"), case.get("line"))
    failure = case.find("failure")
    assert failure is not None
    assert ("critical", "[critical] Privileged container") == (
        failure.get("type"), failure.get("message"))
    text = failure.text or ""
    assert "k8s/web.yaml:27: Deployment/shop/web " in text
    assert "Recommendation: Remove securityContext.privileged or set it to false." in text


def test_questions_and_reviewed_findings_are_skipped(model: ThreatModel) -> None:
    """A question, an acceptance and a false positive are skipped, with the reason."""
    def skipped(case: ET.Element) -> str:
        found = case.find("skipped")
        return "" if found is None else found.get("message", "")

    messages = {c.get("classname"): skipped(c) for c in _root(model).iter("testcase")}
    assert messages["identity.wildcard-rbac"].startswith("open question for the reviewer: alice: ")
    assert messages["data.secret-in-env"].startswith("risk accepted by a reviewer [")
    assert messages["logging.no-audit-annotations"].startswith(
        "marked a false positive by a reviewer")
    assert "" == messages["controls.privileged-container"]


def test_model_findings_are_classed_by_phase(model: ThreatModel) -> None:
    """A model finding's class is llm.<phase>."""
    assert _case(_root(model), "llm.architecture").find("failure") is not None


def test_absolute_paths_are_made_relative(model: ThreatModel) -> None:
    """No local directory in the report: absolute files relative to their common root."""
    def absolute(ev: Evidence) -> Evidence:
        return ev.model_copy(update={"file": f"/srv/repo/{ev.file}"}) if ev.file else ev
    findings = tuple(f.model_copy(update={"evidence": tuple(absolute(e) for e in f.evidence)})
                     for f in model.findings)
    text = export(model.model_copy(update={"findings": findings}), "junit")
    assert "/srv/repo" not in text
    case = _case(ET.fromstring(text), "controls.privileged-container")  # noqa: S314
    assert "web.yaml" == case.get("file")


def test_hostile_text_is_escaped(hostile_model: ThreatModel) -> None:
    """Markup and control characters in names stay text: the report parses, nothing raw."""
    first = hostile_model.findings[0]
    titled = first.model_copy(update={"title": "red \x1b[31m \ufffe title"})
    model = hostile_model.model_copy(update={"findings": (titled, *hostile_model.findings[1:])})
    text = export(model, "junit")
    assert HOSTILE not in text
    assert "\x1b" not in text
    root = ET.fromstring(text)  # noqa: S314 - ktmb's own output
    names = [c.get("name") or "" for c in root.iter("testcase")]
    assert any(HOSTILE in name for name in names)
    failure = next(c.find("failure") for c in root.iter("testcase")
                   if c.get("classname") == first.rule)
    assert failure is not None
    assert "[critical] red \\x1b[31m \ufffd title" == failure.get("message")


def test_an_empty_model_has_empty_suites(bare_model: ThreatModel) -> None:
    """No finding: eight suites of no test, never a made-up test."""
    root = _root(bare_model)
    assert ("0", 8) == (root.get("tests"), len(root.findall("testsuite")))
    assert [] == list(root.iter("testcase"))
