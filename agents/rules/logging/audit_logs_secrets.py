"""Audit policies that write Secret contents into the audit log."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from agents.rules.logging.audit_policy_question import audit_policies
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="logging.audit-logs-secrets",
    title="Audit policy logs Secret contents",
    phase=Phase.LOGGING,
    stride=(Stride.INFORMATION_DISCLOSURE,),
    likelihood=2, impact=4,
    description=("An audit rule at Request or RequestResponse level that covers secrets (or "
                 "every resource) copies Secret values into the audit log, readable by "
                 "whoever reads the logs."),
    tactics=(refs.TA.CREDENTIAL_ACCESS,),
    techniques=("T1552",),
    references=(*refs.cis("3.2.2"), *refs.nsa("audit-logging"), *refs.SECRETS),
    remediation="Log secrets, configmaps and tokenreviews at Metadata level only, with a rule "
                "placed before any broader Request-level rule.",
    false_positives="None: Secret bodies never belong in logs.",
    kb_topics=("logging-audit",),
)


def _covers_secrets(rule: dict[str, object]) -> bool:
    resources = rule.get("resources")
    if not resources:
        return not rule.get("nonResourceURLs")
    for group in resources if isinstance(resources, list) else []:
        names = group.get("resources") if isinstance(group, dict) else None
        if not isinstance(names, list) or not names or "secrets" in names or "*" in names:
            return True
    return False


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag audit policies whose first rule matching secrets logs bodies."""
    inv = facts.inventory
    for pid in audit_policies(inv):
        res = inv.get(pid)
        rules = res.raw.get("rules") if res is not None else None
        for index, rule in enumerate(rules if isinstance(rules, list) else []):
            if not isinstance(rule, dict) or not _covers_secrets(rule):
                continue
            if rule.get("level") in {"Request", "RequestResponse"}:
                yield RULE.finding(pid, [located(inv, pid, f"/rules/{index}/level",
                                                 rule["level"])],
                                   title=f"Audit policy {pid} logs Secret bodies "
                                         f"({rule['level']})")
            break
