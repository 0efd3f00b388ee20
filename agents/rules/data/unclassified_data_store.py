"""Data stores whose data classification is unknown."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import data_store
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, FindingStatus, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="data.unclassified-data-store",
    title="What data does this data store hold?",
    phase=Phase.DATA,
    stride=(Stride.INFORMATION_DISCLOSURE,),
    likelihood=1, impact=3,
    description=("A data store was recognised by image or port, but neither its labels, its "
                 "namespace nor the notes say how sensitive its data is; the reviewer should "
                 "classify it (label data-classification)."),
    tactics=(refs.TA.COLLECTION,),
    techniques=("T1005",),
    references=refs.SECRETS,
    remediation="Add a data-classification label (public, internal, confidential, personal, "
                "cardholder) to the workload or its namespace.",
    false_positives="Caches that hold only derived, public data.",
    kb_topics=("data-classification", "data-store"),
    starts_at_service=False,
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Ask about each data store without a classification."""
    inv = facts.inventory
    for wl in inv.workloads:
        kind = data_store(wl)
        if kind and facts.classification(wl.id) is None:
            images = ", ".join(c.image for c in wl.pod.containers if c.kind == "container")
            yield RULE.finding(wl.id, [located(inv, wl.id, wl.pod.path + "/containers", images)],
                               status=FindingStatus.QUESTION,
                               title=f"What data does the {kind} {wl.name} hold?")
