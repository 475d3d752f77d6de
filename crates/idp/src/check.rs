//! The readiness report: what Okta's and Entra's validators and a security reviewer check of a SCIM endpoint, with evidence.
//!
//! Every check records the exchange that decided it (token redacted, body cut at 4 KB). The
//! run is sequential except for two deliberate races (concurrent duplicate creates and the
//! 429 burst), and deletes everything it created at the end, whatever failed.

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

    async fn discovery(&mut self) -> Value {
        let ex = self.call(Method::Get, "/ServiceProviderConfig", None).await;
        let has_schema = ex
            .json()
            .get("schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| s.iter().any(|v| v == SPC_SCHEMA));
        self.judge(
            "discovery.service_provider_config",
            "GET /ServiceProviderConfig answers with the SPC schema",
            "discovery",
            ex.status() == 200 && has_schema,
            if ex.status() == 200 && has_schema {
                "200 with the ServiceProviderConfig schema".into()
            } else {
                format!("{}, schema present: {has_schema}", ex.describe())
            },
            &ex,
        );
        let spc = ex.json().clone();
        let schemes = spc
            .get("authenticationSchemes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let bearer = schemes.iter().any(|s| {
            s.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case("oauthbearertoken"))
        });
        self.judge(
            "discovery.authentication_schemes",
            "ServiceProviderConfig advertises bearer-token authentication",
            "discovery",
            bearer,
            if bearer {
                "oauthbearertoken listed".into()
            } else {
                "no authenticationSchemes entry of type oauthbearertoken".into()
            },
            &ex,
        );

        let ex = self.call(Method::Get, "/Schemas", None).await;
        let list = ex.resources();
        let schema_ids: Vec<&str> = list
            .iter()
            .filter_map(|s| s.get("id").and_then(Value::as_str))
            .collect();
        let ok = ex.status() == 200
            && schema_ids.contains(&USER_SCHEMA)
            && schema_ids.contains(&GROUP_SCHEMA);
        self.judge(
            "discovery.schemas",
            "GET /Schemas lists the User and Group schemas",
            "discovery",
            ok,
            if ok {
                "both core schemas present".into()
            } else {
                format!("{}, schema ids: {}", ex.describe(), schema_ids.plain())
            },
            &ex,
        );

        let ex = self.call(Method::Get, "/ResourceTypes", None).await;
        let list = ex.resources();
        let has = |name: &str, ep: &str| {
            list.iter().any(|t| {
                t.get("name").and_then(Value::as_str) == Some(name)
                    && t.get("endpoint").and_then(Value::as_str) == Some(ep)
            })
        };
        let ok = ex.status() == 200 && has("User", "/Users") && has("Group", "/Groups");
        self.judge(
            "discovery.resource_types",
            "GET /ResourceTypes lists User at /Users and Group at /Groups",
            "discovery",
            ok,
            if ok {
                "both resource types present".into()
            } else {
                format!("{}, {} resource types", ex.describe(), list.len())
            },
            &ex,
        );

        // RFC 7644 §3.7: /Bulk; the SPC must say whether it exists.
        let ex = self
            .call(Method::Post, "/Bulk", Some(json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [] })))
            .await;
        let advertised = at(&spc, "bulk.supported")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let answers = ex.resp.is_some() && !matches!(ex.status(), 404 | 405 | 501);
        self.judge(
            "discovery.bulk_truthful",
            "bulk.supported matches whether /Bulk answers",
            "discovery",
            advertised == answers,
            format!(
                "bulk.supported is {advertised}; POST /Bulk {}",
                ex.describe()
            ),
            &ex,
        );
        spc
    }

    async fn auth(&mut self) {
        let mut req = raw(Method::Get, "/Users?count=1", None);
        req.auth = Auth::None;
        let ex = self.send(req, true).await;
        self.judge(
            "auth.missing_token",
            "A request without a token is refused with 401",
            "auth",
            ex.status() == 401,
            ex.describe(),
            &ex,
        );
        let mut req = raw(Method::Get, "/Users?count=1", None);
        req.auth = Auth::Bearer(format!("wrong-{}", self.tag));
        let ex = self.send(req, true).await;
        self.judge(
            "auth.wrong_token",
            "A request with a wrong token is refused with 401",
            "auth",
            ex.status() == 401,
            ex.describe(),
            &ex,
        );
    }

    /// Creates users A (Okta shape), B (Entra shape) and C (minimal, no email).
    async fn users_core(&mut self) -> Option<(String, String, String)> {
        let pa = self.person("a");
        let ex = self
            .create(
                Dialect::Okta.create_user(&pa).body.unwrap_or_default(),
                SCIM_JSON,
            )
            .await;
        let a = ex
            .json()
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_string);
        self.judge(
            "users.create",
            "POST /Users (Okta shape, placeholder password) returns 201 with an id",
            "users",
            ex.status() == 201 && a.is_some(),
            format!("{}, id present: {}", ex.describe(), a.is_some()),
            &ex,
        );
        self.judge(
            "content_type.request_scim_json",
            "Requests sent as application/scim+json are accepted",
            "content-type",
            ex.ok(),
            format!("POST with Content-Type: {SCIM_JSON} {}", ex.describe()),
            &ex,
        );
        let ct = ex.header("content-type").unwrap_or("(none)").to_string();
        self.judge(
            "users.create.content_type",
            "Create answers with Content-Type application/scim+json",
            "content-type",
            is_scim_json(Some(&ct)),
            format!("Content-Type: {ct}"),
            &ex,
        );
        let Some(a) = a else {
            for (id, t, c) in DEPENDENT_ON_CREATE {
                self.blocked(id, t, c, "users.create");
            }
            return None;
        };
        let body = ex.json();
        let created = str_at(body, "meta.created").map(DateTime::parse_from_rfc3339);
        let modified = str_at(body, "meta.lastModified").map(DateTime::parse_from_rfc3339);
        let rt = str_at(body, "meta.resourceType");
        let ok =
            matches!(created, Some(Ok(_))) && matches!(modified, Some(Ok(_))) && rt == Some("User");
        self.judge(
            "users.create.meta",
            "Created user carries meta.created, meta.lastModified (RFC 3339) and resourceType",
            "users",
            ok,
            format!(
                "created {}, lastModified {}, resourceType {}",
                str_at(body, "meta.created").plain(),
                str_at(body, "meta.lastModified").plain(),
                rt.plain()
            ),
            &ex,
        );
        let loc_header = ex.header("location").map(str::to_string);
        let loc_meta = str_at(body, "meta.location").map(str::to_string);
        let suffix = format!("/Users/{a}");
        let ok = loc_header
            .as_deref()
            .or(loc_meta.as_deref())
            .is_some_and(|l| l.ends_with(&suffix))
            && loc_meta.as_deref().is_none_or(|l| l.ends_with(&suffix));
        self.judge(
            "users.create.location",
            "Location header / meta.location point at the new user",
            "users",
            ok,
            format!(
                "Location: {}, meta.location: {}",
                loc_header.plain(),
                loc_meta.plain()
            ),
            &ex,
        );
        let leaked = body.get("password").is_some();

        let pb = self.person("b");
        let ex = self
            .create(
                Dialect::Entra.create_user(&pb).body.unwrap_or_default(),
                SCIM_JSON,
            )
            .await;
        let b = ex
            .json()
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_string);
        self.judge(
            "users.create.entra_shape",
            "POST /Users in Entra's shape (enterprise URN, meta, roles: []) returns 201",
            "users",
            ex.status() == 201 && b.is_some(),
            ex.describe(),
            &ex,
        );
        let pc = self.person("c");
        let ex = self
            .create(
                json!({ "schemas": [USER_SCHEMA], "userName": pc.user_name, "active": true }),
                SCIM_JSON,
            )
            .await;
        let c = ex
            .json()
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_string);

        let ex = self.get_user(&a).await;
        let ok = ex.status() == 200
            && ex.json().get("id").and_then(Value::as_str) == Some(a.as_str())
            && ex.json().get("userName").and_then(Value::as_str) == Some(pa.user_name.as_str());
        self.judge(
            "users.get",
            "GET /Users/{id} returns the user",
            "users",
            ok,
            ex.describe(),
            &ex,
        );
        let leaked = leaked || ex.json().get("password").is_some();
        self.judge(
            "users.password_never_returned",
            "The password Okta sends is never returned (RFC 7643 returned: never)",
            "users",
            !leaked,
            if leaked {
                "a password attribute came back".into()
            } else {
                "no password in create or GET responses".into()
            },
            &ex,
        );
        Some((a, b.unwrap_or_default(), c.unwrap_or_default()))
    }

    async fn filter(&mut self, resource: &str, attr: &str, value: &str) -> Ex {
        let f = encode_query(&format!("{attr} eq {}", filter_literal(value)));
        self.call(Method::Get, format!("/{resource}?filter={f}"), None)
            .await
    }

    async fn filters(&mut self, a: &str, _b: &str) {
        let pa = self.person("a");
        let ex = self.filter("Users", "userName", &pa.user_name).await;
        let got = ids(&ex.resources());
        self.judge(
            "filter.user_name",
            "filter=userName eq finds exactly the user (Okta and Entra match on it)",
            "filter",
            ex.status() == 200 && got == [a.to_string()],
            format!("{}, ids {}", ex.describe(), got.plain()),
            &ex,
        );
        let ex = self
            .filter("Users", "userName", &pa.user_name.to_uppercase())
            .await;
        let got = ids(&ex.resources());
        self.judge(
            "filter.user_name_case_insensitive",
            "userName eq is case-insensitive (RFC 7643 caseExact false)",
            "filter",
            ex.status() == 200 && got == [a.to_string()],
            format!("{}, ids {}", ex.describe(), got.plain()),
            &ex,
        );
        let ex = self.filter("Users", "externalId", &pa.external_id).await;
        let got = ids(&ex.resources());
        self.judge(
            "filter.external_id",
            "filter=externalId eq finds the user",
            "filter",
            ex.status() == 200 && got == [a.to_string()],
            format!("{}, ids {}", ex.describe(), got.plain()),
            &ex,
        );
        let ex = self
            .filter(
                "Users",
                "userName",
                &format!("nobody-{}@example.com", self.tag),
            )
            .await;
        let total = ex.json().get("totalResults").and_then(Value::as_u64);
        self.judge(
            "filter.no_match",
            "A filter matching nothing returns 200 with totalResults 0",
            "filter",
            ex.status() == 200 && total == Some(0) && ex.resources().is_empty(),
            format!("{}, totalResults {}", ex.describe(), total.plain()),
            &ex,
        );
        let ex = self
            .call(
                Method::Get,
                format!("/Users?filter={}", encode_query("userName eq")),
                None,
            )
            .await;
        let st = ex
            .json()
            .get("scimType")
            .and_then(Value::as_str)
            .map(str::to_string);
        self.judge(
            "filter.invalid",
            "A malformed filter is refused with 400 scimType invalidFilter",
            "filter",
            ex.status() == 400 && st.as_deref() == Some("invalidFilter"),
            format!("{}, scimType {}", ex.describe(), st.plain()),
            &ex,
        );
    }

    async fn duplicates(&mut self, _a: &str) {
        let mut pa = self.person("a");
        pa.external_id = format!("{}-dup", pa.external_id);
        let ex = self
            .create(
                Dialect::Okta.create_user(&pa).body.unwrap_or_default(),
                SCIM_JSON,
            )
            .await;
        self.judge(
            "users.duplicate_conflict",
            "Creating an existing userName returns 409",
            "users",
            ex.status() == 409,
            ex.describe(),
            &ex,
        );
        let st = ex
            .json()
            .get("scimType")
            .and_then(Value::as_str)
            .map(str::to_string);
        self.judge(
            "users.duplicate_scim_type",
            "The 409 carries scimType uniqueness (RFC 7644 §3.3)",
            "users",
            ex.status() == 409 && st.as_deref() == Some("uniqueness"),
            format!("{}, scimType {}", ex.describe(), st.plain()),
            &ex,
        );
        pa.user_name = pa.user_name.to_uppercase();
        pa.external_id = format!("{}-case", pa.external_id);
        let ex = self
            .create(
                Dialect::Okta.create_user(&pa).body.unwrap_or_default(),
                SCIM_JSON,
            )
            .await;
        self.judge(
            "users.duplicate_case_insensitive",
            "A userName differing only in case is a duplicate (409)",
            "users",
            ex.status() == 409,
            ex.describe(),
            &ex,
        );

        // IdPs retry: the same create racing itself must produce exactly one user.
        let body = Dialect::Generic
            .create_user(&self.person("race"))
            .body
            .unwrap_or_default();
        let mut set = JoinSet::new();
        for _ in 0..5 {
            let (client, req) = (
                self.client.clone(),
                raw(Method::Post, "/Users", Some(body.clone())),
            );
            set.spawn(async move {
                let res = client.exchange(&req, 0).await.map_err(|e| e.to_string());
                (req, res)
            });
        }
        let mut results = Vec::new();
        while let Some(Ok((req, res))) = set.join_next().await {
            self.note(&req, &res);
            results.push((req, res));
        }
        let statuses: Vec<u16> = results
            .iter()
            .map(|(_, r)| r.as_ref().map(|r| r.status).unwrap_or(0))
            .collect();
        for (_, r) in &results {
            if let Ok(r) = r {
                if r.is_success() {
                    if let Some(id) = r.str_field("id") {
                        self.users.push(id.to_string());
                    }
                }
            }
        }
        let created = statuses.iter().filter(|s| **s == 201).count();
        let conflicts = statuses.iter().filter(|s| **s == 409).count();
        let (req, res) = results
            .iter()
            .find(|(_, r)| r.as_ref().map(|r| r.status != 409).unwrap_or(true))
            .or(results.first())
            .cloned()
            .expect("five requests were sent");
        let ex = Ex {
            ev: evidence(&self.client, &self.token, &req, &res),
            resp: res.ok(),
        };
        self.judge(
            "users.concurrent_create_once",
            "Five identical concurrent creates: one 201, four 409",
            "users",
            created == 1 && conflicts == 4,
            format!("statuses {}", statuses.plain()),
            &ex,
        );
    }

    async fn pagination(&mut self, spc: &Value) {
        let all = self.call(Method::Get, "/Users?count=3", None).await;
        let first_ids = ids(&all.resources());
        let p1 = self
            .call(Method::Get, "/Users?startIndex=1&count=1", None)
            .await;
        let p1_ids = ids(&p1.resources());
        let si = p1.json().get("startIndex").and_then(Value::as_u64);
        let ok = p1.status() == 200
            && si == Some(1)
            && !first_ids.is_empty()
            && p1_ids.first() == first_ids.first();
        self.judge(
            "pagination.one_based",
            "startIndex=1 returns the first resource (RFC 7644 §3.4.2.4 is 1-based)",
            "pagination",
            ok,
            format!(
                "startIndex echoed {}; first of page {}, first of listing {}",
                si.plain(),
                p1_ids.first().plain(),
                first_ids.first().plain()
            ),
            &p1,
        );

        let mut walked = Vec::new();
        let mut last = None;
        for i in 1..=first_ids.len().min(3) {
            let ex = self
                .call(Method::Get, format!("/Users?startIndex={i}&count=1"), None)
                .await;
            walked.extend(ids(&ex.resources()));
            last = Some(ex);
        }
        if let Some(ex) = last {
            self.judge(
                "pagination.pages_consistent",
                "Pages of one at startIndex 1, 2, 3 match the unpaged listing",
                "pagination",
                walked == first_ids,
                format!("paged {}, listing {}", walked.plain(), first_ids.plain()),
                &ex,
            );
        } else {
            self.blocked(
                "pagination.pages_consistent",
                "Pages of one at startIndex 1, 2, 3 match the unpaged listing",
                "pagination",
                "listing users",
            );
        }

        let ex = self
            .call(Method::Get, "/Users?startIndex=1&count=2", None)
            .await;
        let ipp = ex.json().get("itemsPerPage").and_then(Value::as_u64);
        let n = ex.resources().len() as u64;
        self.judge(
            "pagination.items_per_page",
            "itemsPerPage equals the number of resources returned",
            "pagination",
            ex.status() == 200 && ipp == Some(n),
            format!("itemsPerPage {}, resources {n}", ipp.plain()),
            &ex,
        );
        let total = ex.json().get("totalResults").and_then(Value::as_u64);
        let total1 = p1.json().get("totalResults").and_then(Value::as_u64);
        let ok = total.is_some_and(|t| t >= 3 && t >= n) && total == total1;
        self.judge(
            "pagination.total_results",
            "totalResults counts every match, independent of count",
            "pagination",
            ok,
            format!(
                "totalResults {} at count=2, {} at count=1 (this run created 3+ users)",
                total.plain(),
                total1.plain()
            ),
            &ex,
        );

        self.cursor_pagination(spc).await;

        let max = at(spc, "filter.maxResults").and_then(Value::as_u64);
        let supported = at(spc, "filter.supported")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        match max {
            Some(max) if supported && max > 0 => {
                let ex = self
                    .call(Method::Get, format!("/Users?count={}", max + 1), None)
                    .await;
                let n = ex.resources().len() as u64;
                let ipp = ex
                    .json()
                    .get("itemsPerPage")
                    .and_then(Value::as_u64)
                    .unwrap_or(n);
                self.judge(
                    "discovery.filter_max_results",
                    "filter.supported with a maxResults the server respects",
                    "discovery",
                    ex.status() == 200 && n <= max && ipp <= max,
                    format!("maxResults {max}; count={} returned {n}", max + 1),
                    &ex,
                );
            }
            _ => {
                let ex = self.call(Method::Get, "/ServiceProviderConfig", None).await;
                self.judge("discovery.filter_max_results", "filter.supported with a maxResults the server respects", "discovery", false,
                    format!("filter.supported {supported}, maxResults {}: Okta and Entra need filtering", max.plain()), &ex);
            }
        }
    }

    /// RFC 9865 cursor pagination, when ServiceProviderConfig advertises it
    /// (`pagination.cursor: true`): this run's users, walked one per page by `nextCursor`,
    /// are exactly the ones the unpaged listing finds, and a forged cursor is refused with
    /// `invalidCursor`.
    async fn cursor_pagination(&mut self, spc: &Value) {
        const WALK: (&str, &str) = (
            "pagination.cursor_walk",
            "Following nextCursor one resource per page returns each match once (RFC 9865 §2)",
        );
        const FORGED: (&str, &str) = (
            "pagination.cursor_invalid",
            "A forged cursor is a 400 with scimType invalidCursor (RFC 9865 §2.1)",
        );
        if at(spc, "pagination.cursor").and_then(Value::as_bool) != Some(true) {
            for (id, title) in [WALK, FORGED] {
                self.record(
                    id,
                    title,
                    "pagination",
                    Outcome::NotApplicable,
                    "ServiceProviderConfig does not advertise pagination.cursor".into(),
                    None,
                );
            }
            return;
        }
        let mine = encode_query(&format!(
            "userName sw {}",
            filter_literal(&format!("muster-check-{}-", self.tag))
        ));
        let all = self
            .call(Method::Get, format!("/Users?filter={mine}&count=100"), None)
            .await;
        let want = ids(&all.resources());
        let (mut walked, mut pages, mut problem) = (Vec::new(), 0, None);
        let mut cursor = String::new();
        let mut last = None;
        // A few more pages than matches: a server that never stops is caught, not followed.
        while pages <= want.len() + 2 {
            let ex = self
                .call(
                    Method::Get,
                    format!("/Users?filter={mine}&cursor={cursor}&count=1"),
                    None,
                )
                .await;
            pages += 1;
            let n = ex.resources().len() as u64;
            let ipp = ex.json().get("itemsPerPage").and_then(Value::as_u64);
            if ex.status() != 200 || ipp != Some(n) || n > 1 {
                problem = Some(format!(
                    "page {pages}: status {}, itemsPerPage {}, {n} resources at count=1",
                    ex.status(),
                    ipp.plain()
                ));
                last = Some(ex);
                break;
            }
            walked.extend(ids(&ex.resources()));
            let next = ex.json().get("nextCursor").and_then(Value::as_str);
            match next {
                Some(c) => cursor = encode_query(c),
                None => {
                    last = Some(ex);
                    break;
                }
            }
            last = Some(ex);
        }
        let mut unique = walked.clone();
        unique.sort();
        unique.dedup();
        let mut want_sorted = want.clone();
        want_sorted.sort();
        let ok = problem.is_none()
            && all.status() == 200
            && want.len() >= 3
            && unique.len() == walked.len()
            && unique == want_sorted;
        let reason = problem.unwrap_or_else(|| {
            format!(
                "{} page(s) walked, {} resource(s) ({} distinct); the unpaged listing has {}",
                pages,
                walked.len(),
                unique.len(),
                want.len()
            )
        });
        match last {
            Some(ex) => self.judge(WALK.0, WALK.1, "pagination", ok, reason, &ex),
            None => self.judge(WALK.0, WALK.1, "pagination", false, reason, &all),
        }

        let ex = self
            .call(
                Method::Get,
                "/Users?cursor=muster-check-forged-cursor&count=1",
                None,
            )
            .await;
        let scim_type = str_at(ex.json(), "scimType").map(str::to_string);
        self.judge(
            FORGED.0,
            FORGED.1,
            "pagination",
            ex.status() == 400 && scim_type.as_deref() == Some("invalidCursor"),
            format!("{}, scimType {}", ex.describe(), scim_type.plain()),
            &ex,
        );
    }

    /// PATCH dialects on users. Returns whether the basic PATCH worked (for the SPC check).
    async fn patches(&mut self, a: &str, b: &str, c: &str) -> bool {
        // PUT: Okta reads then writes the whole object back.
        let cur = self.get_user(a).await;
        let mut body = cur.json().clone();
        if let Some(o) = body.as_object_mut() {
            o.insert(
                "name".into(),
                json!({ "givenName": "Another", "middleName": "Excited", "familyName": "User" }),
            );
        }
        let ex = self
            .call(Method::Put, format!("/Users/{a}"), Some(body))
            .await;
        let after = self.get_user(a).await;
        let ok = ex.status() == 200 && str_at(after.json(), "name.givenName") == Some("Another");
        self.judge(
            "users.put_replace",
            "PUT replaces the user (Okta's read-modify-write)",
            "users",
            ok,
            format!(
                "PUT {}, name.givenName now {}",
                ex.describe(),
                str_at(after.json(), "name.givenName").plain()
            ),
            &ex,
        );

        // Okta: path-less replace with a value object.
        let ex = self
            .call(
                Method::Patch,
                format!("/Users/{a}"),
                Some(patch_body(
                    json!([{ "op": "replace", "value": { "active": false } }]),
                )),
            )
            .await;
        let after = self.get_user(a).await;
        let okta_ok =
            matches!(ex.status(), 200 | 204) && after.json().get("active") == Some(&json!(false));
        self.judge(
            "patch.okta_deactivate",
            "Okta deactivation (path-less replace {active:false}) sets active false",
            "patch",
            okta_ok,
            format!(
                "PATCH {}, active now {}",
                ex.describe(),
                after.json().get("active").plain()
            ),
            &ex,
        );

        let ex = self
            .call(
                Method::Patch,
                format!("/Users/{a}"),
                Some(patch_body(
                    json!([{ "op": "replace", "path": "active", "value": true }]),
                )),
            )
            .await;
        let after = self.get_user(a).await;
        self.judge(
            "patch.compliant_replace",
            "RFC 7644 replace with path active true reactivates",
            "patch",
            matches!(ex.status(), 200 | 204) && after.json().get("active") == Some(&json!(true)),
            format!(
                "PATCH {}, active now {}",
                ex.describe(),
                after.json().get("active").plain()
            ),
            &ex,
        );

        // Entra without aadOptscim062020.
        let ex = self
            .call(
                Method::Patch,
                format!("/Users/{a}"),
                Some(patch_body(
                    json!([{ "op": "Replace", "path": "active", "value": "False" }]),
                )),
            )
            .await;
        let after = self.get_user(a).await;
        self.judge(
            "patch.entra_false_string",
            "Entra's Title-Case Replace with \"False\" deactivates, stored as boolean false",
            "patch",
            matches!(ex.status(), 200 | 204) && after.json().get("active") == Some(&json!(false)),
            format!(
                "PATCH {}, active now {}",
                ex.describe(),
                after.json().get("active").plain()
            ),
            &ex,
        );
        // Back to active for the group checks.
        self.call(
            Method::Patch,
            format!("/Users/{a}"),
            Some(patch_body(
                json!([{ "op": "replace", "path": "active", "value": true }]),
            )),
        )
        .await;

        let ex = self
            .call(
                Method::Patch,
                format!("/Users/{b}"),
                Some(patch_body(
                    json!([{ "op": "Add", "path": "nickName", "value": "Babs" }]),
                )),
            )
            .await;
        let after = self.get_user(b).await;
        self.judge(
            "patch.entra_title_case_add",
            "Entra's Title-Case Add of a simple attribute",
            "patch",
            matches!(ex.status(), 200 | 204) && str_at(after.json(), "nickName") == Some("Babs"),
            format!(
                "PATCH {}, nickName now {}",
                ex.describe(),
                str_at(after.json(), "nickName").plain()
            ),
            &ex,
        );

        let ops = json!([
            { "op": "Replace", "path": "emails[type eq \"work\"].value", "value": format!("changed-{}@example.com", self.tag) },
            { "op": "Replace", "path": "name.familyName", "value": "Pkqf" },
            { "op": "Replace", "path": "displayName", "value": "Pvlo" }
        ]);
        let ex = self
            .call(Method::Patch, format!("/Users/{b}"), Some(patch_body(ops)))
            .await;
        let after = self.get_user(b).await;
        let work = work_email(after.json());
        let ok = matches!(ex.status(), 200 | 204)
            && work.as_deref() == Some(format!("changed-{}@example.com", self.tag).as_str())
            && str_at(after.json(), "name.familyName") == Some("Pkqf")
            && str_at(after.json(), "displayName") == Some("Pvlo");
        self.judge(
            "patch.entra_multi_replace",
            "Entra's one-Replace-per-attribute PATCH, value-filter path included",
            "patch",
            ok,
            format!(
                "PATCH {}, work email {}, familyName {}",
                ex.describe(),
                work.plain(),
                str_at(after.json(), "name.familyName").plain()
            ),
            &ex,
        );

        let ops = json!([{ "op": "replace", "value": { "displayName": "Bjfe", "name.givenName": "Kkom" } }]);
        let ex = self
            .call(Method::Patch, format!("/Users/{b}"), Some(patch_body(ops)))
            .await;
        let after = self.get_user(b).await;
        let ok = matches!(ex.status(), 200 | 204)
            && str_at(after.json(), "name.givenName") == Some("Kkom")
            && after.json().get("name.givenName").is_none()
            && str_at(after.json(), "displayName") == Some("Bjfe");
        self.judge(
            "patch.dotted_keys",
            "Path-less replace with dotted keys (\"name.givenName\") updates the sub-attribute",
            "patch",
            ok,
            format!(
                "PATCH {}, name.givenName now {}",
                ex.describe(),
                str_at(after.json(), "name.givenName").plain()
            ),
            &ex,
        );

        let ops = json!([{ "op": "Replace", "path": format!("{ENTERPRISE_SCHEMA}:employeeNumber"), "value": "Eqpj" }]);
        let ex = self
            .call(Method::Patch, format!("/Users/{b}"), Some(patch_body(ops)))
            .await;
        let after = self.get_user(b).await;
        let got = after
            .json()
            .get(ENTERPRISE_SCHEMA)
            .and_then(|e| e.get("employeeNumber"))
            .and_then(Value::as_str);
        self.judge(
            "patch.enterprise_extension",
            "Replace with a full enterprise-extension URN path",
            "patch",
            matches!(ex.status(), 200 | 204) && got == Some("Eqpj"),
            format!("PATCH {}, employeeNumber {}", ex.describe(), got.plain()),
            &ex,
        );

        let addr = format!("work-{}@example.com", self.tag);
        let ops = json!([{ "op": "add", "path": "emails[type eq \"work\"].value", "value": addr }]);
        let ex = self
            .call(Method::Patch, format!("/Users/{c}"), Some(patch_body(ops)))
            .await;
        let after = self.get_user(c).await;
        let work = work_email(after.json());
        self.judge(
            "patch.add_filtered_creates",
            "add to emails[type eq \"work\"].value on a user without one creates it",
            "patch",
            matches!(ex.status(), 200 | 204) && work.as_deref() == Some(addr.as_str()),
            format!("PATCH {}, work email {}", ex.describe(), work.plain()),
            &ex,
        );
        okta_ok
    }

    async fn errors(&mut self) {
        let missing = uuid::Uuid::new_v4();
        let ex = self
            .call(Method::Get, format!("/Users/{missing}"), None)
            .await;
        self.judge(
            "errors.not_found",
            "GET of an unknown user is 404",
            "errors",
            ex.status() == 404,
            ex.describe(),
            &ex,
        );
        let j = ex.json();
        let schema = j
            .get("schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| s.iter().any(|v| v == ERROR_SCHEMA));
        let status = j.get("status");
        let ok = schema
            && status == Some(&json!("404"))
            && j.get("detail").and_then(Value::as_str).is_some();
        self.judge(
            "errors.scim_error_shape",
            "Errors use the SCIM Error schema: schemas, status as a string, detail",
            "errors",
            ok,
            format!(
                "Error schema {schema}, status {}, detail present {}",
                status.plain(),
                j.get("detail").is_some()
            ),
            &ex,
        );
        let ex = self
            .call(
                Method::Patch,
                format!("/Users/{missing}"),
                Some(patch_body(
                    json!([{ "op": "replace", "value": { "active": false } }]),
                )),
            )
            .await;
        self.judge(
            "errors.patch_unknown_user",
            "PATCH of an unknown user is 404, not 500 (the IdP then re-creates it)",
            "errors",
            ex.status() == 404,
            ex.describe(),
            &ex,
        );
    }

    async fn content_types(&mut self) {
        for (id, title, ct) in [
            (
                "content_type.request_json",
                "application/json requests are accepted or refused with 415",
                "application/json",
            ),
            (
                "content_type.request_other",
                "text/plain requests are accepted or refused with 415",
                "text/plain",
            ),
        ] {
            let p = self.person(&ct.replace('/', "-"));
            let ex = self
                .create(
                    Dialect::Generic.create_user(&p).body.unwrap_or_default(),
                    ct,
                )
                .await;
            self.judge(
                id,
                title,
                "content-type",
                ex.ok() || ex.status() == 415,
                ex.describe(),
                &ex,
            );
        }
    }

    async fn group_members(&mut self, gid: &str) -> (Ex, Vec<String>) {
        let ex = self.call(Method::Get, format!("/Groups/{gid}"), None).await;
        let mut m = member_ids(ex.json());
        m.sort();
        (ex, m)
    }

    async fn create_group(&mut self, body: Value) -> (Ex, Option<String>) {
        let ex = self.call(Method::Post, "/Groups", Some(body)).await;
        let id = if ex.ok() {
            ex.json()
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_string)
        } else {
            None
        };
        if let Some(id) = &id {
            self.groups.push(id.clone());
        }
        (ex, id)
    }

    async fn groups(&mut self, a: &str, b: &str, c: &str) {
        let g1_name = format!("muster-check-{} okta", self.tag);
        let (ex, g1) = self
            .create_group(
                Dialect::Okta
                    .create_group(&g1_name, "")
                    .body
                    .unwrap_or_default(),
            )
            .await;
        self.judge(
            "groups.create",
            "POST /Groups (Okta Group Push shape) returns 201 with an id",
            "groups",
            ex.status() == 201 && g1.is_some(),
            ex.describe(),
            &ex,
        );
        let g2_name = format!("muster-check-{} entra", self.tag);
        let ext = format!("check-{}-g2", self.tag);
        let (ex, g2) = self
            .create_group(
                Dialect::Entra
                    .create_group(&g2_name, &ext)
                    .body
                    .unwrap_or_default(),
            )
            .await;
        let echoed = ex
            .json()
            .get("schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| s.iter().any(|v| v == ENTRA_GROUP_SCHEMA));
        self.judge(
            "groups.create_entra",
            "POST /Groups with Entra's extra ADSCIM schema URI returns 201",
            "groups",
            ex.status() == 201 && g2.is_some(),
            format!(
                "{}{}",
                ex.describe(),
                if echoed {
                    " (extra schema echoed back)"
                } else {
                    ""
                }
            ),
            &ex,
        );

        let Some(g1) = g1 else {
            for (id, t, c) in DEPENDENT_ON_GROUP {
                self.blocked(id, t, c, "groups.create");
            }
            return;
        };
        let ex = self.filter("Groups", "displayName", &g1_name).await;
        let got = ids(&ex.resources());
        self.judge(
            "groups.filter_display_name",
            "filter=displayName eq finds the group",
            "groups",
            ex.status() == 200 && got == [g1.clone()],
            format!("{}, ids {}", ex.describe(), got.plain()),
            &ex,
        );

        // Okta Group Push: re-asserts id/displayName, adds members with display, no type.
        let members = [
            crate::dialect::MemberRef {
                id: a.to_string(),
                user_name: self.person("a").user_name,
            },
            crate::dialect::MemberRef {
                id: c.to_string(),
                user_name: self.person("c").user_name,
            },
        ];
        let req = Dialect::Okta.add_members(&g1, &g1_name, &members);
        let ex = self.call(Method::Patch, req.path, req.body).await;
        let (_, got) = self.group_members(&g1).await;
        let mut want = vec![a.to_string(), c.to_string()];
        want.sort();
        self.judge(
            "groups.patch_add_members",
            "Okta Group Push PATCH adds members",
            "groups",
            matches!(ex.status(), 200 | 204) && got == want,
            format!("PATCH {}, members {}", ex.describe(), got.plain()),
            &ex,
        );

        let ex = self
            .call(
                Method::Get,
                format!("/Groups/{g1}?excludedAttributes=members"),
                None,
            )
            .await;
        self.judge(
            "groups.excluded_members",
            "GET ?excludedAttributes=members omits members (Entra's read)",
            "groups",
            ex.status() == 200 && ex.json().get("members").is_none(),
            format!(
                "{}, members present {}",
                ex.describe(),
                ex.json().get("members").is_some()
            ),
            &ex,
        );

        let req = Dialect::Okta.remove_members(&g1, &g1_name, &[c.to_string()]);
        let ex = self.call(Method::Patch, req.path, req.body).await;
        let (_, got) = self.group_members(&g1).await;
        self.judge(
            "groups.patch_remove_filter",
            "remove with members[value eq \"id\"] removes only that member",
            "groups",
            matches!(ex.status(), 200 | 204) && got == [a.to_string()],
            format!("PATCH {}, members {}", ex.describe(), got.plain()),
            &ex,
        );

        let renamed = format!("{g1_name} renamed");
        let req = Dialect::Okta.rename_group(&g1, &renamed);
        let ex = self.call(Method::Patch, req.path, req.body).await;
        let (after, got) = self.group_members(&g1).await;
        self.judge(
            "groups.rename_okta",
            "Okta path-less replace {id, displayName} renames and keeps members",
            "groups",
            matches!(ex.status(), 200 | 204)
                && str_at(after.json(), "displayName") == Some(renamed.as_str())
                && got == [a.to_string()],
            format!(
                "PATCH {}, displayName {}, members {}",
                ex.describe(),
                str_at(after.json(), "displayName").plain(),
                got.plain()
            ),
            &ex,
        );

        let Some(g2) = g2 else {
            for (id, t, c) in DEPENDENT_ON_GROUP.iter().skip(5) {
                self.blocked(id, t, c, "groups.create_entra");
            }
            return;
        };
        let members: Vec<_> = [a, b, c]
            .iter()
            .map(|id| crate::dialect::MemberRef {
                id: id.to_string(),
                user_name: String::new(),
            })
            .collect();
        let req = Dialect::Entra.add_members(&g2, &g2_name, &members);
        let ex = self.call(Method::Patch, req.path, req.body).await;
        let (_, got) = self.group_members(&g2).await;
        let mut want = vec![a.to_string(), b.to_string(), c.to_string()];
        want.sort();
        self.judge(
            "groups.patch_add_entra",
            "Entra's Title-Case Add of members with \"$ref\": null",
            "groups",
            matches!(ex.status(), 200 | 204) && got == want,
            format!("PATCH {}, members {}", ex.describe(), got.plain()),
            &ex,
        );

        let req = Dialect::Entra.remove_members(&g2, &g2_name, &[b.to_string()]);
        let ex = self.call(Method::Patch, req.path, req.body).await;
        let (_, got) = self.group_members(&g2).await;
        let mut want = vec![a.to_string(), c.to_string()];
        want.sort();
        self.judge(
            "groups.patch_remove_value_array",
            "Entra's Remove path \"members\" with a value array removes only those members",
            "groups",
            matches!(ex.status(), 200 | 204) && got == want,
            format!(
                "PATCH {}, members {} (expected {})",
                ex.describe(),
                got.plain(),
                want.plain()
            ),
            &ex,
        );

        let renamed = format!("{g2_name} renamed");
        let req = Dialect::Entra.rename_group(&g2, &renamed);
        let ex = self.call(Method::Patch, req.path, req.body).await;
        let after = self
            .call(
                Method::Get,
                format!("/Groups/{g2}?excludedAttributes=members"),
                None,
            )
            .await;
        self.judge(
            "groups.rename_entra",
            "Entra's Replace path displayName renames the group",
            "groups",
            matches!(ex.status(), 200 | 204)
                && str_at(after.json(), "displayName") == Some(renamed.as_str()),
            format!(
                "PATCH {}, displayName {}",
                ex.describe(),
                str_at(after.json(), "displayName").plain()
            ),
            &ex,
        );

        let ex = self
            .call(Method::Delete, format!("/Groups/{g2}"), None)
            .await;
        let gone = self.call(Method::Get, format!("/Groups/{g2}"), None).await;
        if ex.status() == 204 {
            self.groups.retain(|g| *g != g2);
        }
        self.judge(
            "groups.delete",
            "DELETE /Groups/{id} is 204, then GET is 404",
            "groups",
            ex.status() == 204 && gone.status() == 404,
            format!("DELETE {}, then GET {}", ex.describe(), gone.describe()),
            &gone,
        );
    }

    async fn lifecycle(&mut self, a: &str, opts: &CheckOptions) {
        let req = Dialect::Okta.deactivate_user(a);
        let ex = self.call(Method::Patch, req.path, req.body).await;
        let pa = self.person("a");
        let listed = self.filter("Users", "userName", &pa.user_name).await;
        let active = listed
            .resources()
            .first()
            .and_then(|u| u.get("active").cloned());
        self.judge(
            "lifecycle.deactivated_listed_inactive",
            "A deactivated user shows active false in filtered lists too",
            "lifecycle",
            matches!(ex.status(), 200 | 204) && active == Some(json!(false)),
            format!("PATCH {}, listed active {}", ex.describe(), active.plain()),
            &listed,
        );

        let Some(app) = &opts.muster_app else {
            self.record("lifecycle.sessions_revoked", "Deactivation revokes the user's sessions", "lifecycle", Outcome::NotApplicable,
                "no Muster app API given; a generic SCIM server exposes no sessions (GET shows active false, checked above)".into(), None);
            return;
        };
        let conn = app.connection_id.clone().unwrap_or_else(|| {
            let base = self.client.base();
            base.rsplit('/').next().unwrap_or_default().to_string()
        });
        let api = app.api_base.trim_end_matches('/');
        let url = format!("{api}/connections/{conn}/users/{a}");
        let http = reqwest::Client::builder().timeout(OKTA_LIMIT).build();
        let (status, body) = match http {
            Ok(h) => match h.get(&url).bearer_auth(&app.key).send().await {
                Ok(r) => {
                    let s = r.status().as_u16();
                    (Some(s), r.text().await.unwrap_or_default())
                }
                Err(e) => (None, e.to_string()),
            },
            Err(e) => (None, e.to_string()),
        };
        let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let user_status = str_at(&v, "user.status").map(str::to_string);
        // The admin API contract has no session listing yet; when a count or list appears, it must be empty.
        let sessions = v
            .get("sessions")
            .or_else(|| at(&v, "user.active_sessions"))
            .cloned();
        let no_sessions = match &sessions {
            None => true,
            Some(Value::Array(a)) => a.is_empty(),
            Some(Value::Number(n)) => n.as_u64() == Some(0),
            Some(_) => false,
        };
        let ok =
            status == Some(200) && user_status.as_deref() == Some("deactivated") && no_sessions;
        let ev = Evidence {
            request: EvidenceRequest {
                method: "GET".into(),
                url,
                headers: BTreeMap::from([("authorization".into(), "Bearer [redacted]".into())]),
                body: None,
            },
            response: EvidenceResponse {
                status,
                headers: BTreeMap::new(),
                body: truncate(&body.replace(&app.key, "[redacted]")),
                latency_ms: 0,
            },
        };
        self.checks.push(Check {
            id: "lifecycle.sessions_revoked".into(),
            title: "Deactivation revokes the user's sessions".into(),
            category: "lifecycle".into(),
            outcome: if ok { Outcome::Pass } else { Outcome::Fail },
            reason: format!(
                "admin API status {}, user.status {}, sessions {}",
                status.plain(),
                user_status.plain(),
                sessions.plain()
            ),
            evidence: Some(ev),
            supports: Supports::default(),
        });
    }

    async fn user_delete(&mut self, c: &str) {
        let ex = self.call(Method::Delete, format!("/Users/{c}"), None).await;
        let gone = self.get_user(c).await;
        if ex.status() == 204 {
            self.users.retain(|u| u != c);
        }
        self.judge(
            "users.delete",
            "DELETE /Users/{id} is 204, then GET is 404",
            "users",
            ex.status() == 204 && gone.status() == 404,
            format!("DELETE {}, then GET {}", ex.describe(), gone.describe()),
            &gone,
        );
    }

    async fn burst(&mut self, n: usize) {
        let n = n.clamp(1, 200);
        let client = self.client.clone();
        let permits = Arc::new(tokio::sync::Semaphore::new(n));
        let mut set = JoinSet::new();
        for _ in 0..n {
            let (client, permits) = (client.clone(), permits.clone());
            set.spawn(async move {
                let _p = permits.acquire_owned().await;
                let req = raw(Method::Get, "/Users?startIndex=1&count=1", None);
                let res = client.exchange(&req, 0).await.map_err(|e| e.to_string());
                (req, res)
            });
        }
        let mut limited = Vec::new();
        let mut total = 0;
        while let Some(Ok((req, res))) = set.join_next().await {
            total += 1;
            self.note(&req, &res);
            if res.as_ref().is_ok_and(|r| r.status == 429) {
                limited.push((req, res));
            }
        }
        let Some((req, res)) = limited.first().cloned() else {
            self.record(
                "limits.retry_after",
                "429 answers carry an integer Retry-After (Okta reads only integer seconds)",
                "limits",
                Outcome::NotApplicable,
                format!(
                    "no 429 in a burst of {total} concurrent requests; back-pressure not observed"
                ),
                None,
            );
            return;
        };
        let bad = limited
            .iter()
            .filter(|(_, r)| {
                r.as_ref()
                    .ok()
                    .and_then(|r| r.header("retry-after"))
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .is_none()
            })
            .count();
        let (req, res) = limited
            .iter()
            .find(|(_, r)| {
                r.as_ref()
                    .ok()
                    .and_then(|r| r.header("retry-after"))
                    .is_none()
            })
            .cloned()
            .unwrap_or((req, res));
        let ex = Ex {
            ev: evidence(&self.client, &self.token, &req, &res),
            resp: res.ok(),
        };
        self.judge(
            "limits.retry_after",
            "429 answers carry an integer Retry-After (Okta reads only integer seconds)",
            "limits",
            bad == 0,
            format!(
                "{} of {total} requests got 429; {bad} without an integer Retry-After",
                limited.len()
            ),
            &ex,
        );
    }

    async fn finish(&mut self, opts: &CheckOptions, spc: &Value, patch_ok: bool) {
        let advertised = at(spc, "patch.supported").and_then(Value::as_bool);
        self.record(
            "discovery.patch_truthful",
            "patch.supported is true and PATCH actually works",
            "discovery",
            if advertised == Some(true) && patch_ok {
                Outcome::Pass
            } else {
                Outcome::Fail
            },
            format!(
                "patch.supported {}; Okta deactivation PATCH worked: {patch_ok}",
                advertised.plain()
            ),
            None,
        );

        self.burst(opts.burst).await;

        let wrong: Vec<String> = self
            .seen
            .iter()
            .filter(|s| {
                s.status.is_some_and(|st| st != 401)
                    && s.has_body
                    && !is_scim_json(s.content_type.as_deref())
            })
            .map(|s| {
                format!(
                    "{} → {} {}",
                    s.label,
                    s.status.unwrap_or(0),
                    s.content_type.as_deref().unwrap_or("(none)")
                )
            })
            .collect();
        self.record(
            "content_type.responses",
            "Every SCIM response body is application/scim+json",
            "content-type",
            if wrong.is_empty() {
                Outcome::Pass
            } else {
                Outcome::Fail
            },
            if wrong.is_empty() {
                format!("{} responses checked", self.seen.len())
            } else {
                format!(
                    "{} responses were not: {}",
                    wrong.len(),
                    wrong.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
                )
            },
            None,
        );
        let five: Vec<String> = self
            .seen
            .iter()
            // 501 is RFC 7644 §3.12's answer for an operation the server does not
            // support (POST /Bulk when bulk.supported is false), not a failure.
            .filter(|s| s.status.is_some_and(|st| st >= 500 && st != 501))
            .map(|s| format!("{} → {}", s.label, s.status.unwrap_or(0)))
            .collect();
        self.record(
            "errors.no_server_errors",
            "No request in this run produced a 5xx",
            "errors",
            if five.is_empty() {
                Outcome::Pass
            } else {
                Outcome::Fail
            },
            if five.is_empty() {
                "none".into()
            } else {
                format!(
                    "{} server errors: {}",
                    five.len(),
                    five.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
                )
            },
            None,
        );
        let slowest = self.seen.iter().max_by_key(|s| s.latency);
        let timed_out = self.seen.iter().filter(|s| s.status.is_none()).count();
        let max = slowest.map(|s| s.latency).unwrap_or_default();
        self.record(
            "limits.under_60s",
            "Every response arrived within Okta's 60-second limit",
            "limits",
            if max < OKTA_LIMIT && timed_out == 0 {
                Outcome::Pass
            } else {
                Outcome::Fail
            },
            format!(
                "slowest {} ms ({}); {timed_out} without a response",
                max.as_millis(),
                slowest.map(|s| s.label.as_str()).unwrap_or("-")
            ),
            None,
        );
    }

    /// Deletes everything this run created; returns what could not be deleted.
    async fn cleanup(&mut self) -> Vec<String> {
        let mut left = Vec::new();
        for (kind, ids) in [
            ("Groups", std::mem::take(&mut self.groups)),
            ("Users", std::mem::take(&mut self.users)),
        ] {
            for id in ids {
                let r = self
                    .client
                    .send_raw_retrying(&raw(Method::Delete, format!("/{kind}/{id}"), None))
                    .await;
                if !matches!(r.as_ref().map(|r| r.status), Ok(200 | 204 | 404)) {
                    left.push(format!("{kind}/{id}"));
                }
            }
        }
        left
    }
}

