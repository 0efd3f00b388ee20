"""``ktmb doctor``: each gap is reported with the command that fixes it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

import workflow.doctor as doctor
from tests.unit.llm.llm_support import ollama_tags_response
from workflow.doctor import Check, doctor_report, run_doctor


def tags(*models: str) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        assert "/api/tags" == request.url.path
        return ollama_tags_response(*models)
    return httpx.MockTransport(handler)


def refused() -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")
    return httpx.MockTransport(handler)


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def test_ready_ollama_passes() -> None:
    """A reachable host with the model pulled passes every required check."""
    checks, ok = doctor_report(provider="ollama", host="127.0.0.1",
                               transport=tags("phi4-mini:latest"), check_database=False)
    found = by_name(checks)
    assert True is ok
    assert (True, True) == (found["Ollama reachable"].ok, found["Ollama model pulled"].ok)
    assert None is found["Ollama model pulled"].fix


def test_model_not_pulled_names_the_pull_command() -> None:
    """A missing model fails with 'ollama pull <model>'."""
    checks, ok = doctor_report(provider="ollama", model="phi4-mini:3.8b-q8_0", host="127.0.0.1",
                               transport=tags("llama3:latest"), check_database=False)
    found = by_name(checks)
    assert False is ok
    assert "ollama pull phi4-mini:3.8b-q8_0" == found["Ollama model pulled"].fix


def test_host_down_names_the_start_command() -> None:
    """An unreachable host fails with how to start Ollama, then pull the model."""
    checks, ok = doctor_report(provider="ollama", host="127.0.0.1", transport=refused(),
                               check_database=False)
    found = by_name(checks)
    assert False is ok
    assert (found["Ollama reachable"].fix or "").startswith("ollama serve")
    assert "ollama serve, then: ollama pull phi4-mini" == found["Ollama model pulled"].fix


def test_remote_host_is_flagged_with_the_flag_to_allow_it() -> None:
    """A public host fails the 'allowed' check and is never contacted."""
    checks, ok = doctor_report(provider="ollama", host="8.8.8.8", transport=refused(),
                               check_database=False)
    found = by_name(checks)
    assert False is ok
    assert "--allow-remote-model" in (found["Ollama host allowed"].fix or "")
    assert "Ollama reachable" not in found


def test_off_provider_does_not_require_a_model() -> None:
    """With --llm off a missing Ollama is reported but not required."""
    checks, ok = doctor_report(provider="off", host="127.0.0.1", transport=refused(),
                               check_database=False)
    assert True is ok
    assert False is by_name(checks)["Ollama reachable"].required


def test_llamacpp_missing_backend_names_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without llama-cpp-python the llamacpp provider fails with the pip command."""
    monkeypatch.setattr(doctor, "llama_cpp_available", lambda: False)
    checks, ok = doctor_report(provider="llamacpp", host="127.0.0.1", transport=refused(),
                               check_database=False)
    found = by_name(checks)
    assert False is ok
    assert "pip install 'ktmb[llamacpp]'" in (found["llama.cpp installed"].fix or "")
    assert False is found["Ollama reachable"].required


def test_llamacpp_missing_gguf_file(tmp_path: Path) -> None:
    """A --model path that does not exist is a failed required check."""
    checks = run_doctor(provider="llamacpp", model=str(tmp_path / "x.gguf"), host="127.0.0.1",
                        transport=refused(), check_database=False)
    found = by_name(checks)
    assert False is found["llama.cpp GGUF model file"].ok
    assert True is found["llama.cpp GGUF model file"].required


def test_unknown_provider_fails() -> None:
    """An unknown provider is a failed check with the valid choices."""
    checks, ok = doctor_report(provider="gpt", check_database=False)
    assert False is ok
    assert "pass --llm ollama, --llm llamacpp or --llm off" == checks[0].fix


def test_unreachable_database_url_names_the_fix(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    """A database URL that cannot be reached fails with what to check."""
    from workflow.domain.settings import Settings

    settings = Settings(home=tmp_path,
                        database_url=f"postgresql://ktmb:secret@/ktmb?host={tmp_path}")
    checks = run_doctor(provider="off", host="127.0.0.1", transport=refused(),
                        settings=settings)
    database = by_name(checks)["database"]
    assert False is database.ok
    assert "KTMB_DATABASE_URL" in (database.fix or "")
    assert "secret" not in database.detail


def test_malformed_host_is_a_failed_check() -> None:
    """A host with an unsupported scheme is reported, not raised."""
    checks, ok = doctor_report(provider="ollama", host="ftp://10.0.0.1", check_database=False)
    found = by_name(checks)
    assert False is ok
    assert "must use http or https" in found["Ollama host allowed"].detail


def test_embeddings_through_ollama_name_the_pull(monkeypatch: pytest.MonkeyPatch) -> None:
    """KTMB_EMBEDDINGS=ollama without all-minilm pulled: optional, with the pull command."""
    monkeypatch.setenv("KTMB_EMBEDDINGS", "ollama")
    monkeypatch.delenv("KTMB_OLLAMA_HOST", raising=False)
    checks, ok = doctor_report(host="127.0.0.1", transport=tags("phi4-mini:latest"),
                               check_database=False)
    embeddings = by_name(checks)["embeddings"]
    assert (True, False, False) == (ok, embeddings.ok, embeddings.required)
    assert "ollama serve, then: ollama pull all-minilm" == embeddings.fix


def test_embeddings_off_is_optional_with_its_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    """KTMB_EMBEDDINGS=off: keyword search only, reported, never failing the doctor."""
    monkeypatch.setenv("KTMB_EMBEDDINGS", "off")
    checks, ok = doctor_report(host="127.0.0.1", transport=refused(), check_database=False)
    embeddings = by_name(checks)["embeddings"]
    assert (True, False, False) == (ok, embeddings.ok, embeddings.required)
    assert "off (KTMB_EMBEDDINGS=off): knowledge-base search by keywords only" == \
        embeddings.detail


def test_unknown_embeddings_setting_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """A KTMB_EMBEDDINGS value a run would refuse fails the doctor."""
    monkeypatch.setenv("KTMB_EMBEDDINGS", "word2vec")
    checks, ok = doctor_report(host="127.0.0.1", transport=refused(), check_database=False)
    assert (False, True) == (ok, by_name(checks)["embeddings"].required)
