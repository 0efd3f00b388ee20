"""Node pools from pod placement, and what admission controls block per namespace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agents.facts.admission_controls import Guard, find_admission_controls
from agents.facts.placement import find_placement
from tests.unit.facts.manifests import deployment, inventory
from workflow.domain.settings import Settings


def test_pools_follow_node_selectors_and_inferred_taints(tmp_path: Path,
                                                         offline_settings: Settings) -> None:
    """A tolerated dedicated pool keeps other pods out; an untainted one takes any pod."""
    gpu: dict[str, Any] = {"nodeSelector": {"pool": "gpu"},
           "tolerations": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]}
    placed = find_placement(inventory(
        tmp_path, offline_settings, deployment("web"),
        deployment("train", **gpu),
        deployment("batch", nodeSelector={"pool": "batch", "kubernetes.io/os": "linux"}),
        deployment("agent", kind="DaemonSet", tolerations=[{"operator": "Exists"}])))
    assert ["any", "pool=batch", "pool=gpu"] == sorted(placed.pools)
    assert ("any", "pool=batch") == placed.runs_on["Deployment/shop/web"]
    assert ("pool=gpu",) == placed.runs_on["Deployment/shop/train"]
    assert ("pool=batch",) == placed.runs_on["Deployment/shop/batch"]
    assert ("any", "pool=batch", "pool=gpu") == placed.runs_on["DaemonSet/shop/agent"]
    assert frozenset({"DaemonSet/shop/agent"}) == placed.every_node


def test_psa_enforce_blocks_and_audit_watches(tmp_path: Path,
                                              offline_settings: Settings) -> None:
    """PSA enforce=baseline blocks privileged pods there; audit only watches; others are free."""
    namespaces = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": name, "labels": {f"pod-security.kubernetes.io/{mode}": "baseline"}}}
        for name, mode in (("strict", "enforce"), ("loose", "audit"))]
    controls = find_admission_controls(inventory(tmp_path, offline_settings, *namespaces))
    blocked = controls.blocks("strict", [Guard.PRIVILEGED])
    assert blocked is not None and "enforce=baseline" in blocked.text
    assert controls.blocks("loose", [Guard.PRIVILEGED]) is None
    assert ["Namespace/loose"] == [c.resource for c in controls.watches("loose",
                                                                       [Guard.PRIVILEGED])]
    assert controls.blocks("other", [Guard.PRIVILEGED]) is None


def test_kyverno_and_gatekeeper_controls(tmp_path: Path, offline_settings: Settings) -> None:
    """An enforcing Kyverno policy and a Gatekeeper constraint block what they validate."""
    kyverno = {"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy",
               "metadata": {"name": "disallow-privileged"},
               "spec": {"validationFailureAction": "Enforce", "rules": [{
                   "name": "privileged", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                   "exclude": {"any": [{"resources": {"namespaces": ["kube-system"]}}]},
                   "validate": {"pattern": {"spec": {"containers": [{
                       "=(securityContext)": {"=(privileged)": "false"}}]}}}}]}}
    gatekeeper = {"apiVersion": "constraints.gatekeeper.sh/v1beta1",
                  "kind": "K8sPSPHostFilesystem", "metadata": {"name": "no-host-paths"},
                  "spec": {"match": {"namespaces": ["shop"]}}}
    controls = find_admission_controls(inventory(tmp_path, offline_settings, kyverno,
                                                 gatekeeper))
    assert controls.blocks("shop", [Guard.PRIVILEGED]) is not None
    assert controls.blocks("kube-system", [Guard.PRIVILEGED]) is None
    assert controls.blocks("shop", [Guard.HOST_PATH]) is not None
    assert controls.blocks("other", [Guard.HOST_PATH]) is None
    assert controls.cluster_wide_block([Guard.PRIVILEGED]) is None, "kube-system is excluded"
