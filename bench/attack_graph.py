"""Time, memory and findings of the attack graph, next to KubeHound's published figures.

    python bench/attack_graph.py [--sizes 1000,10000,30000]

For each corpus application (../shared/corpus/apps, skipped when absent) and for generated
clusters of N pods (bench/attack_graph_inputs.py: RBAC, NetworkPolicies, Services, node
pools in realistic proportions), a fresh child process loads the inputs, runs the earlier
phases' rules (the findings the graph builds on), builds the graph, searches the paths and
ranks the choke points; it reports each step's wall time and its own peak RSS (the kernel's
ru_maxrss of that process). KubeHound, from a live cluster, needs about 2 minutes for 1,000
pods and 15 minutes for 10,000; the target here is 10,000 pods under 60 s and 2 GiB, growing
no faster than the graph (never with the square of the pods).

Then, per corpus application: paths by origin kind and target kind, the top three choke
points, the precision check (every path from a workload opens with a step the workload can
take: its own container or token, or a connection its NetworkPolicies allow to a port the
target listens on), and every path on online-boutique-helm-hardened that reaches a node or the
cluster, with its hops.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _project import ROOT, compile_project

CORPUS_APPS = ROOT.parent / "shared" / "corpus" / "apps"
KUBEHOUND = {1000: 120.0, 10000: 900.0}


def _child(target: Path) -> dict[str, Any]:
    """Everything measured in this process (run as ``--child``)."""
    from agents.attack_graph.analysis import analyse_graph
    from agents.attack_graph.build import build_graph
    from agents.attack_graph.kinds import AttackType
    from agents.facts.derived import Facts
    from agents.phases import PHASE_SPECS
    from agents.rules.base import run_rules
    from workflow.domain.inputs import load_inputs
    from workflow.domain.settings import Settings

    times: dict[str, float] = {}
    start = time.perf_counter()
    inv = load_inputs([target], settings=Settings(home=Path(tempfile.mkdtemp()))).inventory
    times["load"] = time.perf_counter() - start
    start = time.perf_counter()
    facts = Facts(inv)
    found: list[Any] = []
    for spec in PHASE_SPECS[:-1]:
        found += run_rules(spec.rules, facts.with_findings(found))
    times["rules"] = time.perf_counter() - start
    start = time.perf_counter()
    chained = facts.with_findings(found)
    graph = build_graph(chained)
    times["graph"] = time.perf_counter() - start
    start = time.perf_counter()
    analysis = analyse_graph(graph, {f.id: f for f in found})
    times["paths"] = time.perf_counter() - start
    start = time.perf_counter()
    analysis.graph_model()
    times["model"] = time.perf_counter() - start
    reach = chained.reachability
    kinds = {v.id: v.kind.value for v in graph.vertices()}
    imprecise = []
    for item in analysis.candidates:
        if item.origin_kind != "workload":
            continue
        first = item.steps[0]
        if first.attack is AttackType.ENDPOINT_EXPLOIT:
            end = next(s.target for s in item.steps if kinds.get(s.target) == "workload")
            if not reach.can_reach(item.origin, end):
                imprecise.append(item.id)
        elif first.attack not in {AttackType.CONTAINER_ATTACH, AttackType.TOKEN_STEAL,
                                  AttackType.IDENTITY_ASSUME}:
            imprecise.append(item.id)
    severe = [{"id": c.id, "hops": [f"{s.source} -[{s.attack.value}]-> {s.target}: "
                                    f"{s.condition}" for s in c.steps]}
              for c in analysis.candidates
              if c.target_kind in {"node", "cluster"} and c.origin_kind != "node"]
    return {
        "workloads": sum(1 for w in inv.workloads if w.kind != "PodTemplate"),
        "objects": len(inv.resources), "vertices": graph.graph.number_of_nodes(),
        "edges": graph.graph.number_of_edges(), "times": times,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "summary": analysis.summary.model_dump(mode="json"),
        "choke_points": [(c.finding, c.paths, round(c.share * 100)) for c in
                         analysis.choke_points[:3]],
        "imprecise": imprecise, "to_node_or_cluster": severe}


def _measure(target: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", str(target)], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,30000")
    parser.add_argument("--child", type=Path)
    args = parser.parse_args()
    if args.child is not None:
        sys.stdout.write(json.dumps(_child(args.child)))
        return
    compile_project()
    sys.path.insert(0, str(ROOT / "bench"))
    from attack_graph_inputs import generate

    work = Path(tempfile.mkdtemp(prefix="ktmb-graph-bench-"))
    print(f"{'input':<34}{'pods':>7}{'wkld':>6}{'vert':>7}{'edges':>8}{'graph s':>9}"
          f"{'paths s':>9}{'model s':>9}{'total s':>9}{'peak MiB':>10}  KubeHound")
    rows: dict[int, float] = {}
    for size in [int(s) for s in args.sizes.split(",") if s]:
        target = work / f"generated-{size}.yaml"
        pods, _, _ = generate(size, target)
        res = _measure(target)
        t = res["times"]
        analysis = t["graph"] + t["paths"] + t["model"]
        rows[pods] = analysis
        peer = KUBEHOUND.get(size)
        print(f"{'generated':<34}{pods:>7}{res['workloads']:>6}{res['vertices']:>7}"
              f"{res['edges']:>8}{t['graph']:>9.2f}{t['paths']:>9.2f}{t['model']:>9.2f}"
              f"{analysis:>9.2f}{res['peak_mib']:>10.0f}  "
              + (f"~{peer / 60:.0f} min ({peer / analysis:.0f}x)" if peer else "-"))
        print(f"{'':<34}(inputs {t['load']:.1f} s, rules {t['rules']:.1f} s, "
              f"{res['summary']['candidates']} candidate paths)")
    sizes = sorted(rows)
    for small, large in itertools.pairwise(sizes):
        print(f"growth {small} -> {large} pods (x{large / small:.1f}): graph and paths "
              f"x{rows[large] / rows[small]:.1f}")
    if not CORPUS_APPS.exists():
        print("corpus not present: skipping the corpus applications")
        return
    for app in sorted(p for p in CORPUS_APPS.iterdir() if p.is_dir()):
        res = _measure(app)
        t = res["times"]
        s = res["summary"]
        print(f"\n{app.name}: {res['workloads']} workloads, {res['vertices']} vertices, "
              f"{res['edges']} edges; graph+paths {t['graph'] + t['paths']:.2f} s, "
              f"peak {res['peak_mib']:.0f} MiB")
        print(f"  paths by origin: {s['by_origin']}; by target: {s['by_target']}; "
              f"by severity: {s['by_severity']}")
        for finding, count, share in res["choke_points"]:
            print(f"  choke point: {finding} cuts {count} paths ({share}% of the weight)")
        print(f"  precision: {len(res['imprecise'])} workload paths without a route"
              + (f": {res['imprecise'][:5]}" if res["imprecise"] else ""))
        if app.name == "online-boutique-helm-hardened":
            print(f"  paths reaching a node or the cluster: {len(res['to_node_or_cluster'])}")
            for item in res["to_node_or_cluster"]:
                print(f"    {item['id']}")
                for hop in item["hops"]:
                    print(f"      {hop}")


if __name__ == "__main__":
    main()
