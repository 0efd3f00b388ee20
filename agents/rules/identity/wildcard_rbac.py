"""Roles with wildcards in verbs, resources or API groups."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="identity.wildcard-rbac",
    title="Role uses wildcards",
    phase=Phase.IDENTITY,
    stride=(Stride.ELEVATION_OF_PRIVILEGE,),
    likelihood=2, impact=3,
    description=("'*' in verbs, resources or apiGroups grants today's and tomorrow's "
                 "resources and verbs (custom resources, escalate, impersonate) without anyone "
                 "deciding so."),
    tactics=(refs.TA.PRIVILEGE_ESCALATION,),
    techniques=("T1078.001",),
    ms_matrix=("MS-TA9019",),
    references=(*refs.cis("5.1.3"), *refs.nsa("rbac"), *refs.RBAC),
    remediation="List the exact verbs, resources and API groups the role needs.",
    false_positives="Aggregated admin roles of operators installed from vendor charts.",
    kb_topics=("rbac-wildcard",),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag each declared Role or ClusterRole rule that uses a wildcard."""
    inv = facts.inventory
    for role in inv.roles.values():
        if role.builtin or role.id not in inv:
            continue
        for rule in role.rules:
            if not rule.pointer.startswith("/rules/"):
                continue
            wild = [name for name, values in (("verbs", rule.verbs),
                                              ("resources", rule.resources),
                                              ("apiGroups", rule.api_groups)) if "*" in values]
            if wild:
                impact = 4 if role.kind == "ClusterRole" else 3
                yield RULE.finding(role.id, [located(inv, role.id, rule.pointer, {
                    "apiGroups": list(rule.api_groups), "resources": list(rule.resources),
                    "verbs": list(rule.verbs)})], detail=rule.pointer.rsplit("/", 1)[-1],
                    impact=impact, title=f"{role.id} uses '*' in {', '.join(wild)}")
