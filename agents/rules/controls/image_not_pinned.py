"""Images not pinned by digest."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import containers, holds_node
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from agents.rules.controls.image_mutable_tag import floating_tag
from workflow.domain.scoring import Impact
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="controls.image-not-pinned",
    title="Image not pinned by digest",
    phase=Phase.CONTROLS,
    stride=(Stride.TAMPERING,),
    likelihood=2, impact=3,
    description="A version tag can be moved in the registry; only a digest fixes the bytes.",
    tactics=(refs.TA.INITIAL_ACCESS,),
    techniques=("T1525", "T1195.002"),
    ms_matrix=("MS-TA9002",),
    references=(*refs.cis("5.5.1"), *refs.nsa("image-security"), *refs.SUPPLY_CHAIN),
    remediation="Pin the image by digest (image:tag@sha256:...) and update it through a "
                "reviewed change.",
    false_positives="Registries with immutable tags enforced.",
    kb_topics=("image-tag-digest", "image-provenance"),
    starts_at_service=False,
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag images with a version tag but no digest (latest is left to its own rule)."""
    inv = facts.inventory
    for wl, container in containers(inv):
        tag = container.image_tag
        if container.image and not container.image_digest and not floating_tag(tag):
            yield RULE.finding(wl.id, [located(inv, wl.id, container.path + "/image",
                                               container.image)],
                               detail=container.name,
                               impact=Impact.SYSTEM if holds_node(wl) else None,
                               title=f"Container {container.name} in {wl.name} image is not "
                                     "pinned by digest" + (
                                         f" ({container.malformed_digest} is not a digest)"
                                         if container.malformed_digest else ""))
