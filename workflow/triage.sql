-- Named queries of the triage store (workflow/triage_store.py). Each block starts with
-- "-- name: <name>".

-- name: record_decision
INSERT INTO triage (application, finding_id, rule, phase, evidence_sha256, status, severity,
                    notes, owner, reason, expires, decided_by, decided_at, run_id)
VALUES (%(application)s, %(finding_id)s, %(rule)s, %(phase)s, %(evidence_sha256)s, %(status)s,
        %(severity)s, %(notes)s, %(owner)s, %(reason)s, %(expires)s, %(decided_by)s,
        %(decided_at)s, %(run_id)s)
ON CONFLICT (application, finding_id) DO UPDATE SET
    rule = EXCLUDED.rule, phase = EXCLUDED.phase, evidence_sha256 = EXCLUDED.evidence_sha256,
    status = EXCLUDED.status, severity = EXCLUDED.severity, notes = EXCLUDED.notes,
    owner = EXCLUDED.owner, reason = EXCLUDED.reason, expires = EXCLUDED.expires,
    decided_by = EXCLUDED.decided_by, decided_at = EXCLUDED.decided_at,
    run_id = EXCLUDED.run_id;

-- name: record_history
INSERT INTO triage_history (application, finding_id, decision, decided_by, decided_at, run_id)
VALUES (%(application)s, %(finding_id)s, %(decision)s, %(decided_by)s, %(decided_at)s,
        %(run_id)s);

-- name: decisions_of
SELECT finding_id, rule, phase, evidence_sha256, status, severity, notes, owner, reason,
       expires, decided_by, decided_at, run_id
FROM triage WHERE application = %(application)s ORDER BY finding_id;

-- name: history_of
SELECT finding_id, decision, decided_by, decided_at, run_id
FROM triage_history
WHERE application = %(application)s
  AND (%(finding_id)s::text IS NULL OR finding_id = %(finding_id)s)
ORDER BY decided_at, id;
