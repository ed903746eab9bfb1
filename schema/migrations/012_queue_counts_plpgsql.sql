-- enconvert schema, version 12: the triggers that keep queue_counts
-- (migration 011) in PL/pgSQL alone. Version 11 called a LANGUAGE sql
-- helper, which PostgreSQL parses and plans again on every call: about
-- 0.3 ms of every statement that inserts tasks, a third of a one-job
-- insert. PL/pgSQL keeps its statements' plans for the session.
CREATE OR REPLACE FUNCTION queue_counts_after_insert_or_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Accounts in id order, so two transactions that change several
    -- accounts' numbers lock their rows in the same order.
    INSERT INTO queue_counts AS q (account_id, unfinished)
    SELECT account_id, count(*) * TG_ARGV[0]::int FROM changed_rows
    WHERE status IN ('pending', 'processing')
    GROUP BY account_id ORDER BY account_id
    ON CONFLICT (account_id) DO UPDATE SET unfinished = q.unfinished + EXCLUDED.unfinished;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION queue_counts_after_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO queue_counts AS q (account_id, unfinished)
    SELECT account_id, sum(d) FROM (
        SELECT account_id, 1 AS d FROM new_rows
        WHERE status IN ('pending', 'processing')
        UNION ALL
        SELECT account_id, -1 FROM old_rows
        WHERE status IN ('pending', 'processing')) x
    GROUP BY account_id HAVING sum(d) <> 0 ORDER BY account_id
    ON CONFLICT (account_id) DO UPDATE SET unfinished = q.unfinished + EXCLUDED.unfinished;
    RETURN NULL;
END $$;

DROP FUNCTION queue_counts_add(jsonb);
