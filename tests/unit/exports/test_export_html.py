"""HTML report: self-contained (no external asset, no script), escaped, complete."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser

import pytest

from workflow.domain.threat_model import ThreatModel
from workflow.exports import html

HOSTILE = '<script>alert("x")</script>'  # the web Deployment's name in hostile_model


class _Page(HTMLParser):
    """Collects tags, attributes, ids and text of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.ids: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if attributes.get("id"):
            self.ids.add(str(attributes["id"]))

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    return parser


def test_hostile_resource_name_is_escaped(hostile_model: ThreatModel) -> None:
    """A <script> in a resource name comes out as text, never as an element."""
    page = html.render(hostile_model)
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    parsed = _parse(page)
    assert [] == [tag for tag, _ in parsed.tags if tag == "script"]
    assert any(HOSTILE in chunk for chunk in parsed.text)


@pytest.mark.parametrize("name", ['" onmouseover="alert(1)', "x' style='x", "</title><b>"])
def test_values_cannot_break_out_of_attributes_or_titles(
        make_model: Callable[..., ThreatModel], name: str) -> None:
    """Quotes and closing tags in names stay inside text and attribute values."""
    parsed = _parse(html.render(make_model(web=name)))
    for _tag, attrs in parsed.tags:
        assert not any(key.startswith("on") for key in attrs)
        assert "style" not in attrs
    assert [] == [tag for tag, _ in parsed.tags if tag == "b"]


def test_no_external_urls_in_src_or_href(model: ThreatModel) -> None:
    """No script, stylesheet, image or link loads anything from the network."""
    parsed = _parse(html.render(model))
    for tag, attrs in parsed.tags:
        for key in ("src", "href", "xlink:href", "action", "data"):
            value = (attrs.get(key) or "").strip().lower()
            assert not value.startswith(("http://", "https://", "//", "ftp:", "javascript:"))
        assert tag not in {"script", "link", "img", "iframe", "object", "embed", "base"}
    hrefs = [attrs["href"] for tag, attrs in parsed.tags if tag == "a" and attrs.get("href")]
    assert hrefs
    assert all(str(href).startswith("#") for href in hrefs)


def test_internal_links_point_at_existing_findings(model: ThreatModel) -> None:
    """Attack-path links to findings resolve to finding articles on the page."""
    parsed = _parse(html.render(model))
    targets = [str(attrs["href"])[1:] for tag, attrs in parsed.tags
               if tag == "a" and attrs.get("href")]
    assert 2 == len(set(targets))
    assert set(targets) <= parsed.ids


def test_css_is_inline_and_scripts_are_forbidden(model: ThreatModel) -> None:
    """Styles are in the page; a CSP meta tag forbids scripts and any fetch."""
    page = html.render(model)
    parsed = _parse(page)
    metas = [attrs for tag, attrs in parsed.tags if tag == "meta"]
    csp = [m["content"] for m in metas if m.get("http-equiv") == "Content-Security-Policy"]
    assert [html.CSP] == csp
    assert "default-src 'none'" in html.CSP
    assert 1 == page.count("<style>")


def test_architecture_is_an_inline_svg(model: ThreatModel) -> None:
    """The diagram is an inline SVG with a node per component and the Mermaid source beside."""
    page = html.render(model)
    parsed = _parse(page)
    svg_titles = re.findall(r"<g><title>([^<]*)</title>", page)
    for comp in model.architecture.components:
        assert comp.id in svg_titles
    assert "Internet" in svg_titles
    drawings = [attrs.get("aria-label") for tag, attrs in parsed.tags if tag == "svg"]
    assert ["Attack graph of shop", "Attack graph of shop", "Attack path internet=>cluster"] \
        == drawings[1:], "the graph of every path, of the paths to the cluster, each path"
    assert "Mermaid source of the diagram" in page
    assert "flowchart LR" in page


def test_report_sections_and_details(model: ThreatModel) -> None:
    """Summary, evidence file:line, citations, attack path, approvals, degradations, generator."""
    page = html.render(model)
    parsed = _parse(page)
    for section in ("summary", "architecture", "identity", "findings", "attack-paths",
                    "approvals", "degradations", "compliance"):
        assert section in parsed.ids
    text = " ".join(parsed.text)
    for expected in ("k8s/web.yaml:27", "NSA/CISA Kubernetes Hardening Guidance",
                     "carol", "2026-11-21T14:05:00+00:00", "severity_override",
                     "knowledge base empty; no citations", "cluster-admin",
                     "model ollama:phi4-mini", "Proposed by the model, not by a rule",
                     "role: ClusterRole/ops-admin; scope: cluster; resources: *; verbs: *",
                     "CIS Kubernetes Benchmark v1.10"):
        assert expected in text


def test_partial_banner(make_model: Callable[..., ThreatModel]) -> None:
    """A partial run shows a banner; a finished one does not."""
    assert 'class="banner"' in html.render(make_model(partial=True))
    assert 'class="banner"' not in html.render(make_model())


def test_no_model_is_said(make_model: Callable[..., ThreatModel]) -> None:
    """Without a model the report says so."""
    text = " ".join(_parse(html.render(make_model(llm=False))).text)
    assert "no model (deterministic rules and retrieval only)" in text
    assert "No model was used" in text


def test_empty_model_renders(bare_model: ThreatModel) -> None:
    """A model with nothing in it still renders a page with empty-state messages."""
    text = " ".join(_parse(html.render(bare_model)).text)
    assert "No attack paths in this model." in text
    assert "No phase has been approved or rejected yet." in text


def test_attack_path_to_a_missing_finding_is_not_a_dead_link(model: ThreatModel) -> None:
    """A path naming a finding the model no longer holds shows it without a link."""
    first = model.attack_paths[0]
    hops = tuple(h.model_copy(update={"findings": ("gone@x",) if h.findings else ()})
                 for h in first.hops)
    path = first.model_copy(update={"findings": ("gone@x",), "hops": hops})
    page = html.render(model.model_copy(update={"attack_paths": (path,)}))
    assert "<code>gone@x</code> (not in this model)" in page
    assert [] == [a for t, a in _parse(page).tags if t == "a"]


def test_the_path_filter_needs_no_script(model: ThreatModel) -> None:
    """Radio buttons for each target and origin present, one graph per target, paths tagged."""
    page = html.render(model)
    parsed = _parse(page)
    radios = {attrs["id"] for tag, attrs in parsed.tags if tag == "input"}
    assert {"to-all", "to-cluster", "from-all", "from-internet"} == radios
    articles = [attrs for tag, attrs in parsed.tags
                if tag == "article" and "attack-path" in str(attrs.get("class"))]
    assert [("cluster", "internet")] == [(a["data-target"], a["data-origin"]) for a in articles]
    assert '#to-cluster:checked ~ .graph-cluster { display: block; }' in page
    assert "<script" not in page
