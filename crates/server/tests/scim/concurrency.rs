//! Concurrency: the same create raced 20 times yields one 201 and nineteen 409s; 50
//! concurrent membership PATCHes to one group lose no member; ten PATCHes with one If-Match
//! have one winner; a deactivation revokes sessions on every instance. On PostgreSQL each race
//! runs through two instances (`add_peer`).

use crate::helpers::*;
use futures::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn racing_creates_yield_one_201_and_the_rest_409() {
    let mut app = spawn_app().await;
    // On PostgreSQL the race runs through two instances.
    app.add_peer().await;
    let body = json!({"schemas": [USER_URN], "userName": "race@example.com"});
    let results = join_all((0..20).map(|i| {
        let app = &app;
        // Different spellings of the same name: uniqueness is case-insensitive.
        let mut b = body.clone();
        if i % 2 == 1 {
            b["userName"] = json!("RACE@example.com");
        }
        async move {
            let r = app.post("/Users", &b).await;
            let status = r.status().as_u16();
            let v: serde_json::Value = r.json().await.unwrap();
            (status, v)
        }
    }))
    .await;
    let created = results.iter().filter(|(s, _)| *s == 201).count();
    let conflicts: Vec<_> = results.iter().filter(|(s, _)| *s == 409).collect();
    assert_eq!(created, 1, "{results:?}");
    assert_eq!(conflicts.len(), 19, "{results:?}");
    for (_, v) in conflicts {
        assert_eq!(v["scimType"], "uniqueness");
        assert_eq!(v["status"], "409");
    }
    let list = app
        .get_json(&format!(
            "/Users?filter={}",
            enc("userName eq \"race@example.com\"")
        ))
        .await;
    assert_eq!(list["totalResults"], 1);
    assert_eq!(app.log_len().await, 20 + 1);
    app.shutdown().await;
}

#[tokio::test]
async fn concurrent_member_adds_lose_nothing() {
    let mut app = spawn_app().await;
    // On PostgreSQL the PATCHes go through two instances.
    app.add_peer().await;
    let mut users = vec![];
    for i in 0..50 {
        users.push(app.user(&format!("member{i}")).await);
    }
    let g = app.create_group("crowd", &[]).await;
    let gid = g["id"].as_str().unwrap().to_string();
    let statuses = join_all(users.iter().enumerate().map(|(i, uid)| {
        let (app, gid) = (&app, &gid);
        // Both dialects: Okta's add and Entra's Title-Case "Add".
        let op = if i % 2 == 0 { "add" } else { "Add" };
        async move {
            app.patch(
                &format!("/Groups/{gid}"),
                &patch_op(json!([{"op": op, "path": "members", "value": [{"value": uid}]}])),
            )
            .await
            .status()
            .as_u16()
        }
    }))
    .await;
    assert!(statuses.iter().all(|s| *s == 204), "{statuses:?}");
    let mut want = users.clone();
    want.sort();
    assert_eq!(app.member_ids(&gid).await, want);
    // Each user sees the group; the stored member count agrees.
    let u = app.get_json(&format!("/Users/{}", users[17])).await;
    assert_eq!(u["groups"][0]["value"], json!(gid));
    let list = app
        .get_json(&format!(
            "/Groups?filter={}",
            enc(&format!("members[value eq \"{}\"]", users[42]))
        ))
        .await;
    assert_eq!(list["totalResults"], 1);
    app.shutdown().await;
}

#[tokio::test]
async fn racing_patches_with_one_if_match_have_exactly_one_winner() {
    let mut app = spawn_app().await;
    // On PostgreSQL the PATCHes go through two instances.
    app.add_peer().await;
    let uid = app.user("ifmatch").await;
    for round in 0..3 {
        let etag = app.get(&format!("/Users/{uid}")).await.headers()["etag"]
            .to_str()
            .unwrap()
            .to_string();
        let statuses = join_all((0..10).map(|i| {
            let (app, uid, etag) = (&app, &uid, &etag);
            async move {
                let body = patch_op(json!([
                    {"op": "replace", "path": "title", "value": format!("r{round}-{i}")}
                ]));
                app.req(Method::PATCH, &format!("/Users/{uid}"))
                    .header("content-type", SCIM_JSON)
                    .header("if-match", etag)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        }))
        .await;
        let won = statuses.iter().filter(|s| **s == 200 || **s == 204).count();
        let refused = statuses.iter().filter(|s| **s == 412).count();
        assert_eq!((won, refused), (1, 9), "round {round}: {statuses:?}");
    }
    app.shutdown().await;
}

/// Deprovisioning revokes the user's sessions in the same transaction, whichever instance
/// takes it: a session opened on one instance is refused on both the moment the other
/// instance has answered the deactivating PATCH.
#[tokio::test]
async fn a_deactivation_through_one_instance_revokes_sessions_checked_on_the_other() {
    let mut app = spawn_app().await;
    app.add_peer().await;
    let key = app.app_key("app").await;
    let id = app.user("leaver@acme.example").await;
    let (other_origin, other_base) = app.other_instance();
    let app_api = |origin: &str, path: &str, body: Value| {
        app.client
            .post(format!("{origin}/app/v1{path}"))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    let conn = app.connection_id.clone();
    let r = app_api(
        &app.origin(),
        &format!("/connections/{conn}/users/{id}/sessions"),
        json!({}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let token = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .client
        .patch(format!("{other_base}/Users/{id}"))
        .bearer_auth(&app.token)
        .header("content-type", SCIM_JSON)
        .body(patch_op(json!([{"op": "replace", "path": "active", "value": false}])).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for origin in [app.origin(), other_origin] {
        let check = app_api(&origin, "/sessions/check", json!({"token": token}))
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        assert_eq!(check["valid"], json!(false), "{origin}: {check}");
        assert_eq!(check["reason"], json!("revoked"), "{origin}: {check}");
    }
    app.shutdown().await;
}
