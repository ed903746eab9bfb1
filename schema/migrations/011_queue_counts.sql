-- enconvert schema, version 11: each account's unfinished tasks kept as a
-- number (docs/reliability.md "Fairness and back-pressure"). The intake
-- checks the queue bounds before it accepts a job; counting the tasks
-- costs as much as the queue is long (about 5 ms of PostgreSQL CPU per
-- check at 10,000 queued tasks), reading this row costs the same at any
-- length. Statement-level triggers on tasks keep it: one row change per
-- account and statement, none when a statement leaves the account's
-- unfinished count as it was (claims, lease renewals, retries, retention).
CREATE TABLE queue_counts (
    account_id  bigint PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    unfinished  bigint NOT NULL DEFAULT 0
);

-- Nothing may change tasks between the count below and the triggers.
LOCK TABLE tasks IN SHARE ROW EXCLUSIVE MODE;

INSERT INTO queue_counts (account_id, unfinished)
SELECT account_id, count(*) FROM tasks
WHERE status IN ('pending', 'processing') GROUP BY account_id;

-- Accounts in id order, so two transactions that change several accounts'
-- numbers lock their rows in the same order.
CREATE FUNCTION queue_counts_add(deltas jsonb) RETURNS void LANGUAGE sql AS $$
    INSERT INTO queue_counts AS q (account_id, unfinished)
    SELECT (d->>0)::bigint, (d->>1)::bigint FROM jsonb_array_elements(deltas) d
    ORDER BY 1
    ON CONFLICT (account_id) DO UPDATE SET unfinished = q.unfinished + EXCLUDED.unfinished
$$;

-- Inserted (argument 1) or deleted (argument -1) rows: each unfinished one
-- counts once for its account.
CREATE FUNCTION queue_counts_after_insert_or_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM queue_counts_add(coalesce(
        (SELECT jsonb_agg(jsonb_build_array(account_id, n * TG_ARGV[0]::int)) FROM (
             SELECT account_id, count(*) AS n FROM changed_rows
             WHERE status IN ('pending', 'processing') GROUP BY account_id) c),
        '[]'));
    RETURN NULL;
END $$;

CREATE FUNCTION queue_counts_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM queue_counts_add(coalesce(
        (SELECT jsonb_agg(jsonb_build_array(account_id, n)) FROM (
             SELECT account_id, sum(d) AS n FROM (
                 SELECT account_id, 1 AS d FROM new_rows
                 WHERE status IN ('pending', 'processing')
                 UNION ALL
                 SELECT account_id, -1 FROM old_rows
                 WHERE status IN ('pending', 'processing')) x
             GROUP BY account_id HAVING sum(d) <> 0) c),
        '[]'));
    RETURN NULL;
END $$;

CREATE FUNCTION queue_counts_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM queue_counts;
    RETURN NULL;
END $$;

CREATE TRIGGER queue_counts_insert AFTER INSERT ON tasks
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION queue_counts_after_insert_or_delete('1');
CREATE TRIGGER queue_counts_update AFTER UPDATE ON tasks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION queue_counts_after_update();
CREATE TRIGGER queue_counts_delete AFTER DELETE ON tasks
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION queue_counts_after_insert_or_delete('-1');
CREATE TRIGGER queue_counts_truncate AFTER TRUNCATE ON tasks
    FOR EACH STATEMENT EXECUTE FUNCTION queue_counts_after_truncate();
