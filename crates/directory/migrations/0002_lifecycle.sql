-- Lifecycle: application credentials, sessions revoked with deprovisioning, the ordered
-- change feed, roles with group-to-role precedence, attribute mappings, and the audit trail.

CREATE TABLE app_keys (
    id          TEXT PRIMARY KEY,
    label       TEXT NOT NULL,
    prefix      TEXT NOT NULL,
    hash        BLOB NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);

CREATE TABLE sessions (
    id              TEXT PRIMARY KEY,
    connection_id   TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL,
    token_hash      BLOB NOT NULL UNIQUE,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    source          TEXT NOT NULL,
    revoked_at      TEXT,
    revoked_reason  TEXT
);
CREATE INDEX sessions_user ON sessions(connection_id, user_id);

-- Commit order = seq order: one writer assigns seq inside the committing transaction.
CREATE TABLE change_feed (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    at              TEXT NOT NULL,
    connection_id   TEXT NOT NULL,
    kind            TEXT NOT NULL,
    user_id         TEXT,
    group_id        TEXT,
    data            TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX change_feed_connection ON change_feed(connection_id, seq);

ALTER TABLE connections ADD COLUMN default_role TEXT NOT NULL DEFAULT 'member';

CREATE TABLE roles (
    connection_id   TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (connection_id, name)
);

-- Ordered: position 0 wins over 1. Follows the group's id, so a rename changes nothing.
CREATE TABLE role_mappings (
    connection_id   TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    group_id        TEXT NOT NULL,
    role            TEXT NOT NULL,
    PRIMARY KEY (connection_id, position)
);

ALTER TABLE users ADD COLUMN role TEXT;
ALTER TABLE users ADD COLUMN role_via TEXT;
ALTER TABLE users ADD COLUMN app_attributes TEXT NOT NULL DEFAULT '{}';

CREATE TABLE attribute_mappings (
    connection_id   TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    scim_path       TEXT NOT NULL,
    app_key         TEXT NOT NULL,
    PRIMARY KEY (connection_id, position)
);

CREATE TABLE audit (
    id              INTEGER PRIMARY KEY,
    at              TEXT NOT NULL,
    connection_id   TEXT,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    token_prefix    TEXT,
    source          TEXT,
    detail          TEXT
);
CREATE INDEX audit_connection ON audit(connection_id, id);

INSERT INTO roles (connection_id, name, description)
    SELECT id, 'admin', 'Full access' FROM connections;
INSERT INTO roles (connection_id, name, description)
    SELECT id, 'member', 'Standard access' FROM connections;
