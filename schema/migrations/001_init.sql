-- enconvert schema, version 1: accounts, API keys, jobs and their tasks.
-- Applied once by `enconvert-worker migrate`, which records it in
-- schema_migrations (worker/src/db/migrations.cpp).

CREATE TABLE accounts (
    id          bigserial PRIMARY KEY,
    -- Short random id used in object keys and URLs; never the row id, so
    -- account counts are not guessable from file paths.
    public_id   text NOT NULL UNIQUE,
    name        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts(id),
    -- SHA-256 of the whole secret; the secret itself is never stored.
    key_hash    bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    -- First characters of the secret ("sk_live_ab12"), so operators can tell
    -- keys apart in listings without seeing them.
    prefix      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

CREATE TABLE jobs (
    id                  text PRIMARY KEY,          -- job_<hex> or batch_<hex>
    account_id          bigint NOT NULL REFERENCES accounts(id),
    api_key_id          bigint NOT NULL REFERENCES api_keys(id),
    endpoint            text NOT NULL
                        CHECK (endpoint IN ('url-to-pdf', 'url-to-screenshot')),
    is_batch            boolean NOT NULL,
    is_sync             boolean NOT NULL,
    status              text NOT NULL DEFAULT 'processing'
                        CHECK (status IN ('processing', 'completed', 'failed')),
    options             jsonb NOT NULL DEFAULT '{}',
    notification_email  text,
    callback_url        text,
    -- scheme://host the client used; presigned URLs are built on it unless
    -- the worker is configured with a public_url.
    base_url            text NOT NULL,
    idempotency_key     text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    completed_at        timestamptz
);
CREATE UNIQUE INDEX jobs_idempotency ON jobs (account_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_account ON jobs (account_id, created_at);

CREATE TABLE tasks (
    id                bigserial PRIMARY KEY,
    job_id            text NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    position          int NOT NULL,                 -- index in the url array
    url               text NOT NULL,
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'processing', 'success',
                                        'failed')),
    attempts          int NOT NULL DEFAULT 0,
    -- Lease: a worker that claims a task owns it until lease_expires_at; an
    -- expired lease is reclaimed by any worker (crash recovery).
    lease_owner       text,
    lease_expires_at  timestamptz,
    object_key        text,
    filename          text,
    file_size         bigint,
    conversion_time   double precision,
    error_code        text,
    error             text,
    started_at        timestamptz,
    finished_at       timestamptz,
    UNIQUE (job_id, position)
);
-- The claim query scans only runnable tasks.
CREATE INDEX tasks_runnable ON tasks (id)
    WHERE status IN ('pending', 'processing');
