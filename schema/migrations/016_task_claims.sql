-- enconvert schema, version 16: how many times a task was claimed, never
-- given back. A task's file is stored under a key made of its job's
-- creation time and this number (docs/api.md "File names and object
-- keys"), so every claim has a key of its own and the keys of all of a
-- task's claims can be computed: a worker that died between storing a file
-- and recording it left an object no row named, and retention never
-- removed it. `attempts` cannot serve: it is given back when a task is
-- handed back (a stopping worker, a full storage), and two claims would
-- share a key.
ALTER TABLE tasks ADD COLUMN claims int NOT NULL DEFAULT 0;
UPDATE tasks SET claims = attempts;
