-- Retention (docs/operations.md "Retention"): the janitor deletes a finished
-- job's files, tasks and notifications after the retention period and keeps
-- the job row as a tombstone (expired_at set, customer data cleared), so its
-- owner's status request answers 410 expired instead of 404. Tombstones are
-- deleted later in turn.
ALTER TABLE jobs ADD COLUMN expired_at timestamptz;

-- The janitor's two scans: finished jobs not yet expired, oldest first; and
-- tombstones, oldest first.
CREATE INDEX jobs_expiring ON jobs (completed_at)
    WHERE expired_at IS NULL AND status <> 'processing';
CREATE INDEX jobs_expired ON jobs (expired_at)
    WHERE expired_at IS NOT NULL;
