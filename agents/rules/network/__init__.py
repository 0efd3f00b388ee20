"""Rules of the network phase (explicit list, no import side effects)."""

from __future__ import annotations

from agents.rules.base import Rule
from agents.rules.network import (
    allow_all_ingress,
    dangling_policy,
    external_ips,
    host_network,
    host_port,
    legacy_isolation_annotation,
    loadbalancer_service,
    no_default_deny,
    nodeport_service,
    open_egress,
    pod_not_isolated,
)

__all__ = ["RULES"]

RULES: tuple[Rule, ...] = (
    allow_all_ingress,
    dangling_policy,
    external_ips,
    host_network,
    host_port,
    legacy_isolation_annotation,
    loadbalancer_service,
    no_default_deny,
    nodeport_service,
    open_egress,
    pod_not_isolated,
)
