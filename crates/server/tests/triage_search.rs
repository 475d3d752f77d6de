//! Triage by fragments and the global search, black-box against a real server: a userName
//! prefix and an externalId fragment find the one user; several matches come back as
//! candidates across connections; a refused sign-in of someone never provisioned is the
//! finding; groups are named. `/api/search` finds a user in another connection with its
//! connection's name, is bounded per kind, and answers bad input with 400 and words.

#[allow(dead_code)]
#[path = "scim/helpers.rs"]
mod helpers;

use helpers::{spawn_app, TestApp, USER_URN};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn admin(app: &TestApp, path: &str) -> (StatusCode, Value) {
    let r = app.admin_req(Method::GET, path).send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn user(app: &TestApp, name: &str, ext: &str) -> String {
    let u = app
        .create_user(
            json!({"schemas": [USER_URN], "userName": name, "externalId": ext,
                            "emails": [{"value": name, "primary": true}]}),
        )
        .await;
    u["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn triage_finds_fragments_lists_candidates_shows_refused_sign_ins_and_group_names() {
    let app = spawn_app().await;
    let jane = user(&app, "jane.doe@acme.test", "00uJANE7781").await;
    user(&app, "janet.smith@acme.test", "00uJANET").await;
    app.create_group("Engineering", &[jane.as_str()]).await;

    for q in ["jane.do", "JANE7781"] {
        let (s, t) = admin(&app, &format!("/triage?q={q}")).await;
        assert_eq!(s, StatusCode::OK, "{t}");
        assert_eq!(t["partial"], json!(true), "{q}: {t}");
        assert_eq!(t["findings"][0]["user_id"], json!(jane), "{q}: {t}");
        assert_eq!(
            t["findings"][0]["groups"][0]["display_name"],
            json!("Engineering"),
            "{t}"
        );
    }
    let (_, t) = admin(&app, "/triage?q=jane").await;
    assert_eq!(t["findings"], json!([]), "no guess: {t}");
    let picks: Vec<&str> = t["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["user_name"].as_str().unwrap())
        .collect();
    assert_eq!(picks, ["jane.doe@acme.test", "janet.smith@acme.test"]);
    assert_eq!(t["candidates"][0]["connection_name"], json!("test"));

    // Someone no IdP sent tries to sign in: refused (SCIM is authoritative by default), and
    // triage says so.
    let app_key = app.app_key("test app").await;
    let origin = app.admin.trim_end_matches("/api").to_string();
    let r = app
        .client
        .post(format!(
            "{origin}/app/v1/connections/{}/signin",
            app.connection_id
        ))
        .bearer_auth(&app_key)
        .json(&json!({"subject": "00uNEWHIRE", "email": "new.hire@acme.test"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "refused: {}", r.status());
    let (_, t) = admin(&app, "/triage?q=new.hire%40acme.test").await;
    assert_eq!(
        t["findings"][0]["diagnosis"]["verdict"],
        json!("sign_in_refused"),
        "{t}"
    );
    assert!(
        t["findings"][0]["timeline"][0]["what"]
            .as_str()
            .unwrap()
            .starts_with("JIT sign-in refused"),
        "{t}"
    );

    // An empty query is still a clear 400.
    let (s, t) = admin(&app, "/triage?q=%20").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        t["message"]
            .as_str()
            .unwrap_or_default()
            .contains("type an email"),
        "{t}"
    );
}

#[tokio::test]
async fn one_search_across_connections_bounded_with_clear_400s() {
    let app = spawn_app().await;
    user(&app, "jane.doe@acme.test", "00uJANE").await;
    let (globex, token) = app.new_connection("Globex").await;
    let r = app
        .client
        .post(format!("{}/{globex}/Users", app.scim_base))
        .bearer_auth(&token)
        .header("content-type", "application/scim+json")
        .body(json!({"schemas": [USER_URN], "userName": "ada.lovelace@globex.test", "externalId": "g-ADA"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let ada: Value = r.json().await.unwrap();
    for i in 0..8 {
        user(&app, &format!("bulk{i}@acme.test"), &format!("b{i}")).await;
    }
    app.create_group("Lovelace Fans", &[]).await;
    app.barrier().await;

    let (s, r) = admin(&app, "/search?q=lovelace").await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["users"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(r["users"][0]["id"], ada["id"]);
    assert_eq!(r["users"][0]["connection_id"], json!(globex));
    assert_eq!(r["users"][0]["connection_name"], json!("Globex"));
    assert_eq!(r["groups"][0]["display_name"], json!("Lovelace Fans"));
    assert_eq!(r["groups"][0]["connection_name"], json!("test"));
    // The log, as the log view searches it: the POST that created Ada, by her userName's start.
    let (_, r) = admin(&app, "/search?q=ada.lovel").await;
    assert!(
        r["log"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["user_name"] == json!("ada.lovelace@globex.test")
                && l["connection_name"] == json!("Globex")),
        "{r}"
    );

    // Bounded per kind: 8 bulk users, 3 asked.
    let (_, r) = admin(&app, "/search?q=bulk&limit=3").await;
    assert_eq!(r["users"].as_array().unwrap().len(), 3);
    assert_eq!(r["users_more"], json!(true));
    let (_, r) = admin(&app, "/search?q=bulk").await;
    assert_eq!(r["users"].as_array().unwrap().len(), 5, "default 5");

    for (path, says) in [
        ("/search", "at least 2 characters"),
        ("/search?q=", "at least 2 characters"),
        ("/search?q=%20a%20", "at least 2 characters"),
        (
            "/search?q=ok&limit=0",
            "limit must be a whole number from 1 to 20",
        ),
        (
            "/search?q=ok&limit=500",
            "limit must be a whole number from 1 to 20",
        ),
        (
            "/search?q=ok&limit=abc",
            "limit must be a whole number from 1 to 20",
        ),
    ] {
        let (s, body) = admin(&app, path).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert!(
            body["message"].as_str().unwrap_or_default().contains(says),
            "{path}: {body}"
        );
    }
    let long = "x".repeat(300);
    let (s, body) = admin(&app, &format!("/search?q={long}")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("at most 256"),
        "{body}"
    );
}

/// A query string the admin API cannot read is answered like every other bad request: a JSON
/// 400 `bad_request` saying what is wrong (axum's own rejection is plain text).
#[tokio::test]
async fn an_unreadable_query_string_is_a_json_bad_request() {
    let app = spawn_app().await;
    let conn = app.connection_id.clone();
    for path in [
        "/triage".to_string(),
        "/search".to_string(),
        format!("/connections/{conn}/users?limit=abc"),
        format!("/connections/{conn}/log?before_id=yesterday"),
    ] {
        let (s, v) = admin(&app, &path).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path}: {v}");
        assert_eq!(v["code"], json!("bad_request"), "{path}: {v}");
        assert!(
            v["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{path}: {v}"
        );
    }
    app.shutdown().await;
}
