"""Dashboards and admin interfaces reachable from outside the cluster."""

from __future__ import annotations

import re
from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import admin_interface
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from agents.rules.exposure import exposed_workload_findings
from workflow.domain.scoring import Likelihood
from workflow.domain.threat_model import Confidence, Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="architecture.exposed-admin-interface",
    title="Dashboard or admin interface reachable from outside",
    phase=Phase.ARCHITECTURE,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.INFORMATION_DISCLOSURE, Stride.SPOOFING),
    likelihood=3, impact=4,
    description=("Dashboards and admin consoles (Grafana, Kibana, the Kubernetes dashboard, "
                 "Prometheus, RabbitMQ management, Argo Workflows, ...) are exposed through a "
                 "LoadBalancer, NodePort, Ingress, gateway or host port; they often ship with "
                 "default or no credentials and reveal or control the system. An Ingress route "
                 "named for administration (admin.example.com, /admin) to an application that "
                 "also serves the public shares its pods, identity and credentials with it."),
    tactics=(refs.TA.INITIAL_ACCESS,),
    techniques=("T1133", "T1190"),
    ms_matrix=("MS-TA9005",),
    references=(*refs.nsa("network-separation"), *refs.NETWORK, *refs.EXPOSED),
    remediation="Keep admin interfaces on ClusterIP and reach them through an authenticating "
                "proxy, VPN or kubectl port-forward.",
    false_positives="Interfaces behind an authenticating ingress (oauth2-proxy) configured "
                    "outside these manifests.",
    kb_topics=("loadbalancer-exposure", "nodeport-exposure"),
    reach_is_enough=True,
)


#: Ingress hosts and paths named for administration.
_ADMIN_HOST = re.compile(r"(?i)^(admin|adm|manage|management|backoffice|back-office|console"
                         r"|internal|ops)[.-]")
_ADMIN_PATH = re.compile(r"(?i)^/(admin|manage|management|backoffice|console)(/|$)")


def _admin_routes(facts: Facts) -> Iterator[Finding]:
    """Workloads an admin-named Ingress route reaches, noting the public entries they share."""
    inv = facts.inventory
    services = {svc.id: svc for svc in inv.services}
    for ing in inv.ingresses:
        for backend in ing.backends:
            route = f"{backend.host or '*'}{backend.path or ''}"
            if not (_ADMIN_HOST.match(backend.host or "")
                    or _ADMIN_PATH.match(backend.path or "")):
                continue
            svc = services.get(backend.service)
            for wl_id in svc.targets if svc is not None else ():
                wl = inv.workload(wl_id)
                if wl is None or admin_interface(wl):
                    continue  # reported as a recognised admin interface
                public = sorted({e.entry for e in facts.exposures.get(wl_id, ())
                                 if e.entry != ing.id})
                yield RULE.finding(
                    (wl_id, ing.id, *public), [located(inv, ing.id, backend.pointer, route)],
                    likelihood=Likelihood.FOOTHOLD, confidence=Confidence.MEDIUM,
                    unseen="whether the admin functions require authentication",
                    title=f"Admin route {route} ({ing.id}) reaches {wl.kind} {wl.name}"
                          + (f", which also serves {', '.join(public)}: shared pods, identity "
                             "and credentials" if public else ""))


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag admin-interface workloads exposed outside the cluster, and admin-named routes."""
    yield from exposed_workload_findings(RULE, facts, admin_interface,
                                         lambda what, wl: f"{what} ({wl.name})")
    yield from _admin_routes(facts)
