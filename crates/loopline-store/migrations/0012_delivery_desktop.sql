-- A notify automation's desktop notice is handed out once per delivery: the worker that
-- sets this (from NULL) is the one that shows it, so a retry of the Slack half, a second
-- process on the data dir or a take-over after a crash never shows it again.
ALTER TABLE automation_deliveries ADD COLUMN desktop_at_ms INTEGER;
