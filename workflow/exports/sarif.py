"""SARIF 2.1.0 for GitHub code scanning: one result per finding and resource, and per path.

Shape (what GitHub reads, see "SARIF support for code scanning"):

- ``tool.driver.rules``: one rule per rule id (model findings get ``llm/<phase>``) with a name,
  the rule's catalogue title as short description, its description, help text and Markdown
  (description, remediation, references), ``defaultConfiguration.level`` and ``properties``:
  ``tags`` (``security`` first, then phase, STRIDE, ATT&CK and framework ids; at most 10, as
  many as GitHub shows) and ``security-severity``, the number GitHub turns into
  critical/high/medium/low.
- ``results``: a finding about three resources gives three results (one that names none
  gives one, about ``Application/<name>``). ``level`` follows the
  finding's severity (a reviewer's override wins): critical and high are ``error``, medium is
  ``warning``, low and info are ``note``. The location is the manifest file of the resource
  (relative URI, ``uriBaseId`` ``%SRCROOT%``) at the line of the evidence (line 1 when the line
  is unknown), plus a logical location naming the resource. GitHub shows only results with a
  file, so every result has one: a resource no evidence places in a manifest (a cluster-wide
  gap such as a missing audit policy) is anchored at line 1 of the first input manifest, and
  its location message says so; manifests read from standard input are placed in the
  pseudo-file ``ktmb-stdin.yaml`` (at their line in the stream), which the run's
  ``artifacts`` state is no file. No absolute local path is written: absolute manifest paths
  are made relative to the directory that holds them all. ``partialFingerprints`` hold a
  digest of the finding id and the resource, so an alert survives re-runs and line moves.
- Critical and high attack paths are results of their own (rule ``attack-path/<target>``) with
  a code flow through their hops (:mod:`workflow.exports.sarif_paths`).
- GitHub rejects a run of more than 25,000 results: past that, results are aggregated per
  rule and resource (then per rule and file, then per rule, until they fit), and a tool
  notification and the run's properties say so. A result has at most 100 locations.
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
from functools import partial
from pathlib import PureWindowsPath
from typing import Any

from agents.catalogue import rule_meta
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
    namespace_of,
    phase_title,
    ranked,
)
from workflow.exports.markdown import escape as _md
from workflow.exports.sarif_aggregate import (
    AGGREGATE_FINGERPRINT_KEY,
    MAX_RESULTS,
    Member,
    aggregate,
)
from workflow.exports.sarif_locations import (
    NO_FILE_URI,
    STDIN_URI,
    Places,
    evidence_text,
    location,
)
from workflow.exports.sarif_paths import path_results, path_rules, reported

__all__ = [
    "AGGREGATE_FINGERPRINT_KEY",
    "FINGERPRINT_KEY",
    "LEVELS",
    "MAX_RESULTS",
    "MAX_TAGS",
    "NO_FILE_URI",
    "SARIF_SCHEMA",
    "SECURITY_SEVERITY",
    "STDIN_URI",
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
#: GitHub accepts 20 tags per rule and shows 10: ktmb writes no more than it shows.
MAX_TAGS = 10
#: GitHub shows 100 locations of a result (and accepts 1,000).
_MAX_LOCATIONS = 100
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
    return list(tags)[:MAX_TAGS]


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
    elif (meta := rule_meta(rid)) is not None:
        short = meta.title
        full = meta.description or meta.title
        recommendation = meta.remediation
    else:  # a rule the catalogue no longer has (a model from an older version)
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


def _message(finding: Finding, resource: str, evidence: list[Evidence]) -> str:
    parts = [f"{finding.title} ({resource})."]
    if evidence:
        parts.append("Evidence: " + "; ".join(evidence_text(ev) for ev in evidence) + ".")
    if finding.description and is_model_finding(finding):
        parts.append(finding.description)
    if finding.rationale:
        parts.append(f"Model rationale: {finding.rationale}")
    if is_model_finding(finding) and finding.recommendation:
        parts.append(f"Recommendation: {finding.recommendation}")
    return " ".join(parts)


def _result(finding: Finding, resource: str, rule_index: int, places: Places,
            paths: dict[str, list[str]]) -> dict[str, Any]:
    evidence = [ev for ev in finding.evidence if ev.resource == resource]
    place = places.place(resource, evidence)
    band = finding.effective_severity
    result: dict[str, Any] = {
        "ruleId": rule_id(finding),
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": LEVELS[band],
        "message": {"text": _message(finding, resource, evidence)},
        "locations": [location(resource, place.uri, place.line, place.note)],
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
            "evidence": [{**ev.model_dump(mode="json"),
                          "file": places.path(ev.file) if ev.file else None}
                         for ev in evidence],
            "mergedFrom": list(finding.merged_from),
            "attackPaths": paths.get(finding.id, []),
        },
    }
    related = place.related[:_MAX_LOCATIONS - 1]
    if related:
        result["relatedLocations"] = [
            {"id": i, **location(resource, places.uri(ev.file), ev.line or 1, evidence_text(ev))}
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


def _members(model: ThreatModel, findings: list[Finding], index: dict[str, int],
             places: Places) -> list[Member]:
    """Every finding-and-resource pair of the model, most severe first."""
    # A finding that names no resource is about the application as a whole.
    whole = f"Application/{model.application.name}"
    paths: dict[str, list[str]] = {}
    for path in model.attack_paths:
        for fid in path.findings:
            paths.setdefault(fid, []).append(path.id)
    return [
        Member(rule=rule_id(finding), resource=resource,
               file=places.place(resource, [ev for ev in finding.evidence
                                            if ev.resource == resource]).uri,
               finding_id=finding.id, suppressed=finding.status in _SUPPRESSED,
               build=partial(_result, finding, resource, index[rule_id(finding)], places, paths))
        for finding in findings
        for resource in (finding_resources(finding) or (whole,))]


def _model_name(name: str | None) -> str | None:
    """A model's name as recorded: a GGUF file path becomes its file name (no local path)."""
    if name is None or ("/" not in name and "\\" not in name):
        return name
    return PureWindowsPath(name).name


