-- Aquarium exports: one row per export (an issue's chosen elements sent to one target), and
-- one row per element with what it became. An element's request (a Label Studio task with
-- its predictions, or the element's fields for a template) is built once, when the export
-- is asked for, so the outbox item that delivers it sends exactly what the preview showed,
-- also after a restart. `sending` marks elements whose request is in flight: after a crash,
-- one found at the target is this export's own, not an earlier one's.
CREATE TABLE aquarium_exports (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    issue_id        TEXT NOT NULL,
    -- `label-studio:7`, `rest:URL`, `graphql:URL`: the same issue sent to the same target key
    -- is never sent twice.
    target_key      TEXT NOT NULL,
    target_json     TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
    last_error      TEXT,
    created_at_ms   INTEGER NOT NULL,
    finished_at_ms  INTEGER
);
CREATE INDEX aquarium_exports_by_issue ON aquarium_exports (issue_id, target_key);

CREATE TABLE aquarium_export_elements (
    export_id     INTEGER NOT NULL REFERENCES aquarium_exports (id) ON DELETE CASCADE,
    element_id    TEXT NOT NULL,
    position      INTEGER NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'created', 'skipped', 'failed')),
    request_json  TEXT,
    task_id       INTEGER,
    code          TEXT,
    message       TEXT,
    PRIMARY KEY (export_id, element_id)
);

-- Image sizes read from image headers (when Aquarium did not send them), by URL.
CREATE TABLE image_sizes (
    url         TEXT PRIMARY KEY,
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    read_at_ms  INTEGER NOT NULL
);
