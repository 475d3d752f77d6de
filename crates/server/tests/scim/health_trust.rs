//! Health never lies: only the IdP's own sync moves a connection's health, dialect, counts
//! and last-sync time. Stray requests with a made-up token, a readiness run and Muster's own
//! purges are logged apart; a dead token the IdP still uses and a connection without a live
//! token are named as such.

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const OKTA_UA: &str = "Okta SCIM Client 1.0.0";
const ENTRA_UA: &str = "Microsoft.Identity.Provisioning.Service/1.0";

async fn summary(app: &TestApp) -> Value {
    app.barrier().await;
    let r = app
        .admin_req(Method::GET, &format!("/connections/{}", app.connection_id))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["connection"].clone()
}

/// A request as an IdP with user agent `ua` would send it, with `token`.
async fn as_idp(
    app: &TestApp,
    ua: &str,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> StatusCode {
    let mut r = app
        .client
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("user-agent", ua);
    if let Some(b) = body {
        r = r.header("content-type", SCIM_JSON).json(&b);
    }
    r.send().await.unwrap().status()
}

async fn okta_sync(app: &TestApp, n: usize) {
    for i in 0..n {
        let s = as_idp(
            app,
            OKTA_UA,
            &app.token,
            Method::POST,
            "/Users",
            Some(json!({"schemas": [USER_URN], "userName": format!("okta{i}@acme.test")})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
    }
}

#[tokio::test]
async fn stray_requests_with_a_made_up_token_leave_health_alone() {
    let app = spawn_app().await;
    okta_sync(&app, 3).await;
    let before = summary(&app).await;
    assert_eq!(before["health"], "healthy", "{before}");
    for _ in 0..3 {
        let s = as_idp(
            &app,
            "curl/8.4.0",
            "made-up-token",
            Method::POST,
            "/Users",
            Some(json!({"schemas": [USER_URN], "userName": "x@acme.test"})),
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let after = summary(&app).await;
    assert_eq!(after["health"], "healthy", "{after}");
    for k in [
        "requests_24h",
        "failures_24h",
        "user_count",
        "last_request_at",
        "last_sync_at",
        "dialect",
    ] {
        assert_eq!(after[k], before[k], "{k} moved");
    }
    let notices = after["health_notices"].to_string();
    assert!(
        notices.contains("3 request(s)") && notices.contains("127.0.0.1"),
        "{notices}"
    );
    // The rows are still in the log, tagged.
    let stray: Vec<Value> = app
        .log()
        .await
        .into_iter()
        .filter(|r| r["status"] == 401)
        .collect();
    assert_eq!(stray.len(), 3);
}

#[tokio::test]
async fn an_unknown_token_from_where_the_idp_calls_counts() {
    let app = spawn_app().await;
    okta_sync(&app, 3).await;
    // Same address and user agent as the IdP's authenticated traffic: the IdP with a
    // token Muster never issued (pasted wrong) is failing.
    for _ in 0..3 {
        let s = as_idp(&app, OKTA_UA, "pasted-wrong", Method::GET, "/Users", None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let s = summary(&app).await;
    assert_eq!(s["health"], "failing", "{s}");
    assert_eq!(s["health_notices"], json!([]), "{s}");
}

#[tokio::test]
async fn a_dead_token_the_idp_still_uses_is_named_and_no_live_token_is_a_state() {
    let app = spawn_app().await;
    okta_sync(&app, 2).await;
    // Rotate with no grace: the IdP's token is dead, a new one is live.
    let r = app
        .admin_req(
            Method::POST,
            &format!("/connections/{}/tokens/rotate", app.connection_id),
        )
        .json(&json!({"grace_seconds": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let new_token = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let s = as_idp(&app, OKTA_UA, &app.token, Method::GET, "/Users", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let s = summary(&app).await;
    assert_eq!(s["health"], "failing", "{s}");
    let reason = s["health_reason"].as_str().unwrap();
    assert!(reason.contains("The IdP still uses the token"), "{reason}");
    assert!(!reason.contains('?'), "{reason}");
    // The admin pastes the new token; then revokes every token: a state of its own.
    let s = as_idp(&app, OKTA_UA, &new_token, Method::GET, "/Users", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(summary(&app).await["health"], "healthy");
    let tokens: Value = app
        .admin_req(
            Method::GET,
            &format!("/connections/{}/tokens", app.connection_id),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for t in tokens.as_array().unwrap() {
        if t["state"] == "live" || t["state"] == "in_grace" {
            let r = app
                .admin_req(
                    Method::POST,
                    &format!(
                        "/connections/{}/tokens/{}/revoke",
                        app.connection_id,
                        t["id"].as_str().unwrap()
                    ),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
        }
    }
    let s = summary(&app).await;
    assert_eq!(s["health"], "no_live_token", "{s}");
    assert!(s["health_reason"]
        .as_str()
        .unwrap()
        .contains("No live token"));
}

#[tokio::test]
async fn entra_without_the_flag_is_healthy_with_a_notice_and_a_get_does_not_overwrite_the_dialect()
{
    let app = spawn_app().await;
    let s = as_idp(
        &app,
        ENTRA_UA,
        &app.token,
        Method::POST,
        "/Users",
        Some(json!({"schemas": [USER_URN], "userName": "e@acme.test", "active": true})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let id = app.get_json("/Users").await["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let s = as_idp(
        &app,
        ENTRA_UA,
        &app.token,
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(json!({"schemas": [PATCH_URN], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let s = summary(&app).await;
    assert_eq!(s["dialect"], "entra");
    assert_eq!(s["health"], "healthy", "{s}");
    assert!(
        s["health_notices"].to_string().contains("aadOptscim062020"),
        "{s}"
    );
    // A GET from another client reveals nothing about the dialect and changes nothing.
    let st = as_idp(&app, OKTA_UA, &app.token, Method::GET, "/Users", None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(summary(&app).await["dialect"], "entra");
}

#[tokio::test]
async fn a_readiness_run_leaves_the_target_as_it_was() {
    let app = spawn_app().await;
    okta_sync(&app, 3).await;
    let uid = app.get_json("/Users").await["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let s = as_idp(
        &app,
        OKTA_UA,
        &app.token,
        Method::PATCH,
        &format!("/Users/{uid}"),
        Some(json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "value": {"active": true}}]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let users_before = app.get_json("/Users?count=1000").await;
    let before = summary(&app).await;
    let report =
        idp::check::run_checks(&app.base, &app.token, idp::check::CheckOptions::default()).await;
    assert!(report.checks.len() > 30, "the run ran");
    assert!(report.leftovers.is_empty(), "{:?}", report.leftovers);
    let after = summary(&app).await;
    for k in [
        "health",
        "health_reason",
        "dialect",
        "requests_24h",
        "failures_24h",
        "user_count",
        "group_count",
        "deleted_user_count",
        "last_request_at",
        "last_sync_at",
    ] {
        assert_eq!(after[k], before[k], "{k} moved: {after}");
    }
    assert_eq!(after["health_notices"], json!([]));
    let users_after = app.get_json("/Users?count=1000").await;
    assert_eq!(users_after, users_before);
}
