"""Cardholder-data workloads sharing a namespace with out-of-scope workloads."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.classification import classification_source
from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="compliance.cardholder-shared-namespace",
    title="Cardholder-data workload shares its namespace",
    phase=Phase.COMPLIANCE,
    stride=(Stride.INFORMATION_DISCLOSURE, Stride.ELEVATION_OF_PRIVILEGE),
    likelihood=2, impact=3,
    description=("Namespaces are the unit of RBAC, quotas and policy: out-of-scope workloads "
                 "in the same namespace share Secrets access and service accounts with the "
                 "cardholder-data environment and pull it into PCI DSS scope."),
    tactics=(refs.TA.LATERAL_MOVEMENT,),
    techniques=("T1078.001",),
    references=("PCI-DSS-4.0:1.2.1", "PCI-DSS-4.0:7.2.1", *refs.cis("5.7.1")),
    remediation="Run cardholder-data workloads in a dedicated namespace (ideally on dedicated "
                "nodes) separate from other components.",
    false_positives="Namespaces whose every workload is in scope and classified so.",
    kb_topics=("data-classification", "default-namespace"),
    starts_at_service=False,
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag namespaces mixing cardholder and other workloads (one finding per namespace)."""
    inv = facts.inventory
    by_ns: dict[str, list[tuple[str, str | None]]] = {}
    for wl in inv.workloads:
        if wl.kind != "PodTemplate":
            by_ns.setdefault(wl.namespace, []).append((wl.id, facts.classification(wl.id)))
    for ns, items in sorted(by_ns.items()):
        chd = [wid for wid, level in items if level == "cardholder"]
        other = [wid for wid, level in items if level != "cardholder"]
        if chd and other:
            yield RULE.finding(
                (f"Namespace/{ns}", *chd),
                [located(inv, *source) for wid in chd[:3]
                 if (source := classification_source(inv, wid)) is not None]
                + [located(inv, wid, "/metadata/name", wid.rsplit("/", 1)[-1])
                   for wid in other[:5]],
                title=f"Namespace {ns} mixes {len(chd)} cardholder-data workload(s) with "
                      f"{len(other)} other(s)")