def build(model: ThreatModel) -> dict[str, Any]:
    """The SARIF log of a threat model, as a JSON-ready dict."""
    findings = ranked(model.findings)
    by_rule: dict[str, list[Finding]] = {}
    for finding in findings:
        by_rule.setdefault(rule_id(finding), []).append(finding)
    rule_ids = sorted(by_rule)
    index = {rid: i for i, rid in enumerate(rule_ids)}
    places = Places(model)
    results = aggregate(_members(model, findings, index, places),
                        limit=MAX_RESULTS - len(reported(model)))
    extra = path_rules(model, LEVELS, SECURITY_SEVERITY)
    index.update({rule["id"]: len(rule_ids) + i for i, rule in enumerate(extra)})
    path_items = path_results(model, index, places, LEVELS)
    driver: dict[str, Any] = {
        "name": model.generator.name,
        "fullName": "Kubernetes Threat Model Builder",
        "version": model.generator.version,
        "rules": [_rule(rid, by_rule[rid]) for rid in rule_ids] + extra,
    }
    if all(part.isdigit() for part in model.generator.version.split(".")):
        driver["semanticVersion"] = model.generator.version
    llm = model.generator.llm
    notifications = _notifications(model)
    if (aggregated := results.notification()) is not None:
        notifications.insert(0, aggregated)
    invocation: dict[str, Any] = {
        "executionSuccessful": True,
        "toolExecutionNotifications": notifications,
        "properties": {"partial": model.partial,
                       "model": (f"{llm.provider}:{_model_name(llm.model)}" if llm
                                 else "no model")},
    }
    generator = model.generator.model_dump(mode="json")
    if generator.get("llm"):
        generator["llm"]["model"] = _model_name(generator["llm"].get("model"))
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "automationDetails": {"id": f"ktmb/{_category(model.application.name)}/{model.run_id}"},
        "invocations": [invocation],
        "results": [*results.results, *path_items],
        "properties": {
            "runId": model.run_id,
            "application": model.application.name,
            "schemaVersion": model.schema_version,
            "createdAt": model.created_at.isoformat(),
            "partial": model.partial,
            "generator": generator,
        },
    }
    if results.per is not None:
        run["properties"]["resultsAggregatedPer"] = results.per
    artifacts = places.artifacts()
    if artifacts:
        run["artifacts"] = artifacts
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _category(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name) or "application"


def render(model: ThreatModel) -> str:
    """The SARIF log of a threat model as indented JSON text."""
    return json.dumps(build(model), indent=2, ensure_ascii=False) + "\n"
