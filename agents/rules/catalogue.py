"""The whole rule catalogue, and its documentation generated from the code.

``python -m agents.rules.catalogue > docs/RULES.md`` regenerates the documentation;
``tests/unit/rules/test_catalogue.py`` fails when the committed file is stale.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

from agents.rules import (
    architecture,
    compliance,
    controls,
    data,
    identity,
    logging,
    network,
    risk_review,
)
from agents.rules.base import RuleMeta
from agents.rules.refs import FRAMEWORK_NAMES
from workflow.scoring import severity_for
from workflow.threat_model import PHASES, Phase

__all__ = ["ALL_RULES", "BY_PHASE", "render_markdown", "rule_meta", "rules_for"]

BY_PHASE: dict[Phase, tuple[Any, ...]] = {
    Phase.ARCHITECTURE: architecture.RULES,
    Phase.IDENTITY: identity.RULES,
    Phase.DATA: data.RULES,
    Phase.LOGGING: logging.RULES,
    Phase.NETWORK: network.RULES,
    Phase.CONTROLS: controls.RULES,
    Phase.COMPLIANCE: compliance.RULES,
    Phase.RISK_REVIEW: risk_review.RULES,
}
#: Every rule module, in phase order.
ALL_RULES: tuple[Any, ...] = tuple(rule for phase in PHASES for rule in BY_PHASE[phase])


def rules_for(phase: Phase | str) -> tuple[Any, ...]:
    """The rule modules of one phase."""
    return BY_PHASE[Phase(phase)]


def rule_meta(rule_id: str) -> RuleMeta | None:
    """The metadata of a rule by id, or None."""
    for module in ALL_RULES:
        meta: RuleMeta = module.RULE
        if meta.id == rule_id:
            return meta
    return None


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _rule_section(module: ModuleType) -> list[str]:
    meta: RuleMeta = module.RULE
    band = severity_for(meta.likelihood, meta.impact).value
    lines = [f"### `{meta.id}` — {meta.title}", ""]
    if meta.description:
        lines += [meta.description, ""]
    lines += [
        "| | |", "|---|---|",
        f"| STRIDE | {', '.join(s.value for s in meta.stride)} |",
        f"| Base likelihood x impact | {meta.likelihood} x {meta.impact} ({band}) |",
        f"| ATT&CK tactics | {', '.join(meta.tactics) or '—'} |",
        f"| ATT&CK techniques | {', '.join(meta.techniques) or '—'} |",
        f"| Microsoft Threat Matrix | {', '.join(meta.ms_matrix) or '—'} |",
        f"| References | {', '.join(f'`{r}`' for r in meta.references) or '—'} |",
        f"| Knowledge-base topics | {', '.join(meta.kb_topics) or '—'} |",
        f"| Module | `{module.__name__}` |",
        "",
        f"**Remediation.** {_cell(meta.remediation)}",
        "",
    ]
    if meta.false_positives:
        lines += [f"**False positives.** {_cell(meta.false_positives)}", ""]
    return lines


def render_markdown() -> str:
    """The catalogue as Markdown (the content of docs/RULES.md)."""
    lines = [
        "# Rule catalogue",
        "",
        "Generated from the code by `python -m agents.rules.catalogue > docs/RULES.md`; do not "
        "edit by hand.",
        "",
        f"{len(ALL_RULES)} rules. Base likelihood and impact are on 1-5 scales; the reviewer "
        "adjusts them for internet exposure, data classification, blast radius, mitigations "
        "and attack paths before scoring. Findings whose status is `question` are open "
        "questions for the reviewer, not facts.",
        "",
        "Reference prefixes: "
        + "; ".join(f"`{k}` {v}" for k, v in FRAMEWORK_NAMES.items()) + ".",
        "",
        "| Phase | Rules |",
        "|---|---|",
    ]
    lines += [f"| {phase.value} | {len(BY_PHASE[phase])} |" for phase in PHASES]
    lines.append("")
    for phase in PHASES:
        lines += [f"## {phase.value}", ""]
        for module in BY_PHASE[phase]:
            lines += _rule_section(module)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    sys.stdout.write(render_markdown())
