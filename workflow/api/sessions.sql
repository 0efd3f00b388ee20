-- Named queries of the web UI's sessions (workflow/api/sessions.py; table in
-- migrations/0007_sessions.sql). Each block starts with "-- name: <name>".

-- name: create_session
INSERT INTO ui_sessions (id_sha256, principal, credential, expires_at)
VALUES (%(id_sha256)s, %(principal)s, %(credential)s, now() + %(lifetime)s);

-- name: find_session
-- A live session: neither revoked nor expired.
SELECT principal, credential FROM ui_sessions
WHERE id_sha256 = %(id_sha256)s AND revoked_at IS NULL AND expires_at > now();

-- name: revoke_session
UPDATE ui_sessions SET revoked_at = now()
WHERE id_sha256 = %(id_sha256)s AND revoked_at IS NULL;

-- name: purge_sessions
DELETE FROM ui_sessions WHERE expires_at <= now() OR revoked_at IS NOT NULL;
