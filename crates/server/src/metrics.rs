//! The server's Prometheus metrics: SCIM requests by connection, method and status, their
//! latency, load rejections, and the gauges read at scrape time — in a recorder of the
//! server's own, read with its own token. `ops` serves them at `/metrics`.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use subtle::ConstantTimeEq;

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
            metrics::describe_gauge!(DATABASE_BYTES, metrics::Unit::Bytes, "Size of the database: the SQLite file and its write-ahead log, or the PostgreSQL database.");
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
    pub fn token_matches(&self, presented: &str) -> bool {
        let h: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        bool::from(h.ct_eq(&self.token_hash))
    }

    /// Sets the gauges read at scrape time: queued writes, the database's size, and the
    /// tokens expiring within 7 days (None: the count failed; the last value stays).
    pub fn set_gauges(&self, pending: usize, database_bytes: Option<u64>, expiring: Option<i64>) {
        self.with(|| {
            metrics::gauge!(WRITER_PENDING).set(pending as f64);
            if let Some(n) = database_bytes {
                metrics::gauge!(DATABASE_BYTES).set(n as f64);
            }
            if let Some(n) = expiring {
                metrics::gauge!(TOKENS_EXPIRING).set(n as f64);
            }
        });
    }

    /// The Prometheus text format of everything recorded.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// Records one answered SCIM request; `scim::serve` calls it where the response is made.
    /// `connection` is set only when the path names a connection that exists.
    pub fn record_scim(
        &self,
        connection: &Option<String>,
        method: &Method,
        response: &Response,
        started: std::time::Instant,
    ) {
        let m = self;
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
}
