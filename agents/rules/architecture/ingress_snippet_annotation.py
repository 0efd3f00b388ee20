"""ingress-nginx snippet annotations: raw NGINX configuration from whoever writes an Ingress."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "SNIPPET_ANNOTATIONS", "evaluate"]

#: Annotations that inject raw NGINX configuration into the shared controller.
SNIPPET_ANNOTATIONS = (
    "nginx.ingress.kubernetes.io/configuration-snippet",
    "nginx.ingress.kubernetes.io/server-snippet",
    "nginx.ingress.kubernetes.io/auth-snippet",
    "nginx.ingress.kubernetes.io/stream-snippet",
    "nginx.ingress.kubernetes.io/modsecurity-snippet",
    "nginx.org/server-snippets",
    "nginx.org/location-snippets",
)

RULE = RuleMeta(
    id="architecture.ingress-snippet-annotation",
    title="Ingress injects raw NGINX configuration",
    phase=Phase.ARCHITECTURE,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.INFORMATION_DISCLOSURE, Stride.TAMPERING),
    likelihood=3, impact=4,
    description=("Snippet annotations copy text into the shared ingress controller's NGINX "
                 "configuration; with Lua or alias directives it reads the controller's "
                 "service-account token and every Secret it can see (CVE-2021-25742, "
                 "CVE-2023-5044, CVE-2025-1974 family)."),
    tactics=(refs.TA.PRIVILEGE_ESCALATION, refs.TA.CREDENTIAL_ACCESS),
    techniques=("T1552.007", "T1190"),
    ms_matrix=("MS-TA9025",),
    references=(*refs.nsa("network-separation"), *refs.ADMISSION, *refs.EXPOSED),
    remediation="Remove the snippet annotation, use the controller's dedicated annotations "
                "instead, and run the controller with allow-snippet-annotations: false.",
    false_positives="Controllers where snippets are disabled cluster-wide ignore the "
                    "annotation; the manifests do not show the controller's setting.",
    kb_topics=("ingress-tls", "admission-webhooks"),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag Ingresses that carry a snippet annotation."""
    inv = facts.inventory
    for res in inv.of_kind("Ingress"):
        found = [key for key in SNIPPET_ANNOTATIONS if res.annotations.get(key)]
        if found:
            key = found[0]
            lua = any(w in res.annotations[k] for k in found
                      for w in ("lua", "alias", "content_by", "access_by"))
            yield RULE.finding(res.id, [located(inv, res.id, "/metadata/annotations/"
                                                + key.replace("/", "~1"),
                                                res.annotations[key])],
                               impact=5 if lua else 4,
                               title=f"Ingress {res.name} sets {', '.join(found)}")
