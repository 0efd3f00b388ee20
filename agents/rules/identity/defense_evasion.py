"""Service accounts that can cover tracks or remove policy: delete Events or webhooks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from agents.facts.derived import Facts
from agents.facts.identity import Capability
from agents.rules import refs
from agents.rules.base import RuleMeta
from agents.rules.identity._grants import capability_findings
from workflow.domain.scoring import Impact
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="identity.defense-evasion",
    title="Service account can delete Events or admission webhooks",
    phase=Phase.IDENTITY,
    stride=(Stride.REPUDIATION, Stride.TAMPERING),
    likelihood=2, impact=2,
    description=("Deleting Events erases what the cluster recorded about an attack; deleting a "
                 "validating or mutating webhook configuration removes the admission policy it "
                 "enforced, for every namespace."),
    tactics=(refs.TA.DEFENSE_EVASION,),
    techniques=("T1070", "T1562.001"),
    ms_matrix=("MS-TA9021",),
    references=(*refs.nsa("rbac", "admission-control"), *refs.RBAC, *refs.AUDIT),
    remediation="Remove delete and deletecollection on events and on webhook configurations "
                "from the role; audit logs, not Events, should be the record.",
    false_positives="Event exporters that prune Events, and operators that replace their own "
                    "webhook (narrow them with resourceNames).",
    kb_topics=("rbac-webhook-config", "admission-webhooks"),
    harm="api-rights",
)


def _impact(scope: str, caps: Sequence[Capability]) -> int | None:
    """Removing admission policy is cluster-wide; deleting Events alone is limited."""
    return Impact.SYSTEM if any(c.key == "webhook-delete" for c in caps) else None


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag service accounts that can delete Events or webhook configurations."""
    yield from capability_findings(facts, RULE, ["events-delete", "webhook-delete"],
                                   impact_of=_impact)
