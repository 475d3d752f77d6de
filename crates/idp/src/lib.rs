//! Muster's IdP simulator: a SCIM 2.0 client that speaks like Okta, Entra and Google, runs lifecycle scenarios and produces the readiness report.
//!
//! This crate is a client only: it talks HTTP to any SCIM 2.0 server and depends on no other
//! Muster crate, so `muster check` judges Muster exactly as it would judge anyone else.
//!
//! - [`dialect`]: request bodies, paths and User-Agent per IdP.
//! - [`client`]: [`client::ScimClient`], bearer auth, 429 back-off, per-request records.
//! - [`scenario`]: [`scenario::run`] and its [`scenario::Summary`] with the expected state.
//! - [`check`]: [`check::run_checks`] and its [`check::Report`] (JSON; [`render`]: table, HTML).
//! - [`report`]: the report's data types; [`standards`]: what each check supports (RFCs, Okta, Entra, IPSIE levels) and the level verdict.

pub mod check;
pub mod client;
pub mod dialect;
pub mod oauth_check;
mod plain;
pub mod render;
pub mod report;
pub mod scenario;
pub mod standards;

pub use client::ScimClient;
pub use dialect::Dialect;
pub use scenario::{run, SimError, SimulateOptions, Summary};
