"""Admission webhooks that call a URL outside the cluster."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.inventory import Inventory
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate", "webhooks"]

RULE = RuleMeta(
    id="controls.webhook-external-url",
    title="Admission webhook calls an external URL",
    phase=Phase.CONTROLS,
    stride=(Stride.TAMPERING, Stride.INFORMATION_DISCLOSURE),
    likelihood=2, impact=4,
    description=("The API server sends the objects this webhook matches, Secrets included "
                 "when they match, to a URL outside the cluster; whoever controls it can read "
                 "and (mutating) change them."),
    tactics=(refs.TA.PERSISTENCE, refs.TA.COLLECTION),
    techniques=("T1546",),
    ms_matrix=("MS-TA9015",),
    references=(*refs.cis("5.1.12"), *refs.nsa("admission-control"), *refs.ADMISSION),
    remediation="Point the webhook at an in-cluster Service (clientConfig.service) with a "
                "pinned caBundle.",
    false_positives="Managed policy services deliberately hosted outside the cluster.",
    kb_topics=("admission-webhooks",),
)


def webhooks(inv: Inventory) -> Iterator[tuple[str, str, int, dict[str, Any]]]:
    """(resource id, kind, index, webhook) for every admission webhook."""
    for res in inv.of_kind("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        for index, hook in enumerate(res.raw.get("webhooks") or []):
            if isinstance(hook, dict):
                yield res.id, res.kind, index, hook


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag webhooks whose clientConfig is a URL."""
    inv = facts.inventory
    for rid, kind, index, hook in webhooks(inv):
        config = hook.get("clientConfig")
        url = config.get("url") if isinstance(config, dict) else None
        if url:
            yield RULE.finding(rid, [located(inv, rid, f"/webhooks/{index}/clientConfig/url",
                                             url)],
                               detail=str(hook.get("name", index)),
                               impact=5 if kind.startswith("Mutating") else 4,
                               title=f"Webhook {hook.get('name', index)} calls {url}")
