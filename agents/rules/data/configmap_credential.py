"""Credentials in ConfigMaps."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="data.configmap-credential",
    title="Credential stored in a ConfigMap",
    phase=Phase.DATA,
    stride=(Stride.INFORMATION_DISCLOSURE,),
    likelihood=3, impact=4,
    description=("ConfigMaps are not treated as secret: they are readable by roles that "
                 "cannot read Secrets, logged, and shown in dashboards."),
    tactics=(refs.TA.CREDENTIAL_ACCESS,),
    techniques=("T1552.001",),
    ms_matrix=("MS-TA9027",),
    references=(*refs.nsa("secrets"), *refs.SECRETS),
    remediation="Move the value into a Secret (or an external secret store) and rotate it.",
    false_positives="Keys whose name suggests a secret but hold a reference or a public key.",
    kb_topics=("literal-credentials",),
    starts_at_service=False,
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag secret values the loader found in ConfigMaps (by key name or value pattern)."""
    inv = facts.inventory
    for item in inv.secret_values:
        if item.resource is None:
            continue
        res = inv.get(item.resource)
        if res is None or res.kind != "ConfigMap":
            continue
        yield RULE.finding(item.resource, [located(inv, item.resource, item.path,
                                                   res.get(item.path))],
                           detail=item.path, title=f"{item.reason} in ConfigMap {res.name}")
