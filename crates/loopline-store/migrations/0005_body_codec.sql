-- Bodies may be stored compressed (see the store's body.rs). Rows written before this keep
-- codec 0 (the bytes as received) and no length: their length is the stored length.
ALTER TABLE events ADD COLUMN body_codec INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN body_len INTEGER;
