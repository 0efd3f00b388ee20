"""A run whose knowledge-base searches fell back to keywords says so in its degradations.

The phases search the knowledge base for the model's passages; without embeddings
(``KTMB_EMBEDDINGS=off``, the extra missing, Ollama down) that search is full text only. The
threat model, its Markdown and its HTML used to say "Degradations: none" all the same.
"""

from __future__ import annotations

import html

import pytest

from agents.run_context import Services
from kb.store import Principal
from tests.fake_enricher import FakeEnricher
from tests.security.cli_process import EXAMPLE
from workflow.db import open_database
from workflow.domain.inputs import load_inputs
from workflow.domain.settings import Settings
from workflow.domain.threat_model import PHASES
from workflow.exports import export
from workflow.exports.markdown import escape
from workflow.knowledge_base import open_retriever
from workflow.run_store import RunInfo
from workflow.runs import Runs

pytestmark = pytest.mark.integration

KEYWORD_ONLY = ("full-text search only: embeddings are off (KTMB_EMBEDDINGS=off), "
                "so passages were found by keywords")


def test_keyword_only_search_is_a_degradation_of_each_phase(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each phase that searched by keywords only records it; the exports show it."""
    monkeypatch.setenv("KTMB_EMBEDDINGS", "off")

    def services(info: RunInfo) -> Services:
        principal = Principal.of(info.created_by, [])
        return Services(retriever=open_retriever(settings, principal=principal),
                        enricher=FakeEnricher())

    runs = Runs(open_database(settings), services)
    inputs = load_inputs([EXAMPLE / "manifests"], settings=settings)
    outcome = runs.start(inputs, application="payments", approval=[], created_by="tester")
    model = runs.threat_model(outcome.run_id)
    assert sorted((p.value, "knowledge_base", KEYWORD_ONLY) for p in PHASES) == sorted(
        (str(d.phase), d.component, d.reason) for d in model.degradations)
    assert escape(KEYWORD_ONLY) in export(model, "markdown")
    assert html.escape(KEYWORD_ONLY) in export(model, "html")
