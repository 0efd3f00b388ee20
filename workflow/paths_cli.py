"""``ktmb paths``: a model's attack paths, filtered, and recomputed as if findings were fixed.

The threat model carries its attack graph (schema 2.0): every step with the findings it
requires. So a stored run or a threat-model JSON file is enough, with no manifests: the paths
are searched again over the graph without the steps that require a finding named by
``--without``, which is what fixing that finding does.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, get_args

import typer

from workflow.command_env import CommandEnv, handled, model_of
from workflow.domain.attack_graph import AttackPath, OriginKind, TargetKind
from workflow.domain.errors import ConfigError
from workflow.domain.threat_model import ThreatModel

__all__ = ["paths_app"]

#: The commands of this module, added to the ``ktmb`` application as its own.
paths_app = typer.Typer()


def _matches(path: AttackPath, origin: str | None, target: str | None) -> bool:
    if origin is not None and origin not in (path.origin, path.origin_kind):
        return False
    return target is None or path.target.kind == target


def _check(model: ThreatModel, origin: str | None, target: str | None,
           without: list[str]) -> None:
    kinds = get_args(TargetKind)
    if target is not None and target not in kinds:
        raise ConfigError(f"--to must be one of {', '.join(kinds)}, got {target!r}")
    known = {v.id for v in model.attack_graph.vertices}
    if origin is not None and origin not in get_args(OriginKind) and origin not in known:
        raise ConfigError(f"--from {origin!r} is neither an origin kind "
                          f"({', '.join(get_args(OriginKind))}) nor a vertex of the graph")
    ids = {f.id for f in model.findings}
    unknown = [fid for fid in without if fid not in ids]
    if unknown:
        raise ConfigError(f"--without: no finding {unknown[0]!r} in this threat model")
    if not model.attack_graph.vertices:
        raise ConfigError("this threat model carries no attack graph (run it again with this "
                          "version of ktmb)")


def _line(path: AttackPath) -> str:
    chain = " -> ".join([path.origin, *(f"{h.to} [{h.attack}]" for h in path.hops)])
    return f"[{path.severity.value:>8} {path.score:>4}] {chain}"


def _report(model: ThreatModel, origin: str | None, target: str | None, without: list[str],
            limit: int) -> dict[str, Any]:
    from agents.attack_graph import AttackGraph, analyse_graph  # the search and networkx

    graph = AttackGraph.from_model(model.attack_graph)
    findings = {f.id: f for f in model.findings}
    before = analyse_graph(graph, findings, limit=10**9)
    after = analyse_graph(graph, findings, without=without, limit=10**9) if without else before
    shown = [p for p in (c.model(graph) for c in after.candidates)
             if _matches(p, origin, target)]
    was = {c.id for c in before.candidates
           if _matches(c.model(graph), origin, target)}
    now = {p.id for p in shown}
    return {"run_id": model.run_id, "without": without,
            "paths": [p.model_dump(mode="json") for p in shown[:limit]],
            "total": len(shown), "before": len(was), "removed": sorted(was - now),
            "choke_points": [c.model_dump(mode="json") for c in after.choke_points[:3]],
            "top_fixes": list(after.summary.top_fixes),
            "top_fixes_share": after.summary.top_fixes_share,
            "top_fixes_band": after.summary.top_fixes_band}


@paths_app.command("paths")
@handled
def paths(
    ref: Annotated[str, typer.Argument(
        help="A run id or a threat-model JSON file (from --out of run or scan).")],
    origin: Annotated[str | None, typer.Option(
        "--from", help="An origin: internet, workload, user, group, serviceaccount, node, or "
                       "a vertex id such as Deployment/shop/web.")] = None,
    target: Annotated[str | None, typer.Option(
        "--to", help="A target kind: cluster, node, cloud, data or secrets.")] = None,
    without: Annotated[list[str] | None, typer.Option(
        help="A finding id taken as fixed (repeatable): the steps it evidences go.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Paths to print.")] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Print a model's attack paths; with --without, as if those findings were fixed.

    The model carries its attack graph, so a stored run or a JSON file is enough.
    """
    model = model_of(ref, CommandEnv())
    fixed = list(dict.fromkeys(without or []))
    _check(model, origin, target, fixed)
    report = _report(model, origin, target, fixed, limit)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    shown = [AttackPath.model_validate(p) for p in report["paths"]]
    if fixed:
        typer.echo(f"as if fixed: {', '.join(fixed)}")
        typer.echo(f"paths: {report['before']} before, {report['total']} after "
                   f"({len(report['removed'])} removed)")
        for path_id in report["removed"][:limit]:
            typer.echo(f"  removed: {path_id}")
    typer.echo(f"{report['total']} path(s)" + (f", the first {len(shown)}:"
                                               if report["total"] > len(shown) else ":"))
    for path in shown:
        typer.echo(_line(path))
    if report["top_fixes"]:
        typer.echo(f"top fixes: {', '.join(report['top_fixes'])} cut "
                   f"{round(report['top_fixes_share'] * 100)}% of the "
                   f"{report['top_fixes_band']} paths")
