"""Grounding: keep only what the model said about what it was shown, and count the rest."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from pydantic import BaseModel, ValidationError

from agents.enrichment.answer import (
    MAX_PATHS,
    MAX_TEXT,
    MAX_TITLE,
    FindingRecommendation,
    PathProposal,
    RawPhaseAnswer,
    ThreatProposal,
)
from agents.enrichment.prompt import PreparedPrompt
from workflow.domain.passages import Passage
from workflow.domain.scoring import score, severity
from workflow.domain.threat_model import Finding, LlmInfo, Origin, Phase

__all__ = [
    "Grounded",
    "ground",
    "llm_fingerprint",
]

def _slug(text: str, limit: int = 60) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "threat"


def llm_fingerprint(phase: Phase, resource: str, title: str) -> str:
    """The stable id of a model finding: ``llm.<phase>@<resource>#<slug of title>``."""
    return f"llm.{phase.value}@{resource}#{_slug(title)}"


class Grounded(BaseModel):
    """The grounded part of an answer and what was dropped, by reason."""

    findings: list[Finding]
    recommendations: dict[str, str]
    paths: list[dict[str, Any]] = []
    proposed: int
    drops: Counter[str]


def _text_ok(value: str, limit: int) -> bool:
    return bool(value.strip()) and len(value) <= limit


def _threat_problem(item: ThreatProposal) -> str | None:
    texts = (item.title, item.description, item.recommendation)
    if not all(t.strip() for t in texts):
        return "empty"
    if len(item.title) > MAX_TITLE or any(len(t) > MAX_TEXT for t in texts[1:]):
        return "invalid"
    return None


def _ground_threat(raw: dict[str, Any], *, phase: Phase, assembly: PreparedPrompt, llm: LlmInfo,
                   kept: dict[str, Finding], drops: Counter[str]) -> int:
    """Add one grounded threat to ``kept`` or count why not; return the items examined."""
    try:
        item = ThreatProposal.model_validate(raw)
    except ValidationError:
        drops["invalid"] += 1
        return 1
    problem = _threat_problem(item)
    if problem is not None:
        drops[problem] += 1
        return 1
    resources: list[str] = []
    for ref in item.resources:
        if ref not in assembly.shown_resources:
            drops["unknown_resource"] += 1
        elif ref in resources:
            drops["duplicate"] += 1
        else:
            resources.append(ref)
    citations: list[Passage] = []
    for ref in item.citations:
        passage = assembly.shown_passages.get(ref)
        if passage is None:
            drops["unknown_citation"] += 1
        elif passage in citations:
            drops["duplicate"] += 1
        else:
            citations.append(passage)
    examined = 1 + len(item.resources) + len(item.citations)
    if not resources:
        drops["no_known_resource"] += 1
        return examined
    fid = llm_fingerprint(phase, resources[0], item.title)
    if fid in kept:
        drops["duplicate"] += 1
        return examined
    value = score(item.likelihood, item.impact)
    kept[fid] = Finding(
        id=fid, rule="llm", title=" ".join(item.title.split()),
        description=item.description.strip(), phase=phase,
        stride=tuple(dict.fromkeys(item.stride)), resources=tuple(resources),
        likelihood=item.likelihood, impact=item.impact, score=value, severity=severity(value),
        recommendation=item.recommendation.strip(),
        citations=tuple(p.citation() for p in citations), origin=Origin.LLM,
        rationale=f"Proposed by the model {llm.provider}/{llm.model}, not by a rule: "
                  f"{item.rationale.strip() or 'no rationale given'}")
    return examined


def _ground_recommendation(raw: dict[str, Any], *, assembly: PreparedPrompt,
                           kept: dict[str, str], drops: Counter[str]) -> None:
    try:
        rec = FindingRecommendation.model_validate(raw)
    except ValidationError:
        drops["invalid"] += 1
        return
    if not rec.recommendation.strip():
        drops["empty"] += 1
    elif len(rec.recommendation) > MAX_TEXT:
        drops["invalid"] += 1
    elif rec.finding_id not in assembly.shown_findings:
        drops["unknown_finding"] += 1
    elif rec.finding_id in kept:
        drops["duplicate"] += 1
    else:
        kept[rec.finding_id] = rec.recommendation.strip()


def ground(answer: RawPhaseAnswer, *, phase: Phase, assembly: PreparedPrompt,
           llm: LlmInfo) -> Grounded:
    """Keep only grounded items; count every drop by reason.

    Items are: each threat, each recommendation, and each resource or citation reference of a
    threat that passed the schema. A threat left with no known resource is dropped as well.
    """
    drops: Counter[str] = Counter()
    kept: dict[str, Finding] = {}
    proposed = sum(_ground_threat(raw, phase=phase, assembly=assembly, llm=llm, kept=kept,
                                  drops=drops) for raw in answer.threats)
    recommendations: dict[str, str] = {}
    for raw in answer.recommendations:
        proposed += 1
        _ground_recommendation(raw, assembly=assembly, kept=recommendations, drops=drops)
    paths: list[dict[str, Any]] = []
    for raw in answer.paths[:MAX_PATHS] if phase is Phase.RISK_REVIEW else ():
        proposed += 1
        try:
            item = PathProposal.model_validate(raw)
        except ValidationError:
            drops["invalid"] += 1
            continue
        if len(item.attacks) != len(item.vertices) - 1:
            drops["invalid"] += 1
            continue
        paths.append(item.model_dump())  # checked against the attack graph by the reviewer
    return Grounded(findings=list(kept.values()), recommendations=recommendations,
                    paths=paths, proposed=proposed, drops=drops)
