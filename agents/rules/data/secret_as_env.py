"""Secrets passed as environment variables."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import containers
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="data.secret-as-env",
    title="Secret passed as an environment variable",
    phase=Phase.DATA,
    stride=(Stride.INFORMATION_DISCLOSURE,),
    likelihood=2, impact=2,
    description=("Environment variables leak into crash dumps, logs, child processes and "
                 "/proc/<pid>/environ; files from a Secret volume do not."),
    tactics=(refs.TA.CREDENTIAL_ACCESS,),
    techniques=("T1552.001",),
    references=(*refs.cis("5.4.1"), *refs.nsa("secrets"), *refs.SECRETS),
    remediation="Mount the Secret as a volume and read the file instead of the environment.",
    false_positives="Applications that accept credentials only from the environment.",
    kb_topics=("secrets-as-env",),
    per_node=False,
    starts_at_service=False,
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag env entries with secretKeyRef and envFrom entries with secretRef."""
    inv = facts.inventory
    for wl, container in containers(inv):
        refs_: list[tuple[str, str]] = []
        for index, entry in enumerate(container.env):
            ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
            if isinstance(ref, dict):
                refs_.append((f"{container.path}/env/{index}/valueFrom/secretKeyRef",
                              str(ref.get("name"))))
        for index, entry in enumerate(container.raw.get("envFrom") or []):
            if isinstance(entry, dict) and isinstance(entry.get("secretRef"), dict):
                refs_.append((f"{container.path}/envFrom/{index}/secretRef",
                              str(entry["secretRef"].get("name"))))
        if refs_:
            names = sorted({name for _, name in refs_})
            yield RULE.finding(wl.id, [located(inv, wl.id, p, n) for p, n in refs_[:5]],
                               detail=container.name,
                               title=f"Container {container.name} in {wl.name} gets Secret(s) "
                                     f"{', '.join(names)} as environment variables")
