-- The identity provider admins sign in to the console with, when an owner set it in the
-- console rather than on the server's command line. One row at most. No client secret: a
-- confidential client's secret stays in the server's environment, never in the database.
CREATE TABLE oidc_settings (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    issuer      TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
