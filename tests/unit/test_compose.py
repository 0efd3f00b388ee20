"""compose.yaml cannot be started here (no Docker engine): parse it and check its contract."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))


def test_compose_has_the_production_services():
    """PostgreSQL with pgvector, Ollama, the review service and workers are all defined."""
    services = _compose()["services"]
    assert {"postgres", "ollama", "serve", "worker"} == set(services)
    assert services["postgres"]["image"].startswith("pgvector/pgvector:")


def test_ollama_pulls_both_models_on_first_start():
    """The Ollama service pulls phi4-mini and all-minilm and reports healthy only then."""
    ollama = _compose()["services"]["ollama"]
    script = " ".join(ollama["command"])
    assert "ollama pull phi4-mini" in script
    assert "ollama pull all-minilm" in script
    assert "phi4-mini" in ollama["healthcheck"]["test"][1]


def test_ktmb_services_use_the_database_and_model_host():
    """serve and worker run ktmb against the compose PostgreSQL and Ollama."""
    services = _compose()["services"]
    for name, command in (("serve", "serve"), ("worker", "worker")):
        service = services[name]
        assert ["ktmb", command] == service["command"][:2]
        env = service["environment"]
        assert env["KTMB_DATABASE_URL"].startswith("postgresql://ktmb:")
        assert "@postgres:5432/ktmb" in env["KTMB_DATABASE_URL"]
        assert "http://ollama:11434" == env["OLLAMA_HOST"]
        assert "service_healthy" == service["depends_on"]["postgres"]["condition"]
    assert 2 <= services["worker"]["deploy"]["replicas"]


def test_no_literal_secrets_in_compose():
    """Passwords and keys come from the environment or secrets files, never literals."""
    text = (REPO / "compose.yaml").read_text(encoding="utf-8")
    for match in re.finditer(r"^\s*\w*(PASSWORD|REDACTION_KEY)\w*:\s*(.+)$", text, re.MULTILINE):
        assert match.group(2).strip().startswith("${"), match.group(0)
    assert "change-me" not in text


def test_dockerfile_copies_every_package_the_build_needs():
    """Every path the Dockerfile copies exists in the repository."""
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    copied = re.findall(r"^COPY (\S+)(?: (\S+))? \S+$", dockerfile, re.MULTILINE)
    assert copied
    for first, second in copied:
        for name in (first, second):
            if name:
                assert (REPO / name).exists(), name
