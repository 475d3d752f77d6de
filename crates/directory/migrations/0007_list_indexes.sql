-- List pages and their totals straight from an index: a connection's live (not deleted)
-- rows in rowid order, and sorted by userName / displayName, with no temp b-tree sort and
-- no table lookup to skip deleted rows. COUNT(*) of a connection is a covering-index scan.
CREATE INDEX users_live ON users(connection_id, deleted_at);
CREATE INDEX users_live_user_name ON users(connection_id, deleted_at, user_name_key);
CREATE INDEX groups_live ON groups(connection_id, deleted_at);
CREATE INDEX groups_live_display_name ON groups(connection_id, deleted_at, display_name_key);
