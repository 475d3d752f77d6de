-- Deprovisioning evidence (crates/directory/src/evidence.rs) needs two facts the store did
-- not keep.
--
-- feed_acks: every forward move of a consumer's cursor (feed_cursors keeps only the latest),
-- so "when did the application acknowledge event N" is the first acknowledgement at or past
-- N. Pruned with the feed (an acknowledgement that covers only pruned events goes). Seeded
-- with each cursor as it is now: for events acknowledged before this migration the time is
-- the latest acknowledgement, an upper bound.
CREATE TABLE feed_acks (
    app_key_id      TEXT NOT NULL REFERENCES app_keys(id) ON DELETE CASCADE,
    connection_id   TEXT NOT NULL DEFAULT '',
    acked_seq       INTEGER NOT NULL,
    acked_at        TEXT NOT NULL,
    PRIMARY KEY (app_key_id, connection_id, acked_seq)
) WITHOUT ROWID;
INSERT INTO feed_acks (app_key_id, connection_id, acked_seq, acked_at)
    SELECT app_key_id, connection_id, acked_seq, acked_at FROM feed_cursors;

-- settings 'log_complete_from': the provisioning log holds every row from this time on;
-- log::prune moves it past the newest row it removes. A log that already had rows may have
-- been pruned before anything recorded it: it is vouched for only from its oldest row.
INSERT INTO settings (key, value)
    SELECT 'log_complete_from', (SELECT min(at) FROM provisioning_log WHERE outcome != 'purged')
    WHERE EXISTS (SELECT 1 FROM provisioning_log WHERE outcome != 'purged');
