"""Containers that pull code at run time (git-sync and similar)."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import containers
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["CODE_PULLERS", "RULE", "evaluate"]

#: Image name fragments of sidecars that fetch code or configuration into a running pod.
CODE_PULLERS = ("git-sync", "gitsync", "git-puller", "s3-sync", "rclone")

RULE = RuleMeta(
    id="controls.runtime-code-pull",
    title="Code pulled into the pod at run time",
    phase=Phase.CONTROLS,
    stride=(Stride.TAMPERING,),
    likelihood=2, impact=3,
    description=("A git-sync style sidecar fetches code or configuration from a repository "
                 "while the pod runs: whoever can push to that branch runs code in the pod, "
                 "bypassing image review and signing."),
    tactics=(refs.TA.EXECUTION, refs.TA.PERSISTENCE),
    techniques=("T1195.002", "T1525"),
    ms_matrix=("MS-TA9002",),
    references=(*refs.nsa("image-security"), *refs.SUPPLY_CHAIN, *refs.WORKLOAD),
    remediation="Build the code into a reviewed, digest-pinned image; if syncing is needed, "
                "pin a commit and verify its signature.",
    false_positives="Sidecars that sync static, non-executable content from a protected "
                    "branch.",
    kb_topics=("image-provenance", "volume-types"),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag containers whose image is a known code-pulling sidecar."""
    inv = facts.inventory
    for wl, container in containers(inv):
        name = container.image.split("@", 1)[0].rsplit("/", 1)[-1].lower()
        if any(fragment in name for fragment in CODE_PULLERS):
            yield RULE.finding(wl.id, [located(inv, wl.id, container.path + "/image",
                                               container.image)],
                               detail=container.name,
                               title=f"Container {container.name} in {wl.name} pulls code at "
                                     "run time")
