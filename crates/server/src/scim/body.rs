//! What a request may carry before a handler sees it: URI and header sizes, the media type,
//! the JSON body (large ones parsed off the async workers) and the query string.

use super::trace::truncate;
use crate::state::AppState;
use axum::body::Bytes;
use axum::http::{header, HeaderMap};
use scim::schema::ServiceLimits;
use scim::ScimError;
use serde_json::Value;

/// Largest request body accepted (advertised as maxPayloadSize).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest page (advertised as filter.maxResults).
pub const MAX_RESULTS: u64 = 1000;
/// Longest URL query accepted (filters included).
pub(super) const MAX_QUERY_BYTES: usize = 8192;

pub const LIMITS: ServiceLimits = ServiceLimits {
    max_results: MAX_RESULTS,
    max_payload_bytes: MAX_BODY_BYTES as u64,
    cursor_timeout_secs: directory::cursor::TIMEOUT_SECS,
};

/// Longest request target (path and query) answered; longer is 414 with a SCIM body.
pub(super) const MAX_URI_BYTES: usize = 16 * 1024;
/// Largest header block (names and values) answered; larger is 431 with a SCIM body.
pub(super) const MAX_HEADER_BYTES: usize = 32 * 1024;

/// Refusals that come before routing: a request target or header block too large.
pub(super) fn check_request_size(parts: &axum::http::request::Parts) -> Result<(), ScimError> {
    let uri = parts.uri.path_and_query().map_or(0, |p| p.as_str().len());
    if uri > MAX_URI_BYTES {
        return Err(ScimError::new(
            414,
            None,
            format!("the request URI is {uri} bytes; at most {MAX_URI_BYTES} are accepted (send long filters with POST .search)"),
        ));
    }
    let headers: usize = parts
        .headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if headers > MAX_HEADER_BYTES {
        return Err(ScimError::new(
            431,
            None,
            format!(
                "the request headers are {headers} bytes; at most {MAX_HEADER_BYTES} are accepted"
            ),
        ));
    }
    Ok(())
}

pub(super) fn check_content_type(headers: &HeaderMap) -> Result<(), ScimError> {
    let Some(ct) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
    let essence = ct.split(';').next().unwrap_or("").trim();
    if essence == "application/scim+json" || essence == "application/json" {
        Ok(())
    } else {
        Err(ScimError::new(
            415,
            None,
            format!("unsupported media type '{essence}': send application/scim+json or application/json"),
        ))
    }
}

pub(super) fn parse_json(body: &Bytes) -> Result<Value, ScimError> {
    if body.is_empty() {
        return Err(ScimError::invalid_syntax("the request body is empty"));
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| ScimError::invalid_syntax(format!("the body is not valid JSON: {e}")))?;
    if !v.is_object() {
        return Err(ScimError::invalid_syntax("the body must be a JSON object"));
    }
    Ok(v)
}

/// Bodies above this are parsed off the async workers, one at a time (`AppState::heavy`).
pub(super) const HEAVY_BODY_BYTES: usize = 64 * 1024;

/// The parsed body and its redacted, truncated copy for the log. A large body is parsed
/// on the blocking pool behind a process-wide permit, so one connection's stream of large
/// bodies takes at most one core and never holds the workers that serve everyone else.
pub(super) async fn parse_logged(st: &AppState, body: Bytes) -> Result<(Value, String), ScimError> {
    let small = body.len() <= HEAVY_BODY_BYTES;
    let work = move || {
        let v = parse_json(&body)?;
        let logged = truncate(&scim::redact::redact_body(&v).to_string(), 16 * 1024);
        Ok((v, logged))
    };
    if small {
        return work();
    }
    let _permit = st
        .heavy
        .acquire()
        .await
        .map_err(|_| ScimError::new(503, None, "the server is shutting down"))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| ScimError::new(500, None, "internal error; the request was not applied"))?
}

pub(super) fn query_pairs(query: &str) -> Result<Vec<(String, String)>, ScimError> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(ScimError::invalid_filter("the query string is too long"));
    }
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .map_err(|_| ScimError::invalid_syntax("the query string is malformed"))
}
