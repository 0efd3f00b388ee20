"""The application profile says the data stores are not backed up."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from agents.rules.data.persistent_storage_question import stateful_stores
from workflow.domain.profile import Toggle
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="data.backups-absent",
    title="Data stores are not backed up",
    phase=Phase.DATA,
    stride=(Stride.DENIAL_OF_SERVICE, Stride.TAMPERING),
    likelihood=2, impact=4,
    description=("The application profile answers that the data stores are not backed up: "
                 "ransomware, a deleted volume or a bad migration loses the data for good."),
    tactics=(refs.TA.IMPACT,),
    techniques=("T1485", "T1486"),
    ms_matrix=("MS-TA9038",),
    references=refs.nsa("encryption"),
    remediation="Back up each data store (volume snapshots or the database's own dumps) to a "
                "location the cluster's credentials cannot delete, and test a restore.",
    false_positives="Caches and replicas whose data is rebuilt from elsewhere.",
    kb_topics=("data-store",),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag each data store with persistent storage when ``backup: disabled``."""
    if facts.answers.backup is not Toggle.DISABLED:
        return
    for wl, where in stateful_stores(facts):
        yield RULE.finding(wl.id, [facts.answer_evidence("backup", wl.id), where],
                           title=f"{wl.kind} {wl.name} is not backed up")
