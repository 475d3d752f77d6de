//! Bearer-token auth scoped to one connection: missing, malformed, unknown and another
//! connection's token all get 401 SCIM errors, and nothing of the other connection leaks
//! or changes.

use crate::helpers::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn missing_malformed_and_unknown_tokens_are_401() {
    let app = spawn_app().await;
    let uid = app.user("secret.person").await;
    let before = app.dump().await;
    let url = format!("{}/Users", app.base);
    let headers: Vec<Option<String>> = vec![
        None,
        Some(String::new()),
        Some("Bearer".into()),
        Some("Bearer ".into()),
        Some(format!("Basic {}", app.token)),
        Some(format!("Bearer{}", app.token)),
        Some(format!("Bearer {}x", app.token)),
        Some("Bearer mst_notARealTokenAtAll".into()),
        Some(format!("Bearer {}", "a".repeat(600))),
    ];
    for h in headers {
        for (method, path, body) in [
            (Method::GET, url.clone(), None),
            (Method::GET, format!("{url}/{uid}"), None),
            (
                Method::POST,
                url.clone(),
                Some(json!({"schemas": [USER_URN], "userName": "intruder"})),
            ),
            (Method::DELETE, format!("{url}/{uid}"), None),
        ] {
            let mut r = app.client.request(method.clone(), &path);
            if let Some(h) = &h {
                r = r.header("authorization", h);
            }
            if let Some(b) = &body {
                r = r.header("content-type", SCIM_JSON).json(b);
            }
            let r = r.send().await.unwrap();
            assert!(r.headers().contains_key("www-authenticate"));
            let body = assert_scim_error(r, 401, None).await;
            assert!(
                !body.to_string().contains("secret.person"),
                "{h:?} {method} leaked data"
            );
        }
    }
    assert_eq!(app.dump().await, before);
    app.shutdown().await;
}

/// Every user of a connection, read with that connection's token.
async fn list(app: &TestApp, base: &str, token: &str) -> serde_json::Value {
    let r = app
        .client
        .get(format!("{base}/Users?count=1000"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn a_token_authenticates_only_its_own_connection() {
    let app = spawn_app().await;
    let a_user = app.user("alice.of.a").await;
    let (b_id, b_token) = app.new_connection("other").await;
    let b_base = format!("{}/{}", app.scim_base, b_id);
    let b = |m: Method, p: &str| {
        app.client
            .request(m, format!("{b_base}{p}"))
            .bearer_auth(&b_token)
    };
    let r = b(Method::POST, "/Users")
        .header("content-type", SCIM_JSON)
        .json(&json!({"schemas": [USER_URN], "userName": "bob.of.b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let b_user = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b_before = list(&app, &b_base, &b_token).await;
    let a_before = app.dump().await;

    // A's token on B's URLs: 401, B unchanged and unseen.
    let tries = [
        (Method::GET, format!("{b_base}/Users"), None),
        (Method::GET, format!("{b_base}/Users/{b_user}"), None),
        (Method::DELETE, format!("{b_base}/Users/{b_user}"), None),
        (
            Method::PATCH,
            format!("{b_base}/Users/{b_user}"),
            Some(patch_op(
                json!([{"op": "replace", "path": "active", "value": false}]),
            )),
        ),
        (
            Method::POST,
            format!("{b_base}/Users"),
            Some(json!({"schemas": [USER_URN], "userName": "planted"})),
        ),
    ];
    for (m, url, body) in tries {
        let mut r = app.client.request(m.clone(), &url).bearer_auth(&app.token);
        if let Some(b) = &body {
            r = r.header("content-type", SCIM_JSON).json(b);
        }
        let r = r.send().await.unwrap();
        let err = assert_scim_error(r, 401, None).await;
        assert!(!err.to_string().contains("bob.of.b"));
    }
    // B's token on A's URLs: 401 as well; and A's ids do not resolve through B.
    let r = app
        .client
        .get(format!("{}/Users/{a_user}", app.base))
        .bearer_auth(&b_token)
        .send()
        .await
        .unwrap();
    assert_scim_error(r, 401, None).await;
    let r = b(Method::GET, &format!("/Users/{a_user}"))
        .send()
        .await
        .unwrap();
    assert_scim_error(r, 404, None).await;
    let found = b(
        Method::GET,
        &format!("/Users?filter={}", enc("userName eq \"alice.of.a\"")),
    )
    .send()
    .await
    .unwrap()
    .json::<serde_json::Value>()
    .await
    .unwrap();
    assert_eq!(found["totalResults"], 0);
    // B cannot put A's user into its group.
    let r = b(Method::POST, "/Groups")
        .header("content-type", SCIM_JSON)
        .json(&json!({"schemas": [GROUP_URN], "displayName": "g", "members": [{"value": a_user}]}))
        .send()
        .await
        .unwrap();
    assert_scim_error(r, 400, Some("invalidValue")).await;

    assert_eq!(list(&app, &b_base, &b_token).await, b_before);
    assert_eq!(app.dump().await, a_before);
    // The refused attempts are in B's log as auth failures, not in A's as successes.
    let b_log = app.log_of(&b_id).await;
    assert_eq!(b_log.iter().filter(|r| r["status"] == 401).count(), 5);
    app.shutdown().await;
}
