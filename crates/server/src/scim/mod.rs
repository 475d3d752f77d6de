//! The SCIM 2.0 endpoint (RFC 7644) under `/scim/v2/{connection}`: bearer-token auth scoped
//! to the connection, admission gate, content types and limits, resource routing, and one
//! provisioning-log row for every request, accepted or not (refusals also announced on the
//! console's live stream, at most once a second per connection).

pub mod dialect;
mod paused;

use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use directory::log::{outcome, LogEntry};
use directory::service::ScimWrite;
use directory::tokens::TokenCheck;
use directory::{groups, log, users};
use scim::list::{ListQuery, Projection};
use scim::schema::ServiceLimits;
use scim::ScimError;
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Instant;

/// Largest request body accepted (advertised as maxPayloadSize).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest page (advertised as filter.maxResults).
pub const MAX_RESULTS: u64 = 1000;
pub use crate::state::REQUEST_DEADLINE;
/// Longest URL query accepted (filters included).
const MAX_QUERY_BYTES: usize = 8192;

pub const LIMITS: ServiceLimits = ServiceLimits {
    max_results: MAX_RESULTS,
    max_payload_bytes: MAX_BODY_BYTES as u64,
};

/// Longest request target (path and query) answered; longer is 414 with a SCIM body.
const MAX_URI_BYTES: usize = 16 * 1024;
/// Largest header block (names and values) answered; larger is 431 with a SCIM body.
const MAX_HEADER_BYTES: usize = 32 * 1024;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/{connection}", any(entry))
        .route("/{connection}/{*rest}", any(entry))
        .fallback(not_found)
        .with_state(state)
}

/// A path under /scim/v2 that names no connection, answered in SCIM's error format.
pub async fn not_found() -> Response {
    let e = ScimError::not_found("no such SCIM endpoint");
    scim_response(StatusCode::NOT_FOUND, Some(&e.to_json()), HeaderMap::new())
}

/// Refusals that come before routing: a request target or header block too large.
fn check_request_size(parts: &axum::http::request::Parts) -> Result<(), ScimError> {
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

/// What one request did, for its provisioning-log row.
#[derive(Default)]
struct Trace {
    connection_id: Option<String>,
    token_prefix: Option<String>,
    dialect: Option<String>,
    outcome: Option<&'static str>,
    resource_type: Option<&'static str>,
    resource_id: Option<String>,
    user_name: Option<String>,
    external_id: Option<String>,
    detail: Option<String>,
    request_body: Option<String>,
    /// True when the row was already written in the same transaction as the change.
    logged: bool,
    /// A 405's `Allow` header: the methods the endpoint supports.
    allow: Option<&'static str>,
    /// The response's `x-request-id` (`ops::with_request_ids`).
    request_id: Option<String>,
    /// Whose traffic: None for the IdP's, else `log::traffic::{CHECK, STRAY}`.
    traffic: Option<&'static str>,
    /// The peer's address, for the log.
    remote_addr: Option<String>,
    /// A 503's `Retry-After` when the refusal knows it (a paused connection).
    retry_after: Option<u64>,
}

/// A successful SCIM answer.
struct Reply {
    status: StatusCode,
    body: Option<Value>,
    location: Option<String>,
    etag: Option<String>,
}

impl Reply {
    fn ok(body: Value) -> Self {
        Reply {
            status: StatusCode::OK,
            body: Some(body),
            location: None,
            etag: None,
        }
    }
}

fn scim_response(status: StatusCode, body: Option<&Value>, extra: HeaderMap) -> Response {
    let mut resp = match body {
        Some(b) => (status, b.to_string()).into_response(),
        None => status.into_response(),
    };
    if body.is_some() {
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/scim+json; charset=utf-8"),
        );
    }
    resp.headers_mut().extend(extra);
    resp
}

fn error_outcome(e: &ScimError) -> &'static str {
    match e.status {
        400 => outcome::INVALID,
        401 => outcome::AUTH_FAILED,
        404 => outcome::NOT_FOUND,
        409 => outcome::CONFLICT,
        412 => outcome::PRECONDITION_FAILED,
        413 => outcome::TOO_LARGE,
        415 => outcome::UNSUPPORTED_MEDIA_TYPE,
        429 => outcome::RATE_LIMITED,
        _ => outcome::ERROR,
    }
}

/// Maps a directory error to what the client sees; internal detail stays in our log.
fn to_scim(e: directory::Error) -> ScimError {
    use directory::Code;
    if let directory::Error::Scim(s) = e {
        return s;
    }
    let message = e.public_message();
    match e.code() {
        Code::Invalid => ScimError::invalid_value(message),
        Code::NotFound | Code::Gone => ScimError::not_found(message),
        Code::Conflict => ScimError::new(409, None, message),
        Code::Unavailable => ScimError::new(503, None, message),
        Code::Internal => {
            tracing::error!(error = %e, "internal error while serving SCIM");
            ScimError::new(500, None, message)
        }
    }
}

