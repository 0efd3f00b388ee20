"""Helpers the export formats share: severities, ordering, resource ids, generator text.

Everything here is a pure function of the threat model; nothing reads a file or a database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from workflow.domain.scoring import SEVERITY_ORDER
from workflow.domain.threat_model import (
    PHASES,
    AttackPath,
    Finding,
    FindingStatus,
    Origin,
    Phase,
    PhaseRecord,
    Severity,
    Stride,
    ThreatModel,
)

__all__ = [
    "CLOSED_STATUSES",
    "STRIDE_LABELS",
    "display_value",
    "finding_resources",
    "findings_by_phase",
    "fingerprint",
    "framework_rows",
    "generator_text",
    "is_model_finding",
    "kind_of",
    "manifest_files",
    "name_of",
    "namespace_of",
    "overall_risk",
    "path_chain",
    "path_target",
    "phase_record",
    "phase_title",
    "plural",
    "ranked",
    "severity_counts",
]

#: Statuses after which a finding no longer counts toward the overall risk.
CLOSED_STATUSES: frozenset[FindingStatus] = frozenset(
    {FindingStatus.MITIGATED, FindingStatus.FALSE_POSITIVE})

#: Display names of the STRIDE categories, as threat-modelling tools spell them.
STRIDE_LABELS: dict[Stride, str] = {
    Stride.SPOOFING: "Spoofing",
    Stride.TAMPERING: "Tampering",
    Stride.REPUDIATION: "Repudiation",
    Stride.INFORMATION_DISCLOSURE: "Information Disclosure",
    Stride.DENIAL_OF_SERVICE: "Denial of Service",
    Stride.ELEVATION_OF_PRIVILEGE: "Elevation of Privilege",
}


def is_model_finding(finding: Finding) -> bool:
    """True when the finding was proposed by the model rather than a rule."""
    return finding.origin is Origin.LLM or finding.rule == "llm"


def ranked(findings: Iterable[Finding]) -> list[Finding]:
    """Findings ordered most severe first, then by score, then by id (stable across runs)."""
    return sorted(findings, key=lambda f: (SEVERITY_ORDER.index(f.effective_severity),
                                           -f.score, f.id))


def findings_by_phase(model: ThreatModel) -> list[tuple[Phase, list[Finding]]]:
    """Every phase in methodology order with its findings, ranked."""
    return [(phase, ranked(f for f in model.findings if f.phase is phase)) for phase in PHASES]


def severity_counts(findings: Sequence[Finding]) -> dict[Severity, int]:
    """How many findings fall in each severity band (every band present, most severe first)."""
    counts = dict.fromkeys(SEVERITY_ORDER, 0)
    for finding in findings:
        counts[finding.effective_severity] += 1
    return counts


def overall_risk(model: ThreatModel) -> Severity:
    """The overall risk: the reviewer's when it ran, else the worst finding not yet closed."""
    if model.summary.total:
        return model.summary.overall_risk
    open_bands = {f.effective_severity for f in model.findings
                  if f.status not in CLOSED_STATUSES}
    return next((band for band in SEVERITY_ORDER if band in open_bands), Severity.INFO)


def finding_resources(finding: Finding) -> tuple[str, ...]:
    """The resources a finding is about: its own list, else those its evidence names."""
    if finding.resources:
        return tuple(dict.fromkeys(finding.resources))
    return tuple(dict.fromkeys(ev.resource for ev in finding.evidence))


def fingerprint(finding_id: str, resource: str) -> str:
    """A stable hex digest of a finding and one of its resources (same input, same digest)."""
    return hashlib.sha256(f"{finding_id}\0{resource}".encode()).hexdigest()


def display_value(value: Any) -> str:
    """Any JSON-like value as one line of text for a report cell.

    Lists join with commas (lists of mappings with `` / ``), mappings show ``key: value``
    pairs separated by semicolons, empty entries are left out, booleans read yes and no.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        pairs = ((str(k), display_value(v)) for k, v in value.items())
        return "; ".join(f"{k}: {v}" for k, v in pairs if v)
    if isinstance(value, (list, tuple)):
        joiner = " / " if any(isinstance(v, dict) for v in value) else ", "
        return joiner.join(text for text in (display_value(v) for v in value) if text)
    return str(value)


def framework_rows(compliance: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """Framework id, name, findings, highest severity and controls touched, when present.

    Reads the reviewer's ``compliance["frameworks"]`` mapping; anything else yields no rows
    (the report then shows the raw summary only).
    """
    frameworks = compliance.get("frameworks")
    if not isinstance(frameworks, dict):
        return []
    rows = []
    for fid, info in sorted(frameworks.items()):
        if not isinstance(info, dict):
            continue
        controls = info.get("controls")
        rows.append((str(fid), display_value(info.get("name")), display_value(info.get("findings")),
                     display_value(info.get("highest")),
                     ", ".join(sorted(map(str, controls))) if isinstance(controls, dict) else ""))
    return rows


def plural(count: int, word: str) -> str:
    """``1 finding``, ``2 findings``: a count with its noun."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def phase_title(phase: Phase) -> str:
    """A phase's display name, e.g. ``Risk review``."""
    return phase.value.replace("_", " ").capitalize()


def namespace_of(resource: str) -> str | None:
    """The namespace in an inventory id ``Kind/namespace/name`` (None when cluster-scoped)."""
    parts = resource.split("#", 1)[0].split("/", 2)
    return parts[1] if len(parts) == 3 else None


def kind_of(resource: str) -> str:
    """The kind in an inventory id."""
    return resource.split("/", 1)[0]


def name_of(resource: str) -> str:
    """The name in an inventory id (after kind and namespace; a ``#detail`` is kept)."""
    parts = resource.split("/", 2)
    return parts[-1]


def manifest_files(model: ThreatModel) -> dict[str, str]:
    """The manifest file of every resource that some evidence in the model locates.

    A finding whose own evidence has no file can still be placed through another finding's
    evidence about the same resource: a resource comes from exactly one manifest. Standard
    input is not a file and places nothing.
    """
    stdin = {item.path for item in model.application.inputs if item.role == "stdin"}
    stdin.add("<stdin>")
    out: dict[str, str] = {}
    for finding in model.findings:
        for ev in finding.evidence:
            if ev.file and ev.file not in stdin:
                out.setdefault(ev.resource, ev.file)
    return out


def generator_text(model: ThreatModel) -> str:
    """One line naming what produced the model, and the model used or ``no model``."""
    gen = model.generator
    head = f"{gen.name} {gen.version}"
    if gen.llm is None:
        return f"{head}; no model (deterministic rules and retrieval only)"
    text = f"{head}; model {gen.llm.provider}:{gen.llm.model}"
    if gen.llm.digest:
        text += f" (digest {gen.llm.digest})"
    if gen.llm.note:
        text += f"; {gen.llm.note}"
    return text


def phase_record(model: ThreatModel, phase: Phase) -> PhaseRecord:
    """The record of a phase, or a pending one when the model has none yet."""
    return model.phases.get(phase, PhaseRecord())


def path_chain(path: AttackPath) -> list[str]:
    """The vertices a path visits: its origin, then where each hop lands."""
    return [path.origin, *(hop.to for hop in path.hops)]


def path_target(path: AttackPath) -> str:
    """What a path reaches, as a reviewer reads it."""
    if path.target.kind == "cluster":
        return "control of the cluster"
    return f"{path.target.kind}: {path.target.ref}"
