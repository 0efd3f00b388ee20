"""The threat model as a Markdown report (GitHub-flavoured: tables and a Mermaid block).

Every value comes from a manifest, the model or a reviewer and is escaped before it is
written: inline text has Markdown punctuation backslash-escaped and ``<``, ``>``, ``&`` written
as entities (no HTML reaches a renderer), identifiers and evidence go in code spans whose
fence outgrows any backticks inside, table cells never contain a raw ``|`` or a line break,
and code blocks use a fence longer than any run of backticks in their content.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence

from workflow.domain.threat_model import (
    PHASES,
    AttackPath,
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
    path_target,
    phase_record,
    phase_title,
    plural,
    severity_counts,
)
from workflow.exports.drift import changes, finding_marks, profile_rows

__all__ = ["code", "escape", "fenced", "render", "table"]

_ESCAPE = frozenset("\\`*_{}[]|~$#")
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
_BACKTICKS = re.compile(r"`+")


def escape(text: str) -> str:
    """Inline Markdown for any text: one line, punctuation escaped, no HTML."""
    out: list[str] = []
    flat = " ".join(str(text).split())
    for i, ch in enumerate(flat):
        if ch in _ENTITIES:
            out.append(_ENTITIES[ch])
        elif ch in _ESCAPE or (i == 0 and ch in "-+=>"):
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def code(text: str, *, in_table: bool = False) -> str:
    """An inline code span showing ``text`` literally (one line)."""
    flat = " ".join(str(text).split())
    if not flat:
        return ""
    longest = max((len(run) for run in _BACKTICKS.findall(flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    span = f"{fence}{pad}{flat}{pad}{fence}"
    return span.replace("|", "\\|") if in_table else span


def fenced(text: str, info: str = "") -> str:
    """A fenced code block whose fence is longer than any backtick run in ``text``."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = text if text.endswith("\n") else text + "\n"
    return f"{fence}{info}\n{body}{fence}\n"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A GitHub table; cells must already be escaped (see :func:`escape`, :func:`code`)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(cell or " " for cell in row) + " |" for row in rows)
    return "\n".join(lines) + "\n"


def _cell(text: object) -> str:
    return escape(str(text))


def _header(model: ThreatModel) -> list[str]:
    out = [f"# Threat model: {escape(model.application.name)}", ""]
    if model.partial:
        unfinished = [phase_title(p) for p in PHASES
                      if phase_record(model, p).status not in
                      (PhaseStatus.APPROVED, PhaseStatus.COMPLETED)]
        out += ["> [!WARNING]",
                "> **Partial run.** This threat model is not finished: it covers only the "
                "phases that ran" + (f"; not finished: {escape(', '.join(unfinished))}"
                                     if unfinished else "") + ". Do not treat it as complete.",
                ""]
    inputs = "<br>".join(f"{code(i.path, in_table=True)} ({escape(i.role)}, sha256 "
                         f"{code(i.sha256[:12], in_table=True)})"
                         for i in model.application.inputs)
    out.append(table(("Item", "Value"), [
        ("Application", _cell(model.application.name)),
        ("Run", code(model.run_id, in_table=True)),
        ("Created", _cell(model.created_at.isoformat())),
        ("Schema version", _cell(model.schema_version)),
        ("Generator", _cell(generator_text(model))),
        ("Inputs", inputs or "none recorded"),
        *((name, _cell(value)) for name, value in profile_rows(model)),
    ]))
    return out


def _changes(model: ThreatModel) -> list[str]:
    found = changes(model)
    if found is None:
        return []
    out = ["## Changes since the baseline", "", escape(found.summary), ""]
    rows = found.rows()
    if rows:
        out += [table(("Change", "Severity", "Finding", "What"), [
            (mark, band, f"{_cell(title)} ({code(fid, in_table=True)})", _cell(what))
            for mark, band, title, fid, what in rows]), ""]
    out += [f"Attack paths {state}: " + ", ".join(code(i) for i in ids)
            for state, ids in found.paths]
    return out


