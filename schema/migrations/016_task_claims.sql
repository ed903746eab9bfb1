-- enconvert schema, version 16: how many times a task was claimed, never
-- given back, and which of its claims ended without recording an outcome.
-- A task's file is stored under a key made of its job's creation time and
-- the claim's number (docs/api.md "File names and object keys"), so every
-- claim has a key of its own. A worker that died between storing a file
-- and recording it left an object no row named, and retention never
-- removed it: such a claim is one another claim took the task over from
-- (its lease ran out) or that was handed back, and retention deletes the
-- keys of those claims with the job's files. `attempts` cannot number the
-- keys: it is given back when a task is handed back (a stopping worker, a
-- full storage), and two claims would share a key.
ALTER TABLE tasks ADD COLUMN claims int NOT NULL DEFAULT 0,
                  ADD COLUMN abandoned_claims int[] NOT NULL DEFAULT '{}';
-- Only tasks that may still be claimed: finished ones never are, and
-- rewriting every row would hold the table's lock for as long.
UPDATE tasks SET claims = attempts
WHERE status IN ('pending', 'processing') AND attempts > 0;
