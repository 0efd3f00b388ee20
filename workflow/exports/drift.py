"""What the reports say about a model's profile, triage and drift (plain text, unescaped).

Shared by the Markdown and HTML reports, which escape it for their format: the application
profile's rows, each finding's baseline mark and triage, and the section on the changes since
the baseline (new, changed, resolved and reopened findings, attack paths by state).
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.domain.marks import BaselineState, ResolvedFinding, TriageState
from workflow.domain.threat_model import Finding, ThreatModel

__all__ = ["Changes", "changes", "finding_marks", "profile_rows"]


def profile_rows(model: ThreatModel) -> list[tuple[str, str]]:
    """The application profile as (item, value) rows; none without a profile."""
    profile = model.application.profile
    if profile is None:
        return []
    rows = [(label, value) for label, value in (
        ("Owner", profile.owner or ""),
        ("Data classification", ", ".join(profile.data_classification)),
        ("Cloud", profile.cloud.value if profile.cloud else ""),
        ("Exposure", profile.exposure.value if profile.exposure else ""),
        ("Risk appetite", profile.risk_appetite or "")) if value]
    answers = profile.answers.given()
    if answers:
        rows.append(("Answers", "; ".join(f"{k.replace('_', ' ')}: {v}"
                                          for k, v in answers.items())))
    return rows


def finding_marks(finding: Finding) -> list[tuple[str, str]]:
    """A finding's baseline mark and triage as (label, text) facts."""
    out = []
    mark = finding.baseline
    if mark is not None:
        text = mark.state.value + (f": {', '.join(mark.fields)}" if mark.fields else "")
        if mark.previous is not None:
            text += (f" (was {mark.previous.severity.value} {mark.previous.score}, "
                     f"{mark.previous.status.value})")
        out.append(("Since baseline", text))
    if finding.triage is not None:
        label = {TriageState.APPLIED: "Triage", TriageState.EXPIRED: "Triage (expired)",
                 TriageState.CHANGED_SINCE_TRIAGE: "Triage (changed since)"}
        out.append((label[finding.triage.state], finding.triage.message))
    return out


@dataclass(frozen=True)
class Changes:
    """A model against its baseline, for a report section."""

    summary: str
    new: tuple[Finding, ...]
    changed: tuple[Finding, ...]
    resolved: tuple[ResolvedFinding, ...]
    reopened: tuple[Finding, ...]
    paths: tuple[tuple[str, tuple[str, ...]], ...]

    def rows(self) -> list[tuple[str, str, str, str, str]]:
        """Every new, changed, resolved and reopened finding as a report row.

        Each row is (change, severity band, title, finding id, what changed or why).
        """
        out = [(mark, f.effective_severity.value, f.title, f.id,
                ", ".join(f.baseline.fields) if f.baseline else "")
               for mark, items in (("new", self.new), ("changed", self.changed))
               for f in items]
        out += [("resolved", r.severity.value, r.title, r.id, "") for r in self.resolved]
        out += [("reopened", f.effective_severity.value, f.title, f.id,
                 f.triage.message if f.triage else "") for f in self.reopened]
        return out


def changes(model: ThreatModel) -> Changes | None:
    """The changes since the model's baseline; None when it has none."""
    base = model.baseline
    if base is None:
        return None
    counts = ", ".join(f"{base.counts.get(k, 0)} {k}"
                       for k in ("new", "changed", "unchanged", "resolved"))
    where = base.ref + (f" (run {base.run_id})" if base.run_id != base.ref else "")

    def marked(state: BaselineState) -> tuple[Finding, ...]:
        return tuple(f for f in model.findings
                     if f.baseline is not None and f.baseline.state is state)

    return Changes(
        summary=f"Compared with {where}: {counts}.",
        new=marked(BaselineState.NEW), changed=marked(BaselineState.CHANGED),
        resolved=base.resolved,
        reopened=tuple(f for f in model.findings if f.triage is not None
                       and f.triage.state is not TriageState.APPLIED),
        paths=tuple((state, ids) for state in ("new", "changed", "resolved")
                    if (ids := base.attack_paths.get(state, ()))))
