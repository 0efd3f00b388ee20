"""The terminal summary of ``ktmb scan``: findings by severity and rule, where, --fail-on."""

from __future__ import annotations

from tests.unit.exports.conftest import build_model
from workflow.console import at_or_above, failing
from workflow.domain.threat_model import FindingStatus, Severity
from workflow.terminal_summary import summary_text


def test_rows_by_severity_and_rule_with_where() -> None:
    """One row per band and rule, most severe first; files under their common directory."""
    lines = summary_text(build_model(llm=False)).splitlines()
    assert [
        "threat model of shop: 6 findings, overall risk critical",
        "",
        "SEVERITY  RULE                           FINDINGS  WHERE (in k8s/)",
        "critical  controls.privileged-container         1  web.yaml:27",
        "high      identity.wildcard-rbac                1  rbac.yaml:8",
        "high      llm                                   1  Deployment/shop/web, "
        "StatefulSet/shop/db",
        "low       network.no-network-policy             1  Namespace/monitoring",
        "",
        "open findings by severity: critical 1, high 2, low 1; 4 rules",
        "closed by reviewers (accepted, mitigated, false positive): 2",
        "no model was used: rule findings only",
        "degraded: data retrieval: knowledge base empty; no citations",
    ] == lines


def test_fail_on_marks_rows_and_gives_the_verdict() -> None:
    """With --fail-on, failing rows are marked and the last line says what failed."""
    lines = summary_text(build_model(), fail_on="high").splitlines()
    assert lines[2].startswith("FAIL-ON  SEVERITY  RULE  ")
    assert ["fail     critical  controls.privileged-container",
            "fail     high      identity.wildcard-rbac",
            "fail     high      llm",
            "         low       network.no-network-policy"] == [line[:48].rstrip()
                                                             for line in lines[3:7]]
    assert ("--fail-on high: FAILED: 3 findings at or above high (critical 1, high 2) in 3 "
            "rules, marked 'fail' above (of 6 in all)") == lines[-1]
    assert "--fail-on critical: FAILED: 1 finding at or above critical (critical 1) in 1 rule" \
        in summary_text(build_model(), fail_on="critical")


def test_a_passing_gate_says_so() -> None:
    """No open finding at or above the band: the verdict is 'passed'."""
    model = build_model()
    low = tuple(f.model_copy(update={"severity": Severity.LOW, "severity_override": None})
                for f in model.findings)
    text = summary_text(model.model_copy(update={"findings": low}), fail_on="high")
    assert text.endswith("--fail-on high: passed: no finding at or above high\n")


def test_fail_on_counts_open_findings_at_their_effective_band() -> None:
    """A reviewer's override counts, and a finding a reviewer closed never fails the gate."""
    model = build_model()
    by_rule = {f.rule: f for f in failing(model, "high")}
    assert {"controls.privileged-container", "identity.wildcard-rbac", "llm"} == set(by_rule)
    assert Severity.HIGH is by_rule["llm"].effective_severity  # medium, raised by a reviewer
    accepted = tuple(f.model_copy(update={"status": FindingStatus.ACCEPTED})
                     for f in model.findings)
    assert not at_or_above(model.model_copy(update={"findings": accepted}), "info")


def test_standard_input_and_no_findings() -> None:
    """Evidence from standard input shows as <stdin>; a model with no open finding says so."""
    model = build_model()
    stdin = tuple(f.model_copy(update={"evidence": tuple(
        e.model_copy(update={"file": "<stdin>"}) if e.file else e for e in f.evidence)})
        for f in model.findings)
    assert "  <stdin>:27" in summary_text(model.model_copy(update={"findings": stdin}))
    assert "\nno open finding\n" in summary_text(model.model_copy(update={"findings": ()}))
