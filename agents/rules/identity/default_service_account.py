"""Workloads that run as the namespace's default service account with a token."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.identity import automounts_token
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="identity.default-service-account",
    title="Pod runs as the default service account",
    phase=Phase.IDENTITY,
    stride=(Stride.SPOOFING, Stride.ELEVATION_OF_PRIVILEGE),
    likelihood=2, impact=2,
    description=("Every pod without serviceAccountName shares the namespace's default "
                 "account, and its token: a right granted to one of them is granted to all."),
    tactics=(refs.TA.CREDENTIAL_ACCESS,),
    techniques=("T1528",),
    ms_matrix=("MS-TA9016",),
    references=(*refs.cis("5.1.5", "5.1.6"), *refs.nsa("service-account-tokens"), *refs.RBAC),
    remediation="Give the workload its own service account, or set "
                "automountServiceAccountToken: false.",
    false_positives="Pods that never call the API and do not mount the token are not flagged.",
    kb_topics=("default-service-account", "token-automount"),
    per_node=False,
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag token-mounting workloads that use the default service account."""
    inv = facts.inventory
    for wl in inv.workloads:
        if wl.kind == "PodTemplate" or wl.pod.service_account != "default":
            continue
        if not automounts_token(inv, wl):
            continue
        yield RULE.finding(wl.id, [located(inv, wl.id, wl.pod.path + "/serviceAccountName",
                                           wl.pod.raw.get("serviceAccountName"))],
                           title=f"{wl.kind} {wl.name} runs as the default service account "
                                 "with a mounted token")
