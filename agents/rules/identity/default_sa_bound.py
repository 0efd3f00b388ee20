"""Role bindings that grant rights to a default service account."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="identity.default-sa-bound",
    title="Rights granted to a default service account",
    phase=Phase.IDENTITY,
    stride=(Stride.ELEVATION_OF_PRIVILEGE,),
    likelihood=3, impact=3,
    description=("A binding gives rights to the default service account, which every pod "
                 "without its own account uses: all of them get the rights."),
    tactics=(refs.TA.PRIVILEGE_ESCALATION,),
    techniques=("T1078.001",),
    ms_matrix=("MS-TA9016",),
    references=(*refs.cis("5.1.5"), *refs.nsa("rbac"), *refs.RBAC),
    remediation="Bind a dedicated service account instead and use it only in the workload "
                "that needs the rights.",
    false_positives="None: the default account should hold no rights.",
    kb_topics=("default-service-account",),
    harm="api-rights",
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag bindings whose subjects include a default service account."""
    inv = facts.inventory
    for binding in inv.bindings:
        for index, subject in enumerate(binding.subjects):
            if subject.kind == "ServiceAccount" and subject.name == "default":
                yield RULE.finding(
                    (subject.id, binding.id),
                    [located(inv, binding.id, f"/subjects/{index}", subject.id),
                     located(inv, binding.id, "/roleRef", binding.role)],
                    detail=binding.id,
                    title=f"{binding.id} grants {binding.role} to {subject.id}")
