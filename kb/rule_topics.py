"""Topic keys that rules cite, mapped to passage ids of the built-in corpus.

A rule sets ``kb_topics`` on its :class:`agents.rules.base.RuleMeta` (e.g.
``kb_topics=("privileged-container",)``); :meth:`kb.retrieval.KbRetriever.passages_for_rule`
turns them into citations. The first passage of each topic is the ktmb recommendation; the others
are the framework passages behind it. ``tests/unit/kb/test_kb_corpus_lint.py`` fails when a key
points to a passage that does not exist. The key list is documented in ``kb/README.md``.
"""

from __future__ import annotations

from collections.abc import Iterable

from workflow.domain.errors import UnknownRuleError

__all__ = ["TOPICS", "passages_for_topics", "rule_topics"]

TOPICS: dict[str, tuple[str, ...]] = {
    # -- workload configuration (Pod Security Standards) ------------------------------------
    "privileged-container": ("rec.privileged-container", "pss.privileged", "ms.ta9018",
                             "attack.t1611", "cis.5-2-pod-admission"),
    "host-namespaces": ("rec.host-namespaces", "pss.host-namespaces", "attack.t1611",
                        "cis.5-2-pod-admission"),
    "host-network": ("rec.host-namespaces", "pss.host-namespaces", "ms.ta9036"),
    "host-pid": ("rec.host-namespaces", "pss.host-namespaces", "attack.t1611"),
    "host-ipc": ("rec.host-namespaces", "pss.host-namespaces"),
    "host-ports": ("rec.host-ports", "pss.host-ports", "cis.5-2-pod-admission"),
    "hostpath": ("rec.hostpath", "pss.hostpath", "ms.ta9013", "attack.t1611"),
    "runtime-socket": ("rec.runtime-socket", "pss.hostpath", "attack.t1610", "ms.ta9008"),
    "capabilities": ("rec.capabilities", "pss.capabilities-baseline",
                     "pss.capabilities-restricted", "cis.5-2-pod-admission"),
    "privilege-escalation": ("rec.privilege-escalation", "pss.privilege-escalation",
                             "cis.5-2-pod-admission"),
    "run-as-root": ("rec.run-as-root", "pss.run-as-non-root", "pss.run-as-user",
                    "nsa.non-root-containers"),
    "readonly-root-fs": ("rec.readonly-root-fs", "nsa.immutable-filesystems"),
    "seccomp": ("rec.seccomp", "pss.seccomp-baseline", "pss.seccomp-restricted",
                "cis.5-7-general"),
    "apparmor-selinux": ("rec.apparmor-selinux", "pss.apparmor", "pss.selinux"),
    "proc-mount-sysctls": ("rec.proc-mount-sysctls", "pss.proc-mount", "pss.sysctls"),
    "windows-hostprocess": ("rec.windows-hostprocess", "pss.hostprocess"),
    "volume-types": ("rec.volume-types", "pss.volume-types"),
    "resource-limits": ("rec.resource-limits", "nsa.resource-policies", "attack.t1496",
                        "ms.ta9040"),
    "image-tag-digest": ("rec.image-tag-digest", "owasp.2022-k02", "attack.t1525",
                         "ms.ta9002"),
    "image-provenance": ("rec.image-provenance", "owasp.2022-k02", "cis.5-5-admission",
                         "attack.t1525"),
    "default-namespace": ("rec.default-namespace", "cis.5-7-general"),
    # -- identity and RBAC ------------------------------------------------------------------
    "rbac-cluster-admin": ("rec.rbac-cluster-admin", "ms.ta9019", "cis.5-1-rbac",
                           "owasp.2022-k03"),
    "rbac-wildcard": ("rec.rbac-wildcard", "cis.5-1-rbac", "owasp.2022-k03"),
    "rbac-secrets-access": ("rec.rbac-secrets-access", "ms.ta9025", "attack.t1552-007",
                            "cis.5-1-rbac"),
    "rbac-exec": ("rec.rbac-exec", "ms.ta9006", "attack.t1609"),
    "rbac-escalate-bind-impersonate": ("rec.rbac-escalate-bind-impersonate",
                                       "cis.5-1-rbac-more", "owasp.2022-k03"),
    "rbac-nodes-proxy": ("rec.rbac-nodes-proxy", "ms.ta9030", "cis.5-1-rbac-more"),
    "rbac-webhook-config": ("rec.rbac-webhook-config", "ms.ta9015", "cis.5-1-rbac-more"),
    "rbac-create-pods": ("rec.rbac-create-pods", "ms.ta9008", "attack.t1610", "cis.5-1-rbac"),
    "token-automount": ("rec.token-automount", "ms.ta9016", "attack.t1528", "cis.5-1-rbac",
                        "nsa.service-account-tokens"),
    "default-service-account": ("rec.default-service-account", "cis.5-1-rbac",
                                "ms.ta9016"),
    "cloud-identity": ("rec.cloud-identity", "ms.ta9020", "attack.t1078-004",
                       "owasp.2025-k08", "eks.workload-identity", "gke.workload-identity",
                       "aks.workload-identity"),
    # -- data and secrets -------------------------------------------------------------------
    "literal-credentials": ("rec.literal-credentials", "ms.ta9027", "attack.t1552-001",
                            "owasp.2022-k08"),
    "secrets-as-env": ("rec.secrets-as-env", "cis.5-4-secrets", "owasp.2022-k08"),
    "secrets-encryption": ("rec.secrets-encryption", "stride.etcd", "eks.secrets-encryption",
                           "gke.secrets-encryption", "aks.secrets-encryption"),
    "data-store": ("rec.data-store", "ms.ta9041", "ms.ta9038"),
    "data-classification": ("rec.data-classification", "rec.data-store"),
    # -- logging ----------------------------------------------------------------------------
    "logging-audit": ("rec.logging-audit", "nsa.audit-logging", "owasp.2022-k05",
                      "ms.ta9021", "ms.ta9022", "cis.3-logging"),
    # -- network and exposure ---------------------------------------------------------------
    "networkpolicy-default-deny": ("rec.networkpolicy-default-deny", "nsa.network-policies",
                                   "cis.5-3-network", "ms.ta9034", "owasp.2022-k07"),
    "networkpolicy-egress": ("rec.networkpolicy-egress", "nsa.network-policies",
                             "cis.5-3-network"),
    "metadata-endpoint": ("rec.metadata-endpoint", "ms.ta9033", "attack.t1552-005",
                          "eks.metadata", "gke.metadata", "aks.metadata"),
    "loadbalancer-exposure": ("rec.loadbalancer-exposure", "ms.ta9005", "attack.t1190",
                              "owasp.2025-k06"),
    "nodeport-exposure": ("rec.nodeport-exposure", "ms.ta9005", "attack.t1133"),
    "ingress-tls": ("rec.ingress-tls", "stride.ingress", "attack.t1190"),
    "api-server-exposure": ("rec.api-server-exposure", "stride.api-server", "ms.ta9005",
                            "eks.private-endpoint", "gke.private-endpoint",
                            "aks.private-endpoint"),
    "kubelet-api": ("rec.kubelet-api", "stride.kubelet", "ms.ta9030", "cis.4-kubelet"),
    "etcd-access": ("rec.etcd-access", "stride.etcd", "cis.2-etcd"),
    # -- controls and compliance ------------------------------------------------------------
    "admission-webhooks": ("rec.admission-webhooks", "stride.admission-webhooks", "ms.ta9015"),
    "psa-labels": ("rec.psa-labels", "pss.admission-labels", "pss.levels",
                   "cis.5-2-pod-admission"),
    "policy-engine": ("rec.policy-engine", "owasp.2022-k04", "owasp.2025-k04",
                      "cis.5-2-pod-admission"),
    "attack-paths": ("rec.attack-paths", "attack.t1611", "attack.t1078-004",
                     "owasp.2025-k08"),
}
"""Topic key -> passage ids (recommendation first)."""


def passages_for_topics(topics: Iterable[str]) -> list[str]:
    """Passage ids for topic keys, without duplicates, in topic order (unknown keys skipped)."""
    ids: dict[str, None] = {}
    for topic in topics:
        for pid in TOPICS.get(topic, ()):
            ids.setdefault(pid, None)
    return list(ids)


def rule_topics(rule_id: str) -> tuple[str, ...]:
    """The topic keys of a rule: its ``kb_topics``, else the rule slug when it is a topic key.

    Raises:
        UnknownRuleError: the catalogue has no rule with that id.
    """
    from agents.rules.catalogue import rule_meta

    meta = rule_meta(rule_id)
    if meta is None:
        raise UnknownRuleError(f"the rule catalogue has no rule {rule_id!r}")
    if meta.kb_topics:
        return tuple(meta.kb_topics)
    slug = rule_id.split(".", 1)[-1]
    return (slug,) if slug in TOPICS else ()
