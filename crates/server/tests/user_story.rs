//! A user's whole story and a big group's members, black-box against a real server: the
//! timeline lists, newest first, a SCIM update with old → new, a membership added and removed
//! by the group's name, the role changes with the mapping that granted them, a sign-in allowed
//! and one refused with its reason, and the sessions revoked by a deactivation; rows caused by
//! a SCIM request name its log row; pages are disjoint; another connection's user is 404. A
//! group of 2,500 members pages by cursor (disjoint, complete, in userName order) and its
//! search returns only the members that match.

#[allow(dead_code)]
#[path = "scim/helpers.rs"]
mod helpers;

use helpers::{patch_op, spawn_app, TestApp, GROUP_URN, USER_URN};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::HashSet;

async fn admin(app: &TestApp, path: &str) -> (StatusCode, Value) {
    let r = app.admin_req(Method::GET, path).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn admin_ok(app: &TestApp, path: &str) -> Value {
    let (s, v) = admin(app, path).await;
    assert_eq!(s, StatusCode::OK, "GET {path}: {v}");
    v
}

/// Signs `subject` in over the app API with a fresh application key: (status, answer).
async fn sign_in(app: &TestApp, key: &str, subject: &str) -> (StatusCode, Value) {
    let origin = app.admin.trim_end_matches("/api");
    let r = app
        .client
        .post(format!(
            "{origin}/app/v1/connections/{}/signin",
            app.connection_id
        ))
        .bearer_auth(key)
        .json(&json!({"subject": subject}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn scim_ok(r: reqwest::Response, what: &str) -> Value {
    let status = r.status();
    let text = r.text().await.unwrap();
    assert!(status.is_success(), "{what}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The whole story of `uid`, page by page (`limit` a page), checking that pages are disjoint
/// and each is newest first.
async fn whole_story(app: &TestApp, uid: &str, limit: u32) -> Vec<Value> {
    let mut all: Vec<Value> = vec![];
    let mut before: Option<i64> = None;
    let mut pages = 0;
    loop {
        let mut path = format!(
            "/connections/{}/users/{uid}/timeline?limit={limit}",
            app.connection_id
        );
        if let Some(b) = before {
            path.push_str(&format!("&before={b}"));
        }
        let page = admin_ok(app, &path).await;
        let items = page["items"].as_array().unwrap().clone();
        assert!(items.len() <= limit as usize);
        pages += 1;
        all.extend(items);
        match page["next_before"].as_i64() {
            Some(b) => before = Some(b),
            None => break,
        }
        assert!(pages < 100, "paging does not end");
    }
    let seqs: Vec<i64> = all.iter().map(|r| r["seq"].as_i64().unwrap()).collect();
    let mut sorted = seqs.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(seqs, sorted, "newest first, each event once across pages");
    all
}

#[tokio::test]
async fn the_timeline_tells_a_users_whole_story_newest_first() {
    let app = spawn_app().await;
    let c = app.connection_id.clone();
    let key = {
        let now = chrono::Utc::now();
        app.db()
            .write(move |db| directory::sessions::issue_app_key(db, "story test", now))
            .await
            .unwrap()
            .0
    };

    let jane = scim_ok(
        app.post(
            "/Users",
            &json!({"schemas": [USER_URN], "userName": "jane@acme.test", "externalId": "ext-jane",
                    "title": "Engineer", "active": true}),
        )
        .await,
        "create",
    )
    .await;
    let uid = jane["id"].as_str().unwrap().to_string();
    let admins = app.create_group("Admins", &[]).await;
    let gid = admins["id"].as_str().unwrap().to_string();
    let r = app
        .admin_req(Method::PUT, &format!("/connections/{c}/roles/mappings"))
        .json(&json!({"default_role": "member", "mappings": [{"group_id": gid, "role": "admin"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let (s, v) = sign_in(&app, &key, "ext-jane").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    scim_ok(
        app.patch(
            &format!("/Users/{uid}"),
            &patch_op(json!([{"op": "replace", "path": "title", "value": "Manager"}])),
        )
        .await,
        "title",
    )
    .await;
    let add = patch_op(json!([{"op": "add", "path": "members", "value": [{"value": uid}]}]));
    scim_ok(app.patch(&format!("/Groups/{gid}"), &add).await, "add").await;
    let remove =
        patch_op(json!([{"op": "remove", "path": format!("members[value eq \"{uid}\"]")}]));
    scim_ok(
        app.patch(&format!("/Groups/{gid}"), &remove).await,
        "remove",
    )
    .await;
    scim_ok(
        app.patch(
            &format!("/Users/{uid}"),
            &patch_op(json!([{"op": "replace", "path": "active", "value": false}])),
        )
        .await,
        "deactivate",
    )
    .await;
    let (s, v) = sign_in(&app, &key, "ext-jane").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");

    // Pages of 3: disjoint, newest first, and together the whole story.
    let story = whole_story(&app, &uid, 3).await;
    let kinds: Vec<&str> = story
        .iter()
        .map(|r| r["event"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec![
            "sign_in",
            "sessions_revoked",
            "account",
            "role_changed",
            "membership_removed",
            "role_changed",
            "membership_added",
            "account",
            "sign_in",
            "account",
        ],
        "{story:#?}"
    );
    let e = |i: usize| &story[i]["event"];

    // Refused sign-in, with its reason; sign-ins come from no SCIM request.
    assert_eq!(e(0)["decision"], "refused");
    assert_eq!(e(0)["reason"], "the account is deactivated");
    assert_eq!(story[0]["log_id"], Value::Null);
    // The deactivation revoked the session the first sign-in made.
    assert_eq!(e(1)["count"], 1);
    assert_eq!(e(1)["reason"], "user deactivated");
    assert_eq!(e(2)["change"], "deactivated");
    assert_eq!(
        e(2)["changes"],
        json!([{"path": "active", "old": true, "new": false}])
    );
    // Removed from Admins: back to the default role, by no mapping.
    assert_eq!(e(3)["old"], "admin");
    assert_eq!(e(3)["new"], "member");
    assert_eq!(e(3)["grant"], json!({"by": "default"}));
    assert_eq!(
        e(4)["group"],
        json!({"id": gid, "display_name": "Admins", "deleted": false})
    );
    // Added to Admins: admin, granted by the first mapping of the list (Admins → admin).
    assert_eq!(e(5)["old"], "member");
    assert_eq!(e(5)["new"], "admin");
    assert_eq!(e(5)["grant"]["by"], "group");
    assert_eq!(e(5)["grant"]["group"]["display_name"], "Admins");
    assert_eq!(e(5)["grant"]["position"], 1);
    assert_eq!(e(6)["group"]["display_name"], "Admins");
    assert_eq!(e(7)["change"], "updated");
    assert_eq!(
        e(7)["changes"],
        json!([{"path": "title", "old": "Engineer", "new": "Manager"}])
    );
    assert_eq!(e(8)["decision"], "allowed");
    assert_eq!(e(9)["change"], "created");

    // Each row a SCIM request caused names that request's log row: the user's own writes, and
    // the group PATCH for the membership and the role change it brought.
    app.barrier().await;
    for (i, method, resource) in [
        (2, "PATCH", uid.as_str()),
        (1, "PATCH", uid.as_str()),
        (3, "PATCH", gid.as_str()),
        (4, "PATCH", gid.as_str()),
        (5, "PATCH", gid.as_str()),
        (6, "PATCH", gid.as_str()),
        (7, "PATCH", uid.as_str()),
        (9, "POST", uid.as_str()),
    ] {
        let id = story[i]["log_id"]
            .as_i64()
            .unwrap_or_else(|| panic!("row {i} has no log row: {}", story[i]));
        let row = admin_ok(&app, &format!("/log/{id}")).await;
        assert_eq!(row["row"]["method"], method, "row {i}: {row}");
        assert_eq!(row["row"]["resource_id"], resource, "row {i}: {row}");
    }
    // The add and the role change it caused are one request; the remove is another.
    assert_eq!(story[5]["log_id"], story[6]["log_id"]);
    assert_eq!(story[3]["log_id"], story[4]["log_id"]);
    assert_ne!(story[4]["log_id"], story[6]["log_id"]);
    assert_eq!(story[6]["cause"], "SCIM PATCH");

    // One page: the newest `limit`, and a cursor to the rest.
    let first = admin_ok(
        &app,
        &format!("/connections/{c}/users/{uid}/timeline?limit=4"),
    )
    .await;
    assert_eq!(first["items"].as_array().unwrap().len(), 4);
    assert_eq!(first["next_before"], story[3]["seq"]);
    assert_eq!(first["pruned_before"], false);

    // Scoped to the connection: another connection's user, or a made-up one, is 404.
    let (other, other_token) = app.new_connection("other").await;
    let r = app
        .client
        .post(format!("{}/{other}/Users", app.scim_base))
        .bearer_auth(&other_token)
        .header("content-type", "application/scim+json")
        .body(json!({"schemas": [USER_URN], "userName": "bob@other.test"}).to_string())
        .send()
        .await
        .unwrap();
    let bob = scim_ok(r, "other user").await;
    let bob = bob["id"].as_str().unwrap();
    let (s, _) = admin(&app, &format!("/connections/{c}/users/{bob}/timeline")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = admin(&app, &format!("/connections/{other}/users/{bob}/timeline")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["items"][0]["event"]["change"], "created");
    let (s, _) = admin(&app, &format!("/connections/{other}/users/{uid}/timeline")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = admin(&app, &format!("/connections/{c}/users/nobody/timeline")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = admin(&app, &format!("/connections/{other}/groups/{gid}/members")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_group_of_2500_members_pages_and_searches_its_members() {
    let app = spawn_app().await;
    let c = app.connection_id.clone();
    // The users straight into the store (one write), the memberships over SCIM in batches.
    let ids: Vec<String> = {
        let c = c.clone();
        let now = chrono::Utc::now();
        app.db()
            .write(move |db| {
                let mut ids = vec![];
                for i in 0..2501 {
                    let body = json!({"schemas": [USER_URN], "userName": format!("member-{i:04}@acme.test"),
                                      "displayName": format!("Member {i:04}"), "active": i % 7 != 0});
                    ids.push(directory::lifecycle::create_user(db, &c, &scim::schema::UserResource::parse(&body).unwrap(), "test", now)?.id);
                }
                Ok(ids)
            })
            .await
            .unwrap()
    };
    // The last user is not a member.
    let (members, outsider) = ids.split_at(2500);
    let g = scim_ok(
        app.post(
            "/Groups",
            &json!({"schemas": [GROUP_URN], "displayName": "Everyone"}),
        )
        .await,
        "group",
    )
    .await;
    let gid = g["id"].as_str().unwrap().to_string();
    for batch in members.chunks(250) {
        let value: Vec<Value> = batch.iter().map(|id| json!({"value": id})).collect();
        let r = app
            .patch(
                &format!("/Groups/{gid}"),
                &patch_op(json!([{"op": "add", "path": "members", "value": value}])),
            )
            .await;
        scim_ok(r, "add batch").await;
    }

    // Pages of 400: disjoint, complete, in userName order.
    let mut seen: Vec<String> = vec![];
    let mut names: Vec<String> = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/connections/{c}/groups/{gid}/members?limit=400");
        if let Some(cur) = &cursor {
            path.push_str(&format!("&cursor={cur}"));
        }
        let page = admin_ok(&app, &path).await;
        assert_eq!(page["total"], 2500);
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 400);
        for m in items {
            seen.push(m["id"].as_str().unwrap().to_string());
            names.push(m["name"].as_str().unwrap().to_string());
            assert_eq!(m["kind"], "User");
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 2500, "every member once");
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 2500, "pages are disjoint");
    let expected: HashSet<&String> = members.iter().collect();
    assert_eq!(unique, expected, "exactly the members");
    assert!(!unique.contains(&outsider[0]));
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert_eq!(names[0], "member-0000@acme.test");

    // The first page carries display names and the active flag.
    let first = admin_ok(
        &app,
        &format!("/connections/{c}/groups/{gid}/members?limit=2"),
    )
    .await;
    assert_eq!(first["items"][0]["display_name"], "Member 0000");
    assert_eq!(first["items"][0]["active"], false);
    assert_eq!(first["items"][1]["active"], true);

    // A search returns exactly the members that match, any case, and pages them too.
    let page = admin_ok(
        &app,
        &format!("/connections/{c}/groups/{gid}/members?q=MEMBER-01&limit=60"),
    )
    .await;
    assert_eq!(page["total"], 100);
    let mut found: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect();
    let next = page["next_cursor"].as_str().unwrap();
    let rest = admin_ok(
        &app,
        &format!("/connections/{c}/groups/{gid}/members?q=MEMBER-01&limit=60&cursor={next}"),
    )
    .await;
    assert_eq!(rest["next_cursor"], Value::Null);
    found.extend(
        rest["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap().to_string()),
    );
    let want: Vec<String> = (100..200)
        .map(|i| format!("member-{i:04}@acme.test"))
        .collect();
    assert_eq!(found, want);
    // By display name; the non-member never matches.
    let page = admin_ok(
        &app,
        &format!("/connections/{c}/groups/{gid}/members?q=member%202500"),
    )
    .await;
    assert_eq!(page["total"], 0);
    assert_eq!(page["items"], json!([]));
    let page = admin_ok(
        &app,
        &format!("/connections/{c}/groups/{gid}/members?q=member%20249"),
    )
    .await;
    assert_eq!(page["total"], 10);

    // A cursor this server never gave is a 400, not a guess.
    let (s, v) = admin(
        &app,
        &format!("/connections/{c}/groups/{gid}/members?cursor=not-a-cursor"),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
}
