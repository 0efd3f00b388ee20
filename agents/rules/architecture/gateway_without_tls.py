"""Istio and Gateway API gateways that serve only plain HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from agents.facts.derived import Facts
from agents.facts.exposure import gateway_routes
from agents.facts.web import login_signals, route_login_paths
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.scoring import Impact
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="architecture.gateway-without-tls",
    title="Gateway serves plain HTTP only",
    phase=Phase.ARCHITECTURE,
    stride=(Stride.INFORMATION_DISCLOSURE, Stride.TAMPERING, Stride.SPOOFING),
    likelihood=3, impact=3,
    description=("The gateway (Istio Gateway or Gateway API Gateway) has no HTTPS or TLS "
                 "server: internet traffic reaches the mesh unencrypted."),
    tactics=(refs.TA.CREDENTIAL_ACCESS, refs.TA.COLLECTION),
    techniques=("T1557", "T1040"),
    references=(*refs.nsa("encryption"), *refs.NETWORK),
    remediation="Add an HTTPS listener (or server) with a certificate and redirect HTTP to "
                "it.",
    false_positives="TLS terminated on a cloud load balancer in front of the gateway.",
    kb_topics=("ingress-tls",),
)

_SECURE = {"HTTPS", "TLS", "GRPC-TLS"}


def _servers(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for field in ("servers", "listeners"):
        for index, item in enumerate(spec.get(field) or []):
            if isinstance(item, dict):
                out.append((f"/spec/{field}/{index}", item))
    return out


def _logins(facts: Facts, gateway: str) -> list[str]:
    """Login paths routed through the gateway, and signs of sessions behind it."""
    inv = facts.inventory
    found: list[str] = []
    services = {svc.id: svc for svc in inv.services}
    for gw, svc_id, route in gateway_routes(inv):
        if gw != gateway:
            continue
        source = inv.get(route)
        found += route_login_paths(source) if source is not None else []
        for wl_id in services[svc_id].targets if svc_id in services else ():
            wl = inv.workload(wl_id)
            found += [what for _, what in login_signals(wl)] if wl is not None else []
    return list(dict.fromkeys(found))


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag Gateways none of whose servers or listeners use TLS."""
    inv = facts.inventory
    for res in inv.of_kind("Gateway"):
        spec = res.raw.get("spec")
        servers = _servers(spec) if isinstance(spec, dict) else []
        if not servers:
            continue
        secure = False
        for _, item in servers:
            port = item.get("port")
            proto = str(item.get("protocol") or (port.get("protocol") if isinstance(port, dict)
                                                 else "") or "").upper()
            tls = item.get("tls")
            if proto in _SECURE or (isinstance(tls, dict) and (
                    tls.get("mode") not in {None, "PASSTHROUGH"} or tls.get("httpsRedirect"))):
                secure = True
        if not secure:
            logins = _logins(facts, res.id)
            yield RULE.finding(res.id, [located(inv, res.id, servers[0][0], servers[0][1])],
                               impact=Impact.SYSTEM if logins else None,
                               title=f"Gateway {res.name} serves plain HTTP only"
                                     + (f", logins included ({', '.join(logins[:3])})"
                                        if logins else ""))
