-- Settings the user changes in the app or the CLI (e.g. the receiver's listen address);
-- kept in the database so every process on one data dir sees the same values.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- The parsed project of an event, so the timeline can filter by it without reparsing bodies.
ALTER TABLE events ADD COLUMN project_id INTEGER;
CREATE INDEX events_by_project ON events (project_id, id DESC);
