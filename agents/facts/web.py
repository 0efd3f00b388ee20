"""What a web workload serves: plain HTTP or TLS on a port, and whether it has logins or sessions.

Used for front doors (a public load balancer or a node port in front of a web application):
whether the port a Service forwards to speaks plain HTTP (an HTTP port name or application
protocol, a well-known HTTP port, an HTTP probe on it, a ``SCHEME=http``-style setting) or TLS
(a TLS port name, a certificate annotation on the load balancer, an HTTPS probe, a TLS setting),
and whether users log in or hold sessions there (login paths in probes and routes, session and
authentication settings, session cookies).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from workflow.domain.inventory import Inventory
from workflow.domain.resources import Container, Resource, Service, Workload

__all__ = ["PortVerdict", "login_signals", "port_protocol", "route_login_paths"]

#: Load-balancer annotations that terminate TLS at the load balancer.
_LB_TLS_ANNOTATIONS = (
    "service.beta.kubernetes.io/aws-load-balancer-ssl-cert",
    "service.beta.kubernetes.io/aws-load-balancer-ssl-ports",
    "service.beta.kubernetes.io/do-loadbalancer-certificate-id",
    "service.beta.kubernetes.io/oci-load-balancer-ssl-ports",
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-cert-id",
    "service.beta.kubernetes.io/linode-loadbalancer-default-protocol",
    "service.kubernetes.io/ibm-load-balancer-cloud-provider-enable-features",
)
_HTTP_PORTS = frozenset({80, 8000, 8008, 8080, 8079, 8081, 8888, 3000, 5000, 9080, 8069})
_TLS_PORTS = frozenset({443, 8443, 9443})
_LOGIN_PATH = re.compile(r"(?i)/(login|logout|signin|sign-in|signup|auth|oauth2?|session|"
                         r"account|sso|saml|oidc)(\b|/|$)")
_SESSION_NAME = re.compile(r"(?i)session|login|oauth|oidc|saml|jwt|cookie|csrf|sso|auth")
_SCHEME_NAME = re.compile(r"(?i)(^|_)(scheme|protocol|proto)$")
_TLS_NAME = re.compile(r"(?i)(^|_)(tls|ssl|https)(_|$)")


@dataclass(frozen=True)
class PortVerdict:
    """What a Service port forwards to: ``plain`` HTTP, ``tls`` or ``unknown``, and why."""

    protocol: str
    why: str
    pointer: str


def _container_port(container: Container, target: Any) -> dict[str, Any] | None:
    for port in container.ports:
        if (isinstance(target, str) and not target.isdigit() and port.get("name") == target) \
                or str(port.get("containerPort")) == str(target):
            return port
    return None


def _probe_schemes(container: Container, number: Any, name: Any) -> set[str]:
    out = set()
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        get = (container.raw.get(probe) or {}).get("httpGet") \
            if isinstance(container.raw.get(probe), dict) else None
        if isinstance(get, dict) and str(get.get("port")) in {str(number), str(name)}:
            out.add(str(get.get("scheme") or "HTTP").upper())
    return out


def _env(container: Container) -> dict[str, str]:
    return {str(e.get("name")): str(e.get("value")) for e in container.env
            if isinstance(e.get("value"), str | int | bool)}


def port_protocol(inv: Inventory, svc: Service, index: int, port: dict[str, Any]
                  ) -> PortVerdict:
    """Whether a Service port forwards plain HTTP or TLS to its pods."""
    res: Resource | None = inv.get(svc.id)
    ptr = f"/spec/ports/{index}"
    if res is not None and any(res.annotations.get(a) for a in _LB_TLS_ANNOTATIONS):
        return PortVerdict("tls", "the load balancer terminates TLS", "/metadata/annotations")
    hint = f"{port.get('appProtocol', '')} {port.get('name', '')}".lower()
    if "https" in hint or "tls" in hint:
        return PortVerdict("tls", f"port {port.get('port')} is named for TLS", ptr)
    target = port.get("targetPort", port.get("port"))
    for wl_id in svc.targets:
        wl = inv.workload(wl_id)
        for container in wl.pod.containers if wl is not None else ():
            found = _container_port(container, target)
            if found is None:
                continue
            number, name = found.get("containerPort"), str(found.get("name") or "")
            schemes = _probe_schemes(container, number, name)
            env = _env(container)
            tls_env = any(_TLS_NAME.search(k) and v.lower() in {"true", "1", "on", "yes"}
                          for k, v in env.items()) \
                or any(_SCHEME_NAME.search(k) and v.lower() == "https" for k, v in env.items())
            if "HTTPS" in schemes or "https" in name.lower() or number in _TLS_PORTS or tls_env:
                return PortVerdict("tls", f"container port {number} serves TLS", ptr)
            plain_env = [k for k, v in env.items() if _SCHEME_NAME.search(k)
                         and v.lower() == "http"]
            if "HTTP" in schemes or name.lower().startswith("http") or "http" in hint \
                    or plain_env or (number in _HTTP_PORTS and port.get("port") in {80, 8080}):
                why = (f"{plain_env[0]}=http" if plain_env else
                       "an HTTP probe" if "HTTP" in schemes else "an HTTP port")
                return PortVerdict("plain", f"port {port.get('port')} forwards to container "
                                            f"port {number}, {why}", ptr)
    return PortVerdict("unknown", "", ptr)


def _container_signals(wl: Workload, container: Container) -> Iterator[tuple[str, str]]:
    for index, entry in enumerate(container.env):
        name = str(entry.get("name") or "")
        if _SESSION_NAME.search(name):
            yield f"{container.path}/env/{index}", f"setting {name}"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        get = container.raw.get(probe)
        get = get.get("httpGet") if isinstance(get, dict) else None
        if not isinstance(get, dict):
            continue
        if _LOGIN_PATH.search(str(get.get("path") or "")):
            yield f"{container.path}/{probe}/httpGet/path", f"login path {get['path']}"
        for header in get.get("httpHeaders") or []:
            if isinstance(header, dict) and str(header.get("name")).lower() == "cookie" \
                    and _SESSION_NAME.search(str(header.get("value"))):
                yield f"{container.path}/{probe}/httpGet/httpHeaders", "a session cookie"


def login_signals(wl: Workload) -> list[tuple[str, str]]:
    """(JSON pointer, what) of each sign that users log in or hold sessions in a workload."""
    return [s for c in wl.pod.containers if c.kind == "container"
            for s in _container_signals(wl, c)]


def route_login_paths(res: Resource) -> list[str]:
    """Login paths an Istio VirtualService or a Gateway API route sends on."""
    text: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in {"exact", "prefix", "regex", "value"} and isinstance(value, str):
                    text.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(res.raw.get("spec"))
    return sorted({t for t in text if _LOGIN_PATH.search(t)})
