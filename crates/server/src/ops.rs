//! Running Muster in production: `/healthz` and `/readyz` for load balancers, `/metrics` for
//! Prometheus (behind its own token; the recorder is `metrics`), `x-request-id` on every
//! response, and the flush before `muster serve` exits.

use crate::bearer::bearer_token;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use directory::Directory;
use serde_json::json;
use std::time::Duration;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

/// How long `/readyz` waits for a read and for a trivial write before it says 503.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// `/healthz`, `/readyz` and `/metrics`, at the root. They need no admin secret and say
/// nothing about the deployment (no version, path or count) beyond what `/metrics`' own
/// token opens.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(scrape))
        .with_state(state)
}

fn no_store(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(body),
    )
        .into_response()
}

/// The process is alive and answering HTTP.
async fn healthz() -> Response {
    no_store(StatusCode::OK, json!({"status": "ok"}))
}

/// Ready for traffic: the database answers a read, its schema is the one this build
/// migrates to, and the writer commits a trivial write within `READY_TIMEOUT`.
async fn readyz(State(st): State<AppState>) -> Response {
    match ready(&st.dir).await {
        Ok(()) => no_store(StatusCode::OK, json!({"status": "ok"})),
        Err(reason) => no_store(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "unavailable", "reason": reason}),
        ),
    }
}

async fn ready(dir: &Directory) -> Result<(), &'static str> {
    let current = tokio::time::timeout(READY_TIMEOUT, dir.schema_current())
        .await
        .map_err(|_| "database read timed out")?
        .map_err(|_| "database read failed")?;
    if !current {
        return Err("database schema is not current");
    }
    // Queued like any write: a writer stuck on a lock or a disk is seen here. A write that
    // times out stays queued and commits nothing when it runs.
    tokio::time::timeout(READY_TIMEOUT, dir.probe_write())
        .await
        .map_err(|_| "database writer is not keeping up")?
        .map_err(|_| "database write failed")?;
    Ok(())
}

/// The Prometheus text format, for `Authorization: Bearer <metrics token>`; 404 when no
/// metrics token is configured, as if the endpoint did not exist.
async fn scrape(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let Some(m) = st.metrics.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let presented = bearer_token(&headers);
    if !presented.is_some_and(|t| m.token_matches(t)) {
        return (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"muster-metrics\""),
            )],
        )
            .into_response();
    }
    // Gauges are read now, at scrape time.
    let week = chrono::Duration::days(7);
    let expiring = gauge(
        "counting expiring tokens",
        st.dir.tokens_expiring_within(week),
    )
    .await;
    let bytes = gauge("reading the database size", st.dir.database_bytes()).await;
    let pending = st.dir.pending();
    m.set_gauges(pending, bytes, expiring);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        m.render(),
    )
        .into_response()
}

/// A gauge's value read within READY_TIMEOUT, or None: the last value stays, and the
/// failure is ours to see in the log, not the scraper's.
async fn gauge<T>(
    what: &str,
    read: impl std::future::Future<Output = directory::Result<T>>,
) -> Option<T> {
    match tokio::time::timeout(READY_TIMEOUT, read).await {
        Ok(Ok(v)) => Some(v),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "metrics: {what} failed");
            None
        }
        Err(_) => {
            tracing::warn!("metrics: {what} timed out");
            None
        }
    }
}

/// The request's `x-request-id` (set by `with_request_ids` before any handler runs).
pub fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Every response carries `x-request-id`: the client's, when it sent exactly one of sane
/// form (1 to 64 characters of `A-Z a-z 0-9 . _ -`), else a new UUID. Handlers read it from
/// the request's headers; the SCIM endpoint keeps it in the provisioning-log row.
pub fn with_request_ids(app: Router) -> Router {
    app.layer(
        tower::ServiceBuilder::new()
            .map_request(drop_malformed_request_id)
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(PropagateRequestIdLayer::x_request_id()),
    )
}

fn drop_malformed_request_id(mut req: Request) -> Request {
    let ids = req.headers().get_all("x-request-id");
    let mut ids = ids.iter();
    let keep = match (ids.next(), ids.next()) {
        (Some(id), None) => is_sane_request_id(id.as_bytes()),
        _ => false,
    };
    if !keep {
        req.headers_mut().remove("x-request-id");
    }
    req
}

/// A request id a log line or a header can carry as it is: no spaces, quotes or controls.
fn is_sane_request_id(id: &[u8]) -> bool {
    (1..=64).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// After the server stopped: waits (at most `within`) until the writer has answered every
/// queued write, log rows included, then folds the WAL into the database file so it is
/// whole on its own when the process exits.
pub async fn flush(dir: &Directory, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    while dir.pending() > 0 {
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!(
                pending = dir.pending(),
                "writes still queued at exit; they are not stored"
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let dir = dir.clone();
    match tokio::task::spawn_blocking(move || dir.checkpoint()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "final WAL checkpoint failed"),
        Err(e) => tracing::warn!(error = %e, "final WAL checkpoint failed"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn request_ids_of_sane_form_are_kept() {
        for ok in [
            "a",
            "req-1.2_3",
            &"x".repeat(64),
            "0f8fad5b-d9cb-469f-a165-70867728950e",
        ] {
            assert!(super::is_sane_request_id(ok.as_bytes()), "{ok}");
        }
        for bad in ["", "a b", "a\"b", "a/b", "ü", &"x".repeat(65), "a;b"] {
            assert!(!super::is_sane_request_id(bad.as_bytes()), "{bad}");
        }
    }
}
