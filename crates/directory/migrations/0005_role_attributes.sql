-- Roles from an attribute (users-only connections such as Google Workspace send no
-- groups), and memberships held while a user or group is deleted so a restore can bring
-- them back.

-- A precedence entry matches either membership of a group or a user attribute equal to a
-- value; both kinds share one ordered list. SQLite cannot relax NOT NULL in place, so the
-- table is rebuilt with its rows and positions kept.
CREATE TABLE role_mappings_v5 (
    connection_id   TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    group_id        TEXT,
    attribute_path  TEXT,
    attribute_value TEXT,
    role            TEXT NOT NULL,
    PRIMARY KEY (connection_id, position),
    CHECK ((group_id IS NOT NULL AND attribute_path IS NULL AND attribute_value IS NULL)
        OR (group_id IS NULL AND attribute_path IS NOT NULL AND attribute_value IS NOT NULL))
);
INSERT INTO role_mappings_v5 (connection_id, position, group_id, role)
    SELECT connection_id, position, group_id, role FROM role_mappings;
DROP TABLE role_mappings;
ALTER TABLE role_mappings_v5 RENAME TO role_mappings;

-- The attribute mapping that produced a user's role, as JSON {"path", "value"}; NULL when
-- the role came from a group (users.role_via) or the default.
ALTER TABLE users ADD COLUMN role_via_attribute TEXT;

-- Memberships a DELETE took away, kept until both sides are live again (restore) or one
-- side is purged. `deleted_with` is the user or group whose deletion parked the row.
CREATE TABLE held_memberships (
    group_id        TEXT NOT NULL,
    member_id       TEXT NOT NULL,
    connection_id   TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    display         TEXT,
    kind            TEXT,
    added_at        TEXT NOT NULL,
    PRIMARY KEY (group_id, member_id)
) WITHOUT ROWID;
CREATE INDEX held_memberships_member ON held_memberships(connection_id, member_id);
