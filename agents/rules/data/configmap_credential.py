"""Credentials in ConfigMaps, one finding per credential set."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.credentials import credential_sets
from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.scoring import Likelihood
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="data.configmap-credential",
    title="Credential stored in a ConfigMap",
    phase=Phase.DATA,
    stride=(Stride.INFORMATION_DISCLOSURE,),
    likelihood=Likelihood.ONE_STEP, impact=3,
    description=("ConfigMaps are not treated as secret: they are readable by roles that "
                 "cannot read Secrets, logged, and shown in dashboards. The credentials of one "
                 "data store or service are one finding; its impact is what the worst of them "
                 "opens."),
    tactics=(refs.TA.CREDENTIAL_ACCESS,),
    techniques=("T1552.001",),
    ms_matrix=("MS-TA9027",),
    references=(*refs.nsa("secrets"), *refs.SECRETS),
    remediation="Move the value into a Secret (or an external secret store) and rotate it.",
    false_positives="Keys whose name suggests a secret but hold a reference or a public key.",
    kb_topics=("literal-credentials",),
    per_node=False,
    starts_at_service=False,
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag the credential sets the loader found in ConfigMaps (by key name or value pattern).

    Sets whose every value is a well-known default are left to data.default-credential.
    """
    inv = facts.inventory
    items = [i for i in inv.secret_values if i.resource is not None
             and i.resource.startswith("ConfigMap/")]
    for cset in credential_sets(inv, items):
        res = inv.get(cset.resource)
        if res is None or cset.all_default:
            continue
        kind = cset.kind
        yield RULE.finding(
            cset.resource, [located(inv, cset.resource, i.path, res.get(i.path))
                            for i in cset.items[:5]],
            detail=cset.name, impact=kind.impact,
            title=f"{kind.label.capitalize()} in ConfigMap {res.name}: {', '.join(cset.keys)}")
