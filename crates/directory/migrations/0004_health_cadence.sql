-- Health and the provisioning log's detail: the push cadence an admin expects from a
-- connection's IdP (NULL: the IdP's habit), and per log row the attributes a write
-- changed, old and new (JSON {"items": [{path, old, new}], "omitted": n}; NULL for
-- requests that changed nothing or predate this column).

ALTER TABLE connections ADD COLUMN expected_sync_minutes INTEGER
    CHECK (expected_sync_minutes IS NULL OR expected_sync_minutes BETWEEN 1 AND 10080);

ALTER TABLE provisioning_log ADD COLUMN changes TEXT;
