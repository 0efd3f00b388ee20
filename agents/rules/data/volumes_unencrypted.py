"""The application profile says the data stores' volumes are not encrypted at rest."""

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
    id="data.volumes-unencrypted",
    title="Data store volumes are not encrypted at rest",
    phase=Phase.DATA,
    stride=(Stride.INFORMATION_DISCLOSURE,),
    likelihood=2, impact=4,
    description=("The application profile answers that volumes are not encrypted at rest: a "
                 "disk snapshot, a detached volume or a decommissioned drive gives the data "
                 "away."),
    tactics=(refs.TA.COLLECTION,),
    techniques=("T1530",),
    ms_matrix=("MS-TA9038",),
    references=(*refs.nsa("encryption"), *refs.SECRETS),
    remediation="Use a StorageClass that encrypts volumes (with a customer-managed key where "
                "the data calls for it) and migrate the data store's volumes to it.",
    false_positives="Data stores whose data is public or rebuilt from elsewhere.",
    kb_topics=("data-store", "secrets-encryption"),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag each data store with persistent storage when ``encryption_at_rest: disabled``."""
    if facts.answers.encryption_at_rest is not Toggle.DISABLED:
        return
    for wl, where in stateful_stores(facts):
        yield RULE.finding(wl.id, [facts.answer_evidence("encryption_at_rest", wl.id), where],
                           title=f"The volumes of {wl.kind} {wl.name} are not encrypted at rest")
