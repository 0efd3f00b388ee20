"""Literal credentials in env values, args and commands."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.inventory import Inventory
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="data.literal-credential",
    title="Credential written into the pod spec",
    phase=Phase.DATA,
    stride=(Stride.INFORMATION_DISCLOSURE, Stride.SPOOFING),
    likelihood=3, impact=4,
    description=("A password, key or token is written literally into an env value, argument "
                 "or command (found by name and by value pattern, redacted here): everyone who "
                 "can read the manifest, the workload object or the repository has it."),
    tactics=(refs.TA.CREDENTIAL_ACCESS,),
    techniques=("T1552.001", "T1552.007"),
    ms_matrix=("MS-TA9027",),
    references=(*refs.cis("5.4.1", "5.4.2"), *refs.nsa("secrets"), *refs.SECRETS),
    remediation="Move the value into a Secret (ideally from an external secret store) mounted "
                "as a file, and rotate it.",
    false_positives="Placeholder values in examples; they are still worth replacing with "
                    "Secret references.",
    kb_topics=("literal-credentials",),
    starts_at_service=False,
)


def _detail(inv: Inventory, resource: str, path: str) -> str:
    """A stable detail: container name plus env var name (or argument position)."""
    wl = inv.workload(resource)
    for container in wl.pod.containers if wl is not None else ():
        if path.startswith(container.path + "/"):
            rest = path[len(container.path) + 1:].split("/")
            if rest[0] == "env" and len(rest) > 1 and rest[1].isdigit():
                index = int(rest[1])
                entries = container.raw.get("env") or []
                name = entries[index].get("name") if index < len(entries) and isinstance(
                    entries[index], dict) else None
                return f"{container.name}:env:{name or index}"
            return f"{container.name}:{'/'.join(rest)}"
    return path


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag the secret values the loader found in env, args and commands of workloads."""
    inv = facts.inventory
    for item in inv.secret_values:
        if item.location not in {"env", "args", "command"} or item.resource is None:
            continue
        res = inv.get(item.resource)
        if res is None:
            continue
        yield RULE.finding(item.resource, [located(inv, item.resource, item.path,
                                                   res.get(item.path))],
                           detail=_detail(inv, item.resource, item.path),
                           title=f"{item.reason} in {res.kind} {res.name} ({item.location})")
