-- enconvert schema, version 13: a website capture holds its page limit in
-- the queue while its pages are being found. The intake admits such a job
-- against the queue bounds as `max_pages` tasks (it has none yet); this
-- keeps that number in queue_counts (migration 011) from the job's insert
-- until its discovery ends or the job does, when the pages found (at most
-- that many) are counted as tasks instead. Without it, any number of
-- captures accepted with no task could add their pages past the bounds.
-- Jobs already waiting for their discovery keep 0: nothing to release.
ALTER TABLE jobs ADD COLUMN discovery_reserved int NOT NULL DEFAULT 0;

-- Row triggers, and only on the rows that can change a reservation: every
-- other job update (each task's result touches its job) stays free of it.
CREATE FUNCTION queue_counts_discovery_reserved() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    delta bigint := 0;
    account bigint;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.discovery_state = 'pending'
       AND OLD.status = 'processing' THEN
        delta := delta - OLD.discovery_reserved;
        account := OLD.account_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.discovery_state = 'pending'
       AND NEW.status = 'processing' THEN
        delta := delta + NEW.discovery_reserved;
        account := NEW.account_id;
    END IF;
    IF delta <> 0 THEN
        INSERT INTO queue_counts AS q (account_id, unfinished) VALUES (account, delta)
        ON CONFLICT (account_id) DO UPDATE SET unfinished = q.unfinished + EXCLUDED.unfinished;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER jobs_discovery_reserved_insert AFTER INSERT ON jobs
    FOR EACH ROW WHEN (NEW.discovery_state = 'pending')
    EXECUTE FUNCTION queue_counts_discovery_reserved();
CREATE TRIGGER jobs_discovery_reserved_update
    AFTER UPDATE OF discovery_state, status, discovery_reserved ON jobs
    FOR EACH ROW WHEN (OLD.discovery_state = 'pending' OR NEW.discovery_state = 'pending')
    EXECUTE FUNCTION queue_counts_discovery_reserved();
CREATE TRIGGER jobs_discovery_reserved_delete AFTER DELETE ON jobs
    FOR EACH ROW WHEN (OLD.discovery_state = 'pending')
    EXECUTE FUNCTION queue_counts_discovery_reserved();
