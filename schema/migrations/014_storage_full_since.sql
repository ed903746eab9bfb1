-- enconvert schema, version 14: when a task first met a full storage. A
-- task whose result the storage has no room for waits in the queue
-- (storage_full_retry_seconds) and fails with storage_full once it has
-- waited storage_full_give_up_seconds. Counted from the job's submission
-- before, a job that had waited in a backlog that long failed at its first
-- full-storage hit, for a disk that was full for a minute. Set by the
-- first storage_full requeue, kept by the next ones, cleared by any other
-- outcome.
ALTER TABLE tasks ADD COLUMN storage_full_since timestamptz;
