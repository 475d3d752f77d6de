//! Health cadence, modified properties and live failure events, black-box over HTTP against
//! a real server and SQLite file: the admin-set cadence is validated and decides idle; log
//! rows of PUT and PATCH carry old → new values; failed SCIM requests reach the SSE stream.

use directory::{log, SystemClock};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

#[allow(dead_code)]
#[path = "scim/helpers.rs"]
mod helpers;

use helpers::TestApp;

/// A server with one Okta connection, and the Authorization values its calls carry.
struct Env {
    t: TestApp,
    conn_id: String,
    scim: String,
    bearer: String,
    secret: String,
}

impl Env {
    async fn new() -> Env {
        let t = helpers::spawn_app_for(Arc::new(SystemClock), "Acme", "okta", |_| {}).await;
        Env {
            conn_id: t.connection_id.clone(),
            scim: t.base.clone(),
            bearer: format!("Bearer {}", t.token),
            secret: format!("Bearer {}", t.admin_secret),
            t,
        }
    }

    async fn call(
        &self,
        method: Method,
        url: &str,
        auth: &str,
        body: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .t
            .client
            .request(method, url)
            .header("Authorization", auth)
            .header("User-Agent", "Okta SCIM Client 1.0.0");
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let s = resp.status();
        let text = resp.text().await.unwrap();
        (
            s,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn admin(&self, method: Method, p: &str, body: Option<&str>) -> (StatusCode, Value) {
        let url = format!("{}{p}", self.t.admin);
        self.call(method, &url, &self.secret, body).await
    }

    async fn scim(&self, method: Method, p: &str, body: Value) -> (StatusCode, Value) {
        let url = format!("{}{p}", self.scim);
        let body = (!body.is_null()).then(|| body.to_string());
        self.call(method, &url, &self.bearer, body.as_deref()).await
    }

    /// The newest log row of the connection, with its detail (changes included).
    async fn last_detail(&self) -> Value {
        let (_, page) = self
            .admin(
                Method::GET,
                &format!("/connections/{}/log?limit=1", self.conn_id),
                None,
            )
            .await;
        let id = page["items"][0]["id"].as_i64().unwrap();
        let (s, d) = self.admin(Method::GET, &format!("/log/{id}"), None).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        d
    }
}

fn change<'a>(detail: &'a Value, path: &str) -> Vec<&'a Value> {
    detail["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["path"] == json!(path))
        .collect()
}

#[tokio::test]
async fn expected_cadence_is_validated_and_decides_idle() {
    let env = Env::new().await;
    let id = env.conn_id.clone();
    let cadence = format!("/connections/{id}/health/cadence");

    let (s, c) = env.admin(Method::GET, &cadence, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        c,
        json!({"expected_sync_minutes": null, "default_sync_minutes": 1440})
    );

    // The IdP was last heard from 3 hours ago (written through the server's own store).
    let conn = id.clone();
    env.t
        .db()
        .write(move |c| {
            log::append(
                c,
                &log::LogEntry {
                    at: directory::clock::fmt_time(chrono::Utc::now() - chrono::Duration::hours(3)),
                    connection_id: Some(conn),
                    method: "GET".into(),
                    path: "/Users".into(),
                    status: 200,
                    outcome: directory::log::LogOutcome::Read,
                    ..Default::default()
                },
            )
        })
        .await
        .unwrap();
    let health = || async {
        let (_, d) = env
            .admin(Method::GET, &format!("/connections/{id}"), None)
            .await;
        d["connection"].clone()
    };
    let h = health().await;
    assert_eq!(
        h["health"],
        json!("healthy"),
        "Okta's default is a day: {h}"
    );
    assert_eq!(h["expected_sync_minutes"], Value::Null);
    assert_eq!(h["default_sync_minutes"], json!(1440));

    let (s, c) = env
        .admin(
            Method::PUT,
            &cadence,
            Some(r#"{"expected_sync_minutes": 60}"#),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["expected_sync_minutes"], json!(60));
    let h = health().await;
    assert_eq!(h["health"], json!("idle"), "{h}");
    assert_eq!(h["expected_sync_minutes"], json!(60));
    let reason = h["health_reason"].as_str().unwrap();
    assert!(
        reason.contains("No request for 3 h; you expect one every 60 min."),
        "{reason}"
    );

    // Bad values: 400 with a message that says what is allowed, and the setting stays 60.
    // (body, whether the message states the allowed range)
    for (bad, says_range) in [
        (r#"{"expected_sync_minutes": 0}"#, true),
        (r#"{"expected_sync_minutes": 10081}"#, true),
        (r#"{"expected_sync_minutes": -5}"#, true),
        (r#"{"expected_sync_minutes": 1.5}"#, true),
        (r#"{"expected_sync_minutes": "60"}"#, true),
        (r#"{"expected_sync_minutes": 99999999999999999999}"#, true),
        (r#"{}"#, true),
        (r#"[60]"#, true),
        (r#"{"expected_sync_minutes": "#, false),
    ] {
        let (s, e) = env.admin(Method::PUT, &cadence, Some(bad)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {e}");
        assert_eq!(e["code"], json!("bad_request"), "{bad}: {e}");
        if says_range {
            assert!(
                e["message"].as_str().unwrap().contains("10080"),
                "{bad}: {e}"
            );
        }
        let (_, c) = env.admin(Method::GET, &cadence, None).await;
        assert_eq!(c["expected_sync_minutes"], json!(60), "{bad} changed it");
    }
    let (s, _) = env
        .admin(
            Method::PUT,
            "/connections/00000000-0000-4000-8000-000000000000/health/cadence",
            Some(r#"{"expected_sync_minutes": 60}"#),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = env
        .admin(
            Method::GET,
            "/connections/00000000-0000-4000-8000-000000000000/health/cadence",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = env
        .call(
            Method::PUT,
            &format!("{}{cadence}", env.t.admin),
            &env.bearer, // a SCIM token is not the admin secret
            Some(r#"{"expected_sync_minutes": 5}"#),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (_, c) = env.admin(Method::GET, &cadence, None).await;
    assert_eq!(c["expected_sync_minutes"], json!(60));

    // Both edges of the range are allowed; 240 min makes 3 h of silence healthy again.
    for ok in [1, 10080, 240] {
        let (s, c) = env
            .admin(
                Method::PUT,
                &cadence,
                Some(&format!(r#"{{"expected_sync_minutes": {ok}}}"#)),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{ok}: {c}");
        assert_eq!(c["expected_sync_minutes"], json!(ok));
    }
    assert_eq!(health().await["health"], json!("healthy"));

    // null goes back to the IdP's default.
    let (s, c) = env
        .admin(
            Method::PUT,
            &cadence,
            Some(r#"{"expected_sync_minutes": null}"#),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(c["expected_sync_minutes"], Value::Null);
    let (_, audit) = env
        .admin(Method::GET, &format!("/connections/{id}/audit"), None)
        .await;
    let settings: Vec<&Value> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == json!("expected_cadence_set"))
        .collect();
    assert_eq!(
        settings.len(),
        5,
        "one audit entry per accepted change: {audit}"
    );
    env.t.shutdown().await;
}

#[tokio::test]
async fn log_rows_carry_modified_properties_old_and_new() {
    let env = Env::new().await;
    let ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let user = |name: &str, family: &str| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": name,
            "name": {"givenName": "Ada", "familyName": family},
            "emails": [{"value": name, "type": "work", "primary": true}],
            "title": "Engineer",
            "active": true,
        })
    };
    let (s, ada) = env
        .scim(Method::POST, "/Users", user("ada@acme.test", "Lovelace"))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{ada}");
    let ada_id = ada["id"].as_str().unwrap().to_string();

    // PUT: familyName changed, title dropped, a password sent (never logged).
    let mut put = user("ada@acme.test", "King");
    put.as_object_mut().unwrap().remove("title");
    put["password"] = json!("hunter2-s3cret");
    let (s, _) = env
        .scim(Method::PUT, &format!("/Users/{ada_id}"), put)
        .await;
    assert_eq!(s, StatusCode::OK);
    let d = env.last_detail().await;
    assert_eq!(d["row"]["method"], json!("PUT"));
    assert_eq!(
        change(&d, "name.familyName"),
        vec![&json!({"path": "name.familyName", "old": "Lovelace", "new": "King"})]
    );
    assert_eq!(
        change(&d, "title"),
        vec![&json!({"path": "title", "old": "Engineer", "new": null})]
    );
    assert!(
        change(&d, "userName").is_empty(),
        "unchanged attributes are not listed: {d}"
    );
    assert!(!d.to_string().contains("hunter2"), "{d}");

    // Okta's path-less deactivation.
    let off = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}]});
    let (s, _) = env
        .scim(Method::PATCH, &format!("/Users/{ada_id}"), off)
        .await;
    assert_eq!(s, StatusCode::OK);
    let d = env.last_detail().await;
    assert_eq!(d["row"]["outcome"], json!("deactivated"));
    assert_eq!(
        d["changes"],
        json!([{"path": "active", "old": true, "new": false}])
    );
    assert_eq!(d["changes_omitted"], json!(0));

    // Entra's multi-op Replace PATCH without aadOptscim062020 (fixture entra-compat-05).
    let entra = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "Replace", "path": "displayName", "value": "Pvlo"},
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "TestBcwqnm@test.microsoft.com"},
        {"op": "Replace", "path": "name.givenName", "value": "Gtfd"},
        {"op": "Replace", "path": "name.familyName", "value": "Pkqf"},
        {"op": "Replace", "path": "externalId", "value": "Eqpj"},
        {"op": "Replace", "path": format!("{ent}:employeeNumber"), "value": "Eqpj"},
        {"op": "Replace", "path": "active", "value": "True"}]});
    let (s, body) = env
        .scim(Method::PATCH, &format!("/Users/{ada_id}"), entra)
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let d = env.last_detail().await;
    assert_eq!(d["row"]["outcome"], json!("reactivated"));
    for (path, old, new) in [
        ("displayName", Value::Null, json!("Pvlo")),
        ("name.givenName", json!("Ada"), json!("Gtfd")),
        ("name.familyName", json!("King"), json!("Pkqf")),
        ("externalId", Value::Null, json!("Eqpj")),
        (&format!("{ent}:employeeNumber"), Value::Null, json!("Eqpj")),
        ("active", json!(false), json!(true)),
    ] {
        assert_eq!(
            change(&d, path),
            vec![&json!({"path": path, "old": old, "new": new})],
            "{path}: {d}"
        );
    }
    let emails = change(&d, "emails");
    assert_eq!(emails.len(), 1, "{d}");
    assert_eq!(emails[0]["old"][0]["value"], json!("ada@acme.test"));
    assert_eq!(
        emails[0]["new"][0]["value"],
        json!("TestBcwqnm@test.microsoft.com")
    );

    // Group membership: Okta removes one member and adds another in one PATCH.
    let (_, bob) = env
        .scim(Method::POST, "/Users", user("bob@acme.test", "Builder"))
        .await;
    let bob_id = bob["id"].as_str().unwrap().to_string();
    let (s, g) = env
        .scim(
            Method::POST,
            "/Groups",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Engineering",
                "members": [{"value": ada_id}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{g}");
    let gid = g["id"].as_str().unwrap().to_string();
    let swap = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "remove", "path": format!("members[value eq \"{ada_id}\"]")},
        {"op": "add", "path": "members", "value": [{"value": bob_id, "display": "bob@acme.test"}]},
        {"op": "replace", "path": "displayName", "value": "Platform"}]});
    let (s, _) = env
        .scim(Method::PATCH, &format!("/Groups/{gid}"), swap)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let d = env.last_detail().await;
    assert_eq!(d["row"]["outcome"], json!("membership_changed"));
    assert_eq!(
        change(&d, "displayName"),
        vec![&json!({"path": "displayName", "old": "Engineering", "new": "Platform"})]
    );
    assert_eq!(
        change(&d, "members"),
        vec![
            &json!({"path": "members", "old": null, "new": format!("bob@acme.test ({bob_id})")}),
            &json!({"path": "members", "old": format!("ada@acme.test ({ada_id})"), "new": null}),
        ]
    );

    // A group PUT that replaces the member list lists who left and who came.
    let put = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Platform",
        "members": [{"value": ada_id}]});
    let (s, _) = env.scim(Method::PUT, &format!("/Groups/{gid}"), put).await;
    assert_eq!(s, StatusCode::OK);
    let d = env.last_detail().await;
    assert_eq!(
        d["changes"],
        json!([
            {"path": "members", "old": null, "new": format!("ada@acme.test ({ada_id})")},
            {"path": "members", "old": format!("bob@acme.test ({bob_id})"), "new": null},
        ])
    );

    // A write that changes nothing, and a read, record no changes.
    let (s, _) = env
        .scim(
            Method::PUT,
            &format!("/Groups/{gid}"),
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Platform",
                "members": [{"value": ada_id}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(env.last_detail().await["changes"], json!([]));
    env.scim(Method::GET, &format!("/Users/{ada_id}"), Value::Null)
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let d = env.last_detail().await;
    assert_eq!(d["row"]["method"], json!("GET"));
    assert_eq!(d["changes"], json!([]));
    env.t.shutdown().await;
}

#[tokio::test]
async fn failed_scim_requests_are_announced_on_the_live_stream() {
    let env = Env::new().await;
    let events_url = format!("{}/events", env.t.admin);
    // A credential in the URL is refused: it would end up in proxy logs.
    let in_url = format!(
        "{events_url}?secret={}",
        env.secret.trim_start_matches("Bearer ")
    );
    let refused = env.t.client.get(&in_url).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let mut stream = env
        .t
        .client
        .get(&events_url)
        .header("authorization", &env.secret)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    // The response headers mean the handler has subscribed: nothing sent from here is missed.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Value>();
    let reader = tokio::spawn(async move {
        let mut buf = String::new();
        while let Ok(Some(chunk)) = stream.chunk().await {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let frame: String = buf.drain(..end + 2).collect();
                for line in frame.lines() {
                    if let Some(data) = line.strip_prefix("data:") {
                        if let Ok(v) = serde_json::from_str::<Value>(data.trim()) {
                            let _ = tx.send(v);
                        }
                    }
                }
            }
        }
    });

    // A refused token on a path that names no connection: logged, but nobody to tell.
    let nowhere = format!(
        "{}/00000000-0000-4000-8000-000000000000/Users",
        env.t.scim_base
    );
    let (s, _) = env.call(Method::GET, &nowhere, "Bearer nope", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // A bad token on this connection from where its IdP calls (an authenticated request
    // came from this client first), then a create the server refuses (no userName). A bad
    // token from anywhere else is stray traffic and raises nothing (tests/scim/health_trust).
    let url = format!("{}/Users", env.scim);
    let (s, _) = env.call(Method::GET, &url, &env.bearer, None).await;
    assert_eq!(s, StatusCode::OK);
    // The token's last use (where the IdP calls from) is recorded off the request path.
    let tokens_url = format!("{}/connections/{}/tokens", env.t.admin, env.conn_id);
    for _ in 0..50 {
        let (_, list) = env.call(Method::GET, &tokens_url, &env.secret, None).await;
        if !list[0]["last_used_at"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (s, _) = env
        .call(Method::GET, &url, "Bearer not-the-token", None)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Failures are announced at most once a second per connection.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (s, _) = env
        .scim(
            Method::POST,
            "/Users",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "emails": [{"value": "x@acme.test"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while got.len() < 2 {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            // Other kinds may pass by: on PostgreSQL the connection's own earlier changes
            // reach the stream through NOTIFY, after it opened.
            Ok(Some(ev)) if ev["kind"] == json!("connection") => {}
            Ok(Some(ev)) => got.push(ev),
            _ => panic!("expected two failure events within 5 s, got {got:?}"),
        }
    }
    for ev in &got {
        assert_eq!(ev["kind"], json!("log"), "{got:?}");
        assert_eq!(
            ev["connection_id"],
            json!(env.conn_id),
            "only this connection's failures: {got:?}"
        );
    }
    // Each event names its log row, already committed and readable.
    let mut statuses = Vec::new();
    for ev in &got {
        let row: i64 = ev["id"].as_str().unwrap().parse().unwrap();
        let (s, d) = env.admin(Method::GET, &format!("/log/{row}"), None).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        statuses.push(d["row"]["status"].as_i64().unwrap());
    }
    assert_eq!(statuses, vec![401, 400]);
    // Health read right after the event already sees the refusal.
    let (_, c) = env
        .admin(Method::GET, &format!("/connections/{}", env.conn_id), None)
        .await;
    assert_eq!(c["connection"]["failures_24h"], json!(2), "{c}");

    // A flood of refused tokens is logged in full but announced about once a second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let started = tokio::time::Instant::now();
    for _ in 0..30 {
        let (s, _) = env
            .call(Method::GET, &url, "Bearer not-the-token", None)
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let burst_secs = started.elapsed().as_secs_f64();
    let mut announced = 0;
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(1500), rx.recv()).await {
        announced += 1;
    }
    assert!(
        announced >= 1 && (announced as f64) <= burst_secs.ceil() + 1.0,
        "{announced} events for 30 failures over {burst_secs:.2} s"
    );
    let (_, c) = env
        .admin(Method::GET, &format!("/connections/{}", env.conn_id), None)
        .await;
    assert_eq!(
        c["connection"]["failures_24h"],
        json!(32),
        "every failure is logged: {c}"
    );
    reader.abort();
    env.t.shutdown().await;
}
