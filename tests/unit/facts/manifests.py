"""Tiny manifests for the facts tests, loaded through the real input pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from workflow.domain.inputs import load_inputs
from workflow.domain.inventory import Inventory
from workflow.domain.settings import Settings

__all__ = ["deployment", "inventory", "policy"]


def deployment(name: str, namespace: str = "shop", *, port: int | None = 8080,
               labels: dict[str, str] | None = None, **pod: Any) -> dict[str, Any]:
    """A one-container Deployment labelled ``app: <name>`` (plus ``labels``)."""
    pod_labels = {"app": name, **(labels or {})}
    container: dict[str, Any] = {"name": name, "image": f"registry.example.com/{name}:1"}
    if port is not None:
        container["ports"] = [{"containerPort": port, "name": "main"}]
    container.update(pod.pop("container", {}))
    return {"apiVersion": "apps/v1", "kind": pod.pop("kind", "Deployment"),
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"selector": {"matchLabels": {"app": name}}, "template": {
                "metadata": {"labels": pod_labels},
                "spec": {"containers": [container], **pod}}}}


def policy(name: str, namespace: str = "shop", **spec: Any) -> dict[str, Any]:
    """A NetworkPolicy."""
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def inventory(tmp_path: Path, settings: Settings, *docs: dict[str, Any]) -> Inventory:
    """The inventory of ``docs`` written as one YAML file."""
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump_all(docs), encoding="utf-8")
    return load_inputs([path], settings=settings).inventory
