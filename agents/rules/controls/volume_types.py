"""Volume types outside the restricted profile's list."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import RESTRICTED_VOLUME_TYPES
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="controls.volume-types",
    title="Volume type outside the restricted profile",
    phase=Phase.CONTROLS,
    stride=(Stride.TAMPERING, Stride.ELEVATION_OF_PRIVILEGE),
    likelihood=2, impact=2,
    description=("The restricted profile allows only configMap, csi, downwardAPI, emptyDir, "
                 "ephemeral, persistentVolumeClaim, projected and secret volumes; gitRepo in "
                 "particular runs git on the node."),
    tactics=(refs.TA.PRIVILEGE_ESCALATION,),
    techniques=("T1611",),
    references=(*refs.pss("restricted/volume-types"), *refs.WORKLOAD),
    remediation="Use a PersistentVolumeClaim or CSI volume instead of in-line volume sources, "
                "and an init container instead of gitRepo.",
    false_positives="In-line NFS or cloud disks in clusters without CSI drivers.",
    kb_topics=("volume-types",),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag in-line volume sources other than the allowed ones (hostPath has its own rule)."""
    inv = facts.inventory
    for wl in inv.workloads:
        for index, volume in enumerate(wl.pod.volumes):
            kinds = [k for k in volume if k != "name"]
            bad = [k for k in kinds if k not in RESTRICTED_VOLUME_TYPES and k != "hostPath"]
            if bad:
                yield RULE.finding(wl.id, [located(
                    inv, wl.id, f"{wl.pod.path}/volumes/{index}", bad[0])],
                    detail=str(volume.get("name", index)),
                    impact=4 if "gitRepo" in bad else 2,
                    title=f"{wl.kind} {wl.name} uses a {bad[0]} volume")
