-- Sources are the senders Loopline accepts webhooks from; events are what they sent.
-- Events keep the raw body bytes so nothing a sender said is ever lost to a parser.
CREATE TABLE sources (
    id            TEXT PRIMARY KEY NOT NULL,
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);

CREATE TABLE events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id      TEXT NOT NULL,
    received_at_ms INTEGER NOT NULL,
    remote_addr    TEXT,
    headers_json   TEXT NOT NULL,
    body           BLOB NOT NULL,
    kind           TEXT NOT NULL DEFAULT 'unknown',
    action         TEXT,
    status         TEXT NOT NULL DEFAULT 'received'
);

CREATE INDEX events_by_received ON events (received_at_ms DESC, id DESC);
CREATE INDEX events_by_source ON events (source_id, id DESC);
