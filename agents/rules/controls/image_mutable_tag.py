"""Images referenced by latest or by no tag at all."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import containers, holds_node
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.scoring import Impact
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate", "floating_tag"]

RULE = RuleMeta(
    id="controls.image-mutable-tag",
    title="Image uses latest or no tag",
    phase=Phase.CONTROLS,
    stride=(Stride.TAMPERING,),
    likelihood=2, impact=3,
    description=("latest (or no tag, or a tag that names no version: alpine, stable, main) "
                 "resolves to whatever the registry serves at pull time: "
                 "the running code is unknown and can be swapped; whoever controls the tag "
                 "gets what the workload holds (the node, for a privileged or host-level pod)."),
    tactics=(refs.TA.INITIAL_ACCESS, refs.TA.PERSISTENCE),
    techniques=("T1525", "T1195.002"),
    ms_matrix=("MS-TA9002",),
    references=(*refs.cis("5.5.1"), *refs.nsa("image-security"), *refs.SUPPLY_CHAIN,
                *refs.WORKLOAD),
    remediation="Reference images by an immutable version tag and, better, by digest "
                "(image@sha256:...).",
    false_positives="None in production manifests.",
    kb_topics=("image-tag-digest", "image-provenance"),
    starts_at_service=False,
)


def floating_tag(tag: str | None) -> bool:
    """latest, no tag, or a tag without a version number (alpine, stable, main, e2e)."""
    return tag is None or tag == "latest" or not any(ch.isdigit() for ch in tag)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag images without a digest whose tag is latest, missing, or names no version."""
    inv = facts.inventory
    for wl, container in containers(inv):
        if container.image_digest or not container.image:
            continue
        tag = container.image_tag
        if floating_tag(tag):
            yield RULE.finding(wl.id, [located(inv, wl.id, container.path + "/image",
                                               container.image)],
                               detail=container.name,
                               impact=Impact.SYSTEM if holds_node(wl) else None,
                               title=f"Container {container.name} in {wl.name} uses "
                                     f"{container.image} ({tag or 'no tag'}"
                                     + (", a tag that names no version" if tag and tag != "latest"
                                        else "") + ")")
