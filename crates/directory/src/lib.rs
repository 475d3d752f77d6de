//! Muster's directory: connections, tokens, users, groups and memberships, and the
//! provisioning log, stored in SQLite (db/) or, for several servers, PostgreSQL (pg/, in
//! progress), each statement written once over both (sql.rs). Nothing here knows about HTTP.

pub mod access;
pub mod admin_sessions;
pub mod admins;
pub mod attributes;
pub mod audit;
pub mod audit_search;
pub mod backup;
pub mod changes;
pub mod clock;
pub mod connections;
pub mod console;
pub mod cursor;
pub mod db;
pub mod error;
pub mod evidence;
pub mod feed;
pub mod groups;
pub mod health;
pub mod jit;
pub mod lifecycle;
pub mod live;
pub mod log;
mod migration_plan;
pub mod oauth;
pub mod oidc_logins;
pub mod oidc_settings;
pub mod onboard;
pub mod pg;
pub mod preconditions;
pub mod query;
pub mod retention;
pub mod roles;
pub mod sealed;
pub mod search;
pub mod service;
pub mod sessions;
pub mod setup_links;
pub mod sql;
pub mod sync_cycles;
pub mod timeline;
pub mod tokens;
pub mod triage;
pub mod users;
pub mod webhooks;

pub use audit::Actor;
pub use clock::{Clock, ManualClock, SystemClock};
pub use db::Db;
pub use error::{Code, Error, Result};
pub use service::Directory;
