-- A user's whole story (crates/directory/src/timeline.rs), newest first and paged, without
-- walking the connection's whole feed: the change feed by (connection, user, seq).
CREATE INDEX change_feed_user ON change_feed(connection_id, user_id, seq);

-- Which change-feed events a SCIM write produced, kept on the log row of the request (the
-- write and its row commit in one transaction), so every event of a user's story opens the
-- request that caused it. NULL for rows that produced none, and for rows written before.
ALTER TABLE provisioning_log ADD COLUMN feed_first INTEGER;
ALTER TABLE provisioning_log ADD COLUMN feed_last INTEGER;
CREATE INDEX log_feed ON provisioning_log(feed_last) WHERE feed_last IS NOT NULL;
