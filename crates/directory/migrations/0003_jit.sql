-- JIT provisioning at sign-in and its precedence against SCIM, per connection.

ALTER TABLE connections ADD COLUMN jit_policy TEXT NOT NULL DEFAULT 'scim_authoritative'
    CHECK (jit_policy IN ('jit_only', 'scim_authoritative', 'scim_first', 'jit_overwrites'));
ALTER TABLE connections ADD COLUMN jit_resync INTEGER NOT NULL DEFAULT 1;
ALTER TABLE connections ADD COLUMN link_by_email INTEGER NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN expect_groups_claim INTEGER NOT NULL DEFAULT 0;
-- OIDC ID-token verification: issuer, audience and the JWKS (inline JSON; no network fetch).
ALTER TABLE connections ADD COLUMN oidc_issuer TEXT;
ALTER TABLE connections ADD COLUMN oidc_audience TEXT;
ALTER TABLE connections ADD COLUMN oidc_jwks TEXT;

-- Who created the account (scim or jit) and when it last signed in.
ALTER TABLE users ADD COLUMN source TEXT NOT NULL DEFAULT 'scim';
ALTER TABLE users ADD COLUMN last_signin_at TEXT;

CREATE TABLE signins (
    id              INTEGER PRIMARY KEY,
    at              TEXT NOT NULL,
    connection_id   TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    user_id         TEXT,
    subject         TEXT NOT NULL,
    email           TEXT,
    decision        TEXT NOT NULL,
    reason          TEXT,
    warning         TEXT
);
CREATE INDEX signins_connection ON signins(connection_id, id);
CREATE INDEX signins_user ON signins(user_id);

-- Group claims from the last sign-in (object ids for Entra, names for SAML); role
-- mappings may target them as well as SCIM groups.
ALTER TABLE users ADD COLUMN claim_groups TEXT;
