//! The HTTP side of an IdP: bearer auth, Okta-style 429 back-off, a 60 s timeout and a record of every exchange.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use rand::Rng;
use serde::Serialize;
use serde_json::Value;

use crate::dialect::{Dialect, Method, ScimRequest};

/// Okta gives up on a SCIM request after 60 seconds; so do we.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The media type of SCIM messages (RFC 7644 §3.1).
pub const SCIM_JSON: &str = "application/scim+json";

/// How the client backs off on 429.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RetryPolicy {
    /// Retries after the first attempt; 0 disables retrying.
    pub max_retries: u32,
    /// First back-off when the server gives no usable Retry-After.
    pub base_delay: Duration,
    /// Cap on any single wait, Retry-After included.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Okta pauses the task, honours integer-seconds Retry-After and otherwise backs off
    /// exponentially; we cap a single wait at 60 s and give up after 5 retries.
    fn default() -> Self {
        Self {
            max_retries: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// How long to wait before retry number `attempt` (1-based). An integer Retry-After wins
    /// (Okta reads only integer seconds; HTTP-dates are ignored like Okta ignores them);
    /// otherwise exponential back-off with full jitter.
    pub fn delay(&self, attempt: u32, retry_after: Option<&str>) -> Duration {
        if let Some(secs) = retry_after.and_then(|v| v.trim().parse::<u64>().ok()) {
            return Duration::from_secs(secs).min(self.max_delay);
        }
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let cap = exp.min(self.max_delay);
        let jitter = rand::thread_rng().gen_range(0..=cap.as_millis() as u64);
        Duration::from_millis(jitter.max(cap.as_millis() as u64 / 2))
    }
}

/// How one HTTP exchange ended, for summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// 2xx.
    Success,
    /// 429: the server asked us to slow down.
    RateLimited,
    /// 409: uniqueness conflict.
    Conflict,
    /// 404.
    NotFound,
    /// Any other 4xx.
    ClientError,
    /// 5xx.
    ServerError,
    /// No response within [`REQUEST_TIMEOUT`].
    Timeout,
    /// Connection refused, reset, TLS failure, unreadable body.
    Transport,
}

impl OutcomeKind {
    /// Classifies a status code.
    pub fn of_status(status: u16) -> Self {
        match status {
            200..=299 => Self::Success,
            429 => Self::RateLimited,
            409 => Self::Conflict,
            404 => Self::NotFound,
            400..=499 => Self::ClientError,
            _ => Self::ServerError,
        }
    }
}

/// One HTTP exchange as the client saw it (each retry is its own record).
#[derive(Debug, Clone, Serialize)]
pub struct RequestRecord {
    pub method: Method,
    pub path: String,
    /// None when no response arrived.
    pub status: Option<u16>,
    pub outcome: OutcomeKind,
    pub latency: Duration,
    /// 0 for the first try, 1.. for retries.
    pub attempt: u32,
}

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct ScimResponse {
    pub status: u16,
    /// Lower-cased header names, in arrival order.
    pub headers: Vec<(String, String)>,
    /// Raw body text.
    pub text: String,
    /// The body parsed as JSON, when it is JSON.
    pub body: Option<Value>,
    pub latency: Duration,
}

impl ScimResponse {
    /// First value of a header (name is matched case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
    /// The body, or JSON null.
    pub fn json(&self) -> &Value {
        self.body.as_ref().unwrap_or(&Value::Null)
    }
    /// A string attribute of the body.
    pub fn str_field(&self, key: &str) -> Option<&str> {
        self.json().get(key).and_then(Value::as_str)
    }
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Why a request produced no response.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    #[error("request timed out after {0:?}")]
    Timeout(Duration),
    #[error("transport error: {0}")]
    Transport(String),
    #[error("invalid base URL {0:?}")]
    BadUrl(String),
}

/// How a raw request authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Auth {
    /// The client's bearer token.
    Token,
    /// A different bearer value.
    Bearer(String),
    /// No Authorization header.
    None,
}

/// A request with every knob the readiness checks turn.
#[derive(Debug, Clone)]
pub(crate) struct RawRequest {
    pub method: Method,
    pub path: String,
    pub body: Option<String>,
    pub content_type: Option<String>,
    pub auth: Auth,
}

