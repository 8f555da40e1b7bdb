-- Each outbox lane reads the due items of its own kind. Without an index that starts with
-- the kind, every read scanned the whole table (done items included), several lanes at
-- each enqueue: most of the outbox's CPU once thousands of items had passed through it.
CREATE INDEX outbox_due_by_kind ON outbox_items (kind, state, next_attempt_at_ms);
