"""Service accounts that can create PersistentVolumes (a hostPath onto a node)."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from agents.rules.identity._grants import capability_findings
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="identity.persistent-volume-create",
    title="Service account can create PersistentVolumes",
    phase=Phase.IDENTITY,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.INFORMATION_DISCLOSURE),
    likelihood=2, impact=4,
    description=("A PersistentVolume can be a hostPath: whoever creates one and a claim bound "
                 "to it mounts a node's filesystem into a pod, bypassing the Pod Security "
                 "checks on hostPath volumes."),
    tactics=(refs.TA.PRIVILEGE_ESCALATION, refs.TA.CREDENTIAL_ACCESS),
    techniques=("T1611",),
    ms_matrix=("MS-TA9013",),
    references=(*refs.nsa("rbac"), *refs.RBAC),
    remediation="Remove create on persistentvolumes; provision volumes through StorageClasses "
                "and let only the storage provisioner create PersistentVolumes.",
    false_positives="Storage provisioners and operators that create PersistentVolumes by "
                    "design.",
    kb_topics=("hostpath", "rbac-create-pods"),
    harm="api-rights",
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag service accounts that can create PersistentVolumes."""
    yield from capability_findings(facts, RULE, ["pv-create"])
