//! The readiness report: what Okta's and Entra's validators and a security reviewer check of a SCIM endpoint, with evidence.
//!
//! Every check records the exchange that decided it (token redacted, body cut at 4 KB). The
//! run is sequential except for two deliberate races (concurrent duplicate creates and the
//! 429 burst), and deletes everything it created at the end, whatever failed.

mod discovery;
mod finish;
mod groups;
mod lists;
mod patches;
mod protocol;
mod users;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use tokio::task::JoinSet;

use crate::client::{Auth, RawRequest, RetryPolicy, ScimClient, ScimResponse, SCIM_JSON};
use crate::dialect::{
    encode_query, filter_literal, member_ids, Dialect, Method, Person, ENTERPRISE_SCHEMA,
    ENTRA_GROUP_SCHEMA, GROUP_SCHEMA, PATCH_OP, USER_SCHEMA,
};
use crate::plain::Plain;
use crate::report::Supports;
pub use crate::report::{
    Check, Counts, Evidence, EvidenceRequest, EvidenceResponse, Outcome, Report,
};
use crate::standards;

const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const BODY_LIMIT: usize = 4096;
/// Okta abandons a request after 60 s.
const OKTA_LIMIT: Duration = Duration::from_secs(60);

/// Muster's own admin API, for checks a plain SCIM server cannot answer (session revocation).
#[derive(Debug, Clone)]
pub struct MusterApp {
    /// `http://HOST:PORT/api`.
    pub api_base: String,
    /// The admin secret (sent as a bearer token, never reported).
    pub key: String,
    /// The connection the SCIM URL belongs to; defaults to the URL's last path segment.
    pub connection_id: Option<String>,
}

/// Knobs for [`run_checks`].
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Version of the tool producing the report (callers pass `env!("CARGO_PKG_VERSION")`).
    pub version: String,
    pub muster_app: Option<MusterApp>,
    /// Concurrent requests in the rate-limit burst; capped at 200.
    pub burst: usize,
    /// The report's date: when the run started by the caller's clock (a server passes its
    /// injected clock, so the report agrees with the log). None: the system clock.
    pub started_at: Option<DateTime<Utc>>,
    /// The target's OAuth client: when set, the run starts with the `oauth.*` checks and uses
    /// the access token they get instead of `token`.
    pub oauth: Option<crate::oauth_check::OAuthClient>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self {
            version: env!("CARGO_PKG_VERSION").to_string(),
            muster_app: None,
            burst: 200,
            started_at: None,
            oauth: None,
        }
    }
}

/// One exchange with its evidence.
struct Ex {
    ev: Evidence,
    resp: Option<ScimResponse>,
}

impl Ex {
    fn status(&self) -> u16 {
        self.resp.as_ref().map(|r| r.status).unwrap_or(0)
    }
    fn json(&self) -> &Value {
        self.resp
            .as_ref()
            .map(ScimResponse::json)
            .unwrap_or(&Value::Null)
    }
    fn ok(&self) -> bool {
        (200..300).contains(&self.status())
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.resp.as_ref().and_then(|r| r.header(name))
    }
    fn resources(&self) -> Vec<Value> {
        self.json()
            .get("Resources")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }
    fn describe(&self) -> String {
        match &self.resp {
            Some(r) => format!("got {}", r.status),
            None => format!("no response ({})", self.ev.response.body),
        }
    }
}

/// Dotted lookup into JSON (`name.givenName`).
fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

fn str_at<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    at(v, path).and_then(Value::as_str)
}

fn ids(list: &[Value]) -> Vec<String> {
    list.iter()
        .filter_map(|r| r.get("id").and_then(Value::as_str).map(str::to_string))
        .collect()
}

fn is_scim_json(ct: Option<&str>) -> bool {
    ct.map(|c| c.to_ascii_lowercase().starts_with(SCIM_JSON))
        .unwrap_or(false)
}

