"""Validating admission webhooks that fail open."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from agents.rules.controls.webhook_external_url import webhooks
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="controls.webhook-fail-open",
    title="Admission webhook fails open",
    phase=Phase.CONTROLS,
    stride=(Stride.TAMPERING, Stride.ELEVATION_OF_PRIVILEGE),
    likelihood=2, impact=3,
    description=("failurePolicy: Ignore admits every object while the webhook is down or slow, "
                 "so an attacker who can disrupt it bypasses the policy it enforces."),
    tactics=(refs.TA.DEFENSE_EVASION,),
    techniques=("T1562",),
    references=(*refs.nsa("admission-control"), *refs.POLICY),
    remediation="Set failurePolicy: Fail for security-relevant validating webhooks and run "
                "them highly available.",
    false_positives="Webhooks that only add convenience defaults.",
    kb_topics=("admission-webhooks", "policy-engine"),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag validating webhooks with failurePolicy: Ignore."""
    inv = facts.inventory
    for rid, kind, index, hook in webhooks(inv):
        if kind.startswith("Validating") and hook.get("failurePolicy") == "Ignore":
            yield RULE.finding(rid, [located(inv, rid, f"/webhooks/{index}/failurePolicy",
                                             "Ignore")],
                               detail=str(hook.get("name", index)),
                               title=f"Webhook {hook.get('name', index)} fails open")
