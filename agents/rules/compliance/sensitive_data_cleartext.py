"""Personal or cardholder data served from the internet without TLS."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.classification import regulations_for
from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.inventory import Inventory
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="compliance.sensitive-data-cleartext",
    title="Regulated data reachable over plain HTTP",
    phase=Phase.COMPLIANCE,
    stride=(Stride.INFORMATION_DISCLOSURE, Stride.TAMPERING),
    likelihood=3, impact=4,
    description=("A workload classified as holding personal, health or cardholder data is "
                 "reachable from the internet through an Ingress or gateway without TLS; "
                 "GDPR Art. 32 and PCI DSS 4.2.1 expect encryption in transit."),
    tactics=(refs.TA.COLLECTION, refs.TA.CREDENTIAL_ACCESS),
    techniques=("T1557", "T1040"),
    references=("PCI-DSS-4.0:4.2.1", "GDPR:Art.32", *refs.nsa("encryption")),
    remediation="Terminate TLS for every route to the workload and redirect plain HTTP.",
    false_positives="TLS terminated on a cloud load balancer in front of the cluster.",
    kb_topics=("data-classification", "ingress-tls"),
)


def _plain_entries(inv: Inventory) -> set[str]:
    plain = {ing.id for ing in inv.ingresses if not ing.has_tls}
    for res in inv.of_kind("Gateway"):
        text = str(res.raw.get("spec", "")).upper()
        if "HTTPS" not in text and "'TLS'" not in text and "TLS" not in text:
            plain.add(res.id)
    return plain


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag sensitive-data workloads whose internet entry points lack TLS."""
    inv = facts.inventory
    plain = _plain_entries(inv)
    for wl_id, ways in sorted(facts.exposures.items()):
        level = facts.classification(wl_id)
        if level not in {"personal", "health", "cardholder"}:
            continue
        bad = [e for e in ways if e.internet and e.entry in plain]
        if bad:
            yield RULE.finding((wl_id, *dict.fromkeys(e.entry for e in bad)),
                               [located(inv, e.entry, e.path, e.detail) for e in bad[:4]],
                               references=regulations_for(level),
                               title=f"{wl_id} ({level} data) is reachable without TLS via "
                                     + ", ".join(sorted({e.entry for e in bad})))
