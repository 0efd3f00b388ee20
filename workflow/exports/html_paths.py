"""The attack-path section of the HTML report: the graph, the choke points, each path.

The drawings come from :mod:`workflow.exports.attack_svg`: the graph of every kept path first
(what a reviewer puts in front of a board), then each path drawn with its hops, evidence and
the positive controls that weaken them. The page runs no script, so the filter by target and
origin is two groups of radio buttons that style rules read: the graph is drawn once per
target kind and the chosen drawing shown, the paths of other targets and origins hidden.
"""

from __future__ import annotations

from workflow.domain.threat_model import AttackPath, ThreatModel
from workflow.exports import mermaid
from workflow.exports._common import path_target, plural
from workflow.exports.attack_svg import graph_svg, path_svg
from workflow.exports.html_text import anchor, code, esc, sev

__all__ = ["attack_paths_section"]


_TARGETS = ("cluster", "node", "cloud", "data", "secrets")
_ORIGINS = ("internet", "workload", "user", "group", "serviceaccount", "node")


def _filters(model: ThreatModel, kinds: dict[str, str]) -> str:
    """The radio buttons and the graph drawn for every target (the style rules pick one)."""
    targets = [t for t in _TARGETS if any(p.target.kind == t for p in model.attack_paths)]
    origins = [o for o in _ORIGINS if any(p.origin_kind == o for p in model.attack_paths)]
    inputs = ['<input type="radio" name="path-to" id="to-all" checked>',
              *(f'<input type="radio" name="path-to" id="to-{t}">' for t in targets),
              '<input type="radio" name="path-from" id="from-all" checked>',
              *(f'<input type="radio" name="path-from" id="from-{o}">' for o in origins)]
    labels = ['<p class="pathfilter">To: <label for="to-all">any target</label>',
              *(f'<label for="to-{t}">{t}</label>' for t in targets),
              '</p><p class="pathfilter">From: <label for="from-all">any origin</label>',
              *(f'<label for="from-{o}">{o}</label>' for o in origins), "</p>"]
    radios = inputs + labels
    views = [f'<figure class="diagram graph-view graph-all" id="attack-graph">'
             f"{graph_svg(model)}</figure>"]
    views += [f'<figure class="diagram graph-view graph-{t}">{graph_svg(model, None, t)}'
              "</figure>" for t in targets]
    del kinds
    return "".join(radios) + "".join(views)


def _path(path: AttackPath, titles: dict[str, str], kinds: dict[str, str]) -> str:
    head = (f'<h3 id="{anchor(path.id)}">{sev(path.severity.value)} {esc(path.origin)} '
            f"\u2192 {esc(path_target(path))} <span class=\"muted\">(score {path.score}, "
            f"likelihood {path.likelihood}, impact {path.impact})</span></h3>")
    out = [f'<article class="attack-path" data-target="{esc(path.target.kind)}" '
           f'data-origin="{esc(path.origin_kind)}">', head,
           f'<figure class="diagram path-drawing">{path_svg(path, kinds)}</figure>']
    rows = "".join(
        f"<tr><td>{i}</td><td>{code(h.attack)}</td><td>{code(h.source)} \u2192 {code(h.to)}"
        f"</td><td>{esc(h.condition)}"
        + (f"<br><em>weakened by {esc('; '.join(h.controls))}</em>" if h.controls else "")
        + "</td><td>" + ", ".join(
            f'<a href="#{anchor(f)}">{code(f)}</a>' if f in titles else code(f)
            for f in h.findings) + "</td></tr>"
        for i, h in enumerate(path.hops, 1))
    out.append("<table><thead><tr><th>#</th><th>Attack</th><th>Step</th><th>Condition</th>"
               f"<th>Evidence</th></tr></thead><tbody>{rows}</tbody></table>")
    if path.findings:
        links = "".join(
            f'<li><a href="#{anchor(fid)}">{code(fid)}</a> {esc(titles[fid])}</li>'
            if fid in titles else f"<li>{code(fid)} (not in this model)</li>"
            for fid in path.findings)
        out.append(f"<p>Findings on the path:</p><ul>{links}</ul>")
    out.append("</article>")
    return "".join(out)


def _choke_points(model: ThreatModel) -> str:
    graph = model.attack_graph
    if not graph.choke_points:
        return ""
    summary = graph.summary
    out = ['<h3 id="choke-points">Choke points</h3>']
    if summary.top_fixes:
        out.append(f"<p>Fixing {plural(len(summary.top_fixes), 'finding')} ("
                   + ", ".join(code(f) for f in summary.top_fixes)
                   + f") removes {round(summary.top_fixes_share * 100)}% of the "
                   f"{esc(summary.top_fixes_band)} paths (weighted by score).</p>")
    rows = "".join(f"<tr><td>{code(c.finding)}</td><td>{esc(c.recommendation or c.title)}</td>"
                   f"<td>{c.paths}</td><td>{round(c.share * 100)}%</td></tr>"
                   for c in graph.choke_points)
    out.append("<table><thead><tr><th>Fix</th><th>Recommendation</th><th>Paths cut</th>"
               f"<th>Share of path weight</th></tr></thead><tbody>{rows}</tbody></table>")
    return "".join(out)


def attack_paths_section(model: ThreatModel) -> str:
    """The section: summary, the graph, the choke points, every kept path."""
    head = '<h2 id="attack-paths">Attack paths</h2>'
    if not model.attack_paths:
        return head + "<p>No attack paths in this model.</p>"
    summary = model.attack_graph.summary
    counts = ""
    if summary.candidates:
        counts = (f"<p>{plural(summary.candidates, 'path')} from "
                  + ", ".join(f"{n} {esc(k)}" for k, n in summary.by_origin.items())
                  + f" origin(s); {summary.kept} shown, {summary.omitted} more counted only."
                  "</p>")
    kinds = {v.id: v.kind for v in model.attack_graph.vertices}
    titles = {f.id: f.title for f in model.findings}
    return (head + counts + '<div class="paths-view">' + _filters(model, kinds)
            + _choke_points(model) + '<div class="path-list">'
            + "".join(_path(p, titles, kinds) for p in model.attack_paths) + "</div></div>"
            + "<details><summary>Mermaid source of the attack paths</summary>"
            f"<pre>{esc(mermaid.attack_paths(model.attack_paths))}</pre></details>")
