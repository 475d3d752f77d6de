-- Sync cycles (crates/directory/src/sync_cycles.rs): a connection's runs of its IdP's own
-- requests, found by seeking the gaps between them and summed per run, from this index
-- alone. Partial (the IdP's traffic only, as health counts it) and covering (outcome,
-- status and dialect are what a cycle's summary reads; `traffic`, always NULL here, is
-- listed because SQLite reads a column named in the WHERE from the row unless the index
-- holds it), so neither the seeks nor a 50,000-request cycle's aggregate touch the table
-- rows and their request bodies.
CREATE INDEX log_sync_cycles ON provisioning_log(connection_id, at, outcome, status, dialect, traffic)
    WHERE traffic IS NULL;
