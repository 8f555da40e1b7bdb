-- The retrain loop: rules, and runs (the outbox: a run is written in the same transaction
-- that moves the rules cursor past the event that fired it).

CREATE TABLE rules (
    id                     TEXT PRIMARY KEY,
    source_id              TEXT NOT NULL,
    project_id             INTEGER NOT NULL,
    every                  INTEGER NOT NULL CHECK (every > 0),
    pipeline               TEXT NOT NULL,
    params_json            TEXT NOT NULL,
    counter                TEXT NOT NULL,
    overlap                TEXT NOT NULL,
    dry_run                INTEGER NOT NULL,
    start_time_limit_secs  INTEGER NOT NULL,
    created_at_ms          INTEGER NOT NULL,
    last_count             INTEGER,
    fired_bucket           INTEGER NOT NULL
);
CREATE INDEX rules_by_source_project ON rules (source_id, project_id);

CREATE TABLE runs (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_id               TEXT NOT NULL,
    pipeline              TEXT NOT NULL,
    event_id              INTEGER NOT NULL,
    count                 INTEGER NOT NULL,
    bucket_from           INTEGER NOT NULL,
    bucket_to             INTEGER NOT NULL,
    status                TEXT NOT NULL,
    params_json           TEXT NOT NULL,
    client_token          TEXT NOT NULL,
    execution_arn         TEXT,
    region                TEXT,
    created_at_ms         INTEGER NOT NULL,
    started_at_ms         INTEGER,
    finished_at_ms        INTEGER,
    attempts              INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms    INTEGER NOT NULL DEFAULT 0,
    deadline_at_ms        INTEGER NOT NULL,
    error                 TEXT,
    failure_reason        TEXT,
    steps_json            TEXT,
    steps_note            TEXT,
    next_poll_at_ms       INTEGER NOT NULL DEFAULT 0,
    polls                 INTEGER NOT NULL DEFAULT 0
);
-- Not unique: a rule deleted and created again reaches the same buckets, and the same
-- token then makes AWS return the execution it already started.
CREATE INDEX runs_by_token ON runs (client_token);
CREATE INDEX runs_by_status ON runs (status, next_attempt_at_ms);
CREATE INDEX runs_by_rule ON runs (rule_id, id DESC);
