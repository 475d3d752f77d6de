-- The x-request-id each SCIM request was answered with (the response header), so a client's
-- or a proxy's log line can be matched to its provisioning-log row.
ALTER TABLE provisioning_log ADD COLUMN request_id TEXT;
