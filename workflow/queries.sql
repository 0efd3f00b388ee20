-- Named queries of the run store. Each block starts with "-- name: <name>".

-- name: create_run
INSERT INTO runs (run_id, application, status, approval_policy, llm_provider, llm_model,
                  inputs_digest, inputs, options, owner_groups, created_by, profile_sha256,
                  kb_digest)
VALUES (%(run_id)s, %(application)s, %(status)s, %(approval_policy)s, %(llm_provider)s,
        %(llm_model)s, %(inputs_digest)s, %(inputs)s, %(options)s, %(owner_groups)s,
        %(created_by)s, %(profile_sha256)s, %(kb_digest)s);

-- name: set_status
UPDATE runs
SET status = %(status)s, pending_phase = %(pending_phase)s,
    current_phase = COALESCE(%(current_phase)s, current_phase),
    error = %(error)s, updated_at = now(),
    finished_at = CASE WHEN %(status)s IN ('completed', 'rejected', 'failed') THEN now()
                       ELSE NULL END
WHERE run_id = %(run_id)s;

-- name: interrupt_orphaned_runs
-- Runs recorded as running (all, or the one named) whose run lock (try_run_lock) no session
-- holds: the process executing them is gone, so they are interrupted, to be resumed. The lock's
-- bigint key appears in pg_locks as classid (high 32 bits), objid (low 32 bits), objsubid 1.
UPDATE runs
SET status = 'interrupted', updated_at = now(), finished_at = NULL,
    error = replace(%(reason)s, '{run_id}', run_id)
WHERE status = 'running'
  AND (%(run_id)s::text IS NULL OR run_id = %(run_id)s)
  AND NOT EXISTS (
      SELECT 1 FROM pg_locks AS l
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.classid = ((hashtextextended(runs.run_id, 42) >> 32) & 4294967295)::oid
        AND l.objid = (hashtextextended(runs.run_id, 42) & 4294967295)::oid)
RETURNING *;

-- name: set_current_phase
UPDATE runs SET current_phase = %(current_phase)s, updated_at = now() WHERE run_id = %(run_id)s;

-- name: get_run
SELECT * FROM runs WHERE run_id = %(run_id)s;

-- name: list_runs
SELECT * FROM runs
WHERE (%(application)s::text IS NULL OR application = %(application)s)
  AND (%(status)s::text IS NULL OR status = %(status)s)
  AND (%(viewer)s::text IS NULL OR cardinality(owner_groups) = 0
       OR owner_groups && %(viewer_groups)s::text[] OR created_by = %(viewer)s)
ORDER BY created_at DESC
LIMIT %(limit)s;

-- name: record_approval
INSERT INTO approvals (run_id, phase, decision, decided_by, comment, edits, decided_at)
VALUES (%(run_id)s, %(phase)s, %(decision)s, %(decided_by)s, %(comment)s, %(edits)s,
        %(decided_at)s);

-- name: approvals_of
SELECT phase, decision, decided_by, comment, edits, decided_at
FROM approvals WHERE run_id = %(run_id)s ORDER BY decided_at, id;

-- name: lock_application_versions
-- Serialises version numbering of one application until the end of the transaction.
SELECT pg_advisory_xact_lock(hashtextextended('ktmb.threat_models:' || %(application)s, 0));

-- name: save_threat_model
INSERT INTO threat_models (run_id, application, version, model)
SELECT %(run_id)s, %(application)s,
       COALESCE((SELECT max(version) FROM threat_models WHERE application = %(application)s), 0)
       + 1,
       %(model)s
ON CONFLICT (run_id) DO UPDATE SET model = EXCLUDED.model
RETURNING version;

-- name: get_threat_model
SELECT version, model FROM threat_models WHERE run_id = %(run_id)s;

-- name: try_run_lock
SELECT pg_try_advisory_lock(hashtextextended(%(run_id)s, 42)) AS locked;

-- name: release_run_lock
SELECT pg_advisory_unlock(hashtextextended(%(run_id)s, 42)) AS unlocked;

-- name: latest_threat_model
-- The application's latest completed run (its highest model version), other than one run.
SELECT run_id, version, model FROM threat_models
WHERE application = %(application)s AND run_id <> %(exclude)s
ORDER BY version DESC
LIMIT 1;
