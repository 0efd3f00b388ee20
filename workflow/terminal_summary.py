"""The readable summary of a threat model: what ``ktmb scan`` prints on a terminal.

One row per severity band and rule (most severe first), how many findings, and where they are
(``file:line`` of the first few); then the totals, what the run left out (no model, a
degradation) and, with ``--fail-on``, which rows fail it and the verdict. Plain text, no
colour: it reads the same in a CI log, and every name in it passes through
:func:`~workflow.domain.printable.printable` on its way out.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field

from workflow.console import failing
from workflow.domain.scoring import SEVERITY_ORDER
from workflow.domain.threat_model import Finding, Severity, ThreatModel
from workflow.exports._common import plural, severity_counts

__all__ = ["summary_text"]

#: Locations shown in a row before "and N more".
_SHOWN = 2


@dataclass
class _Row:
    band: Severity
    rule: str
    findings: list[Finding] = field(default_factory=list)
    failing: bool = False

    def where(self, base: str) -> str:
        lines: dict[str, int | None] = {}  # each file once, at its first known line
        for ev in (ev for finding in self.findings for ev in finding.evidence if ev.file):
            file = ev.file[len(base):] if base and ev.file else ev.file or ""
            if lines.get(file) is None:
                lines[file] = ev.line
        places = [f"{file}:{line}" if line is not None else file for file, line in lines.items()]
        if not places:
            resources = list(dict.fromkeys(r for f in self.findings for r in f.resources))
            places = resources or ["(the application)"]
        shown = ", ".join(places[:_SHOWN])
        return shown + (f" and {len(places) - _SHOWN} more" if len(places) > _SHOWN else "")


def _rows(findings: Sequence[Finding], failing: set[str]) -> list[_Row]:
    rows: dict[tuple[Severity, str], _Row] = {}
    for finding in findings:
        band = finding.effective_severity
        row = rows.setdefault((band, finding.rule), _Row(band, finding.rule))
        row.findings.append(finding)
        row.failing = row.failing or finding.id in failing
    return sorted(rows.values(), key=lambda r: (SEVERITY_ORDER.index(r.band),
                                                -len(r.findings), r.rule))


def _base(findings: Sequence[Finding]) -> str:
    """The directory every evidence file is in (with its slash), or "" when none is shared."""
    files = {ev.file for f in findings for ev in f.evidence if ev.file}
    if len(files) < 2 or any(file.startswith("<") for file in files):
        return ""
    common = posixpath.commonpath([posixpath.dirname(file) for file in files])
    return common + "/" if common not in ("", "/") else ""


def _table(rows: list[_Row], mark: bool, base: str) -> list[str]:
    head = ["SEVERITY", "RULE", "FINDINGS", "WHERE" + (f" (in {base})" if base else "")]
    cells = [[r.band.value, r.rule, str(len(r.findings)), r.where(base)] for r in rows]
    if mark:
        head.insert(0, "FAIL-ON")
        for row, cell in zip(rows, cells, strict=True):
            cell.insert(0, "fail" if row.failing else "")
    widths = [max(len(line[i]) for line in [head, *cells]) for i in range(len(head) - 1)]
    count = head.index("FINDINGS")

    def line(values: list[str]) -> str:
        parts = [v.rjust(w) if i == count else v.ljust(w)
                 for i, (v, w) in enumerate(zip(values, widths, strict=False))]
        return "  ".join([*parts, values[-1]]).rstrip()

    return [line(head), *(line(c) for c in cells)]


def _verdict(model: ThreatModel, fail_on: str, failing: list[Finding]) -> str:
    if not failing:
        return f"--fail-on {fail_on}: passed: no finding at or above {fail_on}"
    bands = ", ".join(f"{band.value} {n}" for band in SEVERITY_ORDER
                      if (n := sum(f.effective_severity is band for f in failing)))
    rules = len({f.rule for f in failing})
    return (f"--fail-on {fail_on}: FAILED: {plural(len(failing), 'finding')} at or above "
            f"{fail_on} ({bands}) in {plural(rules, 'rule')}, marked 'fail' above "
            f"(of {len(model.findings)} in all)")


def summary_text(model: ThreatModel, *, fail_on: str | None = None,
                 drift_only: bool = False) -> str:
    """The summary of ``model``, and the ``--fail-on`` verdict when one is given.

    With ``drift_only`` (a baseline), only findings new or changed against it fail.
    """
    summary = model.summary
    failures = (failing(model, fail_on, drift_only=drift_only) if fail_on is not None
                else [])
    open_findings = [f for f in model.findings if f.is_open]
    closed = len(model.findings) - len(open_findings)
    lines = [f"threat model of {model.application.name}: "
             f"{plural(len(model.findings), 'finding')}, overall risk "
             f"{summary.overall_risk.value}", ""]
    rows = _rows(open_findings, {f.id for f in failures})
    base = _base(open_findings)
    lines += _table(rows, mark=fail_on is not None, base=base) if rows else ["no open finding"]
    counts = ", ".join(f"{band.value} {n}"
                       for band, n in severity_counts(open_findings).items() if n)
    lines += ["", f"open findings by severity: {counts or 'none'}; "
                  f"{plural(len({f.rule for f in open_findings}), 'rule')}"]
    if closed:
        lines.append(f"closed by reviewers (accepted, mitigated, false positive): {closed}")
    if model.generator.llm is None:
        lines.append("no model was used: rule findings only")
    lines += [f"degraded: {d.phase or 'run'} {d.component}: {d.reason}"
              for d in model.degradations]
    if fail_on is not None:
        lines.append(_verdict(model, fail_on, failures))
    return "\n".join(lines) + "\n"
