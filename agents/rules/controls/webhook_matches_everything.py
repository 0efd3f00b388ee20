"""Admission webhooks that intercept every object."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from agents.rules.controls.webhook_external_url import webhooks
from workflow.domain.selectors import selector_is_empty
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="controls.webhook-matches-everything",
    title="Admission webhook matches every resource",
    phase=Phase.CONTROLS,
    stride=(Stride.TAMPERING, Stride.INFORMATION_DISCLOSURE),
    likelihood=2, impact=4,
    description=("A webhook whose rules match all groups and resources in every namespace "
                 "sees (and, if mutating, can change) every object written to the cluster, "
                 "Secrets included: the supply-chain risk of a malicious admission controller."),
    tactics=(refs.TA.PERSISTENCE, refs.TA.CREDENTIAL_ACCESS),
    techniques=("T1546",),
    ms_matrix=("MS-TA9015",),
    references=(*refs.cis("5.1.12"), *refs.nsa("admission-control"), *refs.ADMISSION),
    remediation="Scope the webhook's rules to the groups and resources it needs and add a "
                "namespaceSelector or objectSelector.",
    false_positives="Policy engines (Kyverno, Gatekeeper) match broadly by design; they are "
                    "credited as a control but remain a trusted component to protect.",
    kb_topics=("admission-webhooks",),
)


def _wild(values: object) -> bool:
    return isinstance(values, list) and "*" in [str(v) for v in values]


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag webhooks with a rule over all groups and resources and no selector."""
    inv = facts.inventory
    for rid, kind, index, hook in webhooks(inv):
        selectors = [hook.get("namespaceSelector"), hook.get("objectSelector")]
        if any(isinstance(s, dict) and not selector_is_empty(s) for s in selectors):
            continue
        for ri, rule in enumerate(hook.get("rules") or []):
            if isinstance(rule, dict) and _wild(rule.get("apiGroups")) \
                    and _wild(rule.get("resources")):
                yield RULE.finding(rid, [located(inv, rid, f"/webhooks/{index}/rules/{ri}",
                                                 rule)],
                                   detail=str(hook.get("name", index)),
                                   impact=5 if kind.startswith("Mutating") else 4,
                                   title=f"Webhook {hook.get('name', index)} intercepts every "
                                         "resource")
                break
