"""The shape of a rule: frozen metadata plus a pure predicate over the inventory.

A rule module holds ``RULE = RuleMeta(...)`` and ``def evaluate(facts) -> Iterator[Finding]``
(the :class:`Rule` protocol). Rules do no I/O and call no model. Findings get the fingerprint
``<rule id>@<resource>[#detail]``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from agents.facts.derived import Facts
from workflow.domain.inventory import Inventory
from workflow.domain.scoring import clamp, score, severity
from workflow.domain.threat_model import (
    AttackRef,
    Confidence,
    Evidence,
    Finding,
    FindingStatus,
    Origin,
    Phase,
    Stride,
)

__all__ = ["Rule", "RuleMeta", "evidence", "fingerprint", "located", "run_rules"]


def fingerprint(rule_id: str, resource: str, detail: str | None = None) -> str:
    """The stable id of a finding."""
    return f"{rule_id}@{resource}" + (f"#{detail}" if detail else "")


def _as_text(value: Any) -> str | None:
    """An evidence value as text (at most 500 characters; redaction markers kept)."""
    if value is None:
        return None
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, sort_keys=True, default=str)
    return text[:497] + "..." if len(text) > 500 else text


def evidence(resource: str, path: str, value: Any = None, *, file: str | None = None,
             line: int | None = None) -> Evidence:
    """Evidence at a JSON pointer, rendering the value as text (redaction markers kept)."""
    text = _as_text(value)
    return Evidence(resource=resource, path=path, value=text,
                    redacted=bool(text and "«redacted" in text), file=file, line=line)


def located(inv: Inventory, resource: str, path: str, value: Any = None) -> Evidence:
    """Evidence like :func:`evidence`, plus the file and line the inventory knows for it."""
    res = inv.get(resource)
    if res is None:
        return evidence(resource, path, value)
    return evidence(resource, path, value, file=res.source.file, line=res.line_of(path))


@dataclass(frozen=True)
class RuleMeta:
    """Everything about a rule except its predicate.

    Besides the descriptive fields, four tell the reviewer how to score (docs/SEVERITY.md):
    ``per_node`` is false when a finding on a DaemonSet is one thing, not one per node (a
    credential, a namespace placement, an account), so that every node is no blast radius;
    ``starts_at_service`` is true when the rule's attack starts at the workload's own service
    (exploit it, log into it), so that its exposure outside the cluster makes the attack more
    likely (up to one step; ``reach_is_enough`` when reaching the service is all the attack
    needs: a known credential, no authentication); ``harm`` names the harm a finding gives its
    subject when several rules can give the same one (``node``: root on the node through a
    workload; ``api-rights``: the Kubernetes API rights of a service account, user or group), so
    that the reviewer counts it once; ``container`` marks a hardening gap whose harm is escaping
    to the node, which adds nothing where the workload already holds the node.
    """

    id: str
    title: str
    phase: Phase
    stride: tuple[Stride, ...]
    likelihood: int
    impact: int
    remediation: str
    description: str = ""
    tactics: tuple[str, ...] = ()
    techniques: tuple[str, ...] = ()
    ms_matrix: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    false_positives: str = ""
    kb_topics: tuple[str, ...] = field(default=())
    starts_at_service: bool = True
    reach_is_enough: bool = False
    per_node: bool = True
    harm: str = ""

    @property
    def citation_topics(self) -> tuple[str, ...]:
        """The knowledge-base topics that back the rule: its ``kb_topics``, else its slug."""
        return self.kb_topics or (self.id.split(".", 1)[-1],)

    @cached_property
    def attack(self) -> AttackRef:
        """The rule's ATT&CK and threat-matrix ids (one immutable object for all findings)."""
        return AttackRef(tactics=self.tactics, techniques=self.techniques,
                         ms_matrix=self.ms_matrix)

    def finding(self, resources: str | Sequence[str], evidence_: Iterable[Evidence] = (), *,
                detail: str | None = None, title: str | None = None,
                description: str | None = None, likelihood: int | None = None,
                impact: int | None = None, recommendation: str | None = None,
                status: FindingStatus = FindingStatus.OPEN,
                references: Sequence[str] = (), unseen: str = "",
                confidence: Confidence | None = None) -> Finding:
        """A finding of this rule about ``resources`` (the first one names the fingerprint).

        ``references`` are added to the rule's own (e.g. a regulation the data calls for);
        ``status`` is ``question`` for open questions to the reviewer. ``unseen`` says what
        the harm depends on that the manifests do not show; it makes the confidence low unless
        ``confidence`` says otherwise.
        """
        res = (resources,) if isinstance(resources, str) else tuple(resources)
        lik = clamp(likelihood if likelihood is not None else self.likelihood)
        imp = clamp(impact if impact is not None else self.impact)
        value = score(lik, imp)
        return Finding(
            id=fingerprint(self.id, res[0], detail), rule=self.id, title=title or self.title,
            description=description or self.description, phase=self.phase, stride=self.stride,
            attack=self.attack,
            references=tuple(dict.fromkeys((*self.references, *references))), resources=res,
            evidence=tuple(evidence_),
            likelihood=lik, impact=imp, score=value, severity=severity(value),
            recommendation=recommendation or self.remediation, origin=Origin.RULE, status=status,
            unseen=unseen, confidence=confidence or (Confidence.LOW if unseen
                                                     else Confidence.HIGH))


class Rule(Protocol):
    """A rule module: its metadata and its pure predicate over the facts of a run."""

    __name__: str

    @property
    def RULE(self) -> RuleMeta:
        """The rule's metadata."""
        ...

    def evaluate(self, facts: Facts) -> Iterator[Finding]:
        """The rule's findings."""
        ...


def run_rules(rules: Iterable[Rule], facts: Facts) -> list[Finding]:
    """Run rule modules over the facts of a run; findings keyed by id, first one wins."""
    found: dict[str, Finding] = {}
    for rule in rules:
        for item in rule.evaluate(facts):
            found.setdefault(item.id, item)
    return list(found.values())
