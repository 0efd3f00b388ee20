"""Workloads that mount a token whose service account holds meaningful rights."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.identity import automounts_token
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="identity.automount-with-rights",
    title="Pod mounts a powerful service-account token",
    phase=Phase.IDENTITY,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.SPOOFING),
    likelihood=4, impact=4,
    description=("The pods get their service account's token at "
                 "/var/run/secrets/kubernetes.io/serviceaccount, and that account holds "
                 "dangerous rights: code execution in the pod becomes those rights."),
    tactics=(refs.TA.CREDENTIAL_ACCESS, refs.TA.PRIVILEGE_ESCALATION),
    techniques=("T1528", "T1552.001"),
    ms_matrix=("MS-TA9016",),
    references=(*refs.cis("5.1.6"), *refs.nsa("service-account-tokens"), *refs.RBAC),
    remediation="Set automountServiceAccountToken: false where the pod does not call the API, "
                "and reduce the service account's role to what it uses.",
    false_positives="Controllers that must call the API; their rights are then the finding "
                    "to review.",
    kb_topics=("token-automount", "rbac-secrets-access"),
    harm="api-rights",
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag token-mounting workloads whose service account holds any dangerous capability."""
    inv = facts.inventory
    for wl in inv.workloads:
        if wl.kind == "PodTemplate" or not automounts_token(inv, wl):
            continue
        caps = facts.capabilities(wl.service_account_id)
        if not caps:
            continue
        labels = sorted({c.label for c in caps})
        cluster = any(c.grant.scope == "cluster" for c in caps)
        yield RULE.finding(
            (wl.id, wl.service_account_id),
            [located(inv, wl.id, wl.pod.path + "/automountServiceAccountToken",
                     wl.pod.automount_token),
             located(inv, caps[0].grant.binding, "/roleRef", caps[0].grant.role)],
            impact=5 if cluster else 4,
            title=f"{wl.kind} {wl.name} mounts the token of {wl.service_account_id}, which can "
                  + "; ".join(labels[:4]))
