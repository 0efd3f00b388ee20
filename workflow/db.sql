-- Named queries of the database set-up (workflow/db.py): reachability, the migration checksums
-- kept next to yoyo's own tables, the LangGraph checkpointer's schema version, and the session
-- advisory locks that serialise schema changes. Each block starts with "-- name: <name>".

-- name: ping
SELECT 1 AS ok;

-- name: server_version
SELECT current_setting('server_version') AS version;

-- name: try_advisory_lock
-- Never blocks: callers poll (a session blocked in pg_advisory_lock holds a snapshot).
SELECT pg_try_advisory_lock(%(key)s) AS locked;

-- name: advisory_unlock
SELECT pg_advisory_unlock(%(key)s) AS unlocked;

-- name: schema_tables_exist
-- Both bookkeeping tables exist: ours (checksums) and the checkpointer's.
SELECT to_regclass('ktmb_migration_checksums') IS NOT NULL
       AND to_regclass('checkpoint_migrations') IS NOT NULL AS present;

-- name: create_migration_checksums
CREATE TABLE IF NOT EXISTS ktmb_migration_checksums (
    migration text PRIMARY KEY,
    sha256 text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- name: migration_checksums
SELECT migration, sha256 FROM ktmb_migration_checksums;

-- name: record_migration_checksum
INSERT INTO ktmb_migration_checksums (migration, sha256)
VALUES (%(migration)s, %(sha256)s)
ON CONFLICT (migration) DO NOTHING;

-- name: checkpoint_version
SELECT max(v) AS version FROM checkpoint_migrations;
