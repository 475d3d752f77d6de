//! Integration tests: one binary, a deliberately breakable SCIM server, the report and the scenarios against it.

mod broken_server;
mod checks;
mod payloads;
mod scenarios;
mod standards;
