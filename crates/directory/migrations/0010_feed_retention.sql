-- Retention of the change feed (docs/retention.md). feed_cursors: where each application
-- consumer (an application key; per connection filter, '' for the whole feed) has read to.
-- Reading the feed with after=N acknowledges every event up to N; events a live consumer has
-- not acknowledged are kept longer than the rest. feed_pruned: per connection, the highest
-- seq pruning removed, so a cursor below it is refused (410) instead of silently skipping
-- the events that were removed.
CREATE TABLE feed_cursors (
    app_key_id      TEXT NOT NULL REFERENCES app_keys(id) ON DELETE CASCADE,
    connection_id   TEXT NOT NULL DEFAULT '',
    acked_seq       INTEGER NOT NULL,
    acked_at        TEXT NOT NULL,
    PRIMARY KEY (app_key_id, connection_id)
) WITHOUT ROWID;

CREATE TABLE feed_pruned (
    connection_id   TEXT PRIMARY KEY,
    through_seq     INTEGER NOT NULL
) WITHOUT ROWID;
