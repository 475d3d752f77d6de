//! Black-box tests of the SCIM endpoint: one binary starting the real server per test.

mod auth;
mod bad_input;
mod concurrency;
mod crash;
mod cursors;
mod database_away;
mod discovery;
mod errors;
mod filters;
mod groups;
mod hardening;
mod health_trust;
mod helpers;
mod idp_fixtures;
mod restart;
mod users;
