-- The console's user search: one folded string per user (userName, primary email, display
-- name, given + family name, separated by U+001F so a search never matches across two
-- fields), in an index with the connection and deleted_at, so a substring search scans
-- the index, not every user's row and JSON. Kept by users::create and users::replace.
ALTER TABLE users ADD COLUMN search_key TEXT NOT NULL DEFAULT '';
UPDATE users SET search_key = user_name_key || char(31) || COALESCE(primary_email_key, '')
    || char(31) || COALESCE(display_name_key, '') || char(31)
    || muster_fold(COALESCE(given_name, '') || ' ' || COALESCE(family_name, ''));
CREATE INDEX users_search ON users(connection_id, deleted_at, search_key);
