"""What the exports say about triage and drift: SARIF suppressions and baseline states,
and the reports' profile, changes since the baseline and each finding's decision."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import jsonschema
import pytest

from workflow.domain.baseline import BaselineSnapshot
from workflow.domain.inputs import load_inputs
from workflow.domain.settings import Settings
from workflow.domain.threat_model import ThreatModel
from workflow.exports import html, markdown, sarif
from workflow.scan import scan

LIVING = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "living"
WEB_IMAGE = "controls.image-not-pinned@Deployment/shop/web#web"
API_IMAGE = "controls.image-not-pinned@Deployment/shop/api#api"
PRIVILEGED = "controls.privileged-container@Deployment/shop/web#debug"


@pytest.fixture(scope="module")
def drifted(tmp_path_factory: pytest.TempPathFactory) -> ThreatModel:
    """Version 2 of the shop against version 1, one finding accepted in a suppressions file,
    one whose acceptance (by the same file, in version 1) changed since."""
    root = tmp_path_factory.mktemp("drift")
    settings = Settings(home=root / "home", redaction_key="test-key")
    entry = (f"- id: {WEB_IMAGE}\n  owner: team-shop\n  reason: immutable tags\n"
             f"  expires: {date(2099, 1, 31).isoformat()}\n  evidence: {{digest}}\n"
             f"- id: {API_IMAGE}\n  owner: team-shop\n  reason: digests next sprint\n"
             "  expires: 2099-01-31\n")
    first = scan(load_inputs([LIVING / "v1"], settings=settings), application="shop")
    web = next(f for f in first.findings if f.id == WEB_IMAGE)
    from workflow.domain.triage import evidence_hash

    suppressions = root / "s.yaml"
    suppressions.write_text(entry.format(digest=evidence_hash(web.evidence)[:16]),
                            encoding="utf-8")
    inputs = load_inputs([LIVING / "v2"], settings=settings, suppressions=suppressions)
    return scan(inputs, application="shop",
                baseline=BaselineSnapshot.of_model(first, "main.json"))


def test_sarif_says_what_is_suppressed_and_what_is_new(
        drifted: ThreatModel, sarif_validator: jsonschema.Draft4Validator) -> None:
    """Suppressed results keep their decision; every result has its baseline state."""
    document = json.loads(sarif.render(drifted))
    assert [] == [e.message for e in sarif_validator.iter_errors(document)]
    results = {r["properties"]["findingId"]: r for r in document["runs"][0]["results"]
               if "findingId" in r["properties"]}  # attack paths are results too
    accepted = results[API_IMAGE]
    where = accepted["properties"]["triage"]["file"]
    assert where.endswith("s.yaml")
    assert (f"accepted in {where}:6 (owner team-shop; until 2099-01-31; digests next sprint)"
            == accepted["suppressions"][0]["justification"])
    assert "updated" == accepted["baselineState"]
    reopened = results[WEB_IMAGE]
    assert "suppressions" not in reopened
    assert "changed_since_triage" == reopened["properties"]["triage"]["state"]
    assert "new" == results[PRIVILEGED]["baselineState"]
    assert {"new", "updated", "unchanged"} >= {r["baselineState"] for r in results.values()}


def test_markdown_shows_the_profile_and_the_changes(drifted: ThreatModel) -> None:
    """The report has the profile rows, a changes section and each finding's decision."""
    text = markdown.render(drifted)
    assert "| Owner | team-shop |" in text
    section = text[text.index("## Changes since the baseline"):text.index("## Architecture")]
    assert f"| new | high | Privileged container debug in web (`{PRIVILEGED}`) |   |" in (
        section)
    assert "| resolved | low |" in section and "| reopened | low |" in section
    assert "- **Triage (changed since):** changed since triage: the evidence differs" in text


def test_html_shows_the_changes_escaped(drifted: ThreatModel) -> None:
    """The HTML report has the changes section; titles are escaped."""
    page = html.render(drifted)
    assert 'id="changes"' in page
    changes = page[page.index('id="changes"'):page.index('id="architecture"')]
    assert "Privileged container debug in web" in changes and "main.json" in changes
    assert "<dt>Since baseline</dt><dd>new</dd>" in page