fn work_email(user: &Value) -> Option<String> {
    user.get("emails")?
        .as_array()?
        .iter()
        .find(|e| e.get("type").and_then(Value::as_str) == Some("work"))
        .and_then(|e| e.get("value").and_then(Value::as_str))
        .map(str::to_string)
}

/// Checks that cannot run without a created user (recorded as failures when creation fails).
const DEPENDENT_ON_CREATE: [(&str, &str, &str); 4] = [
    (
        "users.create.meta",
        "Created user carries meta.created, meta.lastModified (RFC 3339) and resourceType",
        "users",
    ),
    (
        "users.create.location",
        "Location header / meta.location point at the new user",
        "users",
    ),
    ("users.get", "GET /Users/{id} returns the user", "users"),
    (
        "users.password_never_returned",
        "The password Okta sends is never returned (RFC 7643 returned: never)",
        "users",
    ),
];

/// Checks that cannot run without created groups.
const DEPENDENT_ON_GROUP: [(&str, &str, &str); 9] = [
    (
        "groups.filter_display_name",
        "filter=displayName eq finds the group",
        "groups",
    ),
    (
        "groups.patch_add_members",
        "Okta Group Push PATCH adds members",
        "groups",
    ),
    (
        "groups.excluded_members",
        "GET ?excludedAttributes=members omits members (Entra's read)",
        "groups",
    ),
    (
        "groups.patch_remove_filter",
        "remove with members[value eq \"id\"] removes only that member",
        "groups",
    ),
    (
        "groups.rename_okta",
        "Okta path-less replace {id, displayName} renames and keeps members",
        "groups",
    ),
    (
        "groups.patch_add_entra",
        "Entra's Title-Case Add of members with \"$ref\": null",
        "groups",
    ),
    (
        "groups.patch_remove_value_array",
        "Entra's Remove path \"members\" with a value array removes only those members",
        "groups",
    ),
    (
        "groups.rename_entra",
        "Entra's Replace path displayName renames the group",
        "groups",
    ),
    (
        "groups.delete",
        "DELETE /Groups/{id} is 204, then GET is 404",
        "groups",
    ),
];

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
