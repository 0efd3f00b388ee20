"""hostPath volumes: node files inside the pod, worst when sensitive and writable."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import (
    hostpath_volumes,
    is_runtime_socket,
    is_sensitive_host_path,
    runs_as_non_root,
)
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.scoring import Impact, Likelihood
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="controls.hostpath-mount",
    title="hostPath volume",
    phase=Phase.CONTROLS,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.TAMPERING, Stride.INFORMATION_DISCLOSURE),
    likelihood=Likelihood.ONE_STEP, impact=Impact.SERVICE,
    description=("A hostPath volume puts node files in the pod. Sensitive paths expose node "
                 "credentials (kubelet, etcd, runtime state); writable ones let the pod change "
                 "the node."),
    tactics=(refs.TA.PRIVILEGE_ESCALATION, refs.TA.PERSISTENCE, refs.TA.CREDENTIAL_ACCESS),
    techniques=("T1611",),
    ms_matrix=("MS-TA9013",),
    references=(*refs.cis("5.2.12"), *refs.pss("baseline/host-path-volumes"),
                *refs.nsa("pod-security"), *refs.WORKLOAD),
    remediation="Replace hostPath with emptyDir, a ConfigMap or a PersistentVolumeClaim; if a "
                "host path is unavoidable, mount the narrowest path readOnly.",
    false_positives="Log collectors read /var/log and node exporters read /proc and /sys "
                    "read-only by design.",
    kb_topics=("hostpath",),
    harm="node",
)


def _impact(sensitive: bool, writable: bool, non_root: bool) -> Impact:
    """The harm of a host path: sensitive ones give the node, writable ones change it.

    A process that provably runs as non-root gets only what the node's file permissions allow.
    """
    if sensitive:
        impact = Impact.SYSTEM
    elif writable:
        impact = Impact.SERVICE
    else:
        impact = Impact.LIMITED
    return Impact(max(Impact.LIMITED, impact - 1)) if non_root and impact > Impact.LIMITED \
        else impact


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag hostPath volumes (runtime sockets are left to their own rule)."""
    inv = facts.inventory
    for wl in inv.workloads:
        non_root = runs_as_non_root(wl)
        for index, volume, path, writable in hostpath_volumes(wl):
            if is_runtime_socket(path):
                continue
            sensitive = is_sensitive_host_path(path)
            what = ("sensitive, writable" if sensitive and writable else
                    "sensitive" if sensitive else "writable" if writable else "read-only")
            yield RULE.finding(
                wl.id, [located(inv, wl.id, f"{wl.pod.path}/volumes/{index}/hostPath/path",
                                path)],
                detail=str(volume.get("name", index)),
                impact=_impact(sensitive, writable, non_root),
                title=f"{wl.kind} {wl.name} mounts host path {path} ({what}"
                      + (", as non-root" if non_root else "") + ")")
