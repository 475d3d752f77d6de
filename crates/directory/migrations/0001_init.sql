-- Connections, tokens, the directory (users, emails, groups, memberships) and the
-- provisioning log. Every row that belongs to a tenant carries connection_id.

CREATE TABLE connections (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    idp             TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    dialect         TEXT,
    retention_days  INTEGER NOT NULL DEFAULT 30 CHECK (retention_days BETWEEN 1 AND 90),
    demo            INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE tokens (
    id              TEXT PRIMARY KEY,
    connection_id   TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    label           TEXT NOT NULL,
    prefix          TEXT NOT NULL,
    hash            BLOB NOT NULL UNIQUE,
    created_at      TEXT NOT NULL,
    expires_at      TEXT,
    revoked_at      TEXT,
    last_used_at    TEXT,
    last_used_addr  TEXT,
    last_used_agent TEXT
);
CREATE INDEX tokens_connection ON tokens(connection_id);

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    connection_id   TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    user_name       TEXT NOT NULL,
    user_name_key   TEXT NOT NULL,
    external_id     TEXT,
    display_name    TEXT,
    display_name_key TEXT,
    given_name      TEXT,
    family_name     TEXT,
    primary_email   TEXT,
    primary_email_key TEXT,
    active          INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    version         INTEGER NOT NULL,
    last_synced_at  TEXT,
    deleted_at      TEXT,
    purge_at        TEXT,
    resource        TEXT NOT NULL
);
-- userName is unique per connection among users that are not deleted (RFC 7643 §4.1.1:
-- case-insensitive); a deleted user's name may be reused and then blocks its restore.
CREATE UNIQUE INDEX users_user_name ON users(connection_id, user_name_key) WHERE deleted_at IS NULL;
CREATE INDEX users_user_name_all ON users(connection_id, user_name_key);
CREATE INDEX users_external_id ON users(connection_id, external_id);
CREATE INDEX users_display_name ON users(connection_id, display_name_key);
CREATE INDEX users_updated ON users(connection_id, updated_at);
CREATE INDEX users_primary_email ON users(connection_id, primary_email_key);

CREATE TABLE user_emails (
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    connection_id   TEXT NOT NULL,
    value           TEXT NOT NULL,
    value_key       TEXT NOT NULL,
    type            TEXT,
    is_primary      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX user_emails_value ON user_emails(connection_id, value_key);
CREATE INDEX user_emails_user ON user_emails(user_id);

CREATE TABLE groups (
    id              TEXT PRIMARY KEY,
    connection_id   TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    display_name    TEXT NOT NULL,
    display_name_key TEXT NOT NULL,
    external_id     TEXT,
    member_count    INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    version         INTEGER NOT NULL,
    last_synced_at  TEXT,
    deleted_at      TEXT,
    purge_at        TEXT,
    resource        TEXT NOT NULL
);
CREATE INDEX groups_display_name ON groups(connection_id, display_name_key);
CREATE INDEX groups_external_id ON groups(connection_id, external_id);

-- One row per membership, so adding a member costs the same in a group of any size.
CREATE TABLE group_members (
    group_id        TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    member_id       TEXT NOT NULL,
    connection_id   TEXT NOT NULL,
    display         TEXT,
    kind            TEXT,
    added_at        TEXT NOT NULL,
    PRIMARY KEY (group_id, member_id)
) WITHOUT ROWID;
CREATE INDEX group_members_member ON group_members(connection_id, member_id);

-- One row per inbound SCIM request, accepted or not. Request bodies are stored redacted.
CREATE TABLE provisioning_log (
    id              INTEGER PRIMARY KEY,
    at              TEXT NOT NULL,
    connection_id   TEXT,
    method          TEXT NOT NULL,
    path            TEXT NOT NULL,
    status          INTEGER NOT NULL,
    outcome         TEXT NOT NULL,
    resource_type   TEXT,
    resource_id     TEXT,
    user_name       TEXT,
    external_id     TEXT,
    duration_ms     REAL NOT NULL,
    dialect         TEXT,
    user_agent      TEXT,
    token_prefix    TEXT,
    detail          TEXT,
    request_body    TEXT
);
CREATE INDEX log_connection ON provisioning_log(connection_id, id);
CREATE INDEX log_resource ON provisioning_log(resource_id);
CREATE INDEX log_at ON provisioning_log(at);
CREATE INDEX log_connection_at ON provisioning_log(connection_id, at);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
