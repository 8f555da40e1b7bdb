-- A claim on a run is a lease: the worker that holds it (`lease_owner`, one id per engine
-- process) renews `lease_until_ms` while its call to AWS is in flight. Another worker (the
-- app and `loopline serve` on one data directory each run one) reconciles a `starting` run
-- only once the lease has expired, so two processes never start the same run. Runs left
-- `starting` by an older version have no lease and are reconciled as before.
ALTER TABLE runs ADD COLUMN lease_owner TEXT;
ALTER TABLE runs ADD COLUMN lease_until_ms INTEGER;