async fn entry(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> Response {
    // Every write this request queues, its log row included, is served in its
    // connection's turn (the writer's round-robin).
    let tenant = req
        .uri()
        .path()
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or("")
        .to_string();
    directory::db::with_tenant(&tenant, serve(st, peer, req)).await
}

async fn serve(st: AppState, peer: SocketAddr, req: Request) -> Response {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let method = parts.method.clone();
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut trace = Trace {
        request_id: crate::ops::request_id(&parts.headers),
        remote_addr: Some(peer.ip().to_string()),
        // A readiness run says so; its requests stay out of the connection's health.
        traffic: parts
            .headers
            .contains_key(idp::client::CHECK_HEADER)
            .then_some(log::traffic::CHECK),
        ..Trace::default()
    };
    let path_and_query = logged_path(&parts.uri);
    let mut body = Some(body);
    let result = match check_request_size(&parts) {
        Ok(()) => {
            within_deadline(
                &st,
                handle(&st, &mut trace, peer, &parts, &mut body, started),
            )
            .await
        }
        Err(e) => Err(e),
    };
    let mut extra = HeaderMap::new();
    let response = match result {
        Ok(reply) => {
            if let Some(loc) = &reply.location {
                if let Ok(v) = HeaderValue::from_str(loc) {
                    extra.insert(header::LOCATION, v);
                }
            }
            if let Some(tag) = &reply.etag {
                if let Ok(v) = HeaderValue::from_str(tag) {
                    extra.insert(header::ETAG, v);
                }
            }
            let status = reply.status;
            if !trace.logged {
                write_log(
                    &st,
                    &trace,
                    &method,
                    &path_and_query,
                    status.as_u16(),
                    started,
                    user_agent.as_deref(),
                );
            }
            scim_response(status, reply.body.as_ref(), extra)
        }
        Err(e) => {
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
            if let Some(allow) = trace.allow {
                extra.insert(header::ALLOW, HeaderValue::from_static(allow));
            }
            if status == StatusCode::UNAUTHORIZED {
                extra.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"muster-scim\""),
                );
            }
            if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE
            {
                let wait = trace
                    .retry_after
                    .unwrap_or_else(|| st.retry_after(trace.connection_id.as_deref()));
                extra.insert(header::RETRY_AFTER, HeaderValue::from(wait));
            }
            trace.outcome = Some(error_outcome(&e));
            trace.detail = Some(e.detail.clone());
            write_log(
                &st,
                &trace,
                &method,
                &path_and_query,
                e.status,
                started,
                user_agent.as_deref(),
            );
            // Refused before its body was read: read it now (bounded), so the next request
            // on this keep-alive connection starts at a request line; a body too large or
            // too slow to drain closes the connection cleanly instead.
            // A body read only in part (413) cannot be skipped either.
            let close = match body.take() {
                Some(unread) => !drain(unread).await,
                None => status == StatusCode::PAYLOAD_TOO_LARGE,
            };
            if close {
                extra.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            scim_response(status, Some(&e.to_json()), extra)
        }
    };
    if let Some(c) = &trace.connection_id {
        st.note_duration(c, started.elapsed());
    }
    if let Some(m) = &st.metrics {
        m.record_scim(&trace.connection_id, &method, &response, started);
    }
    response
}

/// Okta gives up after 60 s: every request is answered before `AppState::request_deadline`,
/// and an error answer is the truth. When the deadline passes, the request's writes that
/// the writer has not taken are abandoned (they never run) and the client gets 503; if a
/// write was already taken, its outcome is awaited and answered instead.
async fn within_deadline(
    st: &AppState,
    work: impl std::future::Future<Output = Result<Reply, ScimError>>,
) -> Result<Reply, ScimError> {
    let scope = directory::db::WriteScope::new();
    let work = scope.run(work);
    tokio::pin!(work);
    tokio::select! {
        r = &mut work => r,
        _ = tokio::time::sleep(st.request_deadline) => {
            if scope.abandon() {
                return Err(ScimError::new(
                    503,
                    None,
                    "the request took too long and was abandoned; nothing was changed; retry after the given seconds",
                ));
            }
            match tokio::time::timeout(TAKEN_WRITE_GRACE, &mut work).await {
                Ok(r) => r,
                Err(_) => Err(ScimError::new(
                    503,
                    None,
                    "the request took too long; its write may have been applied: read the resource before retrying",
                )),
            }
        }
    }
}

