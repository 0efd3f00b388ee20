"""Markdown report: sections, partial banner, evidence, approvals, escaping of hostile names."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from markdown_it import MarkdownIt

from workflow.domain.threat_model import ThreatModel
from workflow.exports import markdown

SECTIONS = ["## Executive summary", "## Architecture", "## Identity map",
            "## Findings by phase", "## Attack paths", "## Approvals", "## Degradations"]


def _html(text: str) -> str:
    """Render Markdown the way a permissive viewer would: tables on, raw HTML passed through."""
    return str(MarkdownIt("commonmark", {"html": True}).enable("table").render(text))


def test_report_has_every_section_in_order(model: ThreatModel) -> None:
    """Summary, architecture, identities, findings, attack paths, approvals, degradations."""
    text = markdown.render(model)
    assert text.startswith("# Threat model: shop\n")
    positions = [text.index(f"\n{heading}\n") for heading in SECTIONS]
    assert sorted(positions) == positions


def test_partial_banner_only_for_partial_runs(make_model: Callable[..., ThreatModel]) -> None:
    """A partial run opens with a warning naming the unfinished phases; a finished one does not."""
    partial = markdown.render(make_model(partial=True))
    assert "**Partial run.**" in partial
    assert "not finished: Compliance, Risk review" in partial
    assert "Partial run" not in markdown.render(make_model())


def test_summary_counts_by_severity(model: ThreatModel) -> None:
    """The executive summary counts findings per band and states the overall risk."""
    text = markdown.render(model)
    assert "Overall risk: **CRITICAL**." in text
    for band, count in (("critical", 1), ("high", 2), ("medium", 1), ("low", 1), ("info", 1)):
        assert f"| {band} | {count} |" in text


def test_architecture_diagram_is_a_mermaid_block(model: ThreatModel) -> None:
    """The architecture is a fenced mermaid block holding a flowchart."""
    html = _html(markdown.render(model))
    blocks = re.findall(r'<code class="language-mermaid">(.*?)</code>', html, re.S)
    assert 2 == len(blocks)
    assert blocks[0].startswith("flowchart LR\n")


def test_findings_show_evidence_and_citations(model: ThreatModel) -> None:
    """Each finding lists its evidence with file:line and its knowledge-base citations."""
    text = markdown.render(model)
    assert "`k8s/web.yaml:27`" in text
    assert "`k8s/rbac.yaml:?`" in text
    assert "NSA/CISA Kubernetes Hardening Guidance, Pod security (chunk `nsa-k8s-3-1`" in text
    assert "**Recommendation:** Remove securityContext.privileged or set it to false." in text
    assert "> Proposed by the model, not by a rule" in text
    assert "(redacted)" in text


def test_findings_grouped_by_phase_in_methodology_order(model: ThreatModel) -> None:
    """Phase headings follow the methodology; each finding sits under its phase."""
    text = markdown.render(model)
    order = ["### Architecture (", "### Identity (", "### Data (", "### Logging (",
             "### Network (", "### Controls (", "### Compliance (", "### Risk review ("]
    positions = [text.index(h) for h in order]
    assert sorted(positions) == positions
    assert text.index("### Controls (") < text.index("Privileged container") < text.index(
        "### Compliance (")


def test_approvals_say_who_and_when(model: ThreatModel) -> None:
    """The approvals table names the reviewer, the time, the comment and edited fields."""
    text = markdown.render(model)
    assert ("| Identity | approved | approved | carol | 2026-11-21T14:05:00+00:00 | Severity of "
            "the model finding raised. | `severity_override` |") in text


def test_attack_paths_and_degradations(model: ThreatModel) -> None:
    """Attack paths list their hops and findings; degradations give their reason."""
    text = markdown.render(model)
    assert "\n### CRITICAL 8.0: internet \u2192 control of the cluster\n" in text
    assert ("| 4 | `ServiceAccount/shop/web` | `cluster` | `RBAC_ADMIN` | can do anything "
            "cluster-wide | `identity.wildcard-rbac@ClusterRole/ops-admin` |") in text
    assert "| Data | retrieval | knowledge base empty; no citations |" in text


@pytest.mark.parametrize(("llm", "expected"), [
    (True, "model ollama:phi4-mini (digest sha256:1234abcd)"),
    (False, "no model (deterministic rules and retrieval only)"),
])
def test_generator_names_the_model_or_no_model(
        make_model: Callable[..., ThreatModel], llm: bool, expected: str) -> None:
    """The report says which model was used, or that none was."""
    assert expected in markdown.render(make_model(llm=llm))


def test_hostile_names_render_as_text(hostile_model: ThreatModel) -> None:
    """A resource named <script> produces no script element, even with raw HTML enabled."""
    html = _html(markdown.render(hostile_model))
    assert "<script" not in html
    assert "&lt;script&gt;" in html


def test_tables_keep_their_columns_with_pipes_in_values(
        make_model: Callable[..., ThreatModel]) -> None:
    """A name holding | and a newline cannot add a column or break a table row."""
    html = _html(markdown.render(make_model(web="a|b|c\nd")))
    for table in re.findall(r"<table>.*?</table>", html, re.S):
        widths = {len(re.findall(r"<t[hd][ >]", row))
                  for row in re.findall(r"<tr>.*?</tr>", table, re.S)}
        assert 1 == len(widths)
    assert "a|b|c d" in html


@pytest.mark.parametrize("text", ["plain", "*bold* _it_ [x](y) <b>", "`tick` ``two``", "# head"])
def test_escape_and_code_are_literal(text: str) -> None:
    """Escaped text and code spans render back to exactly the text, with no markup."""
    rendered = _html(markdown.escape(text)).strip()
    assert f"<p>{_entities(text)}</p>" == rendered
    spanned = _html(markdown.code(text)).strip()
    assert f"<p><code>{_entities(text)}</code></p>" == spanned


def _entities(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_fenced_block_survives_backticks() -> None:
    """A code block whose content holds ``` is not closed early."""
    html = _html(markdown.fenced("a\n```\nb\n", "json"))
    assert '<pre><code class="language-json">a\n```\nb\n</code></pre>' == html.strip()


def test_identity_map_and_compliance_tables(model: ThreatModel) -> None:
    """Identities show their grants readably; compliance lists each framework's controls."""
    text = markdown.render(model)
    assert ("| ServiceAccount/shop/web | ServiceAccount | yes | Deployment/shop/web |   | role: "
            "ClusterRole/ops-admin; scope: cluster; resources: \\*; verbs: \\* | "
            "cluster-admin@cluster |") in text
    assert "| CIS-1.10 | CIS Kubernetes Benchmark v1.10 | 2 | critical | 5.1.3, 5.2.2 |" in text
    assert '"highest": "critical"' in text
