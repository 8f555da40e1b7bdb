-- The receiver: per-source secrets (digests only), parsed event fields for the timeline,
-- duplicate and replay links, and full-text search over payloads.

-- One row per secret a source accepts. Only a SHA-256 digest is kept: the request path
-- compares digests and never needs the plaintext. A rotated-out secret keeps working until
-- expires_at_ms (the grace period the user chose); NULL means no expiry.
CREATE TABLE source_secrets (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id     TEXT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    digest        BLOB NOT NULL,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER
);
CREATE INDEX source_secrets_by_source ON source_secrets (source_id);

ALTER TABLE events ADD COLUMN body_sha256 BLOB;
ALTER TABLE events ADD COLUMN body_truncated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN project_name TEXT;
ALTER TABLE events ADD COLUMN summary TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN parsed_json TEXT;
ALTER TABLE events ADD COLUMN duplicate_of INTEGER;
ALTER TABLE events ADD COLUMN replay_of INTEGER;
ALTER TABLE events ADD COLUMN replay_count INTEGER NOT NULL DEFAULT 0;

CREATE INDEX events_by_action ON events (action, id DESC);
CREATE INDEX events_by_status ON events (status, id DESC);
-- Every index costs pages in each group commit, so only filters get one. Duplicates are
-- found in memory (the writer keeps the recent digests), and ids already follow time.
DROP INDEX events_by_received;

-- Full-text search over payloads. Contentless: the text lives only in the index, keyed by
-- the event id, and is filled by a background indexer so ingest never waits on tokenizing.
CREATE VIRTUAL TABLE events_fts USING fts5 (text, content = '', contentless_delete = 1);
