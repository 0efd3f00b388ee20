"""Container runtime sockets mounted into pods."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import hostpath_volumes, is_runtime_socket
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.scoring import Impact, Likelihood
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="controls.container-runtime-socket",
    title="Container runtime socket mounted",
    phase=Phase.CONTROLS,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.TAMPERING),
    likelihood=Likelihood.ONE_STEP, impact=Impact.SYSTEM,
    description=("The Docker, containerd or CRI-O socket lets its holder start privileged "
                 "containers on the node; a read-only mount does not prevent that, because API "
                 "calls are writes on an open socket."),
    tactics=(refs.TA.PRIVILEGE_ESCALATION, refs.TA.EXECUTION),
    techniques=("T1610", "T1611"),
    ms_matrix=("MS-TA9013", "MS-TA9008"),
    references=(*refs.cis("5.2.12"), *refs.pss("baseline/host-path-volumes"),
                *refs.nsa("pod-security"), *refs.WORKLOAD),
    remediation="Do not mount the runtime socket; use the Kubernetes API or a dedicated, "
                "scoped agent instead.",
    false_positives="Node monitoring or CI agents that need the socket; isolate them on "
                    "dedicated nodes.",
    kb_topics=("runtime-socket", "hostpath"),
    harm="node",
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag hostPath volumes that expose a container runtime socket."""
    inv = facts.inventory
    for wl in inv.workloads:
        for index, volume, path, writable in hostpath_volumes(wl):
            if is_runtime_socket(path):
                name = str(volume.get("name", index))
                yield RULE.finding(
                    wl.id, [located(inv, wl.id, f"{wl.pod.path}/volumes/{index}/hostPath/path",
                                    path)],
                    detail=name,
                    title=f"{wl.kind} {wl.name} mounts the runtime socket {path}"
                          + ("" if writable else " (read-only, still usable)"))
