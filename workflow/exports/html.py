"""The threat model as one self-contained HTML page: no script, no external asset.

The page carries its CSS inline, draws the architecture as an inline SVG computed here from
the architecture view (a layered layout: the internet, then every node at its distance from
the internet, namespaces as trust-boundary bands inside the cluster), and shows the Mermaid
source next to it for anyone who wants Mermaid's rendering. A Content-Security-Policy meta
tag forbids scripts and every network fetch, so even a browser that met a bug in the escaping
would run nothing and load nothing.

Every value is escaped with :func:`html.escape` (quotes included) at the point it is
written; names come from manifests and are treated as hostile.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from workflow.domain.threat_model import (
    PHASES,
    ArchitectureView,
    Finding,
    PhaseStatus,
    ThreatModel,
)
from workflow.exports import mermaid
from workflow.exports._common import (
    STRIDE_LABELS,
    display_value,
    finding_resources,
    findings_by_phase,
    framework_rows,
    generator_text,
    is_model_finding,
    overall_risk,
    phase_record,
    phase_title,
    plural,
    severity_counts,
)
from workflow.exports.drift import changes, finding_marks, profile_rows
from workflow.exports.html_paths import attack_paths_section
from workflow.exports.html_text import anchor as _anchor
from workflow.exports.html_text import code as _code
from workflow.exports.html_text import esc as _e
from workflow.exports.html_text import sev as _sev

__all__ = ["CSP", "architecture_svg", "render"]

#: The page's Content-Security-Policy: inline styles only; no script, font, image or fetch.
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
       "form-action 'none'")

_CSS = """
:root { --fg:#1d2939; --muted:#667085; --line:#d0d5dd; --bg:#fff; --soft:#f9fafb; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
       background: var(--bg); margin: 0 auto; max-width: 1200px; padding: 24px; }
h1 { font-size: 1.8em; margin: 0 0 .4em; } h2 { border-bottom: 1px solid var(--line);
  padding-bottom: .2em; margin-top: 2em; } h3 { margin-top: 1.6em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; width: 100%; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; }
th { background: var(--soft); }
code { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
       background: var(--soft); padding: 0 3px; border-radius: 3px; overflow-wrap: anywhere; }
pre { background: var(--soft); border: 1px solid var(--line); padding: 10px; overflow: auto; }
.banner { border: 2px solid #b54708; background: #fffaeb; padding: 10px 14px; margin: 1em 0;
          border-radius: 6px; }
