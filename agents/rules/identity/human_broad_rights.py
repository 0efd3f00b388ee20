"""Users and groups with broad rights."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from agents.rules.identity._grants import capability_findings
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="identity.human-broad-rights",
    title="User or group with broad rights",
    phase=Phase.IDENTITY,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.REPUDIATION),
    likelihood=2, impact=4,
    description=("A user or group holds a dangerous right (cluster-admin-like, credential "
                 "reading, escalation, workload creation, traffic or policy control, ...); a "
                 "phished laptop or leaked kubeconfig of any member has it too."),
    tactics=(refs.TA.PRIVILEGE_ESCALATION, refs.TA.CREDENTIAL_ACCESS),
    techniques=("T1078", "T1078.004"),
    ms_matrix=("MS-TA9019", "MS-TA9003"),
    references=(*refs.cis("5.1.1", "5.1.7"), *refs.nsa("rbac"), *refs.RBAC, *refs.AUTHN),
    remediation="Give people namespace-scoped, read-mostly roles and use just-in-time "
                "elevation for administration.",
    false_positives="A small, named platform-admin group is expected; list it in the model.",
    kb_topics=("rbac-cluster-admin", "rbac-secrets-access"),
    harm="api-rights",
)

#: Every dangerous right a person or group can hold (agents.facts.identity).
_BROAD = ["cluster-admin", "secrets-read", "escalate", "bind", "impersonate", "webhook-write",
          "webhook-delete", "nodes-proxy", "pods-exec", "pods-attach", "pods-portforward",
          "token-request", "csr-approve", "create-pods", "create-workloads", "configmaps-write",
          "services-write", "endpoints-write", "networkpolicies-write", "pv-create",
          "events-delete"]


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag User and Group subjects (not system:* service identities) with broad rights."""
    for item in capability_findings(facts, RULE, _BROAD, subject_kinds=("User", "Group"),
                                    cluster_impact=5):
        name = item.resources[0].split("/", 1)[1]
        if name.startswith("system:") and name not in {"system:masters", "system:anonymous",
                                                       "system:unauthenticated",
                                                       "system:authenticated"}:
            continue
        yield item
