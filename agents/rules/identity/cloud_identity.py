"""Service accounts linked to a cloud IAM identity."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.identity import cloud_identity
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.scoring import Likelihood
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="identity.cloud-identity",
    title="Service account linked to a cloud identity",
    phase=Phase.IDENTITY,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.INFORMATION_DISCLOSURE),
    likelihood=2, impact=4,
    description=("The service account is bound to a cloud IAM identity (EKS IRSA, GKE "
                 "Workload Identity, Azure Workload Identity); code in its pods holds that "
                 "identity's cloud permissions, which the manifests do not show."),
    tactics=(refs.TA.CREDENTIAL_ACCESS, refs.TA.LATERAL_MOVEMENT),
    techniques=("T1078.004",),
    ms_matrix=("MS-TA9020", "MS-TA9001"),
    references=(*refs.nsa("service-account-tokens"), *refs.CLOUD),
    remediation="Review the cloud role's policy for least privilege and bind it only to the "
                "workloads that need it.",
    false_positives="The link itself is the recommended way to give pods cloud access; the "
                    "risk is in the cloud role's permissions.",
    kb_topics=("cloud-identity",),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag ServiceAccounts with an IRSA, GKE or Azure workload-identity annotation."""
    inv = facts.inventory
    for res in inv.of_kind("ServiceAccount"):
        found = cloud_identity(res)
        if found is None:
            continue
        key, value, text = found
        users = sorted(wl.id for wl in inv.workloads_running_as(res.id)
                       if wl.kind != "PodTemplate")
        yield RULE.finding(
            (res.id, *users),
            [located(inv, res.id, "/metadata/annotations/" + key.replace("/", "~1"), value)],
            likelihood=Likelihood.FOOTHOLD if users else None,
            unseen=f"what the {text} {value} may do in the cloud account (its policy)",
            title=f"{res.id} acts as the {text} {value}"
                  + (f" for {len(users)} workload(s)" if users else ""))
