//! Health, the provisioning log and triage, driven by real SCIM traffic: a revoked token
//! turns a connection failing; triage explains a deactivated, a rejected and a
//! never-received person; the log exports as CSV and JSON.

use directory::{connections, tokens, Db};
use muster_server::{start, ServerConfig};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

async fn call(
    http: &Client,
    method: Method,
    url: &str,
    auth: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = http
        .request(method, url)
        .header("Authorization", auth)
        .header("User-Agent", "Okta SCIM Client 1.0.0");
    if let Some(b) = body {
        req = req
            .header("Content-Type", "application/scim+json")
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

#[tokio::test]
async fn health_triage_and_export_from_real_traffic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("muster.db");
    let (conn_id, token) = {
        let db = Db::open(&path).unwrap();
        db.write_blocking(|c| {
            let now = chrono::Utc::now();
            let conn = connections::create(c, "Acme Okta", connections::Idp::Okta, false, now)?;
            let t = tokens::issue(c, &conn.id, "initial", now)?;
            Ok((conn.id, t.secret))
        })
        .unwrap()
    };
    let server = start(ServerConfig::new(path, "127.0.0.1:0".parse().unwrap()))
        .await
        .unwrap();
    let http = Client::new();
    let scim = format!("{}/{}", server.scim_base, conn_id);
    let bearer = format!("Bearer {token}");
    let admin = |p: &str| format!("{}{p}", server.admin_base);
    let secret = format!("Bearer {}", server.admin_secret);

    let (_, c) = call(
        &http,
        Method::GET,
        &admin(&format!("/connections/{conn_id}")),
        &secret,
        None,
    )
    .await;
    assert_eq!(c["connection"]["health"], json!("never_connected"));

    // Traffic: one healthy user, one deactivated, one rejected (no userName).
    let user = |n: &str| json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": n, "name": {"givenName": "Jane", "familyName": "Doe"}, "emails": [{"value": n, "primary": true}]});
    let (s, fine) = call(
        &http,
        Method::POST,
        &format!("{scim}/Users"),
        &bearer,
        Some(user("fine@acme.test")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, gone) = call(
        &http,
        Method::POST,
        &format!("{scim}/Users"),
        &bearer,
        Some(user("jane.doe@acme.test")),
    )
    .await;
    let gone_id = gone["id"].as_str().unwrap();
    let off = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": {"active": false}}]});
    call(
        &http,
        Method::PATCH,
        &format!("{scim}/Users/{gone_id}"),
        &bearer,
        Some(off),
    )
    .await;
    let (s, _) = call(&http, Method::POST, &format!("{scim}/Users"), &bearer, Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "emails": [{"value": "rejected.person@acme.test"}]}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    // Triage: deactivated (with the request that did it), tolerant of case and plus-addressing.
    let (_, t) = call(
        &http,
        Method::GET,
        &admin("/triage?q=%20Jane.Doe%2Bokta%40ACME.test%20"),
        &secret,
        None,
    )
    .await;
    assert_eq!(
        t["findings"][0]["diagnosis"]["verdict"],
        json!("deactivated"),
        "{t}"
    );
    let summary = t["findings"][0]["diagnosis"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("PATCH") && summary.contains(gone_id),
        "{summary}"
    );
    let timeline: Vec<&str> = t["findings"][0]["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["what"].as_str().unwrap())
        .collect();
    assert!(
        timeline.iter().any(|w| w.contains("Account deactivated")),
        "{timeline:?}"
    );
    // Rejected: found in the log, with why.
    let (_, t) = call(
        &http,
        Method::GET,
        &admin("/triage?q=rejected.person%40acme.test"),
        &secret,
        None,
    )
    .await;
    assert_eq!(
        t["findings"][0]["diagnosis"]["verdict"],
        json!("rejected"),
        "{t}"
    );
    assert!(t["findings"][0]["diagnosis"]["summary"]
        .as_str()
        .unwrap()
        .contains("userName"));
    // Never received, with near matches.
    let (_, t) = call(
        &http,
        Method::GET,
        &admin("/triage?q=fine%40acme.tesr"),
        &secret,
        None,
    )
    .await;
    assert_eq!(
        t["findings"][0]["diagnosis"]["verdict"],
        json!("never_received")
    );
    assert_eq!(t["near_matches"][0]["user_id"], fine["id"]);
    // Active and fine.
    let (_, t) = call(
        &http,
        Method::GET,
        &admin("/triage?q=fine%40acme.test"),
        &secret,
        None,
    )
    .await;
    assert_eq!(
        t["findings"][0]["diagnosis"]["verdict"],
        json!("active_and_fine")
    );

    // A revoked token the IdP keeps using turns the connection failing.
    let (_, list) = call(
        &http,
        Method::GET,
        &admin(&format!("/connections/{conn_id}/tokens")),
        &secret,
        None,
    )
    .await;
    let tid = list[0]["id"].as_str().unwrap();
    call(
        &http,
        Method::POST,
        &admin(&format!("/connections/{conn_id}/tokens/{tid}/revoke")),
        &secret,
        None,
    )
    .await;
    for _ in 0..3 {
        let (s, _) = call(&http, Method::GET, &format!("{scim}/Users"), &bearer, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (_, c) = call(
        &http,
        Method::GET,
        &admin(&format!("/connections/{conn_id}")),
        &secret,
        None,
    )
    .await;
    assert_eq!(c["connection"]["health"], json!("failing"), "{c}");
    assert!(c["connection"]["health_reason"]
        .as_str()
        .unwrap()
        .contains("token"));

    // Log filters and export.
    let (_, failures) = call(
        &http,
        Method::GET,
        &admin(&format!("/log?connection={conn_id}&status=failure")),
        &secret,
        None,
    )
    .await;
    assert!(failures["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"].as_i64().unwrap() >= 400));
    let (s, csv) = call(
        &http,
        Method::GET,
        &admin(&format!(
            "/log/export?connection={conn_id}&outcome=auth_failed"
        )),
        &secret,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let csv = csv.as_str().unwrap().to_string();
    assert_eq!(
        csv.lines().count(),
        4,
        "header + 3 refused requests:\n{csv}"
    );
    assert!(!csv.contains(&token));
    let (_, js) = call(
        &http,
        Method::GET,
        &admin(&format!(
            "/log/export?connection={conn_id}&format=json&outcome=created"
        )),
        &secret,
        None,
    )
    .await;
    assert_eq!(js.as_array().unwrap().len(), 2);
    let row_id = js[0]["id"].as_i64().unwrap();
    let (_, detail) = call(
        &http,
        Method::GET,
        &admin(&format!("/log/{row_id}")),
        &secret,
        None,
    )
    .await;
    assert!(detail["request_body"]
        .as_str()
        .unwrap()
        .contains("userName"));
    let (_, buckets) = call(
        &http,
        Method::GET,
        &admin(&format!("/connections/{conn_id}/activity")),
        &secret,
        None,
    )
    .await;
    let total: i64 = buckets
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["requests"].as_i64().unwrap())
        .sum();
    assert!(total >= 7, "{total}");
    server.shutdown().await;
}
