-- Setup links: a SaaS team sends one to its customer's IT admin, who opens Muster's setup page
-- with it (no console account) to configure their IdP for one connection. Only the SHA-256 of
-- the link's secret is stored. Each milestone is stamped once, when it first happens.
CREATE TABLE setup_links (
    id              TEXT PRIMARY KEY,
    connection_id   TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    prefix          TEXT NOT NULL,
    hash            BLOB NOT NULL UNIQUE,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    revoked_at      TEXT,
    opened_at       TEXT,
    -- When the page revealed the SCIM credential, which kind ('bearer' or 'oauth'), and which
    -- it was (tokens.id, or oauth_client_secrets.id).
    configured_at   TEXT,
    credential_kind TEXT,
    credential_id   TEXT
);
CREATE INDEX setup_links_connection ON setup_links(connection_id);
