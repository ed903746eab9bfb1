-- enconvert schema, version 15: how many times a batch's ZIP was claimed.
-- A task gives up after max_attempts claims, a site discovery too; a ZIP
-- whose build kept killing (or hanging) its worker was claimed again every
-- time its lease ran out, for ever: its job stayed 'processing', sent no
-- notification and was never expired. Counted by the claim, given back
-- when a ZIP is handed back without a failure of its own (a stopping
-- worker, a full storage).
ALTER TABLE jobs ADD COLUMN zip_attempts int NOT NULL DEFAULT 0;
