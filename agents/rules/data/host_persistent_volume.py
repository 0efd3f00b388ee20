"""PersistentVolumes stored on a node's disk."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="data.host-persistent-volume",
    title="Persistent data on a node's filesystem",
    phase=Phase.DATA,
    stride=(Stride.INFORMATION_DISCLOSURE, Stride.TAMPERING),
    likelihood=2, impact=3,
    description=("A hostPath or local PersistentVolume keeps the data unencrypted on one "
                 "node, readable by any pod that mounts the same host path and lost with "
                 "the node."),
    tactics=(refs.TA.COLLECTION,),
    techniques=("T1005",),
    references=(*refs.cis("5.2.12"), *refs.nsa("pod-security")),
    remediation="Use a StorageClass backed by encrypted network or cloud storage.",
    false_positives="Single-node development clusters.",
    kb_topics=("data-store", "hostpath"),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag PersistentVolumes of type hostPath or local."""
    inv = facts.inventory
    for res in inv.of_kind("PersistentVolume"):
        spec = res.raw.get("spec") or {}
        for field in ("hostPath", "local"):
            if isinstance(spec, dict) and isinstance(spec.get(field), dict):
                path = spec[field].get("path")
                yield RULE.finding(res.id, [located(inv, res.id, f"/spec/{field}/path", path)],
                                   title=f"PersistentVolume {res.name} stores data on node path "
                                         f"{path}")
