"""Literal credentials in env values, args and commands, one finding per credential set."""

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
    id="data.literal-credential",
    title="Credential written into the pod spec",
    phase=Phase.DATA,
    stride=(Stride.INFORMATION_DISCLOSURE, Stride.SPOOFING),
    likelihood=Likelihood.ONE_STEP, impact=3,
    description=("A password, key or token is written literally into an env value, argument "
                 "or command (found by name and by value pattern, redacted here): everyone who "
                 "can read the manifest, the workload object or the repository has it. The "
                 "credentials of one data store or service are one finding; its impact is what "
                 "the worst of them opens."),
    tactics=(refs.TA.CREDENTIAL_ACCESS,),
    techniques=("T1552.001", "T1552.007"),
    ms_matrix=("MS-TA9027",),
    references=(*refs.cis("5.4.1", "5.4.2"), *refs.nsa("secrets"), *refs.SECRETS),
    remediation="Move the value into a Secret (ideally from an external secret store) mounted "
                "as a file, and rotate it.",
    false_positives="Placeholder values in examples; they are still worth replacing with "
                    "Secret references.",
    kb_topics=("literal-credentials",),
    per_node=False,
    starts_at_service=False,
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag the credential sets the loader found in env, args and commands of workloads.

    Sets whose every value is a well-known default are left to data.default-credential.
    """
    inv = facts.inventory
    items = [i for i in inv.secret_values if i.location in {"env", "args", "command"}]
    for cset in credential_sets(inv, items):
        res = inv.get(cset.resource)
        if res is None or cset.all_default:
            continue
        kind = cset.kind
        where = sorted({i.location for i in cset.items})
        yield RULE.finding(
            cset.resource, [located(inv, cset.resource, i.path, res.get(i.path))
                            for i in cset.items[:5]],
            detail=cset.name, impact=kind.impact,
            title=f"{kind.label.capitalize()} written into {res.kind} {res.name} "
                  f"({', '.join(where)}): {', '.join(cset.keys)}")
