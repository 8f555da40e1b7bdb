-- One durable outbox for every outbound side effect (a retrain start now; Label Studio
-- webhook updates, Aquarium exports and setup steps next). An item is written in the same
-- transaction as the decision that needs it, and a worker delivers it: claimed as a lease
-- (`lease_owner`, one id per engine process, renewed while the call is in flight), retried
-- with backoff until `deadline_at_ms`, its last error kept in words. The app and `loopline
-- serve` on one data directory each run a worker; an `in_flight` item whose lease is still
-- held belongs to the other one, and only an expired lease is taken over.
CREATE TABLE outbox_items (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    kind                TEXT NOT NULL,
    -- What makes a second enqueue of the same effect a no-op (for a retrain start: the run).
    idempotency_key     TEXT NOT NULL,
    -- The row the effect is about (for a retrain start: runs.id).
    subject_id          INTEGER,
    payload_json        TEXT NOT NULL DEFAULT '{}',
    state               TEXT NOT NULL CHECK (state IN ('pending', 'in_flight', 'done', 'failed')),
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms  INTEGER NOT NULL,
    deadline_at_ms      INTEGER NOT NULL,
    lease_owner         TEXT,
    lease_until_ms      INTEGER,
    last_error          TEXT,
    created_at_ms       INTEGER NOT NULL,
    finished_at_ms      INTEGER,
    UNIQUE (kind, idempotency_key)
);
CREATE INDEX outbox_due ON outbox_items (state, next_attempt_at_ms) WHERE state IN ('pending', 'in_flight');
CREATE INDEX outbox_by_subject ON outbox_items (kind, subject_id);

-- Runs waiting to start, or left `starting` by a process that stopped mid-call (taken over
-- at once: no lease), become retrain-start items.
INSERT INTO outbox_items (kind, idempotency_key, subject_id, state, attempts, next_attempt_at_ms,
                          deadline_at_ms, last_error, created_at_ms)
SELECT 'retrain.start', 'run:' || id, id,
       CASE status WHEN 'starting' THEN 'in_flight' ELSE 'pending' END,
       attempts, next_attempt_at_ms, deadline_at_ms, error, created_at_ms
FROM runs WHERE status IN ('pending', 'starting');
