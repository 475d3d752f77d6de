//! What a resource handler knows about its request (`Ctx`), and how it notes what it touched
//! in the request's `Trace`.

use super::trace::{log_entry, truncate, Trace};
use crate::state::AppState;
use axum::http::Method;
use directory::log::LogEntry;
use directory::service::ScimWrite;
use serde_json::Value;
use std::time::Instant;

/// Everything a resource handler needs about its request.
pub(super) struct Ctx<'a> {
    pub(super) st: &'a AppState,
    pub(super) connection_id: String,
    pub(super) base: String,
    pub(super) if_match: Option<String>,
    pub(super) started: Instant,
    pub(super) method: Method,
    pub(super) path_and_query: String,
    pub(super) user_agent: Option<String>,
}

impl Ctx<'_> {
    pub(super) fn user_location(&self, id: &str) -> String {
        format!("{}/Users/{id}", self.base)
    }
    pub(super) fn group_location(&self, id: &str) -> String {
        format!("{}/Groups/{id}", self.base)
    }

    /// The log row a write commits with, as far as the request has described it.
    pub(super) fn entry(&self, trace: &Trace, status: u16) -> LogEntry {
        log_entry(
            self.st,
            trace,
            &self.method,
            &self.path_and_query,
            status,
            self.started,
            self.user_agent.as_deref(),
        )
    }
}

/// What a write committed; its log row is written, so the request writes no other.
pub(super) fn written<R>(trace: &mut Trace, w: ScimWrite<R>) -> R {
    trace.logged = true;
    trace.resource_id = w.entry.resource_id.clone();
    trace.outcome = None;
    w.value
}

pub(super) fn note_target(trace: &mut Trace, kind: &'static str, id: &str) {
    trace.resource_type = Some(kind);
    trace.resource_id = Some(id.to_string());
}

pub(super) fn note_body_identity(trace: &mut Trace, kind: &'static str, body: &Value) {
    trace.resource_type = Some(kind);
    let name_key = if kind == "User" {
        "userName"
    } else {
        "displayName"
    };
    trace.user_name = body
        .get(name_key)
        .and_then(Value::as_str)
        .map(|s| truncate(s, 256));
    trace.external_id = body
        .get("externalId")
        .and_then(Value::as_str)
        .map(|s| truncate(s, 256));
}
