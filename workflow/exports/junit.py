"""JUnit XML for CI test reports (GitLab, Jenkins, Azure DevOps, GitHub test-report actions).

Shape, in the JUnit dialect those tools read:

- ``<testsuites>`` names the application and totals the counts; one ``<testsuite>`` per phase,
  in methodology order (a phase without findings is an empty suite, never a made-up test);
- one ``<testcase>`` per finding: ``classname`` is the rule id (``llm.<phase>`` for a model
  finding), ``name`` the resource and detail of its fingerprint, ``file`` and ``line`` its
  first located evidence (a relative path: absolute ones are made relative to the directory
  that holds them all);
- an open finding is a ``<failure>`` whose ``type`` is its severity band (a reviewer's override
  wins) and whose text holds the description, the evidence, the recommendation and the
  references; an open question for the reviewer and a finding a reviewer accepted, marked
  mitigated or false positive are ``<skipped>``, with the reason.

There is no pass/fail threshold here (``ktmb scan --fail-on`` is the gate): every open
finding is a failure, ranked most severe first within its phase.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import PurePosixPath

from workflow.domain.printable import printable
from workflow.domain.threat_model import Finding, FindingStatus, ThreatModel
from workflow.exports._common import (
    findings_by_phase,
    is_model_finding,
    phase_title,
)
from workflow.exports.sarif_locations import Places, evidence_text

__all__ = ["render"]

_SKIPPED = {
    FindingStatus.QUESTION: "open question for the reviewer",
    FindingStatus.ACCEPTED: "risk accepted by a reviewer",
    FindingStatus.MITIGATED: "marked mitigated by a reviewer",
    FindingStatus.FALSE_POSITIVE: "marked a false positive by a reviewer",
}
#: Characters XML 1.0 cannot carry at all (after printable(), only non-characters remain).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: str) -> str:
    """``value`` as XML text: controls shown as visible escapes, non-characters replaced."""
    return _NOT_XML.sub("\ufffd", printable(value))


def _classname(finding: Finding) -> str:
    return f"llm.{finding.phase.value}" if is_model_finding(finding) else finding.rule


def _name(finding: Finding) -> str:
    _rule, at, subject = finding.id.partition("@")
    return subject if at and subject else finding.title


def _details(finding: Finding, places: Places) -> str:
    lines = [finding.title]
    if finding.description:
        lines += ["", finding.description]
    if finding.evidence:
        lines += ["", "Evidence:"]
        for ev in finding.evidence:
            where = f"{places.path(ev.file)}:{ev.line or 1}: " if ev.file else ""
            lines.append(f"  {where}{ev.resource} {evidence_text(ev)}")
    if finding.recommendation:
        lines += ["", f"Recommendation: {finding.recommendation}"]
    lines += ["", f"Severity {finding.effective_severity.value}, score {finding.score:.1f} "
                  f"(likelihood {finding.likelihood}, impact {finding.impact})."]
    if finding.references:
        lines.append("References: " + ", ".join(finding.references))
    return "\n".join(lines)


def _testcase(suite: ET.Element, finding: Finding, places: Places) -> str:
    """Add the finding's test case to ``suite``; its outcome (failure or skipped)."""
    case = ET.SubElement(suite, "testcase", classname=_text(_classname(finding)),
                         name=_text(_name(finding)), time="0")
    located = next((ev for ev in finding.evidence if ev.file), None)
    if located is not None and located.file is not None:
        case.set("file", _text(str(PurePosixPath(places.path(located.file)))))
        case.set("line", str(located.line or 1))
    band = finding.effective_severity.value
    if finding.status in _SKIPPED:
        reason = _SKIPPED[finding.status]
        if finding.notes:
            reason += ": " + " / ".join(f"{n.by}: {n.text}" for n in finding.notes)
        ET.SubElement(case, "skipped", message=_text(f"{reason} [{band}] {finding.title}"))
        return "skipped"
    failure = ET.SubElement(case, "failure", type=band,
                            message=_text(f"[{band}] {finding.title}"))
    failure.text = _text(_details(finding, places))
    return "failure"


def render(model: ThreatModel) -> str:
    """The JUnit XML report of a threat model."""
    places = Places(model)
    root = ET.Element("testsuites", name=_text(f"ktmb threat model of {model.application.name}"))
    totals = {"tests": 0, "failure": 0, "skipped": 0}
    for phase, findings in findings_by_phase(model):
        suite = ET.SubElement(root, "testsuite", name=phase.value)
        outcomes = [_testcase(suite, finding, places) for finding in findings]
        counts = {"tests": len(outcomes), "failure": outcomes.count("failure"),
                  "skipped": outcomes.count("skipped")}
        for key, value in counts.items():
            totals[key] += value
        suite.attrib.update({"tests": str(counts["tests"]), "failures": str(counts["failure"]),
                             "errors": "0", "skipped": str(counts["skipped"]), "time": "0",
                             "timestamp": model.created_at.replace(tzinfo=None).isoformat(
                                 timespec="seconds"),
                             "hostname": "ktmb", "id": str(len(root) - 1),
                             "package": f"ktmb.{phase.value}"})
        properties = ET.Element("properties")
        ET.SubElement(properties, "property", name="phase", value=phase_title(phase))
        ET.SubElement(properties, "property", name="run_id", value=_text(model.run_id))
        suite.insert(0, properties)
    root.attrib.update({"tests": str(totals["tests"]), "failures": str(totals["failure"]),
                        "errors": "0", "skipped": str(totals["skipped"]), "time": "0"})
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