/// How long a request whose write the writer already took waits past its deadline for
/// that write's outcome (a group commits in milliseconds; this covers a stalled disk).
const TAKEN_WRITE_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// Reads and discards a body the handler did not read, within `MAX_BODY_BYTES` and two
/// seconds; false when it could not (the connection should then close).
async fn drain(body: axum::body::Body) -> bool {
    let read = axum::body::to_bytes(body, MAX_BODY_BYTES);
    matches!(
        tokio::time::timeout(std::time::Duration::from_secs(2), read).await,
        Ok(Ok(_))
    )
}

/// Query parameters that carry credentials: refused, and never logged verbatim.
const CREDENTIAL_PARAMS: &[&str] = &[
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
fn is_credential_param(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    CREDENTIAL_PARAMS.contains(&name.as_str())
        || name.ends_with("_token")
        || name.ends_with("token")
        || name.ends_with("secret")
        || name.ends_with("password")
}

/// The path and query as the log keeps them: the value of every credential-like query
/// parameter replaced, so a token sent in the URL is never stored.
fn logged_path(uri: &axum::http::Uri) -> String {
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
fn percent_decode(s: &str) -> String {
    serde_urlencoded::from_str::<Vec<(String, String)>>(s)
        .ok()
        .and_then(|v| v.into_iter().next())
        .map(|(k, _)| k)
        .unwrap_or_else(|| s.to_string())
}

fn log_entry(
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
        outcome: t.outcome.unwrap_or(outcome::READ).to_string(),
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

fn write_log(
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

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Authenticates the bearer token against the connection in the path. Fails closed: a
/// missing, malformed, unknown, revoked or expired token, or another connection's token,
/// gets 401 and nothing about the connection's data.
async fn authenticate(
    st: &AppState,
    trace: &mut Trace,
    headers: &HeaderMap,
    path_connection: &str,
    peer: SocketAddr,
) -> Result<String, ScimError> {
    let denied = || ScimError::unauthorized("a valid bearer token for this connection is required");
    let path_id =
        directory::connections::ConnectionId::parse(path_connection).map(|c| c.to_string());
    // The bearer token, if the header holds a well-formed one; checked after the
    // connection is known, so a refusal is still logged against the connection.
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|raw| raw.to_str().ok())
        .and_then(|raw| raw.trim().split_once(' '))
        .map(|(scheme, token)| (scheme, token.trim()))
        .filter(|(scheme, token)| {
            scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= 512
        })
        .map(|(_, token)| token.to_string());
    // One trip to a reader for both lookups: each trip is a hop to the blocking pool, and
    // every SCIM request makes this one.
    let (conn, check) = st
        .dir
        .scim_authenticate(path_id.clone(), presented)
        .await
        .map_err(to_scim)?;
    let (exists, paused_at) = (conn.is_some(), conn.and_then(|c| c.paused_at));
    if exists {
        trace.connection_id = path_id.clone();
    }
    let ours = |c: &String| Some(c) == path_id.as_ref();
    let refusal = match check {
        Some(TokenCheck::Valid {
            connection_id,
            token_id,
            prefix,
        }) => {
            trace.token_prefix = Some(prefix);
            if ours(&connection_id) {
                touch_token(st, &token_id, headers, peer);
                paused::refuse_if_paused(trace, paused_at.as_deref())?;
                return Ok(connection_id);
            }
            trace.detail = Some("token belongs to another connection".into());
            denied()
        }
        // One of this connection's own dead tokens: certainly its IdP, still configured
        // with a token that no longer works.
        Some(TokenCheck::Revoked {
            connection_id,
            prefix,
            at,
        }) if ours(&connection_id) => {
            trace.token_prefix = Some(prefix);
            return Err(ScimError::unauthorized(format!(
                "this token was revoked at {at}; the connection has a newer one"
            )));
        }
        Some(TokenCheck::Expired {
            connection_id,
            prefix,
            at,
        }) if ours(&connection_id) => {
            trace.token_prefix = Some(prefix);
            return Err(ScimError::unauthorized(format!(
                "this token expired at {at}; the connection has a newer one"
            )));
        }
        Some(TokenCheck::Revoked { .. } | TokenCheck::Expired { .. }) => {
            trace.detail = Some("token belongs to another connection".into());
            denied()
        }
        Some(TokenCheck::Unknown) | None => denied(),
    };
    // A token this connection never issued: its IdP only if the request comes from where,
    // and with the user agent, the IdP's authenticated requests came from; otherwise it is
    // stray traffic, logged apart and kept out of health.
    if trace.traffic.is_none() {
        let idp_like = match &path_id {
            Some(id) if exists => {
                let agent = headers
                    .get(header::USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                    .map(|s| truncate(s, 256));
                st.dir
                    .looks_like_idp(id, &peer.ip().to_string(), agent)
                    .await
                    .unwrap_or(false)
            }
            _ => false,
        };
        if !idp_like {
            trace.traffic = Some(log::traffic::STRAY);
        }
    }
    Err(refusal)
}

/// Records a token's last use at most once a second, off the request path.
fn touch_token(st: &AppState, token_id: &str, headers: &HeaderMap, peer: SocketAddr) {
    let now = st.dir.now();
    let second = now.timestamp();
    {
        let mut seen = st.token_touches.lock().unwrap_or_else(|e| e.into_inner());
        if seen.get(token_id) == Some(&second) {
            return;
        }
        seen.insert(token_id.to_string(), second);
    }
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| truncate(s, 256));
    st.dir.touch_token(token_id, &peer.ip().to_string(), agent);
}

/// Records a connection's dialect: always when `decisive`, else only if none is recorded.
fn record_dialect(st: &AppState, connection_id: &str, dialect: &str, decisive: bool) {
    {
        let mut known = st.dialects.lock().unwrap_or_else(|e| e.into_inner());
        match known.get(connection_id) {
            Some(d) if d == dialect => return,
            Some(_) if !decisive => return,
            _ => {}
        }
        known.insert(connection_id.to_string(), dialect.to_string());
    }
    st.dir.record_dialect(connection_id, dialect, decisive);
}

fn check_content_type(headers: &HeaderMap) -> Result<(), ScimError> {
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

fn parse_json(body: &Bytes) -> Result<Value, ScimError> {
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
const HEAVY_BODY_BYTES: usize = 64 * 1024;

/// The parsed body and its redacted, truncated copy for the log. A large body is parsed
/// on the blocking pool behind a process-wide permit, so one connection's stream of large
/// bodies takes at most one core and never holds the workers that serve everyone else.
async fn parse_logged(st: &AppState, body: Bytes) -> Result<(Value, String), ScimError> {
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

fn query_pairs(query: &str) -> Result<Vec<(String, String)>, ScimError> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(ScimError::invalid_filter("the query string is too long"));
    }
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .map_err(|_| ScimError::invalid_syntax("the query string is malformed"))
}

async fn handle(
    st: &AppState,
    trace: &mut Trace,
    peer: SocketAddr,
    req: &axum::http::request::Parts,
    body: &mut Option<axum::body::Body>,
    started: Instant,
) -> Result<Reply, ScimError> {
    let method = req.method.clone();
    let headers = &req.headers;
    let query = req.uri.query().unwrap_or("").to_string();
    let path = req.uri.path().to_string();
    let segments: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .map(str::to_string)
        .collect();
    // Path as seen inside this router: /{connection}/...
    let (conn_seg, rest) = segments
        .split_first()
        .ok_or_else(|| ScimError::not_found("no such endpoint"))?;
    // RFC 6750 §2.3 allows a token in the query but URLs end up in proxy and server logs:
    // refused before it is looked at (and `logged_path` keeps only its name).
    if let Some(name) = query
        .split('&')
        .map(|pair| percent_decode(pair.split_once('=').map_or(pair, |(n, _)| n)))
        .find(|name| is_credential_param(name))
    {
        return Err(ScimError::new(
            400,
            None,
            format!("credentials must not be sent in the URL (query parameter {name:?}); send the token in the Authorization header"),
        ));
    }
    let connection_id = authenticate(st, trace, headers, conn_seg, peer).await?;

    // Admission gate: a connection with too much in flight gets 429 + Retry-After.
    let gate = st.gate(&connection_id);
    let _permit = gate.try_acquire_owned().map_err(|_| {
        ScimError::new(
            429,
            None,
            "too many concurrent requests for this connection; retry after the given seconds",
        )
    })?;

    {
        let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
        check_method(trace, &method, &rest)?;
    }
    let body = axum::body::to_bytes(body.take().unwrap_or_default(), MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            ScimError::new(
                413,
                None,
                format!("the request body exceeds {MAX_BODY_BYTES} bytes"),
            )
        })?;
    let json = if matches!(method, Method::POST | Method::PUT | Method::PATCH) {
        check_content_type(headers)?;
        let (v, logged) = parse_logged(st, body).await?;
        trace.request_body = Some(logged);
        Some(v)
    } else {
        None
    };
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let patch_body = if method == Method::PATCH {
        json.as_ref()
    } else {
        None
    };
    if let Some(d) = dialect::detect(ua, &query, patch_body) {
        trace.dialect = Some(d.to_string());
        // The connection's dialect comes from the IdP's own requests that reveal it (a
        // PATCH body, Entra's flag); a GET or POST only fills it in when none is known.
        if trace.traffic.is_none() {
            let decisive = patch_body.is_some() || dialect::flagged(&query);
            record_dialect(st, &connection_id, d, decisive);
        }
    }
    let if_match = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let pairs = query_pairs(&query)?;
    let ctx = Ctx {
        st,
        connection_id: connection_id.clone(),
        base: format!("{}/{}", st.scim_base, connection_id),
        if_match,
        started,
        method: method.clone(),
        path_and_query: logged_path(&req.uri),
        user_agent: ua.map(str::to_string),
    };
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    if let Some(body) = json
        .as_ref()
        .filter(|_| method == Method::POST || method == Method::PUT)
    {
        let kind = match rest.as_slice() {
            [_, ".search"] => None,
            ["Users"] | ["Users", _] => Some(scim::schema::ResourceKind::User),
            ["Groups"] | ["Groups", _] => Some(scim::schema::ResourceKind::Group),
            _ => None,
        };
        if let Some(kind) = kind {
            scim::schema::check_schemas(kind, body)?;
        }
    }
    match (method.clone(), rest.as_slice()) {
        (Method::GET, ["ServiceProviderConfig"]) => Ok(Reply::ok(
            scim::schema::service_provider_config(&ctx.base, LIMITS),
        )),
        (Method::GET, ["ResourceTypes"]) => {
            let all = scim::schema::resource_types(&ctx.base);
            let n = all.len() as u64;
            Ok(Reply::ok(scim::list::list_response(n, 1, all)))
        }
        (Method::GET, ["ResourceTypes", name]) => scim::schema::resource_types(&ctx.base)
            .into_iter()
            .find(|r| {
                r.get("id")
                    .and_then(Value::as_str)
                    .is_some_and(|i| i.eq_ignore_ascii_case(name))
            })
            .map(Reply::ok)
            .ok_or_else(|| ScimError::not_found(format!("no resource type {name}"))),
        (Method::GET, ["Schemas"]) => {
            let all = scim::schema::schemas();
            let n = all.len() as u64;
            Ok(Reply::ok(scim::list::list_response(n, 1, all)))
        }
        (Method::GET, ["Schemas", id]) => scim::schema::schemas()
            .into_iter()
            .find(|s| {
                s.get("id")
                    .and_then(Value::as_str)
                    .is_some_and(|i| i.eq_ignore_ascii_case(id))
            })
            .map(Reply::ok)
            .ok_or_else(|| ScimError::not_found(format!("no schema {id}"))),
        (_, ["Bulk"]) => Err(ScimError::new(
            501,
            None,
            "bulk operations are not supported (bulk.supported is false)",
        )),
        (Method::POST, [".search"]) => {
            let q =
                ListQuery::from_search_body(json.as_ref().unwrap_or(&Value::Null), MAX_RESULTS)?;
            search_root(&ctx, trace, q).await
        }
        (Method::GET, ["Users"]) => {
            let q = ListQuery::from_params(&pairs, MAX_RESULTS)?;
            list_users(&ctx, trace, q).await
        }
        (Method::POST, ["Users", ".search"]) => {
            let q =
                ListQuery::from_search_body(json.as_ref().unwrap_or(&Value::Null), MAX_RESULTS)?;
            list_users(&ctx, trace, q).await
        }
        (Method::POST, ["Users"]) => create_user(&ctx, trace, json.unwrap_or_default()).await,
        (Method::GET, ["Users", id]) => {
            get_user(&ctx, trace, id, &Projection::from_params(&pairs)?).await
        }
        (Method::PUT, ["Users", id]) => {
            replace_user(&ctx, trace, id, json.unwrap_or_default()).await
        }
        (Method::PATCH, ["Users", id]) => {
            patch_user(&ctx, trace, id, json.unwrap_or_default()).await
        }
        (Method::DELETE, ["Users", id]) => delete_user(&ctx, trace, id).await,
        (Method::GET, ["Groups"]) => {
            let q = ListQuery::from_params(&pairs, MAX_RESULTS)?;
            list_groups(&ctx, trace, q).await
        }
        (Method::POST, ["Groups", ".search"]) => {
            let q =
                ListQuery::from_search_body(json.as_ref().unwrap_or(&Value::Null), MAX_RESULTS)?;
            list_groups(&ctx, trace, q).await
        }
        (Method::POST, ["Groups"]) => create_group(&ctx, trace, json.unwrap_or_default()).await,
        (Method::GET, ["Groups", id]) => {
            get_group(&ctx, trace, id, &Projection::from_params(&pairs)?).await
        }
        (Method::PUT, ["Groups", id]) => {
            replace_group(&ctx, trace, id, json.unwrap_or_default()).await
        }
        (Method::PATCH, ["Groups", id]) => {
            patch_group(&ctx, trace, id, json.unwrap_or_default(), &pairs).await
        }
        (Method::DELETE, ["Groups", id]) => delete_group(&ctx, trace, id).await,
        _ => Err(ScimError::not_found("no such SCIM endpoint")),
    }
}

/// 405 for a method the endpoint does not support, with its `Allow` header.
fn check_method(trace: &mut Trace, method: &Method, rest: &[&str]) -> Result<(), ScimError> {
    let Some(allow) = allowed_methods(rest) else {
        return Ok(());
    };
    if allow.split(", ").any(|m| m == method.as_str()) {
        return Ok(());
    }
    trace.allow = Some(allow);
    Err(ScimError::new(
        405,
        None,
        format!("{method} is not allowed here; allowed: {allow}"),
    ))
}

/// The methods an endpoint supports (RFC 7644 §3.2), for 405's `Allow` header; None for
/// a path that is no endpoint.
fn allowed_methods(rest: &[&str]) -> Option<&'static str> {
    match rest {
        ["ServiceProviderConfig"]
        | ["ResourceTypes" | "Schemas"]
        | ["ResourceTypes" | "Schemas", _] => Some("GET"),
        [".search"] | ["Users" | "Groups", ".search"] => Some("POST"),
        ["Users" | "Groups"] => Some("GET, POST"),
        ["Users" | "Groups", _] => Some("GET, PUT, PATCH, DELETE"),
        _ => None,
    }
}

/// `POST /.search` at the server root (RFC 7644 §3.4.3): Users, then Groups, as one list.
/// A filter that names an attribute only one type has matches nothing of the other; the
/// page (startIndex, count) runs over the concatenation.
async fn search_root(ctx: &Ctx<'_>, trace: &mut Trace, q: ListQuery) -> Result<Reply, ScimError> {
    let conn = ctx.connection_id.clone();
    let with_members = !q.projection.excludes("members");
    let start = q.start_index.max(1);
    let want = q
        .count
        .unwrap_or(scim::list::DEFAULT_COUNT)
        .min(MAX_RESULTS);
    let page = ctx
        .st
        .dir
        .scim_search_root(&conn, q.clone(), with_members, want)
        .await
        .map_err(to_scim)?;
    let (users_total, user_rows, groups_total, group_rows) =
        (page.users_total, page.users, page.groups_total, page.groups);
    let mut resources: Vec<Value> = user_rows
        .iter()
        .map(|u| {
            let mut v = u.to_scim(&ctx.user_location(&u.id), None);
            q.projection.apply(&mut v);
            v
        })
        .collect();
    resources.extend(group_rows.iter().map(|(g, m)| {
        let mut v = g.to_scim(&ctx.group_location(&g.id), &ctx.base, m.as_deref());
        q.projection.apply(&mut v);
        v
    }));
    trace.resource_type = None;
    Ok(Reply::ok(scim::list::list_response(
        users_total + groups_total,
        start,
        resources,
    )))
}

/// Everything a resource handler needs about its request.
struct Ctx<'a> {
    st: &'a AppState,
    connection_id: String,
    base: String,
    if_match: Option<String>,
    started: Instant,
    method: Method,
    path_and_query: String,
    user_agent: Option<String>,
}

impl Ctx<'_> {
    fn user_location(&self, id: &str) -> String {
        format!("{}/Users/{id}", self.base)
    }
    fn group_location(&self, id: &str) -> String {
        format!("{}/Groups/{id}", self.base)
    }

    /// The log row a write commits with, as far as the request has described it.
    fn entry(&self, trace: &Trace, status: u16) -> LogEntry {
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
fn written<R>(trace: &mut Trace, w: ScimWrite<R>) -> R {
    trace.logged = true;
    trace.resource_id = w.entry.resource_id.clone();
    trace.outcome = None;
    w.value
}

fn note_user(trace: &mut Trace, u: &users::UserRecord) {
    trace.resource_type = Some("User");
    trace.resource_id = Some(u.id.clone());
    trace.user_name = Some(u.user_name.clone());
    trace.external_id = u.external_id.clone();
}

fn note_target(trace: &mut Trace, kind: &'static str, id: &str) {
    trace.resource_type = Some(kind);
    trace.resource_id = Some(id.to_string());
}

fn note_body_identity(trace: &mut Trace, kind: &'static str, body: &Value) {
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

async fn list_users(ctx: &Ctx<'_>, trace: &mut Trace, q: ListQuery) -> Result<Reply, ScimError> {
    trace.resource_type = Some("User");
    let (total, rows) = ctx
        .st
        .dir
        .scim_users(&ctx.connection_id, q.clone())
        .await
        .map_err(to_scim)?;
    let resources = rows
        .iter()
        .map(|u| {
            let mut v = u.to_scim(&ctx.user_location(&u.id), None);
            q.projection.apply(&mut v);
            v
        })
        .collect();
    Ok(Reply::ok(scim::list::list_response(
        total,
        q.start_index.max(1),
        resources,
    )))
}

async fn get_user(
    ctx: &Ctx<'_>,
    trace: &mut Trace,
    id: &str,
    projection: &Projection,
) -> Result<Reply, ScimError> {
    note_target(trace, "User", id);
    let groups_base = (!projection.excludes("groups")).then(|| ctx.base.clone());
    let (u, groups) = ctx
        .st
        .dir
        .scim_user(&ctx.connection_id, id, groups_base)
        .await
        .map_err(to_scim)?;
    note_user(trace, &u);
    let mut v = u.to_scim(&ctx.user_location(&u.id), groups);
    projection.apply(&mut v);
    Ok(Reply {
        status: StatusCode::OK,
        body: Some(v),
        location: None,
        etag: Some(u.etag()),
    })
}

fn user_reply(ctx: &Ctx<'_>, u: &users::UserRecord, status: StatusCode) -> Reply {
    let location = ctx.user_location(&u.id);
    Reply {
        status,
        body: Some(u.to_scim(&location, None)),
        location: (status == StatusCode::CREATED).then_some(location),
        etag: Some(u.etag()),
    }
}

async fn create_user(ctx: &Ctx<'_>, trace: &mut Trace, body: Value) -> Result<Reply, ScimError> {
    note_body_identity(trace, "User", &body);
    let w = ctx
        .st
        .dir
        .scim_create_user(&ctx.connection_id, body, ctx.entry(trace, 201))
        .await
        .map_err(to_scim)?;
    let u = written(trace, w);
    Ok(user_reply(ctx, &u, StatusCode::CREATED))
}

async fn replace_user(
    ctx: &Ctx<'_>,
    trace: &mut Trace,
    id: &str,
    body: Value,
) -> Result<Reply, ScimError> {
    note_target(trace, "User", id);
    note_body_identity(trace, "User", &body);
    let w = ctx
        .st
        .dir
        .scim_replace_user(
            &ctx.connection_id,
            id,
            body,
            ctx.if_match.clone(),
            ctx.entry(trace, 200),
        )
        .await
        .map_err(to_scim)?;
    let u = written(trace, w);
    Ok(user_reply(ctx, &u, StatusCode::OK))
}

async fn patch_user(
    ctx: &Ctx<'_>,
    trace: &mut Trace,
    id: &str,
    body: Value,
) -> Result<Reply, ScimError> {
    note_target(trace, "User", id);
    let req = scim::patch::parse_patch(&body)?;
    let w = ctx
        .st
        .dir
        .scim_patch_user(
            &ctx.connection_id,
            id,
            req,
            ctx.if_match.clone(),
            ctx.entry(trace, 200),
        )
        .await
        .map_err(to_scim)?;
    let u = written(trace, w);
    Ok(user_reply(ctx, &u, StatusCode::OK))
}

async fn delete_user(ctx: &Ctx<'_>, trace: &mut Trace, id: &str) -> Result<Reply, ScimError> {
    note_target(trace, "User", id);
    // A readiness run's test user is gone at once, not restorable for weeks.
    let check = trace.traffic == Some(log::traffic::CHECK);
    let w = ctx
        .st
        .dir
        .scim_delete_user(
            &ctx.connection_id,
            id,
            ctx.if_match.clone(),
            check,
            ctx.entry(trace, 204),
        )
        .await
        .map_err(to_scim)?;
    written(trace, w);
    Ok(Reply {
        status: StatusCode::NO_CONTENT,
        body: None,
        location: None,
        etag: None,
    })
}

async fn list_groups(ctx: &Ctx<'_>, trace: &mut Trace, q: ListQuery) -> Result<Reply, ScimError> {
    trace.resource_type = Some("Group");
    let with_members = !q.projection.excludes("members");
    let (total, rows) = ctx
        .st
        .dir
        .scim_groups(&ctx.connection_id, q.clone(), with_members)
        .await
        .map_err(to_scim)?;
    let resources = rows
        .iter()
        .map(|(g, m)| {
            let mut v = g.to_scim(&ctx.group_location(&g.id), &ctx.base, m.as_deref());
            q.projection.apply(&mut v);
            v
        })
        .collect();
    Ok(Reply::ok(scim::list::list_response(
        total,
        q.start_index.max(1),
        resources,
    )))
}

async fn get_group(
    ctx: &Ctx<'_>,
    trace: &mut Trace,
    id: &str,
    projection: &Projection,
) -> Result<Reply, ScimError> {
    note_target(trace, "Group", id);
    let with_members = !projection.excludes("members");
    let (g, m) = ctx
        .st
        .dir
        .scim_group(&ctx.connection_id, id, with_members)
        .await
        .map_err(to_scim)?;
    trace.user_name = Some(g.display_name.clone());
    let mut v = g.to_scim(&ctx.group_location(&g.id), &ctx.base, m.as_deref());
    projection.apply(&mut v);
    Ok(Reply {
        status: StatusCode::OK,
        body: Some(v),
        location: None,
        etag: Some(g.etag()),
    })
}

/// Group writes answer with the group; members are read only when the answer needs them.
async fn group_reply(
    ctx: &Ctx<'_>,
    g: &groups::GroupRecord,
    status: StatusCode,
) -> Result<Reply, ScimError> {
    let members = ctx
        .st
        .dir
        .scim_group_members(&ctx.connection_id, &g.id)
        .await
        .map_err(to_scim)?;
    let location = ctx.group_location(&g.id);
    Ok(Reply {
        status,
        body: Some(g.to_scim(&location, &ctx.base, Some(&members))),
        location: (status == StatusCode::CREATED).then_some(location),
        etag: Some(g.etag()),
    })
}

async fn create_group(ctx: &Ctx<'_>, trace: &mut Trace, body: Value) -> Result<Reply, ScimError> {
    note_body_identity(trace, "Group", &body);
    let w = ctx
        .st
        .dir
        .scim_create_group(&ctx.connection_id, body, ctx.entry(trace, 201))
        .await
        .map_err(to_scim)?;
    let w = written(trace, w);
    group_reply(ctx, &w.group, StatusCode::CREATED).await
}

async fn replace_group(
    ctx: &Ctx<'_>,
    trace: &mut Trace,
    id: &str,
    body: Value,
) -> Result<Reply, ScimError> {
    note_target(trace, "Group", id);
    note_body_identity(trace, "Group", &body);
    let w = ctx
        .st
        .dir
        .scim_replace_group(
            &ctx.connection_id,
            id,
            body,
            ctx.if_match.clone(),
            ctx.entry(trace, 200),
        )
        .await
        .map_err(to_scim)?;
    let w = written(trace, w);
    group_reply(ctx, &w.group, StatusCode::OK).await
}

/// PATCH answers 204 (RFC 7644 §3.5.2 allows it) unless attributes were asked for, so a
/// member added to a 10,000-member group is not followed by reading all 10,000.
async fn patch_group(
    ctx: &Ctx<'_>,
    trace: &mut Trace,
    id: &str,
    body: Value,
    pairs: &[(String, String)],
) -> Result<Reply, ScimError> {
    note_target(trace, "Group", id);
    let req = scim::patch::parse_patch(&body)?;
    let projection = Projection::from_params(pairs)?;
    let wants_body = pairs.iter().any(|(k, _)| {
        k.eq_ignore_ascii_case("attributes") || k.eq_ignore_ascii_case("excludedAttributes")
    });
    let status = if wants_body { 200 } else { 204 };
    let w = ctx
        .st
        .dir
        .scim_patch_group(
            &ctx.connection_id,
            id,
            req,
            ctx.if_match.clone(),
            ctx.entry(trace, status),
        )
        .await
        .map_err(to_scim)?;
    let w = written(trace, w);
    if wants_body {
        let mut reply = if projection.excludes("members") {
            let location = ctx.group_location(&w.group.id);
            Reply {
                status: StatusCode::OK,
                body: Some(w.group.to_scim(&location, &ctx.base, None)),
                location: None,
                etag: Some(w.group.etag()),
            }
        } else {
            group_reply(ctx, &w.group, StatusCode::OK).await?
        };
        if let Some(b) = reply.body.as_mut() {
            projection.apply(b);
        }
        return Ok(reply);
    }
    Ok(Reply {
        status: StatusCode::NO_CONTENT,
        body: None,
        location: None,
        etag: Some(w.group.etag()),
    })
}

async fn delete_group(ctx: &Ctx<'_>, trace: &mut Trace, id: &str) -> Result<Reply, ScimError> {
    note_target(trace, "Group", id);
    let check = trace.traffic == Some(log::traffic::CHECK);
    let w = ctx
        .st
        .dir
        .scim_delete_group(
            &ctx.connection_id,
            id,
            ctx.if_match.clone(),
            check,
            ctx.entry(trace, 204),
        )
        .await
        .map_err(to_scim)?;
    written(trace, w);
    Ok(Reply {
        status: StatusCode::NO_CONTENT,
        body: None,
        location: None,
        etag: None,
    })
}
