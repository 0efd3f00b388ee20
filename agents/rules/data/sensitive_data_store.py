"""Data stores that hold classified data."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.classification import (
    SENSITIVE_CLASSES,
    classification_source,
    regulations_for,
)
from agents.facts.derived import Facts
from agents.facts.workloads import data_store
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="data.sensitive-data-store",
    title="Data store holds sensitive data",
    phase=Phase.DATA,
    stride=(Stride.INFORMATION_DISCLOSURE, Stride.TAMPERING),
    likelihood=2, impact=5,
    description=("A database, cache, queue or search engine (recognised by image and port) is "
                 "classified as holding sensitive data; its compromise is a reportable breach."),
    tactics=(refs.TA.COLLECTION, refs.TA.EXFILTRATION),
    techniques=("T1530", "T1005"),
    ms_matrix=("MS-TA9041",),
    references=(*refs.nsa("network-separation"), *refs.SECRETS),
    remediation="Isolate the data store with NetworkPolicies, require authentication and TLS, "
                "encrypt its volumes and limit who can exec into it.",
    false_positives="Classification labels copied from a template without review.",
    kb_topics=("data-classification", "data-store"),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag data-store workloads whose classification is sensitive."""
    inv = facts.inventory
    for wl in inv.workloads:
        kind = data_store(wl)
        level = facts.classification(wl.id) if kind else None
        if kind and level in SENSITIVE_CLASSES:
            source = classification_source(inv, wl.id)
            yield RULE.finding(wl.id, [located(inv, *source)] if source else [],
                               references=regulations_for(level),
                               title=f"{kind.capitalize()} {wl.name} holds {level} data")
