"""Ingresses that serve plain HTTP."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="architecture.ingress-without-tls",
    title="Ingress without TLS",
    phase=Phase.ARCHITECTURE,
    stride=(Stride.INFORMATION_DISCLOSURE, Stride.TAMPERING, Stride.SPOOFING),
    likelihood=3, impact=3,
    description=("The Ingress declares no tls section: traffic from the internet, sessions "
                 "and credentials included, crosses networks in clear text."),
    tactics=(refs.TA.CREDENTIAL_ACCESS, refs.TA.COLLECTION),
    techniques=("T1557", "T1040"),
    references=(*refs.nsa("encryption"), *refs.NETWORK),
    remediation="Add a tls section with a certificate (cert-manager) for every host and "
                "redirect HTTP to HTTPS.",
    false_positives="TLS terminated on a cloud load balancer in front of the ingress "
                    "controller.",
    kb_topics=("ingress-tls",),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag Ingresses without spec.tls."""
    inv = facts.inventory
    for ing in inv.ingresses:
        if not ing.has_tls:
            hosts = sorted({b.host for b in ing.backends if b.host}) or ["*"]
            yield RULE.finding(ing.id, [located(inv, ing.id, "/spec/tls", None)],
                               title=f"{ing.id} serves {', '.join(hosts)} without TLS")
