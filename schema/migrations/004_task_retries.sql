-- enconvert schema, version 4: retries that are not the page's fault.
-- A task whose renderer died under it (possibly because of another page on
-- the same renderer) goes back to the queue and runs alone on its next
-- attempt, so an innocent page is never failed by a neighbour and a page
-- that crashes every renderer it meets fails by itself. A task that could
-- not be stored because the storage is full waits until not_before.
ALTER TABLE tasks ADD COLUMN run_alone boolean NOT NULL DEFAULT false;
ALTER TABLE tasks ADD COLUMN not_before timestamptz;