/// Runs every check against `url` with `token` and cleans up after itself.
pub async fn run_checks(url: &str, token: &str, opts: CheckOptions) -> Report {
    let url = url.trim_end_matches('/').to_string();
    let generated_at = opts.started_at.unwrap_or_else(Utc::now);
    let (oauth_token, oauth_checks) = match &opts.oauth {
        Some(o) => crate::oauth_check::run(o).await,
        None => (None, Vec::new()),
    };
    let token = oauth_token.as_deref().unwrap_or(token);
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let client = match ScimClient::new(&url, token, Dialect::Generic) {
        // Back off politely on 429 but never wait long: the report must finish. Every
        // request is tagged, so a Muster target keeps the run out of the connection's
        // health, dialect and counts, and purges what the run deletes at once.
        Ok(c) => c
            .with_retry(RetryPolicy {
                max_retries: 4,
                base_delay: Duration::from_millis(250),
                max_delay: Duration::from_secs(5),
            })
            .with_header(crate::client::CHECK_HEADER, &tag),
        Err(e) => {
            let mut checks = oauth_checks;
            checks.push(Check {
                id: "target.url".into(),
                title: "Target URL is an http(s) URL".into(),
                category: "target".into(),
                outcome: Outcome::Fail,
                reason: e.to_string(),
                evidence: None,
                supports: Supports::default(),
            });
            return Report::new(url, generated_at, opts.version, checks, vec![]);
        }
    };
    let mut r = Runner {
        client,
        token: token.to_string(),
        tag,
        checks: oauth_checks,
        seen: Vec::new(),
        users: Vec::new(),
        groups: Vec::new(),
    };
    r.run_all(&opts).await;
    let leftovers = r.cleanup().await;
    Report::new(url, generated_at, opts.version, r.checks, leftovers)
}

impl Report {
    pub(crate) fn new(
        target: String,
        generated_at: DateTime<Utc>,
        version: String,
        mut checks: Vec<Check>,
        leftovers: Vec<String>,
    ) -> Self {
        for c in &mut checks {
            c.supports = standards::supports(&c.id).unwrap_or_default();
        }
        let levels = standards::verdict(&checks);
        let counts = Counts {
            total: checks.len(),
            pass: checks.iter().filter(|c| c.outcome == Outcome::Pass).count(),
            fail: checks.iter().filter(|c| c.outcome == Outcome::Fail).count(),
            not_applicable: checks
                .iter()
                .filter(|c| c.outcome == Outcome::NotApplicable)
                .count(),
        };
        Report {
            target,
            generated_at,
            version,
            counts,
            checks,
            leftovers,
            levels,
            not_tested: standards::not_tested(),
        }
    }
}

/// A response seen during the run, for the checks that judge every response.
struct Seen {
    label: String,
    status: Option<u16>,
    content_type: Option<String>,
    has_body: bool,
    latency: Duration,
}

struct Runner {
    client: ScimClient,
    token: String,
    tag: String,
    checks: Vec<Check>,
    seen: Vec<Seen>,
    /// Ids of users and groups this run created (deleted at the end).
    users: Vec<String>,
    groups: Vec<String>,
}

fn evidence(
    client: &ScimClient,
    token: &str,
    raw: &RawRequest,
    resp: &Result<ScimResponse, String>,
) -> Evidence {
    let mut headers = BTreeMap::new();
    headers.insert(
        "authorization".to_string(),
        match &raw.auth {
            Auth::None => "(none)".to_string(),
            _ => "Bearer [redacted]".to_string(),
        },
    );
    if let Some(ct) = &raw.content_type {
        headers.insert("content-type".into(), ct.clone());
    }
    let redact = |s: &str| {
        if token.is_empty() {
            s.to_string()
        } else {
            s.replace(token, "[redacted]")
        }
    };
    let request = EvidenceRequest {
        method: raw.method.as_str().to_string(),
        url: client.url(&raw.path),
        headers,
        body: raw.body.as_deref().map(redact),
    };
    let response = match resp {
        Ok(r) => EvidenceResponse {
            status: Some(r.status),
            headers: r
                .headers
                .iter()
                .filter(|(k, _)| {
                    matches!(
                        k.as_str(),
                        "content-type" | "location" | "retry-after" | "etag" | "www-authenticate"
                    )
                })
                .cloned()
                .collect(),
            body: truncate(&redact(&r.text)),
            latency_ms: r.latency.as_millis() as u64,
        },
        Err(e) => EvidenceResponse {
            status: None,
            headers: BTreeMap::new(),
            body: e.clone(),
            latency_ms: 0,
        },
    };
    Evidence { request, response }
}

fn truncate(s: &str) -> String {
    if s.len() <= BODY_LIMIT {
        return s.to_string();
    }
    let mut end = BODY_LIMIT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [truncated, {} bytes]", &s[..end], s.len())
}

fn raw(method: Method, path: impl Into<String>, body: Option<Value>) -> RawRequest {
    RawRequest {
        method,
        path: path.into(),
        content_type: body.as_ref().map(|_| SCIM_JSON.to_string()),
        body: body.map(|b| b.to_string()),
        auth: Auth::Token,
    }
}

fn patch_body(ops: Value) -> Value {
    json!({ "schemas": [PATCH_OP], "Operations": ops })
}

