"""The built-in corpus (``kb/corpus/*.md``): parse its documents and passages, compute its digest.

A corpus file is Markdown with YAML front matter (``id``, ``title``, ``source``,
``source_version``, ``licence``, ``frameworks``, ``phases``). Every ``## Heading {#anchor}``
starts one passage whose stable id is the anchor; rules link to passages by these ids through
:mod:`kb.rule_topics`. A passage may override the file's frameworks and phases with an HTML
comment on the line after its heading: ``<!-- frameworks: pss, cis; phases: controls -->``.
Source and source version are per file, so every passage of a file cites the same source.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from importlib import resources
from importlib.abc import Traversable
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from workflow.domain.errors import ConfigError
from workflow.domain.threat_model import Phase

__all__ = [
    "FRAMEWORKS",
    "CorpusDocument",
    "CorpusPassage",
    "corpus_digest",
    "corpus_files",
    "load_corpus",
    "parse_corpus_file",
]

FRAMEWORKS: dict[str, str] = {
    "stride": "STRIDE threat categories applied to Kubernetes components",
    "mitre-attack": "MITRE ATT&CK (Containers matrix and related Enterprise techniques)",
    "ms-threat-matrix": "Microsoft Threat Matrix for Kubernetes",
    "owasp-k8s-2022": "OWASP Kubernetes Top 10, 2022 edition",
    "owasp-k8s-2025": "OWASP Kubernetes Top 10, 2025 draft",
    "pss": "Kubernetes Pod Security Standards",
    "nsa-cisa": "NSA/CISA Kubernetes Hardening Guidance",
    "cis": "CIS Kubernetes Benchmark section numbers (our own wording)",
    "k8s-docs": "Kubernetes documentation (security checklist, RBAC and secrets good practices)",
    "eks": "Amazon EKS specifics",
    "gke": "Google GKE specifics",
    "aks": "Azure AKS specifics",
    "ktmb": "ktmb recommendations, synthesised from the sources they cite",
}
"""Framework keys used in passages and accepted by the retriever's ``framework`` filter."""

_SKIP = {"README.md", "NOTICE.md"}
_ANCHOR = re.compile(r"^##\s+(.+?)\s*\{#([a-z0-9][a-z0-9._-]*)\}\s*$")
_META = re.compile(r"^<!--\s*(.*?)\s*-->\s*$")
_FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)


class CorpusPassage(BaseModel):
    """One passage of the built-in corpus."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    text: str
    source: str
    source_version: str
    frameworks: tuple[str, ...]
    phases: tuple[str, ...]


class CorpusDocument(BaseModel):
    """One corpus file."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    path: str
    sha256: str
    source: str
    source_version: str
    licence: str
    frameworks: tuple[str, ...]
    phases: tuple[str, ...]
    passages: tuple[CorpusPassage, ...] = Field(default=())


def _corpus_dir() -> Traversable:
    return resources.files("kb").joinpath("corpus")


def corpus_files() -> list[Traversable]:
    """The passage files of the built-in corpus, sorted by name."""
    return sorted((f for f in _corpus_dir().iterdir()
                   if f.name.endswith(".md") and f.name not in _SKIP), key=lambda f: f.name)


def _list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return tuple(str(v).strip() for v in value)


def _check_keys(where: str, frameworks: tuple[str, ...], phases: tuple[str, ...]) -> None:
    unknown = [f for f in frameworks if f not in FRAMEWORKS]
    if unknown:
        raise ConfigError(f"{where}: unknown framework keys {unknown}")
    valid_phases = {p.value for p in Phase}
    bad = [p for p in phases if p not in valid_phases]
    if bad:
        raise ConfigError(f"{where}: unknown phases {bad}")


def _apply_passage_meta(where: str, current: dict[str, Any], text: str) -> None:
    for part in text.split(";"):
        if ":" not in part:
            continue
        key, value = (s.strip() for s in part.split(":", 1))
        if key in ("frameworks", "phases"):
            current[key] = _list(value)
        else:
            raise ConfigError(f"{where}: unknown passage key {key!r}")
    _check_keys(where, current["frameworks"], current["phases"])


def parse_corpus_file(name: str, raw: str) -> CorpusDocument:
    """Parse one corpus file.

    Raises:
        ConfigError: the front matter or a passage is malformed.
    """
    front = _FRONT.match(raw)
    if not front:
        raise ConfigError(f"kb/corpus/{name}: missing YAML front matter")
    meta = yaml.safe_load(front.group(1)) or {}
    for key in ("id", "title", "source", "source_version", "licence", "frameworks", "phases"):
        if not meta.get(key):
            raise ConfigError(f"kb/corpus/{name}: front matter lacks {key!r}")
    doc_frameworks, doc_phases = _list(meta["frameworks"]), _list(meta["phases"])
    _check_keys(f"kb/corpus/{name}", doc_frameworks, doc_phases)
    passages: list[CorpusPassage] = []
    current: dict[str, Any] | None = None
    body: list[str] = []

    def flush() -> None:
        if current is None:
            return
        text = "\n".join(body).strip()
        if not text:
            raise ConfigError(f"kb/corpus/{name}: passage {current['id']} is empty")
        passages.append(CorpusPassage(text=text, **current))

    for line in raw[front.end():].splitlines():
        if line.startswith("## "):
            flush()
            match = _ANCHOR.match(line)
            if not match:
                raise ConfigError(f"kb/corpus/{name}: heading without an anchor: {line!r}")
            current = {"id": match.group(2), "title": match.group(1),
                       "source": str(meta["source"]), "source_version": str(meta["source_version"]),
                       "frameworks": doc_frameworks, "phases": doc_phases}
            body = []
            continue
        meta_line = _META.match(line) if current is not None and not body else None
        if current is not None and meta_line is not None:
            _apply_passage_meta(f"kb/corpus/{name}#{current['id']}", current,
                                meta_line.group(1))
            body.append("")
            continue
        if current is not None:
            body.append(line)
    flush()
    if not passages:
        raise ConfigError(f"kb/corpus/{name}: no passages")
    return CorpusDocument(
        id=str(meta["id"]), title=str(meta["title"]), path=f"kb/corpus/{name}",
        sha256=hashlib.sha256(raw.encode("utf-8")).hexdigest(), source=str(meta["source"]),
        source_version=str(meta["source_version"]), licence=str(meta["licence"]),
        frameworks=doc_frameworks, phases=doc_phases, passages=tuple(passages))


@cache
def load_corpus() -> tuple[CorpusDocument, ...]:
    """Every document of the built-in corpus (parsed once per process).

    Raises:
        ConfigError: a file is malformed or a passage id is used twice.
    """
    docs = tuple(parse_corpus_file(f.name, f.read_text(encoding="utf-8"))
                 for f in corpus_files())
    seen: dict[str, str] = {}
    for doc in docs:
        for passage in doc.passages:
            if passage.id in seen:
                raise ConfigError(f"passage id {passage.id} is used in {seen[passage.id]} "
                                  f"and {doc.path}")
            seen[passage.id] = doc.path
    doc_ids = [d.id for d in docs]
    if len(set(doc_ids)) != len(doc_ids):
        raise ConfigError("two corpus files share a document id")
    return docs


def corpus_digest() -> str:
    """sha256 over the corpus files (names and bytes): changes whenever the corpus does."""
    digest = hashlib.sha256()
    for f in corpus_files():
        digest.update(f.name.encode())
        digest.update(b"\0")
        digest.update(f.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()
