-- The model version a run registered (its RegisterModel step's model package), once known:
-- from the execution's steps, or found in the pipeline's model package group by the
-- execution's ARN where the endpoint lists no steps.
ALTER TABLE runs ADD COLUMN model_package_arn TEXT;
