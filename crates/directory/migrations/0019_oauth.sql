-- OAuth 2.0 for IdPs (Entra's gallery apps require it): per connection, client secrets
-- (several live at once, for rotation without a gap; stored only as SHA-256), the access
-- token lifetime, and the issuer/subject/audience a workload identity federation assertion
-- (RFC 7523) must carry. Access tokens are rows of `tokens` marked with the grant that
-- issued them, so SCIM checks them, tracks their use and reads health exactly as it does
-- for long-lived bearer tokens.
CREATE TABLE oauth_settings (
    connection_id       TEXT PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
    token_lifetime_secs INTEGER NOT NULL DEFAULT 3600,
    federation_issuer   TEXT,
    federation_subject  TEXT,
    federation_audience TEXT
);

CREATE TABLE oauth_client_secrets (
    id            TEXT PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    prefix        TEXT NOT NULL,
    hash          BLOB NOT NULL UNIQUE,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    revoked_at    TEXT,
    last_used_at  TEXT
);
CREATE INDEX oauth_client_secrets_connection ON oauth_client_secrets(connection_id);

-- NULL: a long-lived bearer token; 'secret:<id>' or 'federation': an OAuth access token.
ALTER TABLE tokens ADD COLUMN oauth_grant TEXT;
