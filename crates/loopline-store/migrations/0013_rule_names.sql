-- Start-a-pipeline automations are the retrain rules (issue 26): each gets the name an
-- automation has, and can be paused like one. Existing rules keep working unnamed.
ALTER TABLE rules ADD COLUMN name TEXT;
ALTER TABLE rules ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;
-- A rule may train on a dataset-version automation's versions: the run records the
-- manifest it was started with (its DatasetManifest parameter), chosen once.
ALTER TABLE rules ADD COLUMN dataset_automation TEXT;
ALTER TABLE runs ADD COLUMN dataset_manifest TEXT;
