-- Keys every instance of a cluster must share, drawn once by the first instance that needs
-- one (PgStore::shared_key): the RFC 9865 cursor key, so a cursor one instance issued pages
-- on through any other behind the load balancer. A SQLite store is one process and keeps
-- its cursor key in memory.
CREATE TABLE shared_keys (
    name text PRIMARY KEY,
    key bytea NOT NULL
);