.muted { color: var(--muted); }
.sev { display: inline-block; min-width: 5.5em; text-align: center; border-radius: 10px;
       padding: 0 8px; font-size: .8em; font-weight: 600; color: #fff; }
.sev-critical { background: #7a271a; } .sev-high { background: #b42318; }
.sev-medium { background: #b54708; } .sev-low { background: #175cd3; }
.sev-info { background: #667085; }
.finding { border: 1px solid var(--line); border-radius: 6px; padding: 4px 14px 10px;
           margin: 12px 0; }
.finding.model { border-style: dashed; }
.finding dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; }
.finding dt { color: var(--muted); } .finding dd { margin: 0; }
.note { background: #eff8ff; border-left: 4px solid #175cd3; padding: 6px 10px; }
.path { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; list-style: none;
        padding: 0; }
.path li { border: 1px solid var(--line); border-radius: 4px; padding: 2px 8px;
           background: var(--soft); }
.path li.arrow { border: 0; background: none; color: var(--muted); }
.path li.target { border-color: #b42318; background: #fef3f2; }
.diagram { overflow: auto; border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
svg text { font: 12px system-ui, sans-serif; fill: var(--fg); }
svg.attack-drawing { max-width: 100%; height: auto; }
.paths-view > input { position: absolute; opacity: 0; width: 0; }
.pathfilter label { border: 1px solid var(--line); border-radius: 12px; padding: 0 9px;
  margin: 0 3px; cursor: pointer; }
.graph-view { display: none; } #to-all:checked ~ .graph-all { display: block; }
#to-cluster:checked ~ .graph-cluster { display: block; }
#to-cluster:checked ~ .path-list .attack-path:not([data-target="cluster"])
  { display: none; }
#to-node:checked ~ .graph-node { display: block; }
#to-node:checked ~ .path-list .attack-path:not([data-target="node"])
  { display: none; }
#to-cloud:checked ~ .graph-cloud { display: block; }
#to-cloud:checked ~ .path-list .attack-path:not([data-target="cloud"])
  { display: none; }
#to-data:checked ~ .graph-data { display: block; }
#to-data:checked ~ .path-list .attack-path:not([data-target="data"])
  { display: none; }
#to-secrets:checked ~ .graph-secrets { display: block; }
#to-secrets:checked ~ .path-list .attack-path:not([data-target="secrets"])
  { display: none; }
#from-internet:checked ~ .path-list .attack-path:not([data-origin="internet"])
  { display: none; }
#from-workload:checked ~ .path-list .attack-path:not([data-origin="workload"])
  { display: none; }
#from-user:checked ~ .path-list .attack-path:not([data-origin="user"])
  { display: none; }
#from-group:checked ~ .path-list .attack-path:not([data-origin="group"])
  { display: none; }
#from-serviceaccount:checked ~ .path-list .attack-path:not([data-origin="serviceaccount"])
  { display: none; }
#from-node:checked ~ .path-list .attack-path:not([data-origin="node"])
  { display: none; }
#to-all:checked ~ .pathfilter label[for="to-all"],
#from-all:checked ~ .pathfilter label[for="from-all"],
#to-cluster:checked ~ .pathfilter label[for="to-cluster"],
#to-node:checked ~ .pathfilter label[for="to-node"],
#to-cloud:checked ~ .pathfilter label[for="to-cloud"],
#to-data:checked ~ .pathfilter label[for="to-data"],
#to-secrets:checked ~ .pathfilter label[for="to-secrets"],
#from-internet:checked ~ .pathfilter label[for="from-internet"],
#from-workload:checked ~ .pathfilter label[for="from-workload"],
#from-user:checked ~ .pathfilter label[for="from-user"],
#from-group:checked ~ .pathfilter label[for="from-group"],
#from-serviceaccount:checked ~ .pathfilter label[for="from-serviceaccount"],
#from-node:checked ~ .pathfilter label[for="from-node"] { background: var(--fg); color: #fff; }
svg .band { fill: #f5f8ff; stroke: #84adff; stroke-dasharray: 6 4; }
svg .cluster { fill: none; stroke: #475467; stroke-width: 1.5; }
svg .node { fill: #fff; stroke: #475467; } svg .entry { fill: #fff4e0; stroke: #b54708; }
svg .internet { fill: #fde2e2; stroke: #b42318; }
svg .edge { fill: none; stroke: #667085; stroke-width: 1.3; }
svg .edge-label { font-size: 10px; fill: var(--muted); }
svg .band-label { font-size: 11px; font-weight: 600; fill: #1849a9; }
footer { margin-top: 3em; color: var(--muted); font-size: .9em; }
"""

_BOX_W = 200
_BOX_H = 40
_COL_W = 270
_ROW_H = 58
_PAD = 16
_BAND_HEAD = 22
_MAX_COLUMNS = 8


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """An HTML table; cells are HTML already escaped by the caller, header is text."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _short(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "\u2026"


def _columns(graph: mermaid.Graph) -> dict[str, int]:
    """The column of every node: the longest edge path to it from the internet or a root.

    The internet is column 0, nodes nothing points at are column 1, and every edge pushes its
    target at least one column right of its source. Cycles stop at the last column, so the
    relaxation below ends after a bounded number of rounds.
    """
    nodes = [node.ref for group in graph.groups.values() for node in group]
    column = dict.fromkeys(nodes, 1)
    column[mermaid.INTERNET] = 0
    for _ in range(min(len(nodes), _MAX_COLUMNS) + 1):
        changed = False
        for edge in graph.edges:
            want = min(column[edge.source] + 1, _MAX_COLUMNS)
            if edge.target != mermaid.INTERNET and want > column[edge.target]:
                column[edge.target] = want
                changed = True
        if not changed:
            break
    return column


def architecture_svg(view: ArchitectureView) -> str:
    """An inline SVG of the architecture: internet, cluster, namespace bands, nodes, flows.

    Args:
        view: the architecture view of a model.

    Returns:
        An ``<svg>`` element with escaped text and a ``<title>`` (tooltip) on every node and
        edge holding the full, untruncated name.
    """
    graph = mermaid.graph_of(view)
    column = _columns(graph)
    last_col = max(column.values(), default=1)
    order = sorted(graph.groups, key=lambda ns: (ns is not None, ns or ""))
    pos: dict[str, tuple[int, int]] = {}
    bands: list[tuple[str, int, int]] = []
    y = _PAD * 2 + _BAND_HEAD
    for ns in order:
        members = graph.groups[ns]
        if not members and ns is None:
            continue
        stacks: dict[int, int] = {}
        top = y + _BAND_HEAD
        for node in members:
            col = column[node.ref]
            row = stacks.get(col, 0)
            stacks[col] = row + 1
            pos[node.ref] = (_PAD + col * _COL_W, top + row * _ROW_H)
        height = _BAND_HEAD + max(stacks.values(), default=1) * _ROW_H
        bands.append(("cluster-scoped" if ns is None else f"namespace {ns}", y, height))
        y += height + _PAD
    width = _PAD * 2 + last_col * _COL_W + _BOX_W + _PAD
    total_h = max(y + _PAD, _BOX_H + _PAD * 4)
    pos[mermaid.INTERNET] = (_PAD, (total_h - _BOX_H) // 2)
    parts = [f'<svg role="img" aria-label="Architecture diagram" viewBox="0 0 {width} {total_h}" '
             f'width="{width}" height="{total_h}">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
             'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
             'fill="#667085"/></marker></defs>']
    cluster_x = _PAD + _COL_W - _PAD * 2
    parts.append(f'<rect class="cluster" x="{cluster_x}" y="{_PAD}" '
                 f'width="{width - cluster_x - _PAD // 2}" height="{total_h - _PAD * 2}" rx="10"/>')
    parts.append(f'<text class="band-label" x="{cluster_x + 8}" y="{_PAD + 16}">Cluster</text>')
    for name, top, height in bands:
        parts.append(f'<rect class="band" x="{cluster_x + 8}" y="{top}" '
                     f'width="{width - cluster_x - _PAD - 12}" height="{height}" rx="8">'
                     f"<title>{_e(name)}</title></rect>")
        parts.append(f'<text class="band-label" x="{cluster_x + 16}" y="{top + 16}">'
                     f"{_e(_short(name, 60))}</text>")
    for edge in graph.edges:
        parts.append(_svg_edge(pos[edge.source], pos[edge.target], edge.text))
    ix, iy = pos[mermaid.INTERNET]
    parts.append(f'<g><title>Internet</title><ellipse class="internet" cx="{ix + _BOX_W // 2}" '
                 f'cy="{iy + _BOX_H // 2}" rx="{_BOX_W // 2}" ry="{_BOX_H // 2 + 4}"/>'
                 f'<text x="{ix + _BOX_W // 2}" y="{iy + _BOX_H // 2 + 4}" '
                 'text-anchor="middle">Internet</text></g>')
    for nodes in graph.groups.values():
        for node in nodes:
            x, y0 = pos[node.ref]
            cls = "entry" if node.entry else "node"
            parts.append(f"<g><title>{_e(node.ref)}</title>"
                         f'<rect class="{cls}" x="{x}" y="{y0}" width="{_BOX_W}" '
                         f'height="{_BOX_H}" rx="{14 if node.entry else 4}"/>'
                         f'<text x="{x + _BOX_W // 2}" y="{y0 + _BOX_H // 2 + 4}" '
                         f'text-anchor="middle">{_e(_short(node.text, 28))}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _svg_edge(src: tuple[int, int], dst: tuple[int, int], text: str) -> str:
    x1, y1 = src[0] + _BOX_W, src[1] + _BOX_H // 2
    x2, y2 = dst[0], dst[1] + _BOX_H // 2
    if x2 <= x1:
        x2 = dst[0] + _BOX_W // 2
        y2 = dst[1] if y2 > y1 else dst[1] + _BOX_H
    bend = max(40, abs(x2 - x1) // 2)
    path = f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"
    mx, my = (x1 + x2) // 2, (y1 + y2) // 2 - 4
    return (f'<g><title>{_e(text)}</title><path class="edge" d="{path}" '
            f'marker-end="url(#arrow)"/><text class="edge-label" x="{mx}" y="{my}" '
            f'text-anchor="middle">{_e(_short(text, 30))}</text></g>')


def _header(model: ThreatModel) -> str:
    out = [f"<h1>Threat model: {_e(model.application.name)}</h1>"]
    if model.partial:
        unfinished = [phase_title(p) for p in PHASES
                      if phase_record(model, p).status not in
                      (PhaseStatus.APPROVED, PhaseStatus.COMPLETED)]
        extra = f" Not finished: {_e(', '.join(unfinished))}." if unfinished else ""
        out.append('<div class="banner" role="alert"><strong>Partial run.</strong> This threat '
                   f"model is not finished; it covers only the phases that ran.{extra} "
                   "Do not treat it as complete.</div>")
    inputs = "<br>".join(f"{_code(i.path)} ({_e(i.role)}, sha256 {_code(i.sha256[:12])})"
                         for i in model.application.inputs) or "none recorded"
    out.append(_table(("Item", "Value"), [
        ("Application", _e(model.application.name)),
        ("Run", _code(model.run_id)),
        ("Created", _e(model.created_at.isoformat())),
        ("Schema version", _e(model.schema_version)),
        ("Generator", _e(generator_text(model))),
        ("Inputs", inputs),
        *((name, _e(value)) for name, value in profile_rows(model)),
    ]))
    return "".join(out)


def _changes(model: ThreatModel) -> str:
    found = changes(model)
    if found is None:
        return ""
    rows = [(_e(mark), _sev(band), f"{_e(title)} {_code(fid)}", _e(what))
            for mark, band, title, fid, what in found.rows()]
    paths = "".join(f"<p>Attack paths {_e(state)}: {', '.join(_code(i) for i in ids)}</p>"
                    for state, ids in found.paths)
    return (f'<h2 id="changes">Changes since the baseline</h2><p>{_e(found.summary)}</p>'
            + (_table(("Change", "Severity", "Finding", "What"), rows) if rows else "") + paths)


def _summary(model: ThreatModel) -> str:
    counts = severity_counts(model.findings)
    from_model = sum(1 for f in model.findings if is_model_finding(f))
    dropped = sum(rec.model_items_dropped for rec in model.phases.values())
    text = (f"Overall risk: {_sev(overall_risk(model).value)} "
            f"{plural(len(model.findings), 'finding')} ({from_model} proposed by the model and "
            f"validated against the inventory), {plural(len(model.attack_paths), 'attack path')}"
            f", {plural(len(model.degradations), 'degradation')}.")
    if dropped:
        text += (f" {plural(dropped, 'model item')} dropped for naming unknown resources or "
                 "citations.")
    if model.generator.llm is None:
        text += " No model was used: every finding comes from a deterministic rule."
    rows = []
    for phase, findings in findings_by_phase(model):
        rec = phase_record(model, phase)
        approval = ""
        if rec.approval is not None:
            approval = (f"{_e(rec.approval.decision)} by {_e(rec.approval.by)}, "
                        f"{_e(rec.approval.at.isoformat())}")
        rows.append((_e(phase_title(phase)), _e(rec.status.value), str(len(findings)), approval))
    return ("<h2 id=\"summary\">Executive summary</h2>" f"<p>{text}</p>"
            + _table(("Severity", "Findings"),
                     [(_sev(band.value), str(n)) for band, n in counts.items()])
            + _table(("Phase", "Status", "Findings", "Approval"), rows))


def _architecture(model: ThreatModel) -> str:
    view = model.architecture
    out = ['<h2 id="architecture">Architecture</h2>',
           f'<div class="diagram">{architecture_svg(view)}</div>',
           "<details><summary>Mermaid source of the diagram</summary>"
           f"<pre>{_e(mermaid.architecture(view))}</pre></details>"]
    if view.components:
        out += ["<h3>Components</h3>", _table(
            ("Component", "Kind", "Namespace", "Images", "Role"),
            [(_code(c.id), _e(c.kind), _e(c.namespace or "(cluster)"),
              ", ".join(_code(i) for i in c.images), _e(c.role)) for c in view.components])]
    if view.entry_points:
        out += ["<h3>Entry points</h3>", _table(
            ("Entry point", "Kind", "Exposure", "Via", "Targets", "Ports", "TLS"),
            [(_code(e.id), _e(e.kind), _e(e.exposure), _code(e.via),
              ", ".join(_code(t) for t in e.targets), _e(", ".join(e.ports)),
              "unknown" if e.tls is None else ("yes" if e.tls else "no"))
             for e in view.entry_points])]
    if view.trust_boundaries:
        out += ["<h3>Trust boundaries</h3>", _table(
            ("Boundary", "Kind", "Members"),
            [(_e(b.name), _e(b.kind), ", ".join(_code(m) for m in b.members))
             for b in view.trust_boundaries])]
    if view.data_flows:
        out += ["<h3>Data flows</h3>", _table(
            ("Source", "Target", "Kind", "Detail"),
            [(_code(f.source), _code(f.target), _e(f.kind), _e(f.detail))
             for f in view.data_flows])]
    return "".join(out)


def _identity(model: ThreatModel) -> str:
    head = '<h2 id="identity">Identity map</h2>'
    if not model.identity_map:
        return head + "<p>No identities recorded.</p>"
    keys = list(dict.fromkeys(k for row in model.identity_map for k in row))
    return head + _table(keys, [[_e(display_value(row.get(k))) for k in keys]
                                for row in model.identity_map])


def _finding(finding: Finding) -> str:
    band = finding.effective_severity
    model_made = is_model_finding(finding)
    out = [f'<article class="finding{" model" if model_made else ""}" '
           f'id="{_anchor(finding.id)}">',
           f"<h4>{_sev(band.value)} {_e(finding.title)}</h4>"]
    if model_made:
        out.append('<p class="note">Proposed by the model, not by a rule: a draft for a '
                   "reviewer to confirm.</p>")
    facts = [
        ("Id", _code(finding.id)),
        ("Rule", _code(finding.rule)),
        ("Severity", _e(band.value + (f" (override; computed {finding.severity.value})"
                                      if finding.severity_override else ""))),
        ("Score", _e(f"{finding.score} (likelihood {finding.likelihood}, impact "
                     f"{finding.impact})")),
        ("Status", _e(finding.status.value)),
        ("Origin", _e(finding.origin.value)),
        ("Resources", ", ".join(_code(r) for r in finding_resources(finding)) or "none"),
    ]
    if finding.stride:
        facts.append(("STRIDE", _e(", ".join(STRIDE_LABELS[s] for s in finding.stride))))
    attack = [*finding.attack.tactics, *finding.attack.techniques, *finding.attack.ms_matrix]
    if attack:
        facts.append(("ATT&CK", ", ".join(_code(a) for a in attack)))
    if finding.references:
        facts.append(("References", ", ".join(_code(r) for r in finding.references)))
    if finding.merged_from:
        facts.append(("Merged from", ", ".join(_code(m) for m in finding.merged_from)))
    facts += [(name, _e(text)) for name, text in finding_marks(finding)]
    out.append("<dl>" + "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>")
    if finding.description:
        out.append(f"<p>{_e(finding.description)}</p>")
    if finding.rationale:
        out.append(f"<p><em>Model rationale:</em> {_e(finding.rationale)}</p>")
    if finding.evidence:
        out.append(_table(("Resource", "Path", "Value", "File:line"), [
            (_code(ev.resource), _code(ev.path),
             (_code(ev.value) if ev.value is not None else "(none)")
             + (" (redacted)" if ev.redacted else ""),
             _code(f"{ev.file}:{ev.line if ev.line is not None else '?'}") if ev.file
             else "unknown")
            for ev in finding.evidence]))
    if finding.recommendation:
        out.append(f"<p><strong>Recommendation:</strong> {_e(finding.recommendation)}</p>")
    if finding.citations:
        items = "".join(
            f"<li>{_e(c.document)}{', ' + _e(c.section) if c.section else ''} "
            f"(chunk {_code(c.chunk_id)}, version {c.version}, collection {_e(c.collection)})"
            "</li>" for c in finding.citations)
        out.append(f"<p><strong>Citations:</strong></p><ul>{items}</ul>")
    if finding.notes:
        items = "".join(f"<li>{_e(n.by)}, {_e(n.at.isoformat())}: {_e(n.text)}</li>"
                        for n in finding.notes)
        out.append(f"<p><strong>Reviewer notes:</strong></p><ul>{items}</ul>")
    out.append("</article>")
    return "".join(out)


def _findings(model: ThreatModel) -> str:
    out = ['<h2 id="findings">Findings by phase</h2>']
    for phase, findings in findings_by_phase(model):
        rec = phase_record(model, phase)
        out.append(f"<h3>{_e(phase_title(phase))} <span class=\"muted\">({_e(rec.status.value)}, "
                   f"{plural(len(findings), 'finding')})</span></h3>")
        if not findings:
            out.append('<p class="muted">No findings in this phase.</p>')
        out += [_finding(f) for f in findings]
    return "".join(out)


def _approvals(model: ThreatModel) -> str:
    head = '<h2 id="approvals">Approvals</h2>'
    rows = []
    for phase in PHASES:
        rec = phase_record(model, phase)
        if rec.approval is None and rec.guidance is None:
            continue
        appr = rec.approval
        edits = ", ".join(_code(k) for k in appr.edits) if appr and appr.edits else ""
        rows.append((_e(phase_title(phase)), _e(rec.status.value),
                     _e(appr.decision) if appr else "", _e(appr.by) if appr else "",
                     _e(appr.at.isoformat()) if appr else "", _e(appr.comment) if appr else "",
                     edits, _e(rec.guidance or "")))
    if not rows:
        return head + "<p>No phase has been approved or rejected yet.</p>"
    return head + _table(("Phase", "Status", "Decision", "By", "At", "Comment", "Edits",
                          "Guidance"), rows)


def _degradations(model: ThreatModel) -> str:
    head = '<h2 id="degradations">Degradations</h2>'
    if not model.degradations:
        return head + "<p>None: every component ran as intended.</p>"
    return head + _table(("Phase", "Component", "Reason"), [
        (_e(phase_title(d.phase)) if d.phase else "(run)", _e(d.component), _e(d.reason))
        for d in model.degradations])


def _compliance(model: ThreatModel) -> str:
    if not model.compliance:
        return ""
    rows = framework_rows(model.compliance)
    table = _table(("Framework", "Name", "Findings", "Highest", "Controls"),
                   [tuple(_e(v) for v in row) for row in rows]) if rows else ""
    text = json.dumps(model.compliance, indent=2, sort_keys=True, ensure_ascii=False)
    return (f'<h2 id="compliance">Compliance</h2>{table}<details><summary>Full compliance '
            f"summary (JSON)</summary><pre>{_e(text)}</pre></details>")


def render(model: ThreatModel) -> str:
    """The HTML report of a threat model: one self-contained page."""
    body = "\n".join(section(model) for section in (
        _header, _summary, _changes, _architecture, _identity, _findings,
        attack_paths_section, _approvals, _degradations, _compliance))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Threat model: {_e(model.application.name)}</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n{body}\n"
        f"<footer>Generated by {_e(generator_text(model))}.</footer>\n</body>\n</html>\n"
    )