def _summary(model: ThreatModel) -> list[str]:
    counts = severity_counts(model.findings)
    from_model = sum(1 for f in model.findings if is_model_finding(f))
    dropped = sum(rec.model_items_dropped for rec in model.phases.values())
    text = (f"Overall risk: **{overall_risk(model).value.upper()}**. "
            f"{plural(len(model.findings), 'finding')} ({from_model} proposed by the model and "
            f"validated against the inventory), {plural(len(model.attack_paths), 'attack path')}, "
            f"{plural(len(model.degradations), 'degradation')}.")
    if dropped:
        text += (f" {plural(dropped, 'model item')} dropped for naming unknown resources or "
                 "citations.")
    if model.generator.llm is None:
        text += " No model was used: every finding comes from a deterministic rule."
    out = ["## Executive summary", "", text, ""]
    out.append(table(("Severity", "Findings"),
                     [(band.value, str(n)) for band, n in counts.items()]))
    out.append("")
    rows = []
    for phase, findings in findings_by_phase(model):
        rec = phase_record(model, phase)
        approval = ""
        if rec.approval is not None:
            approval = (f"{escape(rec.approval.decision)} by {escape(rec.approval.by)}, "
                        f"{escape(rec.approval.at.isoformat())}")
        rows.append((phase_title(phase), rec.status.value, str(len(findings)), approval))
    out.append(table(("Phase", "Status", "Findings", "Approval"), rows))
    return out


def _architecture(model: ThreatModel) -> list[str]:
    view = model.architecture
    out = ["## Architecture", "", fenced(mermaid.architecture(view), "mermaid")]
    if view.components:
        out += ["### Components", "", table(("Component", "Kind", "Namespace", "Images", "Role"), [
            (code(c.id, in_table=True), _cell(c.kind), _cell(c.namespace or "(cluster)"),
             ", ".join(code(i, in_table=True) for i in c.images), _cell(c.role))
            for c in view.components])]
    if view.entry_points:
        out += ["### Entry points", "", table(
            ("Entry point", "Kind", "Exposure", "Via", "Targets", "Ports", "TLS"), [
                (code(e.id, in_table=True), _cell(e.kind), _cell(e.exposure),
                 code(e.via, in_table=True), ", ".join(code(t, in_table=True) for t in e.targets),
                 _cell(", ".join(e.ports)), "unknown" if e.tls is None else
                 ("yes" if e.tls else "no"))
                for e in view.entry_points])]
    if view.trust_boundaries:
        out += ["### Trust boundaries", "", table(("Boundary", "Kind", "Members"), [
            (_cell(b.name), _cell(b.kind), ", ".join(code(m, in_table=True) for m in b.members))
            for b in view.trust_boundaries])]
    if view.data_flows:
        out += ["### Data flows", "", table(("Source", "Target", "Kind", "Detail"), [
            (code(f.source, in_table=True), code(f.target, in_table=True), _cell(f.kind),
             _cell(f.detail)) for f in view.data_flows])]
    return out


def _identity(model: ThreatModel) -> list[str]:
    out = ["## Identity map", ""]
    if not model.identity_map:
        return [*out, "No identities recorded.", ""]
    keys = list(dict.fromkeys(k for row in model.identity_map for k in row))
    out.append(table([escape(k) for k in keys],
                     [[_cell(display_value(row.get(k))) for k in keys]
                      for row in model.identity_map]))
    return out


