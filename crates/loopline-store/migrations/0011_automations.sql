-- Automations (issue 26): a trigger and an action. The trigger and the action are kept as
-- JSON of loopline_core's AutomationTrigger and AutomationAction; neither ever holds a
-- secret, only the names of keychain entries.
CREATE TABLE automations (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    source_id      TEXT NOT NULL,
    trigger_json   TEXT NOT NULL,
    action_json    TEXT NOT NULL,
    dry_run        INTEGER NOT NULL,
    paused         INTEGER NOT NULL DEFAULT 0,
    created_at_ms  INTEGER NOT NULL,
    fired          INTEGER NOT NULL DEFAULT 0,
    -- For "every N": the counter's last value and the multiple last fired for.
    last_count     INTEGER,
    fired_bucket   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX automations_by_source ON automations (source_id);

-- One row per firing. The unique pair is what makes a firing happen once: a replayed
-- batch, a duplicate event or a second process deciding the same event finds the row and
-- writes nothing, and the row is written in the same transaction as its outbox item.
CREATE TABLE automation_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    automation_id    TEXT NOT NULL,
    event_id         INTEGER NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'would_fire')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    http_status      INTEGER,
    response         TEXT,
    error            TEXT,
    decided_at_ms    INTEGER NOT NULL,
    delivered_at_ms  INTEGER,
    UNIQUE (automation_id, event_id)
);
CREATE INDEX automation_deliveries_by_event ON automation_deliveries (event_id);
