-- Whose traffic a log row is, so health counts only the IdP's sync: NULL for the IdP,
-- 'check' for a readiness run (requests tagged x-muster-check), 'stray' for a refused
-- request with a token this connection never issued that does not look like its IdP.
-- remote_addr is the peer address, to say where stray requests come from.
ALTER TABLE provisioning_log ADD COLUMN traffic TEXT;
ALTER TABLE provisioning_log ADD COLUMN remote_addr TEXT;
