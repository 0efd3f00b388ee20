"""The pre-1.7 namespace isolation annotation, which no longer does anything."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.admission import default_deny_namespaces
from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["ANNOTATION", "RULE", "evaluate"]

ANNOTATION = "net.beta.kubernetes.io/network-policy"

RULE = RuleMeta(
    id="network.legacy-isolation-annotation",
    title="Legacy namespace isolation annotation has no effect",
    phase=Phase.NETWORK,
    stride=(Stride.INFORMATION_DISCLOSURE,),
    likelihood=3, impact=3,
    description=("The net.beta.kubernetes.io/network-policy annotation was dropped in "
                 "Kubernetes 1.7; the namespace is not isolated although it looks it."),
    tactics=(refs.TA.LATERAL_MOVEMENT,),
    techniques=("T1210",),
    references=(*refs.nsa("network-policies"), *refs.NETWORK),
    remediation="Replace the annotation with a default-deny NetworkPolicy.",
    false_positives="None: the annotation is ignored by current Kubernetes.",
    kb_topics=("networkpolicy-default-deny",),
    starts_at_service=False,
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag namespaces carrying the annotation without a real default-deny policy."""
    inv = facts.inventory
    deny = default_deny_namespaces(inv)
    for res in inv.of_kind("Namespace"):
        if ANNOTATION in res.annotations and "Ingress" not in deny.get(res.name, set()):
            yield RULE.finding(res.id, [located(
                inv, res.id, "/metadata/annotations/" + ANNOTATION.replace("/", "~1"),
                res.annotations[ANNOTATION])])
