-- enconvert schema, version 3: idempotency fingerprints.
-- A retried POST with the same Idempotency-Key returns the first job only if
-- it is the same request; the worker compares this SHA-256 (lowercase hex) of
-- the canonical request (intake/fingerprint.h) and answers 409 otherwise.
-- NULL for jobs without a key and for jobs created before this migration
-- (those replay without a comparison: there is nothing to compare with).
ALTER TABLE jobs ADD COLUMN request_fingerprint text
    CHECK (request_fingerprint ~ '^[0-9a-f]{64}$');
