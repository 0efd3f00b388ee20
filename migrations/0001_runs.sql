-- Runs, their approvals and the threat-model versions of each application.
-- depends:

CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE runs (
    run_id          text PRIMARY KEY,
    application     text NOT NULL,
    status          text NOT NULL CHECK (status IN (
                        'queued', 'running', 'awaiting_approval', 'completed', 'rejected',
                        'failed', 'interrupted')),
    approval_policy text[] NOT NULL DEFAULT '{}',
    llm_provider    text NOT NULL DEFAULT 'off',
    llm_model       text,
    inputs_digest   text NOT NULL,
    inputs          jsonb NOT NULL DEFAULT '[]'::jsonb,
    options         jsonb NOT NULL DEFAULT '{}'::jsonb,
    pending_phase   text,
    current_phase   text,
    error           text,
    owner_groups    text[] NOT NULL DEFAULT '{}',
    created_by      text NOT NULL DEFAULT 'unknown',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);
CREATE INDEX runs_application_idx ON runs (application, created_at DESC);
CREATE INDEX runs_status_idx ON runs (status);

CREATE TABLE approvals (
    id          bigserial PRIMARY KEY,
    run_id      text NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    phase       text NOT NULL,
    decision    text NOT NULL CHECK (decision IN ('approved', 'rejected')),
    decided_by  text NOT NULL,
    comment     text NOT NULL DEFAULT '',
    edits       jsonb,
    decided_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX approvals_run_idx ON approvals (run_id, decided_at);

CREATE TABLE threat_models (
    run_id       text PRIMARY KEY REFERENCES runs (run_id) ON DELETE CASCADE,
    application  text NOT NULL,
    version      integer NOT NULL,
    model        jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (application, version)
);
