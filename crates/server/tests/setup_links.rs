//! Setup links, black-box against a real server: the SaaS team creates one, the customer's IT
//! admin opens the setup page's API with it (no admin secret), reveals the SCIM token once,
//! the IdP's first requests and users show up, and the console sees the link's status move
//! sent → opened → configured → first sync. Expired, revoked, unknown and foreign links, and
//! the admin API's guards, refuse with the right status and change nothing.

#[allow(dead_code)]
#[path = "scim/helpers.rs"]
mod helpers;

use chrono::Utc;
use directory::{audit, ManualClock};
use helpers::{spawn_app, spawn_app_on_clock, TestApp, USER_URN};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

async fn admin(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    app.admin_json(method, path, body).await
}

/// Creates a link on the app's connection: (link id, secret).
async fn create_link(app: &TestApp, connection: &str, hours: Option<i64>) -> (String, String) {
    let body = hours.map_or(json!({}), |h| json!({"expires_in_hours": h}));
    let (s, v) = admin(
        app,
        Method::POST,
        &format!("/connections/{connection}/setup-links"),
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let url = v["url"].as_str().unwrap();
    let (page, secret) = url
        .split_once('#')
        .expect("the secret rides in the fragment");
    assert!(page.ends_with("/setup"), "{url}");
    assert!(secret.starts_with("msl_"), "{url}");
    assert_eq!(v["link"]["status"], "sent");
    (
        v["link"]["id"].as_str().unwrap().to_string(),
        secret.to_string(),
    )
}

/// A call of the setup page's API with a link secret (or none).
async fn setup_call(
    app: &TestApp,
    method: Method,
    path: &str,
    secret: Option<&str>,
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let origin = app.admin.trim_end_matches("/api");
    let mut r = app
        .client
        .request(method, format!("{origin}/setup/v1{path}"));
    if let Some(s) = secret {
        r = r.bearer_auth(s);
    }
    let r = r.send().await.unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    (status, r.json().await.unwrap_or(Value::Null), headers)
}

async fn link_status(app: &TestApp, connection: &str, link: &str) -> Value {
    app.barrier().await;
    let (s, v) = admin(
        app,
        Method::GET,
        &format!("/connections/{connection}/setup-links"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v.as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == link)
        .cloned()
        .expect("the link is listed")
}

async fn audit_actions(app: &TestApp, connection: &str) -> Vec<(String, String)> {
    let c = connection.to_string();
    app.db()
        .read(move |db| audit::list(db, &c, 100))
        .await
        .unwrap()
        .into_iter()
        .rev()
        .map(|a| (a.action, a.actor))
        .collect()
}

#[tokio::test]
async fn a_link_walks_from_sent_to_first_sync_and_shows_the_credential_once() {
    let app = spawn_app().await;
    let id = app.connection_id.clone();
    let (link, secret) = create_link(&app, &id, None).await;

    let (s, page, headers) = setup_call(&app, Method::GET, "/link", Some(&secret)).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(page["connection_name"], "test");
    assert_eq!(page["idp"], "okta");
    assert_eq!(page["scim_url"], json!(app.base));
    assert_eq!(page["status"], "opened", "the first view opens the link");
    assert_eq!(page["configured_at"], Value::Null);
    assert_eq!(page["progress"]["users"], 0);
    assert_eq!(link_status(&app, &id, &link).await["status"], "opened");

    let (s, cred, _) = setup_call(&app, Method::POST, "/link/reveal", Some(&secret)).await;
    assert_eq!(s, StatusCode::CREATED, "{cred}");
    assert_eq!(cred["scim_url"], json!(app.base));
    let token = cred["token"].as_str().unwrap().to_string();
    assert_eq!(cred["kind"], "bearer");
    assert!(token.starts_with(cred["prefix"].as_str().unwrap()));
    assert_eq!(cred["client_secret"], Value::Null);
    let (s, again, _) = setup_call(&app, Method::POST, "/link/reveal", Some(&secret)).await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "a second reveal shows nothing: {again}"
    );
    assert!(again.get("token").is_none());
    assert!(again["message"]
        .as_str()
        .unwrap()
        .contains("cannot be shown again"));
    assert_eq!(link_status(&app, &id, &link).await["status"], "configured");

    // The IdP's test call with a wrong token, then its first user with the revealed one.
    let r = app
        .client
        .get(format!(
            "{}/Users?filter=userName%20eq%20%22probe%22",
            app.base
        ))
        .bearer_auth("mst_not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app
        .client
        .post(format!("{}/Users", app.base))
        .bearer_auth(&token)
        .header("content-type", "application/scim+json")
        .body(json!({"schemas": [USER_URN], "userName": "ada@example.com"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "the revealed token provisions"
    );
    app.barrier().await;

    let (s, page, _) = setup_call(&app, Method::GET, "/link", Some(&secret)).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let p = &page["progress"];
    assert_eq!(p["requests"], 2, "{p}");
    assert_eq!(p["refused"], 1, "{p}");
    assert_eq!(p["users"], 1, "{p}");
    assert_eq!(p["recent"][0]["method"], "POST");
    assert_eq!(p["recent"][0]["path"], "/Users", "relative to the SCIM URL");
    assert_eq!(p["recent"][0]["status"], 201);
    assert_eq!(p["recent"][1]["status"], 401);
    assert!(p["last_received_at"].is_string(), "{p}");
    assert_eq!(page["status"], "first_sync");
    assert!(page["configured_at"].is_string());
    let listed = link_status(&app, &id, &link).await;
    assert_eq!(listed["status"], "first_sync");
    assert!(listed["first_sync_at"].is_string(), "{listed}");
    assert!(listed.get("secret").is_none() && listed.get("url").is_none());

    // The token the page revealed is on the token list, labelled, and every step is audited.
    let (_, tokens) = admin(
        &app,
        Method::GET,
        &format!("/connections/{id}/tokens"),
        None,
    )
    .await;
    assert!(tokens.as_array().unwrap().iter().any(|t| t["label"] == "setup link"
        && token.starts_with(t["prefix"].as_str().unwrap())), "{tokens}");
    let actions = audit_actions(&app, &id).await;
    for expected in [
        ("setup_link_created", "admin"),
        ("setup_link_opened", "setup_link"),
        ("setup_link_revealed", "setup_link"),
    ] {
        assert!(
            actions.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{expected:?} in {actions:?}"
        );
    }
    assert_eq!(
        actions
            .iter()
            .filter(|a| a.0 == "setup_link_opened")
            .count(),
        1,
        "opening twice is recorded once: {actions:?}"
    );
}

#[tokio::test]
async fn expired_revoked_unknown_and_missing_links_are_refused_and_change_nothing() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let app = spawn_app_on_clock(clock.clone(), |_| {}).await;
    let id = app.connection_id.clone();

    let (s, v, _) = setup_call(&app, Method::GET, "/link", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    let (s, v, _) = setup_call(
        &app,
        Method::GET,
        "/link",
        Some(&format!("msl_{}", "0".repeat(64))),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["message"], "this setup link is not valid");
    // Neither the admin secret nor a SCIM token opens the setup API.
    let (s, _, _) = setup_call(&app, Method::GET, "/link", Some(&app.admin_secret)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = setup_call(&app, Method::POST, "/link/reveal", Some(&app.token)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (_, short) = create_link(&app, &id, Some(1)).await;
    clock.advance(chrono::Duration::minutes(59));
    let (s, _, _) = setup_call(&app, Method::GET, "/link", Some(&short)).await;
    assert_eq!(s, StatusCode::OK, "an hour's link works for 59 minutes");
    clock.advance(chrono::Duration::minutes(1));
    let (s, v, _) = setup_call(&app, Method::GET, "/link", Some(&short)).await;
    assert_eq!(s, StatusCode::GONE, "{v}");
    assert!(v["message"].as_str().unwrap().contains("expired"), "{v}");
    let (s, _, _) = setup_call(&app, Method::POST, "/link/reveal", Some(&short)).await;
    assert_eq!(s, StatusCode::GONE, "an expired link reveals nothing");

    let (link, revoked) = create_link(&app, &id, None).await;
    let (s, v) = admin(
        &app,
        Method::POST,
        &format!("/connections/{id}/setup-links/{link}/revoke"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "revoked");
    let (s, v, _) = setup_call(&app, Method::POST, "/link/reveal", Some(&revoked)).await;
    assert_eq!(s, StatusCode::GONE, "{v}");
    assert!(v["message"].as_str().unwrap().contains("revoked"), "{v}");

    // Nothing was issued by any refused call: the connection still has only its first token.
    let (_, tokens) = admin(
        &app,
        Method::GET,
        &format!("/connections/{id}/tokens"),
        None,
    )
    .await;
    assert_eq!(tokens.as_array().unwrap().len(), 1, "{tokens}");
    let actions = audit_actions(&app, &id).await;
    assert!(
        !actions.iter().any(|a| a.0 == "setup_link_revealed"),
        "{actions:?}"
    );
    assert!(actions.contains(&("setup_link_revoked".to_string(), "admin".to_string())));
}

#[tokio::test]
async fn a_link_opens_only_its_own_connection_and_the_admin_api_guards_its_routes() {
    let app = spawn_app().await;
    let (other, _) = app.new_connection("other customer").await;
    let (_, secret) = create_link(&app, &other, None).await;
    let (s, page, _) = setup_call(&app, Method::GET, "/link", Some(&secret)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(page["connection_name"], "other customer");
    assert!(page["scim_url"].as_str().unwrap().ends_with(&other));
    let (s, cred, _) = setup_call(&app, Method::POST, "/link/reveal", Some(&secret)).await;
    assert_eq!(s, StatusCode::CREATED);
    // The revealed token is the other connection's: refused on this one.
    let r = app
        .client
        .get(format!("{}/Users", app.base))
        .bearer_auth(cred["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // A link id of one connection is not found under another.
    let (link, _) = create_link(&app, &other, None).await;
    let (s, _) = admin(
        &app,
        Method::POST,
        &format!(
            "/connections/{}/setup-links/{link}/revoke",
            app.connection_id
        ),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Lifetimes outside 1 hour to 30 days, and unknown connections, are refused.
    for hours in [0, 721, -5] {
        let (s, v) = admin(
            &app,
            Method::POST,
            &format!("/connections/{other}/setup-links"),
            Some(json!({"expires_in_hours": hours})),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{hours}: {v}");
    }
    let (s, _) = admin(
        &app,
        Method::POST,
        "/connections/nope/setup-links",
        Some(json!({})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Without the admin secret, no link is created or listed.
    let r = app
        .client
        .post(format!("{}/connections/{other}/setup-links", app.admin))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app
        .client
        .get(format!("{}/connections/{other}/setup-links", app.admin))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "a link secret is not an admin secret"
    );
}

/// Entra's recommended mode: the setup page reveals OAuth client credentials instead of a
/// bearer token; a client-credentials grant with them gets an access token SCIM accepts.
#[tokio::test]
async fn a_link_can_reveal_oauth_client_credentials_that_grant_scim_access() {
    let app = spawn_app().await;
    let id = app.connection_id.clone();
    let (link, secret) = create_link(&app, &id, None).await;
    let origin = app.admin.trim_end_matches("/api").to_string();

    // A body that is not a reveal request is refused, and reveals nothing.
    let r = app
        .client
        .post(format!("{origin}/setup/v1/link/reveal"))
        .bearer_auth(&secret)
        .header("content-type", "application/json")
        .body(r#"{"kind": "saml"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        link_status(&app, &id, &link).await["configured_at"],
        Value::Null
    );

    let r = app
        .client
        .post(format!("{origin}/setup/v1/link/reveal"))
        .bearer_auth(&secret)
        .json(&json!({"kind": "oauth"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let cred: Value = r.json().await.unwrap();
    assert_eq!(cred["kind"], "oauth");
    assert_eq!(cred["token"], Value::Null, "no bearer token in OAuth mode");
    assert_eq!(
        cred["token_endpoint"],
        json!(format!("{origin}/oauth/token"))
    );
    let client_id = cred["client_id"].as_str().unwrap();
    let client_secret = cred["client_secret"].as_str().unwrap();
    assert!(client_secret.starts_with(cred["prefix"].as_str().unwrap()));
    assert!(cred["client_secret_expires_at"].is_string());

    let r = app
        .client
        .post(cred["token_endpoint"].as_str().unwrap())
        .basic_auth(client_id, Some(client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let grant: Value = r.json().await.unwrap();
    let access = grant["access_token"].as_str().unwrap();
    let r = app
        .client
        .get(format!("{}/Users", app.base))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the granted token reads SCIM");

    let (s, page, _) = setup_call(&app, Method::GET, "/link", Some(&secret)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(page["credential_kind"], "oauth");
    let (s, _, _) = setup_call(&app, Method::POST, "/link/reveal", Some(&secret)).await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "one reveal per link, of either kind"
    );
    let (_, tokens) = admin(
        &app,
        Method::GET,
        &format!("/connections/{id}/tokens"),
        None,
    )
    .await;
    assert_eq!(
        tokens.as_array().unwrap().len(),
        1,
        "no bearer token was issued: {tokens}"
    );
}
