-- Sessions of the web UI. The cookie holds a random session id; the table keeps only its SHA-256,
-- the reviewer, and the session's credential: an HMAC of the API token's digest keyed by the
-- session id, so a row alone says nothing about the token and the service can still tell that
-- the token is in KTMB_API_TOKENS_FILE (remove the token and its sessions end). Logout revokes a
-- session; expired and revoked rows are deleted at the next login.
-- depends: 0001_runs

CREATE TABLE ui_sessions (
    id_sha256   text PRIMARY KEY CHECK (id_sha256 ~ '^[0-9a-f]{64}$'),
    principal   text NOT NULL,
    credential  text NOT NULL CHECK (credential ~ '^[0-9a-f]{64}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    CHECK (expires_at > created_at)
);
CREATE INDEX ui_sessions_expires_idx ON ui_sessions (expires_at);
