"""Attack paths from the inventory graph and the findings on it.

A path starts on the internet, enters through an entry point (a public LoadBalancer, Ingress,
gateway or external IP), lands in the workload behind it, and goes on to what that workload
can reach: the node (container-escape findings on the workload), the cluster or a namespace
(the rights of the service-account token it mounts), the cloud account (a cloud identity bound
to its service account), or a data store that accepts connections from any pod. Every step
names a resource or a capability, and every path lists the findings it chains, so the reviewer
can raise their likelihood and a human can follow the chain.

The findings a path may chain are those of :attr:`agents.facts.derived.Facts.findings`: in the
risk-review phase, the open findings of the earlier phases after their gates; in the reviewer,
the open reviewed findings. A finding removed at a gate or marked false positive, mitigated or
accepted is never a step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agents.facts.derived import Facts
from agents.facts.identity import automounts_token, cloud_identity
from agents.facts.workloads import data_store
from workflow.domain.threat_model import AttackPath, Finding

__all__ = [
    "CLUSTER_CAPABILITIES",
    "NODE_ESCAPE_RULES",
    "PathCandidate",
    "attack_paths",
    "find_paths",
]

#: Rules whose findings on a workload let code in it take over the node.
NODE_ESCAPE_RULES = frozenset({
    "controls.privileged-container", "controls.host-pid", "controls.container-runtime-socket",
    "controls.hostpath-mount", "controls.capabilities-added", "controls.host-process",
    "network.host-network"})
#: Capabilities that amount to control of the cluster when held cluster-wide.
CLUSTER_CAPABILITIES = frozenset({
    "cluster-admin", "escalate", "bind", "impersonate", "rbac-write", "webhook-write",
    "nodes-proxy", "token-request", "create-pods", "create-workloads", "secrets-read",
    "pods-exec", "pods-attach", "csr-approve"})


_STORE_RULES = frozenset({"network.pod-not-isolated", "data.sensitive-data-store",
                          "data.literal-credential", "architecture.exposed-data-store"})


@dataclass(frozen=True)
class PathCandidate:
    """A path before it becomes a finding: kind, entry, workload, steps, chained findings."""

    kind: str
    entry: str
    workload: str
    target: str
    steps: tuple[str, ...]
    findings: tuple[str, ...]
    impact: int

    @property
    def id(self) -> str:
        """A stable id: kind, workload and entry (nothing unrelated manifests could change)."""
        return f"{self.kind}@{self.workload}#{self.entry}"


def _index(findings: Sequence[Finding]) -> tuple[dict[str, list[Finding]],
                                                  dict[str, list[Finding]]]:
    """Findings by their first (primary) resource and by every resource they name."""
    primary: dict[str, list[Finding]] = {}
    naming: dict[str, list[Finding]] = {}
    for f in findings:
        if f.resources:
            primary.setdefault(f.resources[0], []).append(f)
        for res in dict.fromkeys(f.resources):
            naming.setdefault(res, []).append(f)
    return primary, naming


def find_paths(facts: Facts) -> list[PathCandidate]:
    """Every internet-rooted path the facts and their findings support, in a stable order."""
    inv, findings = facts.inventory, facts.findings
    found: list[PathCandidate] = []
    exposed = facts.exposures
    stores = [wl for wl in inv.workloads if data_store(wl) and wl.kind != "PodTemplate"]
    open_stores = {f.resources[0] for f in findings if f.rule == "network.pod-not-isolated"}
    primary, naming = _index(findings)
    for wl_id in sorted(exposed):
        wl = inv.workload(wl_id)
        if wl is None:
            continue
        on_wl = primary.get(wl_id, [])
        for entry in sorted({e.entry for e in exposed[wl_id] if e.internet}):
            head = ("internet", entry, wl_id)
            escapes = [f for f in on_wl if f.rule in NODE_ESCAPE_RULES and f.impact >= 4]
            if escapes:
                found.append(PathCandidate(
                    "risk_review.internet-to-node", entry, wl_id, "node",
                    (*head, "node (" + ", ".join(sorted({f.rule.split(".", 1)[1]
                                                         for f in escapes})) + ")", "cluster"),
                    tuple(f.id for f in escapes), 5))
            if automounts_token(inv, wl):
                caps = [c for c in facts.capabilities(wl.service_account_id)
                        if c.key in CLUSTER_CAPABILITIES]
                if caps:
                    cluster = any(c.grant.scope == "cluster" for c in caps)
                    scope = "cluster" if cluster else "namespace/" + caps[0].grant.scope
                    chained = [f.id for f in naming.get(wl.service_account_id, [])
                               if f.rule.startswith("identity.")]
                    found.append(PathCandidate(
                        "risk_review.internet-to-cluster", entry, wl_id, scope,
                        (*head, wl.service_account_id,
                         "can " + ", ".join(sorted({c.label for c in caps})[:4]), scope),
                        tuple(sorted(dict.fromkeys(chained))), 5 if cluster else 4))
            cloud = cloud_identity(inv.get(wl.service_account_id))
            if cloud is not None:
                chained = [f.id for f in primary.get(wl.service_account_id, [])
                           if f.rule == "identity.cloud-identity"]
                found.append(PathCandidate(
                    "risk_review.internet-to-cloud", entry, wl_id, "cloud",
                    (*head, wl.service_account_id, f"{cloud[2]} {cloud[1]}", "cloud"),
                    tuple(chained), 4))
            for store in stores:
                if store.id == wl_id or store.id not in open_stores:
                    continue
                chained = [f.id for f in primary.get(store.id, []) if f.rule in _STORE_RULES]
                level = facts.classification(store.id)
                found.append(PathCandidate(
                    "risk_review.internet-to-data-store", f"{entry}>{store.id}", wl_id,
                    store.id, (*head, "any pod may connect", store.id),
                    tuple(sorted(chained)), 5 if level in {"cardholder", "personal",
                                                           "health", "restricted"} else 4))
    return found


def attack_paths(facts: Facts) -> tuple[AttackPath, ...]:
    """The attack paths as they appear in the threat model."""
    return tuple(AttackPath(id=p.id, steps=p.steps, findings=p.findings, target=p.target)
                 for p in find_paths(facts))
