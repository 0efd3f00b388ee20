"""The model-answer cache in a real PostgreSQL (migration 0003_llm_cache)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from agents.enrichment.enricher import EnrichmentResult
from agents.llm.client import LlmAnswer
from agents.llm_cache import CachedAnswer, cache_key
from tests.unit.llm.llm_support import enrich_phase
from workflow.db import MIGRATIONS_DIR, Database
from workflow.doctor import run_doctor
from workflow.domain.errors import StoreError
from workflow.domain.inputs import load_inputs
from workflow.domain.settings import Settings
from workflow.domain.threat_model import LlmInfo, Phase
from workflow.llm_cache_store import QUERIES, PgLlmCache

pytestmark = pytest.mark.integration

MANIFESTS = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: api
        image: shop/api:1.0
        env:
        - name: TOKEN
          valueFrom: {secretKeyRef: {name: api-token, key: token}}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {type: LoadBalancer, selector: {app: api}, ports: [{port: 443, targetPort: 8443}]}
---
apiVersion: v1
kind: Secret
metadata: {name: api-token, namespace: shop}
data: {token: c2VjcmV0LXZhbHVl}
"""

ANSWER = {"threats": [{
    "title": "Stolen API token reused from outside", "description": "d",
    "stride": ["spoofing"], "resources": ["Deployment/shop/api"], "likelihood": 3, "impact": 4,
    "rationale": "r", "recommendation": "Rotate the token.", "citations": []}],
    "recommendations": []}


class CountingModel:
    """A model that always gives the same answer and counts calls."""

    def __init__(self) -> None:
        self.calls = 0

    @property
    def info(self) -> LlmInfo:
        return LlmInfo(provider="fake", model="counting")

    def structured(self, schema: type[BaseModel], *, system: str, prompt: str,
                   num_ctx: int) -> LlmAnswer:
        self.calls += 1
        return LlmAnswer(value=schema.model_validate_json(json.dumps(ANSWER)),
                         prompt_tokens=500, completion_tokens=80)


@pytest.fixture
def database(settings: Settings, tmp_path: Path) -> Iterator[Database]:
    """A database with only 0001_runs and 0003_llm_cache applied (yoyo, as in production).

    Only the two migrations the cache needs are applied, so this test does not depend on the
    other migrations (``workflow.db.open_database`` applies them all).
    """
    from yoyo import get_backend, read_migrations

    chosen = tmp_path / "migrations"
    chosen.mkdir()
    for name in ("0001_runs.sql", "0003_llm_cache.sql"):
        shutil.copy(MIGRATIONS_DIR / name, chosen / name)
    url = settings.database_url or ""
    backend = get_backend(re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url))
    try:
        with backend.lock():
            backend.apply_migrations(backend.to_apply(read_migrations(str(chosen))))
    finally:
        backend.connection.close()
    db = Database(url, max_size=2)
    yield db
    db.close()


def inventory(tmp_path: Path, settings: Settings, text: str = MANIFESTS) -> Any:
    path = tmp_path / "app.yaml"
    path.write_text(text)
    return load_inputs([path], settings=settings).inventory


def entry(key: str = "a" * 64, **overrides: Any) -> CachedAnswer:
    values: dict[str, Any] = {
        "key": key, "provider": "ollama", "model": "phi4-mini", "model_digest": "sha256:1",
        "prompt_id": "network", "prompt_version": 1, "prompt_sha256": "f" * 64,
        "answer": ANSWER, "prompt_tokens": 900, "completion_tokens": 120}
    values.update(overrides)
    return CachedAnswer(**values)