impl Runner {
    async fn send(&mut self, raw: RawRequest, retry: bool) -> Ex {
        let result = if retry {
            self.client.send_raw_retrying(&raw).await
        } else {
            self.client.exchange(&raw, 0).await
        }
        .map_err(|e| e.to_string());
        self.note(&raw, &result);
        Ex {
            ev: evidence(&self.client, &self.token, &raw, &result),
            resp: result.ok(),
        }
    }

    fn note(&mut self, raw: &RawRequest, result: &Result<ScimResponse, String>) {
        let label = format!("{} {}", raw.method.as_str(), raw.path);
        self.seen.push(match result {
            Ok(r) => Seen {
                label,
                status: Some(r.status),
                content_type: r.header("content-type").map(str::to_string),
                has_body: !r.text.trim().is_empty(),
                latency: r.latency,
            },
            Err(_) => Seen {
                label,
                status: None,
                content_type: None,
                has_body: false,
                latency: Duration::ZERO,
            },
        });
    }

    async fn call(&mut self, method: Method, path: impl Into<String>, body: Option<Value>) -> Ex {
        self.send(raw(method, path, body), true).await
    }

    fn record(
        &mut self,
        id: &str,
        title: &str,
        category: &str,
        outcome: Outcome,
        reason: String,
        ex: Option<&Ex>,
    ) {
        self.checks.push(Check {
            id: id.into(),
            title: title.into(),
            category: category.into(),
            outcome,
            reason,
            evidence: ex.map(|e| e.ev.clone()),
            supports: Supports::default(),
        });
    }

    fn judge(&mut self, id: &str, title: &str, category: &str, ok: bool, reason: String, ex: &Ex) {
        let outcome = if ok { Outcome::Pass } else { Outcome::Fail };
        self.record(id, title, category, outcome, reason, Some(ex));
    }

    /// A check that could not run because something it needs failed earlier.
    fn blocked(&mut self, id: &str, title: &str, category: &str, needs: &str) {
        self.record(
            id,
            title,
            category,
            Outcome::Fail,
            format!("could not run: {needs} failed"),
            None,
        );
    }

    fn person(&self, suffix: &str) -> Person {
        let user_name = format!("muster-check-{}-{suffix}@example.com", self.tag);
        Person {
            user_name: user_name.clone(),
            given_name: "Check".into(),
            family_name: suffix.to_string(),
            email: user_name,
            external_id: format!("check-{}-{suffix}", self.tag),
        }
    }

    /// Creates a user and remembers it for cleanup.
    async fn create(&mut self, body: Value, content_type: &str) -> Ex {
        let mut req = raw(Method::Post, "/Users", Some(body));
        req.content_type = Some(content_type.to_string());
        let ex = self.send(req, true).await;
        if ex.ok() {
            if let Some(id) = ex.json().get("id").and_then(Value::as_str) {
                self.users.push(id.to_string());
            }
        }
        ex
    }

    async fn get_user(&mut self, id: &str) -> Ex {
        self.call(Method::Get, format!("/Users/{id}"), None).await
    }

    async fn run_all(&mut self, opts: &CheckOptions) {
        let spc = self.discovery().await;
        self.auth().await;
        let Some((a, b, c)) = self.users_core().await else {
            self.finish(opts, &spc, false).await;
            return;
        };
        self.filters(&a, &b).await;
        self.duplicates(&a).await;
        self.pagination(&spc).await;
        let patch_ok = self.patches(&a, &b, &c).await;
        self.errors().await;
        self.content_types().await;
        self.groups(&a, &b, &c).await;
        self.lifecycle(&a, opts).await;
        self.user_delete(&c).await;
        self.finish(opts, &spc, patch_ok).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_on_char_boundary() {
        let s = "é".repeat(3000);
        let t = truncate(&s);
        assert!(t.contains("truncated, 6000 bytes"));
    }

    #[test]
    fn html_escapes_and_is_self_contained() {
        let r = Report::new(
            "http://x/<script>".into(),
            Utc::now(),
            "0.1.0".into(),
            vec![Check {
                id: "a".into(),
                title: "t".into(),
                category: "c".into(),
                outcome: Outcome::Fail,
                reason: "<b>".into(),
                evidence: None,
                supports: Supports::default(),
            }],
            vec![],
        );
        let h = r.render_html();
        assert!(!h.contains("<script>") && h.contains("&lt;b&gt;"));
        assert!(!h.contains("http://") || !h.contains("<link"));
        assert!(r.render_table().contains("FAIL"));
    }
}
