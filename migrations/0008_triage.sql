-- Triage that carries over: the decisions reviewers take on findings (at a gate or in the UI),
-- kept per application and finding fingerprint with the digest of the evidence they were taken
-- on. A later run of the application re-applies a decision while the fingerprint and the
-- evidence digest are unchanged and it has not expired; otherwise the finding is reopened and
-- the old decision shown. triage holds the decision in force, triage_history every decision.
-- depends: 0001_runs

CREATE TABLE triage (
    application     text NOT NULL,
    finding_id      text NOT NULL,
    rule            text NOT NULL,
    phase           text NOT NULL,
    evidence_sha256 text NOT NULL CHECK (evidence_sha256 ~ '^[0-9a-f]{64}$'),
    status          text NOT NULL CHECK (status IN (
                        'open', 'accepted', 'mitigated', 'false_positive', 'question')),
    severity        text CHECK (severity IN ('critical', 'high', 'medium', 'low', 'info')),
    notes           jsonb NOT NULL DEFAULT '[]'::jsonb,
    owner           text,
    reason          text,
    expires         date,
    decided_by      text NOT NULL,
    decided_at      timestamptz NOT NULL,
    run_id          text,
    PRIMARY KEY (application, finding_id),
    -- An accepted risk has an owner, a reason and an expiry date.
    CHECK (status <> 'accepted' OR (owner IS NOT NULL AND reason IS NOT NULL
                                    AND expires IS NOT NULL))
);

CREATE TABLE triage_history (
    id              bigserial PRIMARY KEY,
    application     text NOT NULL,
    finding_id      text NOT NULL,
    decision        jsonb NOT NULL,
    decided_by      text NOT NULL,
    decided_at      timestamptz NOT NULL,
    run_id          text
);
CREATE INDEX triage_history_finding_idx ON triage_history (application, finding_id, decided_at);
