"""Hybrid retrieval on the built-in corpus: the right passage, filters, citations, failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb import embeddings as embeddings_module
from kb.corpus import load_corpus
from kb.ingest import ingest_paths
from kb.retrieval import KnowledgeBase, SearchMode
from kb.store import Principal
from workflow.domain.errors import RetrievalError
from workflow.domain.redaction import Redactor
from workflow.domain.settings import Settings
from workflow.domain.threat_model import Phase
from workflow.knowledge_base import open_retriever

#: The redaction of the test installation (a fixed key).
REDACTOR = Redactor(key=b"test-key")

pytestmark = pytest.mark.integration

ANYONE = Principal(user="ana", groups=("blue",))


@pytest.mark.parametrize(("query", "expected"), [
    ("Why is running a container in privileged mode dangerous?", "rec.privileged-container"),
    ("pod mounts /var/run/docker.sock", "rec.runtime-socket"),
    ("What is MS-TA9017?", "ms.ta9017"),
    ("Can pods reach the cloud instance metadata service and steal node credentials?",
     "rec.metadata-endpoint"),
])
@pytest.mark.parametrize("mode", list(SearchMode))
def test_search_finds_the_right_passage(kb: KnowledgeBase, query: str, expected: str,
                                        mode: SearchMode) -> None:
    """The passage that answers the question is in the top five in every mode."""
    if mode is SearchMode.VECTOR and expected == "ms.ta9017":
        pytest.skip("bare identifiers are a full-text job; the vector leg is not expected to")
    hits = kb.retriever(ANYONE).search_mode(query, mode=mode, k=5)
    assert expected in [h.chunk_id for h in hits]


def test_hits_carry_citation_fields(kb: KnowledgeBase) -> None:
    """Each hit names document, section, chunk id, version, collection and its source."""
    hit = kb.retriever(ANYONE).search("privileged container escape to the node", k=1)[0]
    citation = hit.citation()
    assert ("builtin", 1) == (citation.collection, citation.version)
    assert citation.document in {d.id for d in load_corpus()}
    assert citation.section and citation.chunk_id
    assert "Source: " in hit.text and "version: " in hit.text


def test_framework_and_phase_filters(kb: KnowledgeBase) -> None:
    """Filters keep only passages tagged with the framework or phase."""
    tagged = {p.id: p for d in load_corpus() for p in d.passages}
    retriever = kb.retriever(ANYONE)
    by_framework = retriever.search("privileged containers", k=8, framework="pss")
    by_phase = retriever.search("privileged containers", k=8, phase=Phase.IDENTITY)
    assert by_framework and all("pss" in tagged[h.chunk_id].frameworks for h in by_framework)
    assert by_phase and all("identity" in tagged[h.chunk_id].phases for h in by_phase)


def test_rule_topics_become_citations(kb: KnowledgeBase) -> None:
    """Topic keys resolve to built-in passages, recommendation first."""
    passages = kb.retriever(ANYONE).passages_for_topics(["hostpath", "runtime-socket"])
    assert ["rec.hostpath", "pss.hostpath", "ms.ta9013", "attack.t1611",
            "rec.runtime-socket", "attack.t1610", "ms.ta9008"] == [p.chunk_id for p in passages]


def test_unknown_topics_are_skipped(kb: KnowledgeBase) -> None:
    """A topic key the corpus does not have gives no passage (the rule's slug, say)."""
    assert [] == kb.retriever(ANYONE).passages_for_topics(["no-such-topic"])


def test_empty_collection_is_a_retrieval_error(kb: KnowledgeBase, tmp_path: Path,
                                               collection_name: str) -> None:
    """Searching a collection with no passages raises RetrievalError with a clear message."""
    empty = tmp_path / "empty"
    empty.mkdir()
    ingest_paths(kb.store, ANYONE, [empty], collection=collection_name, embedder=kb.embedder,
        redactor=REDACTOR)
    with pytest.raises(RetrievalError, match="holds no passages readable by ana"):
        kb.retriever(ANYONE, collections=[collection_name]).search("anything at all")


def test_unreachable_database_is_a_retrieval_error(tmp_path: Path) -> None:
    """A database that cannot be reached becomes a RetrievalError, never a crash."""
    settings = Settings(home=tmp_path, database_url="postgresql://nobody@127.0.0.1:9/none")
    with pytest.raises(RetrievalError, match="knowledge base is unavailable"):
        open_retriever(settings)


def test_missing_extra_falls_back_to_keywords(kb: KnowledgeBase,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the embeddings extra, search says what to install and still answers."""
    monkeypatch.setattr(embeddings_module.MiniLMEmbedder, "available",
                        staticmethod(lambda: False))
    without = KnowledgeBase(kb.db)
    retriever = without.retriever(ANYONE)
    hits = retriever.search("hostPath volume", k=3)
    assert "rec.hostpath" in [h.chunk_id for h in hits]
    assert any("pip install 'ktmb[embeddings]'" in note for note in retriever.notes)
    with pytest.raises(RetrievalError, match=r"pip install 'ktmb\[embeddings\]'"):
        retriever.search_mode("hostPath volume", mode=SearchMode.VECTOR)


@pytest.mark.parametrize("mode", list(SearchMode))
def test_an_ingested_document_serves_every_phase(kb: KnowledgeBase, tmp_path: Path,
                                                 collection_name: str,
                                                 mode: SearchMode) -> None:
    """A document without phase tags is found with a phase filter, in every mode."""
    path = tmp_path / "runbook.md"
    path.write_text("# Runbook\n## Egress\nOur quokkagate proxy filters all pod egress.\n",
                    "utf-8")
    ingest_paths(kb.store, ANYONE, [path], collection=collection_name, embedder=kb.embedder,
        redactor=REDACTOR)
    retriever = kb.retriever(ANYONE, collections=[collection_name])
    for phase in (Phase.NETWORK, Phase.IDENTITY):
        hits = retriever.search_mode("quokkagate proxy pod egress", mode=mode, k=5,
                                     phase=phase)
        assert [collection_name] == sorted({h.collection for h in hits}), phase
