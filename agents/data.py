"""The data phase: where secrets, credentials and classified data live and how they travel."""

from __future__ import annotations

from agents.phase import PhaseSpec, PromptView, WorkloadDetail
from agents.rules.data import RULES
from workflow.domain.threat_model import Phase

__all__ = ["PHASE"]

PHASE = PhaseSpec(
    phase=Phase.DATA,
    title="Data: secrets, credentials, data stores and their classification",
    rules=RULES,
    view=PromptView(
        kinds=("Secret", "ConfigMap", "PersistentVolumeClaim", "PersistentVolume", "StorageClass",
               "*workloads", "SealedSecret", "ExternalSecret", "SecretProviderClass"),
        workload_details=frozenset({WorkloadDetail.VOLUMES, WorkloadDetail.SECRET_REFS})),
)
