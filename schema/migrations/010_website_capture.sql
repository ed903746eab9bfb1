-- enconvert schema, version 10: website capture
-- (docs/website-capture.md). POST /v1/convert/website-to-pdf and
-- /website-to-screenshot create a batch job with no task and
-- discovery_state 'pending'; a worker's site discoverer claims it (a lease,
-- like a task's, so a worker that dies while crawling is replaced), finds
-- the site's pages and then, in one transaction, inserts one task per page
-- and records discovery_state 'done' with what it found, or ends the job
-- 'failed' with discovery_state 'failed' and the reason. The intake answers
-- the request once the discovery is recorded.
ALTER TABLE jobs DROP CONSTRAINT jobs_endpoint_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_endpoint_check
    CHECK (endpoint IN ('url-to-pdf', 'url-to-screenshot',
                        'website-to-pdf', 'website-to-screenshot'));

ALTER TABLE jobs
    ADD COLUMN discovery_state text
        CHECK (discovery_state IN ('pending', 'done', 'failed')),
    ADD COLUMN discovery_attempts int NOT NULL DEFAULT 0,
    ADD COLUMN discovery_lease_owner text,
    ADD COLUMN discovery_lease_expires_at timestamptz,
    -- 'sitemap' or 'full_crawl'
    ADD COLUMN discovery_method text,
    -- pages known before the page limit cut the list
    ADD COLUMN discovery_total int,
    ADD COLUMN discovery_truncated boolean,
    ADD COLUMN discovery_error_code text,
    ADD COLUMN discovery_error text;

-- The discoverers look for waiting sites on every wake-up: only those rows.
CREATE INDEX jobs_discovery_pending ON jobs (id) WHERE discovery_state = 'pending';
