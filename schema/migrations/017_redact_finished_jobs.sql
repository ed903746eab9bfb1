-- enconvert schema, version 17: the request credentials of jobs that had
-- already ended when version 8 was applied. Version 8 redacts cookies,
-- headers and auth in the statement that ends a job (a trigger on its
-- status), so jobs that were terminal before it kept their values, for as
-- long as the retention keeps the job (for ever with retention_seconds 0).
-- Their values go now, as the trigger would have done. The options alone
-- change: the trigger (on status) does not fire.
-- Jobs the trigger already redacted are left alone.
UPDATE jobs SET options = enconvert_redact_request_credentials(options)
WHERE status <> 'processing'
  AND (options ? 'cookies' OR options ? 'headers' OR options ? 'auth')
  AND options IS DISTINCT FROM enconvert_redact_request_credentials(options);
