//! The SCIM 2.0 endpoint (RFC 7644) under `/scim/v2/{connection}`: bearer-token auth scoped
//! to the connection, admission gate, content types and limits, resource routing, and one
//! provisioning-log row for every request, accepted or not (refusals also announced on the
//! console's live stream, at most once a second per connection).

mod auth;
mod body;
mod ctx;
pub mod dialect;
mod groups;
mod paused;
mod reply;
mod search;
mod trace;
mod users;

pub use crate::state::REQUEST_DEADLINE;
use auth::authenticate;
use auth::record_dialect;
use body::{check_content_type, check_request_size, parse_logged, query_pairs};
pub use body::{LIMITS, MAX_BODY_BYTES, MAX_RESULTS};
use ctx::Ctx;
use reply::{scim_response, Reply};
use trace::{error_outcome, is_credential_param, logged_path, percent_decode, write_log, Trace};

use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::routing::any;
use axum::Router;
use directory::log;
use scim::list::{ListQuery, Projection};
use scim::ScimError;
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Instant;

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
            search::root(&ctx, trace, q).await
        }
        (Method::GET, ["Users"]) => {
            let q = ListQuery::from_params(&pairs, MAX_RESULTS)?;
            users::list(&ctx, trace, q).await
        }
        (Method::POST, ["Users", ".search"]) => {
            let q =
                ListQuery::from_search_body(json.as_ref().unwrap_or(&Value::Null), MAX_RESULTS)?;
            users::list(&ctx, trace, q).await
        }
        (Method::POST, ["Users"]) => users::create(&ctx, trace, json.unwrap_or_default()).await,
        (Method::GET, ["Users", id]) => {
            users::get(&ctx, trace, id, &Projection::from_params(&pairs)?).await
        }
        (Method::PUT, ["Users", id]) => {
            users::replace(&ctx, trace, id, json.unwrap_or_default()).await
        }
        (Method::PATCH, ["Users", id]) => {
            users::patch(&ctx, trace, id, json.unwrap_or_default()).await
        }
        (Method::DELETE, ["Users", id]) => users::delete(&ctx, trace, id).await,
        (Method::GET, ["Groups"]) => {
            let q = ListQuery::from_params(&pairs, MAX_RESULTS)?;
            groups::list(&ctx, trace, q).await
        }
        (Method::POST, ["Groups", ".search"]) => {
            let q =
                ListQuery::from_search_body(json.as_ref().unwrap_or(&Value::Null), MAX_RESULTS)?;
            groups::list(&ctx, trace, q).await
        }
        (Method::POST, ["Groups"]) => groups::create(&ctx, trace, json.unwrap_or_default()).await,
        (Method::GET, ["Groups", id]) => {
            groups::get(&ctx, trace, id, &Projection::from_params(&pairs)?).await
        }
        (Method::PUT, ["Groups", id]) => {
            groups::replace(&ctx, trace, id, json.unwrap_or_default()).await
        }
        (Method::PATCH, ["Groups", id]) => {
            groups::patch(&ctx, trace, id, json.unwrap_or_default(), &pairs).await
        }
        (Method::DELETE, ["Groups", id]) => groups::delete(&ctx, trace, id).await,
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