/// A SCIM client that speaks one IdP dialect against one SCIM base URL.
#[derive(Clone)]
pub struct ScimClient {
    http: reqwest::Client,
    /// Scheme, host and path of the SCIM base, without a trailing slash or query.
    base: String,
    /// The query of the URL the admin pasted (`aadOptscim062020` on an Entra tenant URL), sent
    /// with every request as Entra does.
    query: Option<String>,
    token: String,
    dialect: Dialect,
    retry: RetryPolicy,
    records: Arc<Mutex<Vec<RequestRecord>>>,
    progress: Option<ProgressBar>,
    /// Sent with every request (e.g. the readiness run's `x-muster-check` tag).
    extra_headers: Vec<(String, String)>,
}

/// The header a readiness run tags its requests with, so the server it checks keeps them
/// out of the target connection's health, dialect and counts.
pub const CHECK_HEADER: &str = "x-muster-check";

impl std::fmt::Debug for ScimClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.debug_struct("ScimClient")
            .field("base", &self.base)
            .field("query", &self.query)
            .field("dialect", &self.dialect)
            .finish()
    }
}

impl ScimClient {
    /// A client for `base` (e.g. `https://host/scim/v2/conn`), authenticating with `token`.
    ///
    /// A query on `base` is kept and sent with every request: Entra's tenant URL
    /// `https://host/scim/v2/conn?aadOptscim062020` makes Entra call
    /// `…/conn/Users?aadOptscim062020&filter=…`, not `…/conn?aadOptscim062020/Users`.
    pub fn new(base: &str, token: &str, dialect: Dialect) -> Result<Self, ClientError> {
        let trimmed = base.trim();
        if !(trimmed.starts_with("http://") || trimmed.starts_with("https://")) {
            return Err(ClientError::BadUrl(
                trimmed.trim_end_matches('/').to_string(),
            ));
        }
        let (path, query) = match trimmed.split_once('?') {
            Some((path, query)) => (
                path,
                Some(query.trim_matches('&')).filter(|q| !q.is_empty()),
            ),
            None => (trimmed, None),
        };
        let base = path.trim_end_matches('/').to_string();
        let query = query.map(str::to_string);
        let http = reqwest::Client::builder()
            .user_agent(dialect.user_agent())
            .timeout(REQUEST_TIMEOUT)
            .pool_max_idle_per_host(256)
            .build()
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        Ok(Self {
            http,
            base,
            query,
            token: token.to_string(),
            dialect,
            retry: RetryPolicy::default(),
            records: Arc::default(),
            progress: None,
            extra_headers: Vec::new(),
        })
    }

