-- enconvert schema, version 6: fair scheduling and a bounded queue
-- (docs/reliability.md "Fairness and back-pressure").
-- Claims take turns between accounts and count each account's tasks in
-- flight; the intake counts each account's unfinished tasks before it
-- accepts a job. Both need a task's account without a join to jobs, so it is
-- copied onto the task when the job is inserted (it never changes).
ALTER TABLE tasks ADD COLUMN account_id bigint;
UPDATE tasks t SET account_id = j.account_id FROM jobs j WHERE j.id = t.job_id;
ALTER TABLE tasks ALTER COLUMN account_id SET NOT NULL;
-- Workers of the previous release insert tasks without it while hosts are
-- upgraded one by one (docs/operations.md "Upgrading"): take the job's.
CREATE FUNCTION tasks_fill_account_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT account_id INTO NEW.account_id FROM jobs WHERE id = NEW.job_id;
    RETURN NEW;
END $$;
CREATE TRIGGER tasks_fill_account_id BEFORE INSERT ON tasks
    FOR EACH ROW WHEN (NEW.account_id IS NULL)
    EXECUTE FUNCTION tasks_fill_account_id();

-- Unfinished tasks by account: the accounts with work (a skip scan over the
-- leading column), each account's oldest runnable tasks, its tasks in flight
-- and its queue length, all without reading the finished history.
CREATE INDEX tasks_unfinished_by_account ON tasks (account_id, status, id)
    WHERE status IN ('pending', 'processing');
