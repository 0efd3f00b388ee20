"""``ktmb doctor`` passes on the default install (``--llm off``) and names each optional gap."""

from __future__ import annotations

import pytest

from tests.security.cli_process import ktmb

pytestmark = pytest.mark.e2e

#: A loopback port nothing listens on: Ollama is absent, as on a default install.
NO_OLLAMA = {"OLLAMA_HOST": "http://127.0.0.1:9"}


def test_default_install_without_ollama_passes(cli_env: dict[str, str]) -> None:
    """No Ollama, embeddings off: exit 0; Ollama and embeddings reported with their fix."""
    done = ktmb({**cli_env, **NO_OLLAMA}, "doctor")
    assert 0 == done.returncode, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [] == [line for line in lines if line.startswith("[FAIL]")]
    assert any(line.startswith("[ok  ] database") for line in lines), done.stdout
    assert any(line.startswith("[ok  ] knowledge base") for line in lines), done.stdout
    assert any(line.startswith("[warn] Ollama") for line in lines), done.stdout
    assert any(line.startswith("[warn] embeddings") for line in lines), done.stdout
    assert "       fix: ollama serve" in done.stdout
    assert "       fix: unset KTMB_EMBEDDINGS" in done.stdout
    assert "ready: ktmb run works with --llm off" == lines[-1]


def test_asking_for_ollama_without_it_fails(cli_env: dict[str, str]) -> None:
    """``--llm ollama`` needs the host and the model: exit 1 with the fix."""
    done = ktmb({**cli_env, **NO_OLLAMA}, "doctor", "--llm", "ollama")
    assert 1 == done.returncode, done.stdout + done.stderr
    assert any(line.startswith("[FAIL] Ollama") for line in done.stdout.splitlines())
    assert "not ready: ktmb run --llm ollama needs what is marked FAIL" == \
        done.stdout.splitlines()[-1]


def test_unreachable_database_fails_the_default(cli_env: dict[str, str]) -> None:
    """The default path needs the database: without it doctor exits 1."""
    env = {**cli_env, **NO_OLLAMA,
           "KTMB_DATABASE_URL": "postgresql://ktmb:Db-Planted-Pw@127.0.0.1:1/ktmb"}
    done = ktmb(env, "doctor")
    assert 1 == done.returncode, done.stdout + done.stderr
    assert any(line.startswith("[FAIL] database") for line in done.stdout.splitlines())
    assert "Db-Planted-Pw" not in done.stdout + done.stderr
