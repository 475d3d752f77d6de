//! Running Muster in production: `/healthz` and `/readyz` for load balancers, `/metrics`
//! for Prometheus (behind its own token), `x-request-id` on every response, and the flush
//! before `muster serve` exits.

use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use directory::Db;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use subtle::ConstantTimeEq;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

/// How long `/readyz` waits for a read and for a trivial write before it says 503.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

const REQUESTS: &str = "muster_scim_requests_total";
const DURATION: &str = "muster_scim_request_duration_seconds";
const REJECTIONS: &str = "muster_scim_rejections_total";
const WRITER_PENDING: &str = "muster_writer_pending";
const DATABASE_BYTES: &str = "muster_database_bytes";
const TOKENS_EXPIRING: &str = "muster_tokens_expiring_7d";

/// Upper bounds of the SCIM latency histogram's buckets, in seconds: from a cached read to
/// the request deadline (50 s).
const DURATION_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 50.0,
];

/// Requests recorded between two upkeeps of the recorder: latencies are buffered until
/// upkeep or a scrape folds them into the histogram, so without a scrape they would pile up.
const UPKEEP_EVERY: u64 = 4096;

/// The server's metrics: a recorder of its own (not the process-global one, so servers in
/// one process, the tests' or the desktop shell's, never mix), and the token that reads it.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    token_hash: [u8; 32],
    recorded: AtomicU64,
}

impl Metrics {
    /// Metrics readable with `token` (kept only as its SHA-256).
    pub fn new(token: &str) -> Metrics {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Full(DURATION.into()),
                &DURATION_BUCKETS,
            )
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        let m = Metrics {
            recorder,
            handle,
            token_hash: Sha256::digest(token.as_bytes()).into(),
            recorded: AtomicU64::new(0),
        };
        m.with(|| {
            metrics::describe_counter!(REQUESTS, "SCIM requests answered, by connection (\"none\" when the path names no connection), method and status.");
            metrics::describe_histogram!(DURATION, metrics::Unit::Seconds, "Time to answer a SCIM request, by method.");
            metrics::describe_counter!(REJECTIONS, "SCIM requests refused for load: in_flight_limit (429, too many at once for one connection) and deadline (503, not answered in time).");
            metrics::describe_gauge!(WRITER_PENDING, "Writes queued for the database writer and not yet committed.");
            metrics::describe_gauge!(DATABASE_BYTES, metrics::Unit::Bytes, "Size of the database file and its write-ahead log.");
            metrics::describe_gauge!(TOKENS_EXPIRING, "SCIM tokens, not revoked, that expire within the next 7 days.");
            // Present from the first scrape, so rate() and alerts see a 0 rather than nothing.
            for reason in ["in_flight_limit", "deadline"] {
                metrics::counter!(REJECTIONS, "reason" => reason).absolute(0);
            }
        });
        m
    }

    fn with<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(&self.recorder, f)
    }

    /// Constant-time comparison of a presented token, as for the admin secret.
    fn token_matches(&self, presented: &str) -> bool {
        let h: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        bool::from(h.ct_eq(&self.token_hash))
    }
}

/// Records one answered SCIM request; `scim::serve` calls it where the response is made.
/// `connection` is set only when the path names a connection that exists.
pub fn record_scim(
    st: &AppState,
    connection: &Option<String>,
    method: &Method,
    response: &Response,
    started: std::time::Instant,
) {
    let Some(m) = &st.metrics else { return };
    let (status, took) = (response.status(), started.elapsed());
    // Label values come from a fixed set or from the store (a connection that exists), never
    // from what a client typed: an unknown method or connection cannot grow the series.
    let method = match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        _ => "other",
    };
    let connection = connection.as_deref().unwrap_or("none").to_string();
    m.with(|| {
        metrics::counter!(REQUESTS, "connection" => connection, "method" => method, "status" => status.as_str().to_string())
            .increment(1);
        metrics::histogram!(DURATION, "method" => method).record(took.as_secs_f64());
        let reason = match status {
            StatusCode::TOO_MANY_REQUESTS => Some("in_flight_limit"),
            StatusCode::SERVICE_UNAVAILABLE => Some("deadline"),
            _ => None,
        };
        if let Some(reason) = reason {
            metrics::counter!(REJECTIONS, "reason" => reason).increment(1);
        }
    });
    if m.recorded.fetch_add(1, Ordering::Relaxed) % UPKEEP_EVERY == UPKEEP_EVERY - 1 {
        m.handle.run_upkeep();
    }
}

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
    match ready(&st.db).await {
        Ok(()) => no_store(StatusCode::OK, json!({"status": "ok"})),
        Err(reason) => no_store(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "unavailable", "reason": reason}),
        ),
    }
}

async fn ready(db: &Db) -> Result<(), &'static str> {
    let version = tokio::time::timeout(READY_TIMEOUT, db.read(Db::schema_version))
        .await
        .map_err(|_| "database read timed out")?
        .map_err(|_| "database read failed")?;
    if version != Db::newest_schema_version() {
        return Err("database schema is not current");
    }
    // Queued like any write: a writer stuck on a lock or a disk is seen here. A write that
    // times out stays queued and commits nothing when it runs.
    tokio::time::timeout(READY_TIMEOUT, db.write(|_| Ok(())))
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
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
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
    let now = st.clock.now();
    let expiring = tokio::time::timeout(
        READY_TIMEOUT,
        st.db
            .read(move |c| directory::tokens::count_expiring(c, now, chrono::Duration::days(7))),
    )
    .await;
    let bytes = database_bytes(st.db.path());
    let pending = st.db.pending();
    m.with(|| {
        metrics::gauge!(WRITER_PENDING).set(pending as f64);
        metrics::gauge!(DATABASE_BYTES).set(bytes as f64);
        match expiring {
            Ok(Ok(n)) => metrics::gauge!(TOKENS_EXPIRING).set(n as f64),
            // The last value stays; the failure is ours to see, not the scraper's.
            Ok(Err(e)) => tracing::warn!(error = %e, "metrics: counting expiring tokens failed"),
            Err(_) => tracing::warn!("metrics: counting expiring tokens timed out"),
        }
    });
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        m.handle.render(),
    )
        .into_response()
}

/// The database file and its write-ahead log, in bytes.
fn database_bytes(path: &std::path::Path) -> u64 {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    [path.as_os_str().to_owned(), wal]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
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
pub async fn flush(db: &Db, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    while db.pending() > 0 {
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!(
                pending = db.pending(),
                "writes still queued at exit; they are not stored"
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let db = db.clone();
    match tokio::task::spawn_blocking(move || db.checkpoint()).await {
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
