-- enconvert schema, version 7: the client's own job id.
-- The vendor's clients send "job_id" (32 hex digits from the SDKs) with each
-- conversion and poll GET /v1/convert/status/{that id}. It is the client's
-- name for the job, not ours: unique only within one account, and an
-- account may use it again for a new request, after which the status and
-- batch routes show the newest job of that account with it
-- (docs/api.md "Your own job ids"). Another account's ids never match.
ALTER TABLE jobs ADD COLUMN client_id text;

-- The status and batch routes look a client id up within the account,
-- newest first.
CREATE INDEX jobs_client_id ON jobs (account_id, client_id, created_at DESC)
    WHERE client_id IS NOT NULL;
