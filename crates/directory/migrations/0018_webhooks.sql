-- Outbound webhooks (Standard Webhooks): endpoints with their signing secrets, the queue of
-- deliveries (one row per event sent to one endpoint, or per resend/replay of one), and the
-- log of every attempt. Owned by webhooks.rs.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    -- NULL: every connection's events (a server-wide endpoint).
    connection_id TEXT,
    url TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    -- JSON array of feed event types; empty: every type.
    event_types TEXT NOT NULL DEFAULT '[]',
    enabled INTEGER NOT NULL DEFAULT 1,
    -- The signing secret (`whsec_...`), sealed under the key file beside the database
    -- (sealed.rs): signing needs it back, so it cannot be a hash. Never returned by the API
    -- after creation or rotation, never logged (README, "Webhooks").
    secret TEXT NOT NULL,
    -- The secret before the last rotation (sealed too), still signing beside the new one until then.
    previous_secret TEXT,
    previous_secret_until TEXT,
    -- Feed events up to this seq have been queued for this endpoint (or passed over).
    after_seq INTEGER NOT NULL,
    -- First failed attempt since the last success; NULL while deliveries succeed.
    failing_since TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_by_connection ON webhook_endpoints (connection_id);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    connection_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    -- `webhook-id`: the same for every attempt, resend and replay of this event to this endpoint.
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    -- pending | delivered | failed
    state TEXT NOT NULL,
    -- event | resend | replay
    origin TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (endpoint_id, state, id);

CREATE TABLE webhook_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    status INTEGER,
    error TEXT,
    latency_ms INTEGER NOT NULL,
    response_excerpt TEXT
);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id);
