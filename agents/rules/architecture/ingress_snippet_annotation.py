"""ingress-nginx configuration injection: snippets, injectable annotations, global settings.

Three ways text from whoever writes an Ingress ends up in the shared controller's NGINX
configuration: snippet annotations; annotations whose values are pasted into directives
(auth-url, auth-tls-match-cn, mirror-target, ...) carrying characters that end a directive; and
the controller ConfigMap's ``allow-snippet-annotations: "true"`` or
``annotations-risk-level: Critical``, which allow both for every Ingress of the cluster.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["INJECTABLE_ANNOTATIONS", "RULE", "SNIPPET_ANNOTATIONS", "evaluate"]

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

#: Annotations whose values ingress-nginx pastes into directives (CVE-2025-24514, -1097, -1098).
INJECTABLE_ANNOTATIONS = (
    "nginx.ingress.kubernetes.io/auth-url",
    "nginx.ingress.kubernetes.io/auth-tls-match-cn",
    "nginx.ingress.kubernetes.io/mirror-target",
    "nginx.ingress.kubernetes.io/mirror-host",
    "nginx.ingress.kubernetes.io/permanent-redirect",
    "nginx.ingress.kubernetes.io/temporal-redirect",
    "nginx.ingress.kubernetes.io/rewrite-target",
    "nginx.ingress.kubernetes.io/auth-signin",
)
#: Characters that end an NGINX directive or open a block.
_BREAKOUT = re.compile(r"[;{}\n\r#\"'`\\]")
#: Controller ConfigMap settings that allow snippets or every annotation, cluster-wide.
_GLOBAL_SETTINGS = {"allow-snippet-annotations": "true", "annotations-risk-level": "critical"}

RULE = RuleMeta(
    id="architecture.ingress-snippet-annotation",
    title="Ingress injects raw NGINX configuration",
    phase=Phase.ARCHITECTURE,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.INFORMATION_DISCLOSURE, Stride.TAMPERING),
    likelihood=3, impact=4,
    description=("Snippet annotations, annotation values that end a directive, or the "
                 "controller's allow-snippet-annotations setting copy text into the shared "
                 "ingress controller's NGINX configuration; with Lua or alias directives it "
                 "reads the controller's service-account token and every Secret it can see "
                 "(CVE-2021-25742, CVE-2023-5044, CVE-2025-1974 family)."),
    tactics=(refs.TA.PRIVILEGE_ESCALATION, refs.TA.CREDENTIAL_ACCESS),
    techniques=("T1552.007", "T1190"),
    ms_matrix=("MS-TA9025",),
    references=(*refs.nsa("network-separation"), *refs.ADMISSION, *refs.EXPOSED),
    remediation="Remove the snippet annotation, use the controller's dedicated annotations "
                "instead, and run the controller with allow-snippet-annotations: false and "
                "annotations-risk-level below Critical.",
    false_positives="Controllers where snippets are disabled cluster-wide ignore the "
                    "annotation; the manifests do not show the controller's setting.",
    kb_topics=("ingress-tls", "admission-webhooks"),
)


def _controller_configmaps(facts: Facts) -> set[str]:
    """ConfigMaps an ingress-nginx controller reads (its --configmap argument, or its name)."""
    inv = facts.inventory
    out = {r.id for r in inv.of_kind("ConfigMap")
           if r.labels.get("app.kubernetes.io/name") == "ingress-nginx"
           or r.name in {"ingress-nginx-controller", "nginx-configuration"}}
    for wl in inv.workloads:
        for container in wl.pod.containers:
            for arg in container.raw.get("args") or []:
                text = str(arg)
                if text.startswith("--configmap=") and "/" in text:
                    ns, name = text.split("=", 1)[1].split("/", 1)
                    ns = wl.namespace if ns.startswith("$(") else ns
                    out.add(f"ConfigMap/{ns}/{name}")
    return out


def _global(facts: Facts) -> Iterator[Finding]:
    inv = facts.inventory
    for rid in sorted(_controller_configmaps(facts)):
        res = inv.get(rid)
        if res is None or not isinstance(res.raw.get("data"), dict):
            continue
        data = res.raw["data"]
        settings = [f"{k}: {data[k]}" for k, v in _GLOBAL_SETTINGS.items()
                    if str(data.get(k, "")).lower() == v]
        if settings:
            key = settings[0].split(":", 1)[0]
            yield RULE.finding(rid, [located(inv, rid, "/data/" + key, data[key])], impact=5,
                               title=f"ConfigMap {res.name} lets every Ingress inject NGINX "
                                     f"configuration ({', '.join(settings)})")


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag snippet annotations, injecting annotation values and the global settings."""
    inv = facts.inventory
    for res in inv.of_kind("Ingress"):
        found = [key for key in SNIPPET_ANNOTATIONS if res.annotations.get(key)]
        injected = [key for key in INJECTABLE_ANNOTATIONS
                    if _BREAKOUT.search(res.annotations.get(key, ""))]
        if found:
            key = found[0]
            lua = any(w in res.annotations[k] for k in found
                      for w in ("lua", "alias", "content_by", "access_by"))
            yield RULE.finding(res.id, [located(inv, res.id, "/metadata/annotations/"
                                                + key.replace("/", "~1"),
                                                res.annotations[key])],
                               impact=5 if lua else 4,
                               title=f"Ingress {res.name} sets {', '.join(found)}")
        elif injected:
            key = injected[0]
            yield RULE.finding(res.id, [located(inv, res.id, "/metadata/annotations/"
                                                + key.replace("/", "~1"),
                                                res.annotations[key])],
                               title=f"Ingress {res.name}: {', '.join(injected)} carries "
                                     "characters that end an NGINX directive")
    yield from _global(facts)
