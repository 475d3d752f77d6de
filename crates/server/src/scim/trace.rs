//! What one SCIM request did (`Trace`) and its provisioning-log row: the logged path with
//! credentials redacted, the outcome of a refusal, and the row written for a request that
//! changed nothing.

use crate::state::AppState;
use axum::http::Method;
use directory::log::{LogEntry, LogOutcome};
use scim::ScimError;
use std::time::Instant;

/// What one request did, for its provisioning-log row.
#[derive(Default)]
pub(super) struct Trace {
    pub(super) connection_id: Option<String>,
    pub(super) token_prefix: Option<String>,
    pub(super) dialect: Option<String>,
    pub(super) outcome: Option<LogOutcome>,
    pub(super) resource_type: Option<&'static str>,
    pub(super) resource_id: Option<String>,
    pub(super) user_name: Option<String>,
    pub(super) external_id: Option<String>,
    pub(super) detail: Option<String>,
    pub(super) request_body: Option<String>,
    /// True when the row was already written in the same transaction as the change.
    pub(super) logged: bool,
    /// A 405's `Allow` header: the methods the endpoint supports.
    pub(super) allow: Option<&'static str>,
    /// The response's `x-request-id` (`ops::with_request_ids`).
    pub(super) request_id: Option<String>,
    /// Whose traffic: None for the IdP's, else `log::traffic::{CHECK, STRAY}`.
    pub(super) traffic: Option<&'static str>,
    /// The peer's address, for the log.
    pub(super) remote_addr: Option<String>,
    /// A 503's `Retry-After` when the refusal knows it (a paused connection).
    pub(super) retry_after: Option<u64>,
}

pub(super) fn error_outcome(e: &ScimError) -> LogOutcome {
    match e.status {
        400 => LogOutcome::Invalid,
        401 => LogOutcome::AuthFailed,
        404 => LogOutcome::NotFound,
        409 => LogOutcome::Conflict,
        412 => LogOutcome::PreconditionFailed,
        413 => LogOutcome::TooLarge,
        415 => LogOutcome::UnsupportedMediaType,
        429 => LogOutcome::RateLimited,
        _ => LogOutcome::Error,
    }
}

/// Query parameters that carry credentials: refused, and never logged verbatim.
pub(super) const CREDENTIAL_PARAMS: &[&str] = &[
    "access_token",
    "token",
    "bearer",
    "api_key",
    "apikey",
    "key",
    "secret",
    "client_secret",
    "password",
    "authorization",
    "auth",
];

/// Whether a query parameter name carries a credential.
pub(super) fn is_credential_param(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    CREDENTIAL_PARAMS.contains(&name.as_str())
        || name.ends_with("_token")
        || name.ends_with("token")
        || name.ends_with("secret")
        || name.ends_with("password")
}

/// The path and query as the log keeps them: the value of every credential-like query
/// parameter replaced, so a token sent in the URL is never stored.
pub(super) fn logged_path(uri: &axum::http::Uri) -> String {
    let path = uri.path();
    let Some(query) = uri.query() else {
        return path.to_string();
    };
    let cleaned: Vec<String> = query
        .split('&')
        .map(|pair| {
            let (name, _) = pair.split_once('=').unwrap_or((pair, ""));
            let decoded = percent_decode(name);
            if is_credential_param(&decoded) {
                format!("{name}=[redacted]")
            } else {
                pair.to_string()
            }
        })
        .collect();
    format!("{path}?{}", cleaned.join("&"))
}

/// Percent-decoding of a query parameter name (form-encoded), for recognising it.
pub(super) fn percent_decode(s: &str) -> String {
    serde_urlencoded::from_str::<Vec<(String, String)>>(s)
        .ok()
        .and_then(|v| v.into_iter().next())
        .map(|(k, _)| k)
        .unwrap_or_else(|| s.to_string())
}

pub(super) fn log_entry(
    st: &AppState,
    t: &Trace,
    method: &Method,
    path: &str,
    status: u16,
    started: Instant,
    ua: Option<&str>,
) -> LogEntry {
    LogEntry {
        id: 0,
        at: directory::clock::fmt_time(st.dir.now()),
        connection_id: t.connection_id.clone(),
        method: method.to_string(),
        path: truncate(path, 2048),
        status,
        outcome: t.outcome.unwrap_or(LogOutcome::Read),
        resource_type: t.resource_type.map(str::to_string),
        resource_id: t.resource_id.clone(),
        user_name: t.user_name.clone(),
        external_id: t.external_id.clone(),
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        dialect: t.dialect.clone(),
        user_agent: ua.map(|u| truncate(u, 256)),
        token_prefix: t.token_prefix.clone(),
        detail: t.detail.as_deref().map(|d| truncate(d, 1024)),
        request_body: t.request_body.clone(),
        changes: None,
        request_id: t.request_id.clone(),
        traffic: t.traffic.map(str::to_string),
        remote_addr: t.remote_addr.clone(),
        feed_events: None,
    }
}

pub(super) fn write_log(
    st: &AppState,
    t: &Trace,
    method: &Method,
    path: &str,
    status: u16,
    started: Instant,
    ua: Option<&str>,
) {
    let entry = log_entry(st, t, method, path, status, started, ua);
    // A refused request is announced on the console's live stream, like a change, once its
    // row has committed: health and the failure toast move now, not at the next poll.
    // Auth failures count when the path names a real connection; they carry no data. At
    // most one event a second per connection (AppState::failure_event_due). Only the
    // IdP's failures: a readiness run's or a stray request's raise no toast.
    let announce = entry
        .connection_id
        .clone()
        .filter(|c| status >= 400 && t.traffic.is_none() && st.failure_event_due(c));
    st.dir.append_log(entry, announce);
}

pub(super) fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}
