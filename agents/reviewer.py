"""The reviewer: merge, score, rank and summarise every phase's findings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from workflow.inventory import Inventory
from workflow.scoring import SEVERITY_ORDER, score, severity
from workflow.threat_model import (
    PHASES,
    ArchitectureView,
    AttackPath,
    Finding,
    Severity,
    Summary,
)

__all__ = ["Review", "review"]


class Review(BaseModel):
    """What the reviewer adds to the threat model."""

    model_config = ConfigDict(frozen=True)

    findings: tuple[Finding, ...]
    attack_paths: tuple[AttackPath, ...] = ()
    summary: Summary
    compliance: dict[str, Any] = {}
    identity_map: list[dict[str, Any]] = []


def _rescore(finding: Finding) -> Finding:
    value = score(finding.likelihood, finding.impact)
    band = finding.severity_override or severity(value)
    return finding.model_copy(update={"score": value, "severity": band})


def review(inv: Inventory, findings: Sequence[Finding], *,
           architecture: ArchitectureView | None = None) -> Review:
    """Merge duplicates, score in code, rank, and summarise."""
    merged: dict[str, Finding] = {}
    for item in findings:
        merged.setdefault(item.id, item)
    ranked = sorted((_rescore(f) for f in merged.values()),
                    key=lambda f: (SEVERITY_ORDER.index(f.severity), -f.score, f.id))
    by_severity = Counter(f.severity.value for f in ranked)
    by_phase = Counter(f.phase.value for f in ranked)
    overall = next((band for band in SEVERITY_ORDER if by_severity.get(band.value)),
                   Severity.INFO)
    summary = Summary(
        total=len(ranked),
        by_severity={band.value: by_severity.get(band.value, 0) for band in SEVERITY_ORDER},
        by_phase={phase.value: by_phase.get(phase.value, 0) for phase in PHASES},
        overall_risk=overall)
    return Review(findings=tuple(ranked), summary=summary)
