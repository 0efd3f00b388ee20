"""Bindings for anonymous or all authenticated users."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

_EVERYONE = {"User/system:anonymous", "Group/system:unauthenticated",
             "Group/system:authenticated"}
_HARMLESS = {"ClusterRole/system:discovery", "ClusterRole/system:basic-user",
             "ClusterRole/system:public-info-viewer"}

RULE = RuleMeta(
    id="identity.anonymous-access",
    title="Rights granted to anonymous or every authenticated user",
    phase=Phase.IDENTITY,
    stride=(Stride.SPOOFING, Stride.ELEVATION_OF_PRIVILEGE, Stride.INFORMATION_DISCLOSURE),
    likelihood=4, impact=4,
    description=("system:anonymous, system:unauthenticated and system:authenticated include "
                 "anyone who reaches the API server (in managed clouds, any account of the "
                 "provider); a binding to them is a grant to the world."),
    tactics=(refs.TA.INITIAL_ACCESS, refs.TA.PRIVILEGE_ESCALATION),
    techniques=("T1078.001", "T1190"),
    ms_matrix=("MS-TA9029",),
    references=(*refs.nsa("rbac", "authentication"), *refs.RBAC, *refs.AUTHN),
    remediation="Remove the subject from the binding and grant the rights to named groups.",
    false_positives="Bindings to the discovery roles are left alone.",
    kb_topics=("rbac-cluster-admin", "api-server-exposure"),
    harm="api-rights",
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag bindings (beyond discovery roles) whose subjects include everyone."""
    inv = facts.inventory
    for binding in inv.bindings:
        if binding.role in _HARMLESS:
            continue
        for index, subject in enumerate(binding.subjects):
            if subject.id in _EVERYONE:
                role = inv.roles.get(binding.role)
                broad = role is not None and any("*" in r.verbs or "*" in r.resources
                                                 for r in role.rules)
                yield RULE.finding(
                    (binding.id, subject.id),
                    [located(inv, binding.id, f"/subjects/{index}", subject.name),
                     located(inv, binding.id, "/roleRef", binding.role)],
                    detail=subject.name, impact=5 if broad else 4,
                    title=f"{binding.id} grants {binding.role} to {subject.name}")
