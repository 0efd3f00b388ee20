"""Cardholder-data workloads without network segmentation."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.classification import classification_source, regulations_for
from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from agents.rules.network.pod_not_isolated import isolated_workloads
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="compliance.cardholder-not-segmented",
    title="Cardholder-data workload not segmented",
    phase=Phase.COMPLIANCE,
    stride=(Stride.INFORMATION_DISCLOSURE,),
    likelihood=3, impact=5,
    description=("A workload classified as handling cardholder data accepts connections from "
                 "any pod: the whole cluster falls into PCI DSS scope, and any compromised pod "
                 "can reach the data."),
    tactics=(refs.TA.LATERAL_MOVEMENT, refs.TA.COLLECTION),
    techniques=("T1210",),
    ms_matrix=("MS-TA9034",),
    references=("PCI-DSS-4.0:1.3.1", "PCI-DSS-4.0:1.4.1", *refs.cis("5.3.2"), *refs.NETWORK),
    remediation="Select the workload with an ingress NetworkPolicy that admits only the "
                "in-scope callers, and document the segmentation for the assessor.",
    false_positives="Segmentation enforced by a service mesh authorisation policy outside "
                    "these manifests.",
    kb_topics=("data-classification", "networkpolicy-default-deny"),
    starts_at_service=False,
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag cardholder-classified workloads that no ingress policy selects."""
    inv = facts.inventory
    covered = isolated_workloads(inv)
    for wl in inv.workloads:
        if wl.kind == "PodTemplate" or wl.id in covered:
            continue
        if facts.classification(wl.id) != "cardholder":
            continue
        source = classification_source(inv, wl.id)
        evidence = [located(inv, *source)] if source else []
        if wl.pod.flag("hostNetwork"):
            yield RULE.finding(
                wl.id, [*evidence, located(inv, wl.id, wl.pod.path + "/hostNetwork", True)],
                references=regulations_for("cardholder"),
                title=f"{wl.kind} {wl.name} handles cardholder data on the host network, where "
                      "no NetworkPolicy can segment it",
                recommendation="Remove hostNetwork so that NetworkPolicy can segment the "
                               "workload, and run it on dedicated nodes.")
            continue
        yield RULE.finding(wl.id, evidence, references=regulations_for("cardholder"),
                           title=f"{wl.kind} {wl.name} handles cardholder data and is not "
                                 "segmented")
