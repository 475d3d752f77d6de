-- The people who run Muster for a team: admin accounts with a role, their server-side
-- sessions, one-time enrolment links, and pending OpenID Connect sign-ins. No secret is
-- stored in clear: passwords as Argon2id hashes, session/enrolment/state secrets as SHA-256,
-- TOTP seeds sealed (ChaCha20-Poly1305, as webhook secrets are).
CREATE TABLE admins (
    id              TEXT PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name            TEXT,
    -- 'owner' | 'admin' | 'support' | 'viewer'
    role            TEXT NOT NULL,
    disabled_at     TEXT,
    password_hash   TEXT,
    totp_sealed     TEXT,
    -- The 30-second step of the last TOTP code accepted, so a code is never accepted twice.
    totp_last_step  INTEGER,
    -- Set when the person first signs in with the company's identity provider; later
    -- sign-ins match on (issuer, subject), never on a changed email.
    oidc_issuer     TEXT,
    oidc_subject    TEXT,
    created_at      TEXT NOT NULL,
    enrolled_at     TEXT,
    last_sign_in_at TEXT
);
CREATE UNIQUE INDEX admins_oidc ON admins(oidc_issuer, oidc_subject) WHERE oidc_subject IS NOT NULL;

CREATE TABLE admin_sessions (
    id              TEXT PRIMARY KEY,
    admin_id        TEXT NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
    hash            BLOB NOT NULL UNIQUE,
    -- 'password' | 'password+totp' | 'oidc'
    method          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    last_seen_at    TEXT NOT NULL,
    revoked_at      TEXT,
    source          TEXT,
    user_agent      TEXT
);
CREATE INDEX admin_sessions_admin ON admin_sessions(admin_id);

CREATE TABLE admin_enrolments (
    hash            BLOB PRIMARY KEY,
    admin_id        TEXT NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT
);

-- An authorization-code sign-in under way: the state's hash, the nonce and the PKCE
-- verifier the callback needs, usable once before it expires.
CREATE TABLE oidc_logins (
    state_hash      BLOB PRIMARY KEY,
    nonce           TEXT NOT NULL,
    verifier        TEXT NOT NULL,
    redirect_uri    TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT
);

-- Who did it, when a person did: their email, IdP subject and role at the time, and the
-- user agent the request came with.
ALTER TABLE audit ADD COLUMN actor_email TEXT;
ALTER TABLE audit ADD COLUMN actor_subject TEXT;
ALTER TABLE audit ADD COLUMN actor_role TEXT;
ALTER TABLE audit ADD COLUMN user_agent TEXT;
CREATE INDEX audit_at ON audit(at);
