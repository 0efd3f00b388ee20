"""hostPath volumes: node files inside the pod, worst when sensitive and writable."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import hostpath_volumes
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from agents.rules.controls.container_runtime_socket import is_runtime_socket
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "SENSITIVE_HOST_PATHS", "evaluate", "is_sensitive"]

#: Host paths (and their subtrees) that give access to node credentials or control.
SENSITIVE_HOST_PATHS = ("/", "/etc", "/root", "/home", "/var/lib/kubelet", "/var/lib/docker",
                        "/var/lib/containerd", "/var/lib/etcd", "/etc/kubernetes", "/proc",
                        "/sys", "/boot", "/dev", "/lib/modules", "/usr", "/bin", "/sbin",
                        "/var/log", "/var/lib")


def is_sensitive(path: str) -> bool:
    """True when a host path is, or lies under, a sensitive node location."""
    clean = path.rstrip("/") or "/"
    if clean == "/":
        return True
    return any(clean == p or clean.startswith(p + "/") for p in SENSITIVE_HOST_PATHS if p != "/")


RULE = RuleMeta(
    id="controls.hostpath-mount",
    title="hostPath volume",
    phase=Phase.CONTROLS,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.TAMPERING, Stride.INFORMATION_DISCLOSURE),
    likelihood=3, impact=3,
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
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag hostPath volumes (runtime sockets are left to their own rule)."""
    inv = facts.inventory
    for wl in inv.workloads:
        for index, volume, path, writable in hostpath_volumes(wl):
            if is_runtime_socket(path):
                continue
            sensitive = is_sensitive(path)
            impact = 5 if sensitive and writable else 4 if sensitive or writable else 2
            what = ("sensitive, writable" if sensitive and writable else
                    "sensitive" if sensitive else "writable" if writable else "read-only")
            yield RULE.finding(
                wl.id, [located(inv, wl.id, f"{wl.pod.path}/volumes/{index}/hostPath/path",
                                path)],
                detail=str(volume.get("name", index)), impact=impact,
                title=f"{wl.kind} {wl.name} mounts host path {path} ({what})")
