-- cookies, headers and auth of a request (docs/security.md, "Request
-- credentials") are secrets of the customer: the job's options keep them
-- only while a task may still need them (any worker may claim a task, so
-- they live in the job row until then). The moment a job leaves
-- 'processing', in the same statement that makes it terminal, their values
-- are replaced by "[redacted]": the names of the cookies and headers stay,
-- for support, the values go. A trigger, so that every way a job ends
-- (finish_task, a future cancel) is covered.
CREATE FUNCTION enconvert_redact_request_credentials(options jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT options
        || CASE WHEN jsonb_typeof(options -> 'cookies') = 'array' THEN
               jsonb_build_object('cookies', (
                   SELECT coalesce(jsonb_agg(CASE WHEN jsonb_typeof(c) = 'object'
                                                  THEN c || '{"value": "[redacted]"}'::jsonb
                                                  ELSE '"[redacted]"'::jsonb END), '[]'::jsonb)
                   FROM jsonb_array_elements(options -> 'cookies') AS c))
           ELSE '{}'::jsonb END
        || CASE WHEN jsonb_typeof(options -> 'headers') = 'object' THEN
               jsonb_build_object('headers', (
                   SELECT coalesce(jsonb_object_agg(h.key, '[redacted]'::text), '{}'::jsonb)
                   FROM jsonb_each(options -> 'headers') AS h))
           ELSE '{}'::jsonb END
        || CASE WHEN options ? 'auth' THEN '{"auth": "[redacted]"}'::jsonb ELSE '{}'::jsonb END
$$;

CREATE FUNCTION enconvert_redact_terminal_job() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.options := enconvert_redact_request_credentials(NEW.options);
    RETURN NEW;
END
$$;

CREATE TRIGGER jobs_redact_request_credentials
    BEFORE UPDATE OF status ON jobs
    FOR EACH ROW
    WHEN (NEW.status <> 'processing'
          AND (NEW.options ? 'cookies' OR NEW.options ? 'headers' OR NEW.options ? 'auth'))
    EXECUTE FUNCTION enconvert_redact_terminal_job();
