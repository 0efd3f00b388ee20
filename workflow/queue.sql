-- Named queries of the job queue (workflow/queue.py) and its workers (workflow/worker.py).
-- procrastinate's own tables and queries are procrastinate's (its schema is applied with
-- App.schema_manager.apply_schema()); these only read them. Each block starts with
-- "-- name: <name>".
--
-- Databases set up by earlier ktmb versions may hold a table ktmb_queue_schema (the version of
-- procrastinate's schema recorded by a hand-written applier). Nothing reads or requires it any
-- more; it is harmless and may be dropped.

-- name: queue_schema_present
-- procrastinate's main table exists (the same test as procrastinate's check_connection).
SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS present;

-- name: try_advisory_lock
SELECT pg_try_advisory_lock(%(key)s) AS locked;

-- name: advisory_unlock
SELECT pg_advisory_unlock(%(key)s) AS unlocked;

-- name: run_progress
-- Where the given runs stand, and whether the queue still holds work for them.
SELECT r.run_id, r.application, r.status, r.error,
       EXISTS (SELECT 1 FROM procrastinate_jobs j
               WHERE j.queue_name = %(queue)s AND j.lock = r.run_id
                 AND j.status IN ('todo', 'doing')) AS pending
FROM runs r
WHERE r.run_id = ANY(%(run_ids)s);
