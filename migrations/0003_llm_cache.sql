-- Cache of model answers, keyed by the sha256 of provider, model, prompt id/version and the
-- rendered prompt (system + phase prompt with every input). An unchanged phase is answered from
-- here without calling the model; a changed input renders a different prompt and misses.
-- depends: 0001_runs

CREATE TABLE llm_cache (
    key               text PRIMARY KEY CHECK (key ~ '^[0-9a-f]{64}$'),
    provider          text NOT NULL,
    model             text NOT NULL,
    model_digest      text,
    prompt_id         text NOT NULL,
    prompt_version    integer NOT NULL CHECK (prompt_version >= 1),
    prompt_sha256     text NOT NULL,
    answer            jsonb NOT NULL,
    prompt_tokens     integer NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
    completion_tokens integer NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
    hits              integer NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now(),
    last_hit_at       timestamptz
);
CREATE INDEX llm_cache_prompt_idx ON llm_cache (prompt_id, prompt_version);
CREATE INDEX llm_cache_created_idx ON llm_cache (created_at);
