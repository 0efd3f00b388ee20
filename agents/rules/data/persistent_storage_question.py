"""Open question: is the persistent storage of data stores encrypted and backed up?"""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import data_store
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.resources import Workload
from workflow.domain.threat_model import Evidence, Finding, FindingStatus, Phase, Stride

__all__ = ["RULE", "evaluate", "stateful_stores"]

RULE = RuleMeta(
    id="data.persistent-storage-question",
    title="Is this data store's volume encrypted at rest and backed up?",
    phase=Phase.DATA,
    stride=(Stride.INFORMATION_DISCLOSURE, Stride.DENIAL_OF_SERVICE),
    likelihood=1, impact=3,
    description=("The data store keeps state on a persistent volume; encryption at rest and "
                 "backups are properties of the StorageClass and the platform, which the "
                 "manifests do not show."),
    tactics=(refs.TA.COLLECTION, refs.TA.IMPACT),
    techniques=("T1485",),
    ms_matrix=("MS-TA9038",),
    references=refs.nsa("encryption"),
    remediation="Confirm the StorageClass encrypts volumes (customer-managed keys where "
                "required) and that backups are taken and tested.",
    false_positives="Caches whose data can be rebuilt.",
    kb_topics=("data-store", "secrets-encryption"),
    starts_at_service=False,
)


def stateful_stores(facts: Facts) -> Iterator[tuple[Workload, Evidence]]:
    """Each data store that mounts a claim or has volumeClaimTemplates, with where it does."""
    inv = facts.inventory
    for wl in inv.workloads:
        if not data_store(wl):
            continue
        claims = [v for v in wl.pod.volumes if isinstance(v.get("persistentVolumeClaim"), dict)]
        templates = inv.get(wl.id).get("/spec/volumeClaimTemplates")  # type: ignore[union-attr]
        if claims or templates:
            yield wl, located(inv, wl.id, "/spec/volumeClaimTemplates" if templates
                              else wl.pod.path + "/volumes",
                              len(claims) or len(templates or []))


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Ask once per data store with persistent storage, unless the profile answers both."""
    answers = facts.answers
    if answers.encryption_at_rest is not None and answers.backup is not None:
        return
    for wl, where in stateful_stores(facts):
        yield RULE.finding(wl.id, [where], status=FindingStatus.QUESTION,
                           title=f"Is the storage of {wl.kind} {wl.name} encrypted and "
                                 "backed up?")