def test_migration_creates_the_cache_table(database: Database) -> None:
    """Migration 0003 creates llm_cache with its key check and token columns."""
    with database.connection() as conn:
        columns = {r["column_name"] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'llm_cache'")}
    assert {"key", "provider", "model", "model_digest", "prompt_id", "prompt_version",
            "prompt_sha256", "answer", "prompt_tokens", "completion_tokens", "hits",
            "created_at", "last_hit_at"} == columns


def test_put_then_get_round_trips_and_counts_hits(database: Database) -> None:
    """An answer comes back as stored; every get counts a hit."""
    cache = PgLlmCache(database)
    assert None is cache.get("a" * 64)
    cache.put(entry())
    got = cache.get("a" * 64)
    assert got is not None
    assert (ANSWER, 900, 120) == (got.answer, got.prompt_tokens, got.completion_tokens)
    assert got.created_at is not None
    cache.get("a" * 64)
    with database.connection() as conn:
        row = conn.execute("SELECT hits FROM llm_cache WHERE key = %s", ("a" * 64,)).fetchone()
    assert {"hits": 2} == row


def test_existing_key_is_kept(database: Database) -> None:
    """A second put of the same key leaves the first answer."""
    cache = PgLlmCache(database)
    cache.put(entry())
    cache.put(entry(answer={"threats": [], "recommendations": []}, prompt_tokens=1))
    got = cache.get("a" * 64)
    assert got is not None
    assert (ANSWER, 1) == (got.answer, cache.count())


def test_malformed_key_is_refused(database: Database) -> None:
    """The table refuses a key that is not a sha256 (the model refuses it first)."""
    with pytest.raises(StoreError, match="model cache put failed"), database.connection() as conn:
        try:
            conn.execute(QUERIES["put"], {**entry().model_dump(exclude={"created_at"}),
                                          "key": "not-a-hash", "answer": "{}"})
        except Exception as exc:
            raise StoreError(f"model cache put failed: {type(exc).__name__}") from exc


def test_closed_pool_raises_store_error(database: Database, settings: Settings) -> None:
    """A database that went away surfaces as StoreError, never a driver exception."""
    broken = Database(settings.database_url or "", max_size=1)
    broken.close()
    with pytest.raises(StoreError):
        PgLlmCache(broken).get("b" * 64)


def test_rerun_of_unchanged_application_makes_no_model_call(
        database: Database, settings: Settings, tmp_path: Path) -> None:
    """Eight phases twice: the second run (a new cache object) asks the model nothing."""
    inv = inventory(tmp_path, settings)
    model = CountingModel()
    first: list[EnrichmentResult] = []
    for phase in Phase:
        first.append(enrich_phase(phase, inv, [], [], None, None, model, PgLlmCache(database)))
    assert 8 == model.calls
    second = [enrich_phase(phase, inv, [], [], None, None, model, PgLlmCache(database))
              for phase in Phase]
    assert 8 == model.calls
    assert [r.findings for r in first] == [r.findings for r in second]
    assert {1} == {r.usage.cached_calls for r in second}
    assert 8 == PgLlmCache(database).count()


def test_changed_manifest_reruns_only_phases_that_see_it(
        database: Database, settings: Settings, tmp_path: Path) -> None:
    """Adding a key to the Secret re-asks the data phase only (of data and network)."""
    model = CountingModel()
    cache = PgLlmCache(database)
    before = inventory(tmp_path, settings)
    for phase in (Phase.DATA, Phase.NETWORK):
        enrich_phase(phase, before, [], [], None, None, model, cache)
    after = inventory(tmp_path, settings,
                      MANIFESTS.replace("data: {token: c2VjcmV0LXZhbHVl}",
                                        "data: {token: c2VjcmV0LXZhbHVl, extra: eA==}"))
    results = {phase: enrich_phase(phase, after, [], [], None, None, model, cache)
               for phase in (Phase.DATA, Phase.NETWORK)}
    assert 3 == model.calls
    assert (1, 0) == (results[Phase.DATA].usage.calls, results[Phase.DATA].usage.cached_calls)
    assert (0, 1) == (results[Phase.NETWORK].usage.calls,
                      results[Phase.NETWORK].usage.cached_calls)


def test_secret_values_never_reach_prompt_or_cache(
        database: Database, settings: Settings, tmp_path: Path) -> None:
    """The Secret's value is redacted before the prompt, so the cache cannot hold it."""
    seen: list[str] = []

    class Spy(CountingModel):
        def structured(self, schema: type[BaseModel], *, system: str, prompt: str,
                       num_ctx: int) -> LlmAnswer:
            seen.append(prompt)
            return super().structured(schema, system=system, prompt=prompt, num_ctx=num_ctx)

    enrich_phase(Phase.DATA, inventory(tmp_path, settings), [], [], None, None, Spy(),
                 PgLlmCache(database))
    assert "c2VjcmV0LXZhbHVl" not in seen[0]
    assert "secret-value" not in seen[0]
    with database.connection() as conn:
        dumped = json.dumps([r["answer"] for r in conn.execute("SELECT answer FROM llm_cache")])
    assert "c2VjcmV0LXZhbHVl" not in dumped


def test_cache_key_depends_on_every_input() -> None:
    """Changing any part of the material changes the key."""
    base: dict[str, Any] = {"provider": "ollama", "model": "phi4-mini", "prompt_id": "data",
                            "prompt_version": 1, "prompt_sha256": "x", "schema": {"a": 1},
                            "num_ctx": 8192, "system": "s", "prompt": "p"}
    keys = {cache_key(**base)}
    for name, value in (("provider", "llamacpp"), ("model", "phi4"), ("prompt_id", "network"),
                        ("prompt_version", 2), ("prompt_sha256", "y"), ("schema", {"a": 2}),
                        ("num_ctx", 4096), ("system", "s2"), ("prompt", "p2")):
        keys.add(cache_key(**{**base, name: value}))
    assert 10 == len(keys)


def test_doctor_reports_the_database_reachable(settings: Settings) -> None:
    """The doctor's database check passes against the test server."""
    checks = run_doctor(provider="off", host="127.0.0.1", settings=settings)
    database = next(c for c in checks if c.name == "database")
    assert True is database.ok
    assert "PostgreSQL" in database.detail


def test_cache_works_after_the_full_migration_chain(settings: Settings) -> None:
    """open_database applies every migration, 0003 included; the cache is then usable."""
    from workflow.db import open_database

    cache = PgLlmCache(open_database(settings))
    cache.put(entry(key="c" * 64))
    assert 1 == cache.count()
