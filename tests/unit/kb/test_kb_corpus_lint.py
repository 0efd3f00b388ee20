"""The built-in corpus: every passage cited, every id present, every rule topic resolvable."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from kb.corpus import (
    FRAMEWORKS,
    CorpusDocument,
    CorpusPassage,
    corpus_digest,
    load_corpus,
    parse_corpus_file,
)
from kb.rule_topics import TOPICS, passages_for_topics
from workflow.domain.errors import ConfigError
from workflow.domain.threat_model import Phase

CORPUS = Path(__file__).resolve().parents[3] / "kb" / "corpus"
PASSAGES = [(doc, p) for doc in load_corpus() for p in doc.passages]
PASSAGE_IDS = {p.id for _, p in PASSAGES}


def test_corpus_has_at_least_150_passages() -> None:
    """The corpus is broad enough for retrieval to matter."""
    assert len(PASSAGES) >= 150


@pytest.mark.parametrize(("doc", "passage"), PASSAGES, ids=[p.id for _, p in PASSAGES])
def test_every_passage_has_source_version_and_keys(doc: CorpusDocument,
                                                   passage: CorpusPassage) -> None:
    """Every passage names its source and version, and uses known frameworks and phases."""
    assert passage.source.strip()
    assert passage.source_version.strip()
    assert doc.licence.strip()
    assert passage.frameworks
    assert set(passage.frameworks) <= set(FRAMEWORKS)
    assert passage.phases
    assert set(passage.phases) <= {p.value for p in Phase}
    assert len(passage.text.split()) >= 20


def test_passage_ids_are_unique_and_well_formed() -> None:
    """Passage ids are unique and look like '<family>.<slug>'."""
    ids = [p.id for _, p in PASSAGES]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z0-9]+\.[a-z0-9.-]+", pid) for pid in ids)


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_every_rule_topic_resolves(topic: str) -> None:
    """Each topic key points only to passages that exist, recommendation first."""
    ids = PASSAGE_IDS
    targets = TOPICS[topic]
    assert [] == [pid for pid in targets if pid not in ids]
    assert targets[0].startswith("rec.")


def test_passages_for_topics_deduplicates_in_order() -> None:
    """Overlapping topics give each passage once, in topic order."""
    ids = passages_for_topics(["host-pid", "host-ipc", "unknown-topic"])
    assert ["rec.host-namespaces", "pss.host-namespaces", "attack.t1611"] == ids


def test_microsoft_matrix_techniques_are_all_present() -> None:
    """MS-TA9001..MS-TA9041 (there is no MS-TA9032) each have a passage."""
    expected = {f"ms.ta{n}" for n in range(9001, 9042) if n != 9032}
    assert set() == expected - PASSAGE_IDS


def test_attack_techniques_named_in_the_sources_are_present() -> None:
    """The ATT&CK techniques listed in KNOWLEDGE-SOURCES.md have a passage."""
    wanted = ["t1609", "t1610", "t1611", "t1613", "t1552-001", "t1552-005", "t1552-007",
              "t1053-007", "t1525", "t1496", "t1499", "t1078", "t1078-004", "t1190", "t1133",
              "t1528", "t1210", "t1046", "t1546"]
    assert [] == [t for t in wanted if f"attack.{t}" not in PASSAGE_IDS]


def test_pod_security_standards_controls_are_all_present() -> None:
    """Every Baseline and Restricted control has a passage."""
    controls = ["hostprocess", "host-namespaces", "privileged", "capabilities-baseline",
                "hostpath", "host-ports", "apparmor", "selinux", "proc-mount",
                "seccomp-baseline", "sysctls", "volume-types", "privilege-escalation",
                "run-as-non-root", "run-as-user", "seccomp-restricted",
                "capabilities-restricted"]
    assert [] == [c for c in controls if f"pss.{c}" not in PASSAGE_IDS]


def test_owasp_both_editions_are_present() -> None:
    """K01..K10 of 2022 and of the 2025 draft each have a passage."""
    expected = {f"owasp.{year}-k{n:02d}" for year in (2022, 2025) for n in range(1, 11)}
    assert set() == expected - PASSAGE_IDS


def test_notice_carries_required_attributions() -> None:
    """NOTICE.md has the MITRE notice and the CC BY 4.0 and CC BY-SA notes."""
    notice = (CORPUS / "NOTICE.md").read_text(encoding="utf-8")
    assert ("This work is reproduced and distributed with the permission of The MITRE "
            "Corporation.") in " ".join(notice.split())
    assert "CC BY 4.0" in notice
    assert "CC BY-SA 4.0" in notice
    assert "Threat-Matrix-for-Kubernetes" in notice


def test_digest_changes_with_content() -> None:
    """The corpus digest is a sha256 hex string and stable between calls."""
    assert re.fullmatch(r"[0-9a-f]{64}", corpus_digest())
    assert corpus_digest() == corpus_digest()


@pytest.mark.parametrize(("raw", "problem"), [
    ("# no front matter\n", "missing YAML front matter"),
    ("---\nid: x\ntitle: t\nsource: s\nsource_version: v\nlicence: l\nframeworks: [pss]\n"
     "phases: [controls]\n---\n## Heading without anchor\ntext\n", "heading without an anchor"),
    ("---\nid: x\ntitle: t\nsource: s\nlicence: l\nframeworks: [pss]\nphases: [controls]\n---\n"
     "## A {#a.b}\ntext\n", "lacks 'source_version'"),
    ("---\nid: x\ntitle: t\nsource: s\nsource_version: v\nlicence: l\nframeworks: [nope]\n"
     "phases: [controls]\n---\n## A {#a.b}\ntext\n", "unknown framework"),
    ("---\nid: x\ntitle: t\nsource: s\nsource_version: v\nlicence: l\nframeworks: [pss]\n"
     "phases: [controls]\n---\n## A {#a.b}\n<!-- phases: nowhere -->\ntext\n", "unknown phases"),
])
def test_malformed_corpus_files_are_refused(raw: str, problem: str) -> None:
    """The corpus parser refuses files a lint would miss."""
    with pytest.raises(ConfigError) as info:
        parse_corpus_file("bad.md", raw)
    assert problem in str(info.value)


def test_passage_metadata_comment_overrides_file_defaults() -> None:
    """A comment under a heading sets that passage's frameworks and phases."""
    raw = ("---\nid: x\ntitle: t\nsource: s\nsource_version: v\nlicence: l\nframeworks: [pss]\n"
           "phases: [controls]\n---\n## A {#a.one}\n<!-- frameworks: cis; phases: identity -->\n"
           "text one\n## B {#a.two}\ntext two\n")
    doc = parse_corpus_file("ok.md", raw)
    assert (("cis",), ("identity",)) == (doc.passages[0].frameworks, doc.passages[0].phases)
    assert (("pss",), ("controls",)) == (doc.passages[1].frameworks, doc.passages[1].phases)
    assert "text one" == doc.passages[0].text


def _rule_metas() -> list[object]:
    metas: list[object] = []
    for phase in Phase:
        module = importlib.import_module(f"agents.rules.{phase.value}")
        metas.extend(getattr(item, "RULE", item) for item in getattr(module, "RULES", ()))
    return metas


def test_rule_kb_topics_are_known_keys() -> None:
    """Every kb_topics key set on a rule in the catalogue exists in kb.rule_topics."""
    unknown = {(meta.id, t) for meta in _rule_metas()  # type: ignore[attr-defined]
               for t in getattr(meta, "kb_topics", ()) if t not in TOPICS}
    assert set() == unknown
