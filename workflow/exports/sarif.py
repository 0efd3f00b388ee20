"""SARIF 2.1.0 for GitHub code scanning: one result per finding and resource, and per path.

Shape (what GitHub reads, see "SARIF support for code scanning"):

- ``tool.driver.rules``: one rule per rule id (model findings get ``llm/<phase>``) with a name,
  short and full descriptions, help text and Markdown (description, recommendation,
  references), ``defaultConfiguration.level`` and ``properties``: ``tags`` (``security``
  first, then phase, STRIDE, ATT&CK and framework ids; at most 20, GitHub's limit) and
  ``security-severity``, the number GitHub turns into critical/high/medium/low.
- ``results``: a finding about three resources gives three results (one that names none
  gives one, about ``Application/<name>``). ``level`` follows the
  finding's severity (a reviewer's override wins): critical and high are ``error``, medium is
  ``warning``, low and info are ``note``. The location is the manifest file of the resource
  (relative URI, ``uriBaseId`` ``%SRCROOT%``) at the line of the evidence (line 1 when the line
  is unknown), plus a logical location naming the resource. GitHub shows only results with a
  file, so a resource no evidence places in a manifest (a cluster-wide gap such as a missing
  audit policy) is anchored at line 1 of the first input manifest, and its location message
  says so; without any manifest input (standard input only) the location is logical only.
  ``partialFingerprints`` hold a digest of the finding id and the resource, so an alert
  survives re-runs and line moves.
- Critical and high attack paths are results of their own (rule ``attack-path/<target>``) with
  a code flow through their hops (:mod:`workflow.exports.sarif_paths`).
- Findings a reviewer accepted, marked mitigated or false positive carry an external
  ``suppression`` (its justification says who or what decided, the owner, the expiry and the
  reason: a gate, the UI, the suppressions file or a ``ktmb.io/accept`` annotation); they
  stay in the log. A model with a baseline gives each result its ``baselineState`` (new,
  updated, unchanged). Degradations and a partial run are tool notifications.

ktmb's severity bands and GitHub's ``security-severity`` ranges differ (ktmb's critical
starts at 8.0, GitHub's at 9.0), so the raw 0-10 score is not passed through: each band maps
to a number inside GitHub's range for the same band, and the ktmb score stays in the result's
properties. Info findings get no ``security-severity``, so GitHub shows them by ``level``.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from workflow.domain.scoring import SEVERITY_ORDER
from workflow.domain.threat_model import (
    BaselineState,
    Evidence,
    Finding,
    FindingStatus,
    Severity,
    ThreatModel,
)
from workflow.exports._common import (
    STRIDE_LABELS,
    finding_resources,
    fingerprint,
    is_model_finding,
    kind_of,
    manifest_files,
    name_of,
    namespace_of,
    phase_title,
    ranked,
)
from workflow.exports.markdown import escape as _md
from workflow.exports.sarif_paths import path_results, path_rules

__all__ = [
    "FINGERPRINT_KEY",
    "LEVELS",
    "SARIF_SCHEMA",
    "SECURITY_SEVERITY",
    "build",
    "render",
    "rule_id",
]

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")

#: SARIF result level of each severity band.
LEVELS: dict[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}

#: GitHub ``security-severity`` of each band: a value inside GitHub's range for that band
#: (critical > 9.0, high 7.0-8.9, medium 4.0-6.9, low 0.1-3.9). Info has none.
SECURITY_SEVERITY: dict[Severity, str] = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "2.0",
}

#: The partialFingerprints key; bump the version if the digest's input ever changes.
FINGERPRINT_KEY = "ktmbFindingResource/v1"

_SRCROOT = "%SRCROOT%"
_MAX_TAGS = 20
_SUPPRESSED = {
    FindingStatus.ACCEPTED: "risk accepted by a reviewer",
    FindingStatus.MITIGATED: "marked mitigated by a reviewer",
    FindingStatus.FALSE_POSITIVE: "marked a false positive by a reviewer",
}


#: SARIF ``baselineState`` of each baseline mark.
_BASELINE_STATES = {BaselineState.NEW: "new", BaselineState.CHANGED: "updated",
                    BaselineState.UNCHANGED: "unchanged"}


def rule_id(finding: Finding) -> str:
    """The SARIF rule id of a finding: its rule, or ``llm/<phase>`` for a model finding."""
    if is_model_finding(finding):
        return f"llm/{finding.phase.value}"
    return finding.rule


def _rule_name(rid: str) -> str:
    words = "".join(ch if ch.isalnum() else " " for ch in rid).split()
    return "".join(word[:1].upper() + word[1:] for word in words) or "Rule"


def _tags(findings: list[Finding]) -> list[str]:
    tags: dict[str, None] = {"security": None, "kubernetes": None}
    for finding in findings:
        tags[f"phase/{finding.phase.value}"] = None
        if is_model_finding(finding):
            tags["model-generated"] = None
        for stride in finding.stride:
            tags[f"stride/{stride.value}"] = None
        for technique in finding.attack.techniques:
            tags[f"attack/{technique}"] = None
        for tactic in finding.attack.tactics:
            tags[f"attack-tactic/{tactic}"] = None
        for ref in finding.references:
            tags[ref] = None
        for ms in finding.attack.ms_matrix:
            tags[ms] = None
    return list(tags)[:_MAX_TAGS]


def _worst(findings: list[Finding]) -> Severity:
    bands = {f.effective_severity for f in findings}
    return next(band for band in SEVERITY_ORDER if band in bands)


def _rule(rid: str, findings: list[Finding]) -> dict[str, Any]:
    first = findings[0]
    worst = _worst(findings)
    if is_model_finding(first):
        phase = phase_title(first.phase).lower()
        short = f"Model-proposed threat ({phase} phase)"
        full = (f"A threat the local model proposed in the {phase} phase from the architecture "
                "notes and the retrieved guidance. ktmb kept it only because every resource it "
                "names exists in the inventory and every citation was retrieved; it is a draft "
                "for a reviewer, not a rule result. Each result carries its own description "
                "and recommendation.")
        recommendation = "See the recommendation in each result."
    else:
        short = first.title
        full = first.description or first.title
        recommendation = first.recommendation
    references = sorted({ref for f in findings for ref in f.references})
    techniques = sorted({t for f in findings for t in f.attack.techniques})
    stride = [STRIDE_LABELS[s] for s in dict.fromkeys(s for f in findings for s in f.stride)]
    text = [full]
    markdown = [f"## {_md(short)}", "", _md(full)]
    if recommendation:
        text += ["", f"Recommendation: {recommendation}"]
        markdown += ["", "### Recommendation", "", _md(recommendation)]
    if stride:
        text += ["", "STRIDE: " + ", ".join(stride)]
        markdown += ["", "**STRIDE:** " + _md(", ".join(stride))]
    if techniques:
        text += ["", "MITRE ATT&CK: " + ", ".join(techniques)]
        markdown += ["", "**MITRE ATT&CK:** " + _md(", ".join(techniques))]
    if references:
        text += ["", "References: " + ", ".join(references)]
        markdown += ["", "### References", ""] + [f"- {_md(ref)}" for ref in references]
    properties: dict[str, Any] = {
        "tags": _tags(findings),
        "precision": "medium" if is_model_finding(first) else "high",
        "problem.severity": "recommendation" if worst is Severity.INFO else LEVELS[worst],
        "ktmb.phase": first.phase.value,
        "ktmb.severity": worst.value,
    }
    if worst in SECURITY_SEVERITY:
        properties["security-severity"] = SECURITY_SEVERITY[worst]
    return {
        "id": rid,
        "name": _rule_name(rid),
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "help": {"text": "\n".join(text), "markdown": "\n".join(markdown)},
        "defaultConfiguration": {"level": LEVELS[worst]},
        "properties": properties,
    }


class _Uris:
    """Turns manifest paths into URIs relative to ``%SRCROOT%``.

    Relative paths are kept as they are (ktmb records them relative to where it ran). When
    some paths are absolute, they are made relative to the deepest directory that holds all
    the absolute ones, and that directory is recorded as ``originalUriBaseIds``.
    """

    def __init__(self, paths: list[str]) -> None:
        absolute = [p for p in (self._posix(p) for p in paths) if posixpath.isabs(p)]
        self.root: str | None = None
        if absolute:
            self.root = posixpath.commonpath([posixpath.dirname(p) for p in absolute])

    @staticmethod
    def _posix(path: str) -> str:
        if "\\" in path:
            return PureWindowsPath(path).as_posix()
        return path

    def uri(self, path: str) -> str:
        """The relative URI of a manifest path."""
        posix = self._posix(path)
        if posixpath.isabs(posix) and self.root is not None:
            posix = posixpath.relpath(posix, self.root)
        posix = posixpath.normpath(posix)
        if posixpath.isabs(posix):
            posix = posix.lstrip("/")
        return quote(str(PurePosixPath(posix)), safe="/-._~")

    def original(self) -> dict[str, Any] | None:
        """``originalUriBaseIds`` when paths were made relative, else None."""
        if self.root is None:
            return None
        root = self.root if self.root.endswith("/") else self.root + "/"
        return {_SRCROOT: {"uri": "file://" + quote(root, safe="/-._~")}}


def _evidence_text(ev: Evidence) -> str:
    value = "(no value)" if ev.value is None else ev.value
    return f"{ev.path} = {value}"


def _location(resource: str, file: str | None, line: int, uris: _Uris,
              message: str | None = None) -> dict[str, Any]:
    location: dict[str, Any] = {}
    if file is not None:
        location["physicalLocation"] = {
            "artifactLocation": {"uri": uris.uri(file), "uriBaseId": _SRCROOT},
            "region": {"startLine": line},
        }
    logical: dict[str, Any] = {"name": name_of(resource), "fullyQualifiedName": resource,
                               "kind": "resource"}
    location["logicalLocations"] = [logical]
    if message:
        location["message"] = {"text": message}
    return location


def _message(finding: Finding, resource: str, evidence: list[Evidence]) -> str:
    parts = [f"{finding.title} ({resource})."]
    if evidence:
        parts.append("Evidence: " + "; ".join(_evidence_text(ev) for ev in evidence) + ".")
    if finding.description and is_model_finding(finding):
        parts.append(finding.description)
    if finding.rationale:
        parts.append(f"Model rationale: {finding.rationale}")
    if is_model_finding(finding) and finding.recommendation:
        parts.append(f"Recommendation: {finding.recommendation}")
    return " ".join(parts)


@dataclass(frozen=True)
class _Where:
    """How results are placed: resource files, paths that are not files, the anchor file."""

    files: dict[str, str]
    not_files: frozenset[str]
    anchor: str | None
    uris: _Uris


def _where(model: ThreatModel) -> _Where:
    files = manifest_files(model)
    not_files = frozenset({i.path for i in model.application.inputs if i.role == "stdin"}
                          | {"<stdin>"})
    paths = [ev.file for f in model.findings for ev in f.evidence
             if ev.file and ev.file not in not_files]
    anchor = next((i.path for i in model.application.inputs if i.role == "manifest"), None)
    if anchor is not None:
        paths.append(anchor)
    return _Where(files=files, not_files=not_files, anchor=anchor, uris=_Uris(paths))


def _result(finding: Finding, resource: str, rule_index: int, where: _Where,
            paths: dict[str, list[str]]) -> dict[str, Any]:
    uris = where.uris
    evidence = [ev for ev in finding.evidence if ev.resource == resource]
    located = [ev for ev in evidence if ev.file and ev.file not in where.not_files]
    primary = next((ev for ev in located if ev.line is not None), located[0] if located else None)
    file = primary.file if primary is not None else where.files.get(resource)
    line = primary.line if primary is not None and primary.line is not None else 1
    note = None
    if file is None and where.anchor is not None:
        file, note = where.anchor, (f"No manifest line locates {resource}; the result is "
                                    "anchored at the start of the first input manifest.")
    band = finding.effective_severity
    result: dict[str, Any] = {
        "ruleId": rule_id(finding),
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": LEVELS[band],
        "message": {"text": _message(finding, resource, evidence)},
        "locations": [_location(resource, file, line, uris, note)],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(finding.id, resource)},
        "properties": {
            "findingId": finding.id,
            "resource": resource,
            "namespace": namespace_of(resource),
            "resourceKind": kind_of(resource),
            "phase": finding.phase.value,
            "severity": band.value,
            "computedSeverity": finding.severity.value,
            "score": finding.score,
            "likelihood": finding.likelihood,
            "impact": finding.impact,
            "origin": finding.origin.value,
            "status": finding.status.value,
            "stride": [s.value for s in finding.stride],
            "attack": finding.attack.model_dump(mode="json"),
            "references": list(finding.references),
            "citations": [c.model_dump(mode="json") for c in finding.citations],
            "evidence": [ev.model_dump(mode="json") for ev in evidence],
            "mergedFrom": list(finding.merged_from),
            "attackPaths": paths.get(finding.id, []),
        },
    }
    related = [ev for ev in located if ev is not primary]
    if related:
        result["relatedLocations"] = [
            {"id": i, **_location(resource, ev.file, ev.line or 1, uris, _evidence_text(ev))}
            for i, ev in enumerate(related, start=1)]
    if finding.status in _SUPPRESSED:
        justification = _SUPPRESSED[finding.status]
        if finding.triage is not None:
            justification = finding.triage.message
            result["properties"]["triage"] = finding.triage.model_dump(mode="json")
        if finding.notes:
            justification += ": " + " / ".join(f"{n.by}: {n.text}" for n in finding.notes)
        result["suppressions"] = [{"kind": "external", "status": "accepted",
                                   "justification": justification}]
    elif finding.triage is not None:  # a decision that no longer holds: said, not suppressed
        result["properties"]["triage"] = finding.triage.model_dump(mode="json")
    if finding.baseline is not None:
        result["baselineState"] = _BASELINE_STATES[finding.baseline.state]
    return result


def _notifications(model: ThreatModel) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = []
    if model.partial:
        pending = [p.value for p, rec in model.phases.items()
                   if rec.status.value not in ("approved", "completed")]
        notes.append({"level": "warning", "message": {
            "text": "Partial run: the threat model is not finished"
                    + (f"; phases not finished: {', '.join(pending)}" if pending else "")
                    + ". Results cover only the phases that ran."}})
    for deg in model.degradations:
        where = f"{deg.phase.value} phase, " if deg.phase is not None else ""
        notes.append({"level": "warning",
                      "message": {"text": f"Degraded ({where}{deg.component}): {deg.reason}"}})
    return notes


def build(model: ThreatModel) -> dict[str, Any]:
    """The SARIF log of a threat model, as a JSON-ready dict."""
    findings = ranked(model.findings)
    by_rule: dict[str, list[Finding]] = {}
    for finding in findings:
        by_rule.setdefault(rule_id(finding), []).append(finding)
    rule_ids = sorted(by_rule)
    index = {rid: i for i, rid in enumerate(rule_ids)}
    where = _where(model)
    # A finding that names no resource is about the application as a whole.
    whole = f"Application/{model.application.name}"
    paths: dict[str, list[str]] = {}
    for path in model.attack_paths:
        for fid in path.findings:
            paths.setdefault(fid, []).append(path.id)
    results = [_result(finding, resource, index[rule_id(finding)], where, paths)
               for finding in findings
               for resource in (finding_resources(finding) or (whole,))]
    extra = path_rules(model, LEVELS, SECURITY_SEVERITY)
    index.update({rule["id"]: len(rule_ids) + i for i, rule in enumerate(extra)})

    def locate(resource: str, file: str | None, line: int,
               message: str | None) -> dict[str, Any]:
        return _location(resource, file, line, where.uris, message)

    results += path_results(model, index, locate, where.files, where.anchor, LEVELS)
    driver: dict[str, Any] = {
        "name": model.generator.name,
        "fullName": "Kubernetes Threat Model Builder",
        "version": model.generator.version,
        "rules": [_rule(rid, by_rule[rid]) for rid in rule_ids] + extra,
    }
    if all(part.isdigit() for part in model.generator.version.split(".")):
        driver["semanticVersion"] = model.generator.version
    llm = model.generator.llm
    invocation: dict[str, Any] = {
        "executionSuccessful": True,
        "toolExecutionNotifications": _notifications(model),
        "properties": {"partial": model.partial,
                       "model": (f"{llm.provider}:{llm.model}" if llm else "no model")},
    }
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "automationDetails": {"id": f"ktmb/{_category(model.application.name)}/{model.run_id}"},
        "invocations": [invocation],
        "results": results,
        "properties": {
            "runId": model.run_id,
            "application": model.application.name,
            "schemaVersion": model.schema_version,
            "createdAt": model.created_at.isoformat(),
            "partial": model.partial,
            "generator": model.generator.model_dump(mode="json"),
        },
    }
    original = where.uris.original()
    if original is not None:
        run["originalUriBaseIds"] = original
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _category(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name) or "application"


def render(model: ThreatModel) -> str:
    """The SARIF log of a threat model as indented JSON text."""
    return json.dumps(build(model), indent=2, ensure_ascii=False) + "\n"
