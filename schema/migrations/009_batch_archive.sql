-- enconvert schema, version 9: a batch's results also as one ZIP (request
-- field output_format; docs/api.md "Batch ZIP").
-- When the last task of a batch that asked for a ZIP is done and at least
-- one task succeeded, finish_task leaves the job 'processing' with
-- zip_state 'pending' instead of making it terminal; a worker's archiver
-- claims it (a lease, like a task's, so a worker that dies while zipping
-- is replaced), stores the ZIP like any result and then, in one
-- transaction, records zip_state 'done' (zip_object_key, zip_file_size) or
-- 'failed' (zip_error), makes the job terminal and queues its
-- notifications, which can then link the ZIP. The individual results are
-- kept either way.
ALTER TABLE jobs
    ADD COLUMN zip_state text CHECK (zip_state IN ('pending', 'done', 'failed')),
    ADD COLUMN zip_object_key text,
    ADD COLUMN zip_file_size bigint,
    ADD COLUMN zip_error text,
    ADD COLUMN zip_lease_owner text,
    ADD COLUMN zip_lease_expires_at timestamptz;

-- The archivers look for waiting ZIPs on every wake-up: only those rows.
CREATE INDEX jobs_zip_pending ON jobs (id) WHERE zip_state = 'pending';