def _finding(finding: Finding) -> list[str]:
    band = finding.effective_severity
    out = [f"#### [{band.value.upper()}] {escape(finding.title)}", ""]
    if is_model_finding(finding):
        out += ["> Proposed by the model, not by a rule: a draft for a reviewer to confirm.", ""]
    facts = [
        ("Id", code(finding.id)),
        ("Rule", code(finding.rule)),
        ("Severity", band.value + (f" (override; computed {finding.severity.value})"
                                   if finding.severity_override else "")),
        ("Score", f"{finding.score} (likelihood {finding.likelihood}, impact {finding.impact})"),
        ("Status", finding.status.value),
        ("Origin", finding.origin.value),
        ("Resources", ", ".join(code(r) for r in finding_resources(finding)) or "none"),
    ]
    if finding.stride:
        facts.append(("STRIDE", ", ".join(STRIDE_LABELS[s] for s in finding.stride)))
    attack = [*finding.attack.tactics, *finding.attack.techniques, *finding.attack.ms_matrix]
    if attack:
        facts.append(("ATT&CK", ", ".join(code(a) for a in attack)))
    if finding.references:
        facts.append(("References", ", ".join(code(r) for r in finding.references)))
    if finding.merged_from:
        facts.append(("Merged from", ", ".join(code(m) for m in finding.merged_from)))
    facts += [(name, escape(text)) for name, text in finding_marks(finding)]
    out += [f"- **{name}:** {value}" for name, value in facts]
    out.append("")
    if finding.description:
        out += [escape(finding.description), ""]
    if finding.rationale:
        out += [f"*Model rationale:* {escape(finding.rationale)}", ""]
    if finding.evidence:
        out.append(table(("Resource", "Path", "Value", "File:line"), [
            (code(ev.resource, in_table=True), code(ev.path, in_table=True),
             (code(ev.value, in_table=True) if ev.value is not None else "(none)")
             + (" (redacted)" if ev.redacted else ""),
             code(f"{ev.file}:{ev.line if ev.line is not None else '?'}", in_table=True)
             if ev.file else "unknown")
            for ev in finding.evidence]))
        out.append("")
    if finding.recommendation:
        out += [f"**Recommendation:** {escape(finding.recommendation)}", ""]
    if finding.citations:
        out.append("**Citations:**")
        out += [f"- {escape(c.document)}" + (f", {escape(c.section)}" if c.section else "")
                + f" (chunk {code(c.chunk_id)}, version {c.version}, collection "
                f"{escape(c.collection)})" for c in finding.citations]
        out.append("")
    if finding.notes:
        out.append("**Reviewer notes:**")
        out += [f"- {escape(n.by)}, {escape(n.at.isoformat())}: {escape(n.text)}"
                for n in finding.notes]
        out.append("")
    return out


def _findings(model: ThreatModel) -> list[str]:
    out = ["## Findings by phase", ""]
    for phase, findings in findings_by_phase(model):
        rec = phase_record(model, phase)
        out += [f"### {phase_title(phase)} ({rec.status.value}, "
                f"{plural(len(findings), 'finding')})", ""]
        if not findings:
            out += ["No findings in this phase.", ""]
        for finding in findings:
            out += _finding(finding)
    return out


def _attack_path(path: AttackPath, titles: dict[str, str]) -> list[str]:
    head = (f"### {path.severity.value.upper()} {path.score}: {escape(path.origin)} \u2192 "
            f"{escape(path_target(path))}")
    out = [head, "", f"Path {code(path.id)}: likelihood {path.likelihood}, impact "
           f"{path.impact}" + (" (proposed by the model, validated against the graph)"
                               if path.source == "model" else "") + ".", ""]
    rows = [(str(i), code(h.source, in_table=True), code(h.to, in_table=True),
             code(h.attack, in_table=True), escape(h.condition)
             + ("; weakened by " + escape("; ".join(h.controls)) if h.controls else ""),
             ", ".join(code(f, in_table=True) for f in h.findings))
            for i, h in enumerate(path.hops, 1)]
    out.append(table(("#", "From", "To", "Attack", "Condition", "Evidence"), rows))
    if path.findings:
        out.append("Findings on the path:")
        out += [f"- {code(fid)}" + (f" {escape(titles[fid])}" if fid in titles else "")
                for fid in path.findings]
        out.append("")
    return out


