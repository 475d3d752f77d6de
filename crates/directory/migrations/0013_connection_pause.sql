-- A connection paused by its admin: while set, every SCIM request on it is answered 503
-- with Retry-After (IdPs retry later, so nothing is lost) and kept out of its health.
ALTER TABLE connections ADD COLUMN paused_at TEXT;
