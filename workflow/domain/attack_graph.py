"""The attack graph and its paths, as the threat model carries them (schema 2.0).

The graph's vertices are the internet, entry points, workloads and their containers, host
volumes, service accounts, users and groups, bindings and roles, Secrets (of a namespace or of
the cluster), namespaces, node pools (``Node/<pool>``), cloud identities and the cluster; its
edges are attack steps, each with its attack type (KubeHound's names where one exists), the
condition that enables it and the findings that are its evidence (``requires``: the findings
without which the step does not exist). A path is a chain of steps from an origin to a target;
its likelihood, impact, score and severity are computed in code, like a finding's.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from workflow.domain.bands import Score15, Severity
from workflow.domain.marks import BaselineState

__all__ = [
    "AttackGraph",
    "AttackPath",
    "ChokePoint",
    "GraphEdge",
    "GraphVertex",
    "Hop",
    "OriginKind",
    "PathSummary",
    "PathTarget",
    "TargetKind",
]

#: What a path reaches.
TargetKind = Literal["cluster", "node", "cloud", "data", "secrets"]
#: Where a path starts.
OriginKind = Literal["internet", "workload", "user", "group", "serviceaccount", "node"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_by_name=True,
                              validate_by_alias=True, serialize_by_alias=True)


class PathTarget(_Model):
    """What a path reaches: its kind and the vertex (null for the cluster)."""

    kind: TargetKind
    ref: str | None = Field(
        default=None, description="Vertex id: a workload (data), Node/<pool>, CloudIdentity/..., "
        "Secrets/<namespace> or Secrets/* (every namespace); null for the cluster.")


class Hop(_Model):
    """One step of a path."""

    source: str = Field(alias="from", description="Vertex id the step starts from.")
    to: str = Field(description="Vertex id the step reaches.")
    attack: str = Field(description="Attack type (docs/ATTACKS.md).")
    findings: tuple[str, ...] = Field(default=(), description="Findings that evidence the step.")
    condition: str = Field(default="", description="What enables the step.")
    controls: tuple[str, ...] = Field(
        default=(), description="Positive controls that weaken the step (audit, warn).")


class AttackPath(_Model):
    """A chain of attack steps from an origin to a valuable target."""

    id: str = Field(description="Stable id: <origin>=><target ref or kind>[#n].")
    origin: str = Field(description="'internet' or the vertex id of the origin.")
    origin_kind: OriginKind
    target: PathTarget
    hops: tuple[Hop, ...]
    likelihood: Score15 = 3
    impact: Score15 = 3
    score: float = Field(default=0.0, ge=0.0, le=10.0)
    severity: Severity = Severity.INFO
    findings: tuple[str, ...] = Field(default=(), description="The findings the path chains.")
    source: Literal["graph", "model"] = Field(
        default="graph", description="'model' for a path the model proposed (validated).")
    baseline: BaselineState | None = Field(
        default=None, exclude_if=lambda value: value is None,
        description="The path against the baseline model (new, changed, unchanged); absent "
        "when the run had no baseline.")


class GraphVertex(_Model):
    """A vertex of the attack graph."""

    id: str
    kind: str = Field(description="internet, entry, workload, container, volume, "
                      "serviceaccount, user, group, binding, role, secrets, namespace, node, "
                      "node-tokens, cloud, cluster, network or scope.")
    label: str = ""
    namespace: str | None = None
    target: TargetKind | None = Field(default=None, description="Set when a path may end here.")
    impact: int = Field(default=0, ge=0, le=5)


class GraphEdge(_Model):
    """An attack step of the graph."""

    source: str = Field(alias="from")
    to: str
    attack: str
    likelihood: Score15 = 3
    condition: str = ""
    findings: tuple[str, ...] = ()
    requires: tuple[str, ...] = Field(
        default=(), description="Findings without which the step does not exist (fixing one "
        "of them removes it).")
    controls: tuple[str, ...] = ()
    blocked: str = Field(default="", description="The enforcing control that stops the step "
                         "(a blocked step is on no path).")


class ChokePoint(_Model):
    """A fix ranked by the attack paths it cuts."""

    finding: str
    title: str = ""
    recommendation: str = ""
    paths: int = Field(default=0, description="Candidate paths the fix cuts.")
    weight: float = Field(default=0.0, description="Sum of the scores of those paths.")
    share: float = Field(default=0.0, description="Share of the weight of all paths (0-1).")


class PathSummary(_Model):
    """How many paths there were, how many the model keeps, and the top fixes."""

    candidates: int = 0
    kept: int = 0
    omitted: int = Field(default=0, description="Candidates beyond the bound, counted here.")
    dominated: int = 0
    by_origin: dict[str, int] = Field(default_factory=dict)
    by_target: dict[str, int] = Field(default_factory=dict)
    by_severity: dict[str, int] = Field(default_factory=dict)
    top_fixes: tuple[str, ...] = Field(
        default=(), description="The findings whose fixes together cut the most critical "
        "(else high) paths, at most three.")
    top_fixes_share: float = Field(default=0.0, description="Share of those paths they cut.")
    top_fixes_band: str = ""
    model_proposed: int = 0
    model_dropped: int = 0


class AttackGraph(_Model):
    """The attack graph of a run, its choke points and the summary of its paths."""

    vertices: tuple[GraphVertex, ...] = ()
    edges: tuple[GraphEdge, ...] = ()
    choke_points: tuple[ChokePoint, ...] = ()
    summary: PathSummary = PathSummary()
