//! The console's connection test: a short SCIM round trip (configuration, create, read,
//! patch, delete, confirm gone) through this server's own SCIM endpoint, in process, with a
//! temporary token. Its requests carry `x-muster-check`, so they stay out of the
//! connection's health, dialect and counts, and the test user is purged the moment it is
//! deleted: no real user is touched and nothing is left behind.

use super::types::{ConnectionTestResult, ConnectionTestStep};
use super::ApiFailure;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request};
use directory::tokens::TemporaryUse;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Instant;
use tower::ServiceExt;

/// How long the temporary token works, should its removal never run.
const TOKEN_TTL_MINUTES: i64 = 5;
/// The value of the check header, saying which kind of check this is.
const CHECK_KIND: &str = "connection-test";
/// The test user's user agent, as it shows in the provisioning log.
const USER_AGENT: &str = "Muster connection test";

/// One SCIM exchange with the in-process endpoint.
struct Exchange {
    status: u16,
    body: Value,
    duration_ms: f64,
}

struct Caller {
    scim: axum::Router,
    connection_id: String,
    token: String,
}

impl Caller {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Exchange {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("/{}{path}", self.connection_id))
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
            .header(header::USER_AGENT, USER_AGENT)
            .header(idp::client::CHECK_HEADER, CHECK_KIND);
        if body.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/scim+json");
        }
        let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
        let mut req = match req.body(body) {
            Ok(r) => r,
            Err(e) => return failed(format!("could not build the request: {e}")),
        };
        // The SCIM handler logs the peer; this request never crossed the network.
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 0))));
        let started = Instant::now();
        let resp = match self.scim.clone().oneshot(req).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), crate::scim::MAX_BODY_BYTES)
            .await
            .unwrap_or_default();
        Exchange {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        }
    }
}

fn failed(why: String) -> Exchange {
    Exchange {
        status: 0,
        body: json!({ "detail": why }),
        duration_ms: 0.0,
    }
}

/// A step's record: ok when the status is the one expected and `check` (what the body must
/// show) holds; else the SCIM error's detail, or what was wrong.
fn step(
    title: &str,
    method: &Method,
    path: &str,
    x: &Exchange,
    want: u16,
    check: Result<Option<String>, String>,
) -> ConnectionTestStep {
    let (ok, detail) = if x.status != want {
        let why = x.body["detail"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("expected HTTP {want}"));
        (false, Some(why))
    } else {
        match check {
            Ok(note) => (true, note),
            Err(why) => (false, Some(why)),
        }
    };
    ConnectionTestStep {
        title: title.to_string(),
        method: method.to_string(),
        path: path.to_string(),
        status: (x.status != 0).then_some(x.status),
        ok,
        duration_ms: x.duration_ms,
        detail,
    }
}

fn skipped(title: &str, method: &Method, path: &str) -> ConnectionTestStep {
    ConnectionTestStep {
        title: title.to_string(),
        method: method.to_string(),
        path: path.to_string(),
        status: None,
        ok: false,
        duration_ms: 0.0,
        detail: Some("skipped: an earlier step failed".into()),
    }
}

/// Runs the round trip against connection `id` (which exists) and cleans up after it: the
/// temporary token is removed, and a test user a failed step left behind is deleted and
/// purged directly. `actor` started the test, for the audit row.
pub async fn run(
    st: &AppState,
    id: &str,
    actor: directory::Actor,
) -> Result<ConnectionTestResult, ApiFailure> {
    let now = st.dir.now();
    let begun = Instant::now();
    let issued = st
        .dir
        .issue_temporary_token(
            id,
            TemporaryUse::ConnectionTest,
            chrono::Duration::minutes(TOKEN_TTL_MINUTES),
            actor,
        )
        .await?;
    let caller = Caller {
        scim: crate::scim::router(st.clone()),
        connection_id: id.to_string(),
        token: issued.secret.clone(),
    };
    let (steps, leftover) = steps(&caller).await;
    st.dir
        .end_temporary_token(id, &issued.id, TemporaryUse::ConnectionTest, leftover)
        .await?;
    Ok(ConnectionTestResult {
        ok: steps.iter().all(|s| s.ok),
        steps,
        started_at: directory::clock::fmt_time(now),
        duration_ms: begun.elapsed().as_secs_f64() * 1000.0,
    })
}

/// The steps, and the id of a test user that is still there (its DELETE did not succeed).
async fn steps(c: &Caller) -> (Vec<ConnectionTestStep>, Option<String>) {
    let mut out = Vec::new();
    let get = Method::GET;

    let path = "/ServiceProviderConfig";
    let x = c.call(get.clone(), path, None).await;
    out.push(step(
        "Authenticate and read the server's configuration",
        &get,
        path,
        &x,
        200,
        Ok(None),
    ));

    let tag = uuid::Uuid::new_v4().simple().to_string();
    let user_name = format!("muster-test-{}@connection-test.invalid", &tag[..12]);
    let created = if out[0].ok {
        let x = c
            .call(
                Method::POST,
                "/Users",
                Some(json!({
                    "schemas": [scim::urn::USER],
                    "userName": user_name,
                    "externalId": format!("muster-connection-test-{tag}"),
                    "displayName": "Muster connection test",
                    "active": true,
                })),
            )
            .await;
        let id = x.body["id"].as_str().map(str::to_string);
        out.push(step(
            "Create a test user",
            &Method::POST,
            "/Users",
            &x,
            201,
            Ok(Some(user_name.clone())),
        ));
        id.filter(|_| x.status == 201)
    } else {
        out.push(skipped("Create a test user", &Method::POST, "/Users"));
        None
    };

    let Some(uid) = created else {
        for (title, m) in [
            ("Read it back", Method::GET),
            ("Change its display name", Method::PATCH),
            ("Delete it", Method::DELETE),
            ("Confirm it is gone", Method::GET),
        ] {
            out.push(skipped(title, &m, "/Users/{id}"));
        }
        return (out, None);
    };
    let path = format!("/Users/{uid}");

    let x = c.call(get.clone(), &path, None).await;
    let same = x.body["userName"].as_str() == Some(user_name.as_str());
    out.push(step(
        "Read it back",
        &get,
        &path,
        &x,
        200,
        if same {
            Ok(None)
        } else {
            Err("the user read back is not the one created".into())
        },
    ));

    let patched_name = "Muster connection test (patched)";
    let patch = if out.iter().all(|s| s.ok) {
        let x = c
            .call(
                Method::PATCH,
                &path,
                Some(json!({
                    "schemas": [scim::urn::PATCH_OP],
                    "Operations": [{"op": "replace", "path": "displayName", "value": patched_name}],
                })),
            )
            .await;
        let applied = x.body["displayName"].as_str() == Some(patched_name);
        step(
            "Change its display name",
            &Method::PATCH,
            &path,
            &x,
            200,
            if applied {
                Ok(None)
            } else {
                Err("the answer does not show the new display name".into())
            },
        )
    } else {
        skipped("Change its display name", &Method::PATCH, &path)
    };
    out.push(patch);

    // Deleted whatever happened before: the test leaves no user behind.
    let x = c.call(Method::DELETE, &path, None).await;
    let deleted = x.status == 204;
    out.push(step("Delete it", &Method::DELETE, &path, &x, 204, Ok(None)));

    if deleted {
        let x = c.call(get.clone(), &path, None).await;
        out.push(step(
            "Confirm it is gone",
            &get,
            &path,
            &x,
            404,
            Ok(Some("purged at once: no restorable test user".into())),
        ));
    } else {
        out.push(skipped("Confirm it is gone", &get, &path));
    }
    (out, (!deleted).then_some(uid))
}