    /// Sends `name: value` with every request.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.extra_headers
            .push((name.to_string(), value.to_string()));
        self
    }

    /// Replaces the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Ticks `bar` once per completed exchange.
    pub fn with_progress(mut self, bar: ProgressBar) -> Self {
        self.progress = Some(bar);
        self
    }

    /// The dialect this client speaks.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The SCIM base URL, without a trailing slash and without the query it was given with.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The full URL of `path` (`/Users?filter=…`) under the base, with the base URL's query
    /// (if any) added to the path's own.
    pub fn url(&self, path: &str) -> String {
        match &self.query {
            None => format!("{}{path}", self.base),
            Some(q) => {
                let sep = if path.contains('?') { '&' } else { '?' };
                format!("{}{path}{sep}{q}", self.base)
            }
        }
    }

    /// Every exchange so far.
    pub fn records(&self) -> Vec<RequestRecord> {
        self.records.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Sends a request as the dialect would, retrying 429s per the [`RetryPolicy`].
    pub async fn send(&self, req: &ScimRequest) -> Result<ScimResponse, ClientError> {
        let raw = RawRequest {
            method: req.method,
            path: req.path.clone(),
            body: req.body.as_ref().map(Value::to_string),
            content_type: req.body.as_ref().map(|_| SCIM_JSON.to_string()),
            auth: Auth::Token,
        };
        self.send_raw_retrying(&raw).await
    }

    pub(crate) async fn send_raw_retrying(
        &self,
        raw: &RawRequest,
    ) -> Result<ScimResponse, ClientError> {
        let mut attempt = 0;
        loop {
            let resp = self.exchange(raw, attempt).await?;
            if resp.status != 429 || attempt >= self.retry.max_retries {
                return Ok(resp);
            }
            attempt += 1;
            tokio::time::sleep(self.retry.delay(attempt, resp.header("retry-after"))).await;
        }
    }

    /// One exchange, no retry, recorded.
    pub(crate) async fn exchange(
        &self,
        raw: &RawRequest,
        attempt: u32,
    ) -> Result<ScimResponse, ClientError> {
        let url = self.url(&raw.path);
        let method = match raw.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut rb = self.http.request(method, &url).header("Accept", SCIM_JSON);
        for (name, value) in &self.extra_headers {
            rb = rb.header(name, value);
        }
        rb = match &raw.auth {
            Auth::Token => rb.bearer_auth(&self.token),
            Auth::Bearer(t) => rb.bearer_auth(t),
            Auth::None => rb,
        };
        if let Some(ct) = &raw.content_type {
            rb = rb.header("Content-Type", ct);
        }
        if let Some(b) = &raw.body {
            rb = rb.body(b.clone());
        }
        let started = Instant::now();
        let result = async {
            let resp = rb.send().await?;
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect::<Vec<_>>();
            let text = resp.text().await?;
            Ok::<_, reqwest::Error>((status, headers, text))
        }
        .await;
        let latency = started.elapsed();
        let (record_status, outcome, out) = match result {
            Ok((status, headers, text)) => {
                let body = serde_json::from_str(&text).ok();
                (
                    Some(status),
                    OutcomeKind::of_status(status),
                    Ok(ScimResponse {
                        status,
                        headers,
                        text,
                        body,
                        latency,
                    }),
                )
            }
            Err(e) if e.is_timeout() => (
                None,
                OutcomeKind::Timeout,
                Err(ClientError::Timeout(latency)),
            ),
            Err(e) => (
                None,
                OutcomeKind::Transport,
                Err(ClientError::Transport(e.to_string())),
            ),
        };
        if let Ok(mut r) = self.records.lock() {
            r.push(RequestRecord {
                method: raw.method,
                path: raw.path.clone(),
                status: record_status,
                outcome,
                latency,
                attempt,
            });
        }
        if let Some(bar) = &self.progress {
            bar.inc(1);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_retry_after_wins_and_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(1, Some("2")), Duration::from_secs(2));
        assert_eq!(p.delay(1, Some("3600")), Duration::from_secs(60));
    }

    #[test]
    fn backoff_grows_and_stays_under_cap() {
        let p = RetryPolicy {
            max_retries: 9,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        // HTTP-date Retry-After is ignored, as Okta ignores it.
        let d = p.delay(3, Some("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert!(
            d >= Duration::from_millis(200) && d <= Duration::from_millis(400),
            "{d:?}"
        );
        assert!(p.delay(12, None) <= Duration::from_secs(1));
    }

    #[test]
    fn keeps_the_base_urls_query_on_every_request() {
        let c = ScimClient::new(
            "http://h/scim/v2/c1/?aadOptscim062020",
            "t",
            Dialect::EntraCompliant,
        )
        .unwrap();
        assert_eq!(c.base(), "http://h/scim/v2/c1");
        assert_eq!(
            c.url("/Users"),
            "http://h/scim/v2/c1/Users?aadOptscim062020"
        );
        assert_eq!(
            c.url("/Users?filter=userName%20eq%20%22a%22"),
            "http://h/scim/v2/c1/Users?filter=userName%20eq%20%22a%22&aadOptscim062020"
        );
        let plain = ScimClient::new("https://h/scim/v2/c1/", "t", Dialect::Okta).unwrap();
        assert_eq!(
            plain.url("/Groups?count=1"),
            "https://h/scim/v2/c1/Groups?count=1"
        );
        assert!(ScimClient::new("ftp://h?x", "t", Dialect::Okta).is_err());
    }

    #[test]
    fn classifies_statuses() {
        assert_eq!(OutcomeKind::of_status(201), OutcomeKind::Success);
        assert_eq!(OutcomeKind::of_status(429), OutcomeKind::RateLimited);
        assert_eq!(OutcomeKind::of_status(503), OutcomeKind::ServerError);
    }
}
