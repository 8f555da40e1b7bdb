-- Almost every event is 'processed', and every index costs a page in each group commit.
-- Only the other statuses (malformed, duplicate, rejected, ...) need an index to be found
-- quickly; 'processed' events are simply the table in id order.
DROP INDEX events_by_status;
CREATE INDEX events_by_status_other ON events (status, id DESC) WHERE status <> 'processed';
