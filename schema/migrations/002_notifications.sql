-- enconvert schema, version 2: the notification outbox.
-- One row per requested notification of a job (at most one webhook and one
-- email), inserted in the same transaction that makes the job terminal, so a
-- crash can neither lose a notification nor create it twice.

CREATE TABLE notifications (
    id               bigserial PRIMARY KEY,
    job_id           text NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    type             text NOT NULL CHECK (type IN ('webhook', 'email')),
    -- callback_url or notification_email, copied so the row is self-contained.
    target           text NOT NULL,
    -- pending: waiting (first attempt or a configured retry); sending: a
    -- notifier holds the lease; delivered / failed: final.
    state            text NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'sending', 'delivered', 'failed')),
    attempts         int NOT NULL DEFAULT 0,
    -- HTTP status of a webhook answer or the SMTP reply code, if any.
    response_code    int,
    error            text,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    -- Lease, as for tasks: the notifier that claimed the row owns it until
    -- lease_expires_at. An expired lease means that notifier died mid-send.
    claimed_by       text,
    lease_expires_at timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    UNIQUE (job_id, type)
);
-- The claim query scans only rows that may still need work.
CREATE INDEX notifications_due ON notifications (next_attempt_at)
    WHERE state IN ('pending', 'sending');

-- Standard Webhooks signing secret per account (optional operator feature,
-- webhook_signing = true). NULL: this account's webhooks are not signed.
ALTER TABLE accounts ADD COLUMN webhook_secret text;
