-- Three lists that were JSON arrays in `settings`: the Label Studio webhooks Loopline
-- registered (so it can watch and move them), the names of stored secrets (keychains cannot
-- list what an app filed), and the image hosts the user allowed. Each was read, changed and
-- written back whole, so two tasks or processes lost each other's updates (a hook dropped
-- from the registry was never watched or moved again). As tables, each change is one row
-- inserted or deleted.
CREATE TABLE label_studio_hooks (
    source_id   TEXT    NOT NULL,
    project_id  INTEGER NOT NULL,
    webhook_id  INTEGER NOT NULL,
    url         TEXT    NOT NULL,
    PRIMARY KEY (source_id, project_id)
);
CREATE TABLE secret_names (
    name TEXT PRIMARY KEY NOT NULL
);
CREATE TABLE image_hosts (
    host TEXT PRIMARY KEY NOT NULL
);

INSERT OR IGNORE INTO label_studio_hooks (source_id, project_id, webhook_id, url)
SELECT json_extract(h.value, '$.source_id'), json_extract(h.value, '$.project_id'),
       json_extract(h.value, '$.webhook_id'), json_extract(h.value, '$.url')
FROM settings s, json_each(s.value) h
WHERE s.key = 'label_studio.hooks' AND json_valid(s.value) AND json_type(s.value) = 'array'
  AND json_extract(h.value, '$.source_id') IS NOT NULL AND json_extract(h.value, '$.project_id') IS NOT NULL
  AND json_extract(h.value, '$.webhook_id') IS NOT NULL AND json_extract(h.value, '$.url') IS NOT NULL;
INSERT OR IGNORE INTO secret_names (name)
SELECT n.value FROM settings s, json_each(s.value) n
WHERE s.key = 'secrets.names' AND json_valid(s.value) AND json_type(s.value) = 'array' AND n.type = 'text';
INSERT OR IGNORE INTO image_hosts (host)
SELECT h.value FROM settings s, json_each(s.value) h
WHERE s.key = 'review.image_hosts' AND json_valid(s.value) AND json_type(s.value) = 'array' AND h.type = 'text';
DELETE FROM settings WHERE key IN ('label_studio.hooks', 'secrets.names', 'review.image_hosts');