def _choke_points(model: ThreatModel) -> list[str]:
    graph = model.attack_graph
    summary = graph.summary
    if not graph.choke_points:
        return []
    out = ["### Choke points", ""]
    if summary.top_fixes:
        out += [f"Fixing {plural(len(summary.top_fixes), 'finding')} ("
                + ", ".join(code(f) for f in summary.top_fixes)
                + f") removes {round(summary.top_fixes_share * 100)}% of the "
                f"{escape(summary.top_fixes_band)} paths (weighted by score).", ""]
    rows = [(code(c.finding, in_table=True), escape(c.recommendation or c.title), str(c.paths),
             f"{round(c.share * 100)}%") for c in graph.choke_points]
    out.append(table(("Fix", "Recommendation", "Paths cut", "Share of path weight"), rows))
    return out


def _attack_paths(model: ThreatModel) -> list[str]:
    out = ["## Attack paths", ""]
    if not model.attack_paths:
        return [*out, "No attack paths in this model.", ""]
    summary = model.attack_graph.summary
    if summary.candidates:
        out += [f"{plural(summary.candidates, 'path')} from "
                + ", ".join(f"{n} {escape(k)}" for k, n in summary.by_origin.items())
                + f" origin(s); {summary.kept} shown, {summary.omitted} more counted only"
                + (f", {summary.dominated} dominated by a shorter one" if summary.dominated
                   else "") + ".", ""]
    out += _choke_points(model)
    out += [fenced(mermaid.attack_paths(model.attack_paths), "mermaid")]
    titles = {f.id: f.title for f in model.findings}
    for path in model.attack_paths:
        out += _attack_path(path, titles)
    return out


def _approvals(model: ThreatModel) -> list[str]:
    out = ["## Approvals", ""]
    rows = []
    for phase in PHASES:
        rec = phase_record(model, phase)
        if rec.approval is None and rec.guidance is None:
            continue
        appr = rec.approval
        edits = ", ".join(code(k, in_table=True) for k in appr.edits) if appr and appr.edits else ""
        rows.append((phase_title(phase), rec.status.value,
                     _cell(appr.decision) if appr else "", _cell(appr.by) if appr else "",
                     _cell(appr.at.isoformat()) if appr else "",
                     _cell(appr.comment) if appr else "", edits, _cell(rec.guidance or "")))
    if not rows:
        return [*out, "No phase has been approved or rejected yet.", ""]
    out.append(table(("Phase", "Status", "Decision", "By", "At", "Comment", "Edits",
                      "Guidance"), rows))
    return out


def _degradations(model: ThreatModel) -> list[str]:
    out = ["## Degradations", ""]
    if not model.degradations:
        return [*out, "None: every component ran as intended.", ""]
    out.append(table(("Phase", "Component", "Reason"), [
        (phase_title(d.phase) if d.phase else "(run)", _cell(d.component), _cell(d.reason))
        for d in model.degradations]))
    return out


def _compliance(model: ThreatModel) -> list[str]:
    if not model.compliance:
        return []
    out = ["## Compliance", ""]
    rows = framework_rows(model.compliance)
    if rows:
        out.append(table(("Framework", "Name", "Findings", "Highest", "Controls"),
                         [tuple(_cell(v) for v in row) for row in rows]))
    text = json.dumps(model.compliance, indent=2, sort_keys=True, ensure_ascii=False)
    out += ["<details><summary>Full compliance summary (JSON)</summary>", "",
            fenced(text, "json"), "</details>"]
    return out


def render(model: ThreatModel) -> str:
    """The Markdown report of a threat model."""
    parts: list[str] = []
    for section in (_header, _summary, _changes, _architecture, _identity, _findings,
                    _attack_paths,
                    _approvals, _degradations, _compliance):
        parts += section(model)
        parts.append("")
    parts += ["---", "", f"Generated by {escape(generator_text(model))}."]
    text = "\n".join(parts)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"
