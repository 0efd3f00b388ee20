"""The identity map: who can do what, and which workloads carry which identity."""

from __future__ import annotations

from typing import Any

from agents.facts.derived import Facts
from agents.facts.identity import automounts_token, cloud_identity
from workflow.domain.inventory import Inventory
from workflow.domain.resources import Workload

__all__ = ["build_identity_map"]


def _subjects(inv: Inventory) -> dict[str, str]:
    """Subject id -> kind, for every identity the manifests name or use."""
    found: dict[str, str] = {}
    for res in inv.of_kind("ServiceAccount"):
        found[res.id] = "ServiceAccount"
    for wl in inv.workloads:
        if wl.kind != "PodTemplate":
            found.setdefault(wl.service_account_id, "ServiceAccount")
    for binding in inv.bindings:
        for subject in binding.subjects:
            found.setdefault(subject.id, subject.kind)
    return found


def build_identity_map(facts: Facts) -> list[dict[str, Any]]:
    """One entry per identity: its grants, dangerous capabilities, workloads and cloud link.

    Entries are sorted by subject id; every list inside is sorted, so the map is stable across
    runs of the same manifests.
    """
    inv = facts.inventory
    out: list[dict[str, Any]] = []
    carried: dict[str, list[Workload]] = {}
    for wl in inv.workloads:
        if wl.kind != "PodTemplate":
            carried.setdefault(wl.service_account_id, []).append(wl)
    for subject, kind in sorted(_subjects(inv).items()):
        grants = inv.grants_of(subject)
        workloads = carried.get(subject, [])
        cloud = cloud_identity(inv.get(subject)) if kind == "ServiceAccount" else None
        entry: dict[str, Any] = {
            "subject": subject,
            "kind": kind,
            "declared": subject in inv,
            "workloads": sorted(wl.id for wl in workloads),
            "token_mounted_by": sorted(wl.id for wl in workloads if automounts_token(inv, wl)),
            "cloud_identity": ({"annotation": cloud[0], "identity": cloud[1],
                                "provider": cloud[2]} if cloud else None),
            "grants": sorted(({
                "role": g.role, "binding": g.binding, "scope": g.scope,
                "api_groups": list(g.rule.api_groups), "resources": list(g.rule.resources),
                "verbs": list(g.rule.verbs), "resource_names": list(g.rule.resource_names),
                "non_resource_urls": list(g.rule.non_resource_urls)} for g in grants),
                key=lambda d: (d["scope"], d["binding"], d["role"], str(d["resources"]))),
            "capabilities": sorted({f"{c.key}@{c.grant.scope}"
                                   for c in facts.capabilities(subject)}),
        }
        out.append(entry)
    return out
