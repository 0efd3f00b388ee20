"""docs/ATTACKS.md: the attack types, how each is decided, and how paths are scored."""

from __future__ import annotations

from agents.attack_graph.kinds import ATTACKS
from agents.attack_graph.paths import MAX_PATHS, PRIORS, PROBABILITY_BANDS

__all__ = ["render_attacks"]

_IMPACTS = (
    "the cluster 5; a node pool 5; a cloud identity 4 (its permissions are not in the "
    "manifests); a data store 5 with a sensitive classification, else 4; the Secrets of every "
    "namespace 5, of one namespace 5 when it is classified sensitive, else 4")


def _table(kubehound: bool) -> list[str]:
    lines = ["| type | what | coverage | edge | decided from | likelihood |",
             "|---|---|---|---|---|---|"]
    for kind, info in ATTACKS.items():
        if info.kubehound is kubehound:
            lines.append(f"| `{kind}` | {info.name} | {info.coverage} | "
                         f"{info.edge.replace(' | ', ' or ')} | "
                         f"{info.decided} | {info.likelihood} |")
    return lines


def render_attacks() -> str:
    """docs/ATTACKS.md."""
    priors = ", ".join(f"{k} {v}" for k, v in PRIORS.items())
    bands = ", ".join(f"{v} from {p}" for p, v in PROBABILITY_BANDS)
    lines = [
        "# Attack types of the attack graph", "",
        "<!-- generated: python -m agents.attack_graph > docs/ATTACKS.md -->", "",
        "The attack graph (`agents/attack_graph/`) uses KubeHound's 26 attack types with the "
        "same meaning, decided offline from the manifests, plus "
        f"{sum(not info.kubehound for info in ATTACKS.values())} steps KubeHound does not "
        "name. For each: how much manifests decide, the edge it makes, the condition and the "
        "findings that evidence it, and the default likelihood (1-5) of the step. A step that "
        "a finding states requires that finding: a finding removed at a gate, closed by a "
        "reviewer or named by `ktmb paths --without` takes the step away. A positive control "
        "on the way (Pod Security Admission, Kyverno, Gatekeeper, ValidatingAdmissionPolicy) "
        "that enforces removes the step it stops (the graph keeps it as `blocked`); one that "
        "only audits or warns lowers its likelihood by one and the path names it.", "",
        "## KubeHound's attack types", "", *_table(True), "",
        "## Steps KubeHound does not name", "", *_table(False), "",
        "## Paths and their scores", "",
        "Origins: the internet, every workload (assume breach), every user, group and "
        "service account with rights (an insider, a stolen credential), every node pool. "
        "Targets: the cluster (cluster-admin or equivalent), a node pool, a cloud identity, a "
        "data store, the Secrets of a namespace or of every namespace.", "",
        f"A path's probability is its origin's prior ({priors}) times each step's "
        "likelihood / 5; its likelihood on the 1-5 scale is "
        f"{bands} (else 1). Its impact is its target's: {_IMPACTS}. Score and severity are "
        "computed as for findings (likelihood x impact / 2.5; critical from 8.0, high from "
        "6.0, medium from 3.6, low from 1.6).", "",
        "The search keeps, for each origin, its most likely path to each kind of target (and "
        "for the internet and node pools to each target), drops paths dominated by a shorter "
        "one with the same origin, target and a subset of conditions, and a path that passes "
        "a target of its kind at least as valuable as its end. The model keeps at most "
        f"{MAX_PATHS} paths (the best first, one per route before a second origin on the same "
        "route) and counts the rest. The risk review reports a target when a path to it "
        "chains a finding before its last hop. The reviewer raises by one the likelihood of "
        "the findings of such critical and high paths, naming the path, as exposure raises a "
        "finding: not on top of exposure, to at most 4, and not when the harm depends on what "
        "the manifests do not show (docs/SEVERITY.md).", ""]
    return "\n".join(lines)
