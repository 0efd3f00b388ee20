"""The application profile says Secrets are stored unencrypted in etcd."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from workflow.domain.profile import EtcdEncryption
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="data.etcd-secrets-unencrypted",
    title="Secrets are stored unencrypted in etcd",
    phase=Phase.DATA,
    stride=(Stride.INFORMATION_DISCLOSURE,),
    likelihood=2, impact=4,
    description=("The application profile answers that the API server has no encryption "
                 "provider for Secrets: anyone who reads etcd or one of its backups reads every "
                 "Secret in clear text."),
    tactics=(refs.TA.CREDENTIAL_ACCESS,),
    techniques=("T1552.007",),
    ms_matrix=("MS-TA9027",),
    references=(*refs.cis("1.2.27", "1.2.28"), *refs.nsa("secrets"), *refs.SECRETS),
    remediation="Configure an encryption provider for Secrets, preferably KMS envelope "
                "encryption with a key outside the cluster, and rewrite existing Secrets.",
    false_positives="None while the answer stands: correct the profile if etcd is encrypted.",
    kb_topics=("secrets-encryption",),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag ``etcd_encryption: none`` when the application runs workloads."""
    if facts.inventory.workloads and facts.answers.etcd_encryption is EtcdEncryption.NONE:
        yield RULE.finding("Cluster/etcd", [facts.answer_evidence("etcd_encryption",
                                                                  "Cluster/etcd")])
