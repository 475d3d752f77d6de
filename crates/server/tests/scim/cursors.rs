//! Cursor pagination (RFC 9865): pages followed by `nextCursor`, stable under writes between
//! pages, and the cursor errors.

use crate::helpers::*;
use directory::ManualClock;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::Arc;

/// Creates `n` users named `{prefix}{i}`, one after another (so creation order is `i`'s);
/// returns their ids.
async fn users(app: &TestApp, prefix: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        ids.push(app.user(&format!("{prefix}{i:04}")).await);
    }
    ids
}

/// A 200 list response, checked for RFC 9865's shape: no startIndex, itemsPerPage the page.
async fn page(app: &TestApp, path: &str) -> Value {
    let v = app.get_json(path).await;
    assert!(
        v.get("startIndex").is_none(),
        "cursor pages carry no startIndex: {v}"
    );
    assert_eq!(
        v["itemsPerPage"].as_u64().unwrap() as usize,
        v["Resources"].as_array().unwrap().len()
    );
    v
}

fn next(v: &Value) -> Option<String> {
    v.get("nextCursor").map(|c| c.as_str().unwrap().to_string())
}

#[tokio::test]
async fn paging_250_users_by_100_returns_each_once() {
    let app = spawn_app().await;
    let made = users(&app, "p", 250).await;

    let mut seen = Vec::new();
    let mut v = page(&app, "/Users?cursor&count=100").await;
    assert!(
        v.get("previousCursor").is_none(),
        "no previousCursor on the first page"
    );
    let mut pages = 1;
    loop {
        assert_eq!(v["totalResults"], 250);
        seen.extend(ids(&v));
        let Some(c) = next(&v) else { break };
        // RFC 9865 §2: cursor values use unreserved characters only, so they go in a URL as is.
        assert!(c
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "-._~".contains(ch)));
        v = page(&app, &format!("/Users?cursor={c}&count=100")).await;
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, made, "each user once, in creation order");

    // The same over POST /Users/.search, with `cursor` and `count` in the body (RFC 9865 §3).
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = app
            .post(
                "/Users/.search",
                &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                        "cursor": cursor, "count": 100, "attributes": ["userName"]}),
            )
            .await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert!(v.get("startIndex").is_none());
        seen.extend(ids(&v));
        match next(&v) {
            Some(c) => cursor = c,
            None => break,
        }
    }
    assert_eq!(seen, made);

    // Index pagination is unchanged, and the default when no pagination parameter is sent.
    let v = app.get_json("/Users?startIndex=101&count=100").await;
    assert_eq!(v["startIndex"], 101);
    assert!(v.get("nextCursor").is_none());
    assert_eq!(ids(&v), made[100..200].to_vec());
    let v = app.get_json("/Users").await;
    assert_eq!(v["startIndex"], 1);
    assert!(v.get("nextCursor").is_none());
}

#[tokio::test]
async fn writes_between_pages_skip_or_repeat_nothing_that_existed_throughout() {
    let app = spawn_app().await;
    let made = users(&app, "w", 120).await;
    let filter = enc("userName sw \"w\"");

    let mut seen: Vec<String> = Vec::new();
    let mut deleted: HashSet<String> = HashSet::new();
    let mut v = page(&app, &format!("/Users?filter={filter}&cursor=&count=25")).await;
    let mut round = 0;
    loop {
        seen.extend(ids(&v));
        let Some(c) = next(&v) else { break };
        // Between pages: delete one user already served and one not yet served, and insert
        // users (which index pagination would shift the remaining pages by).
        let served = seen.last().unwrap().clone();
        assert_eq!(app.delete(&format!("/Users/{served}")).await.status(), 204);
        deleted.insert(served);
        if let Some(ahead) = made
            .iter()
            .rev()
            .find(|id| !seen.contains(*id) && !deleted.contains(*id))
        {
            assert_eq!(app.delete(&format!("/Users/{ahead}")).await.status(), 204);
            deleted.insert(ahead.clone());
        }
        users(&app, &format!("w-new{round}-"), 3).await;
        round += 1;
        v = page(&app, &format!("/Users?filter={filter}&cursor={c}&count=25")).await;
    }
    assert!(round >= 4, "several pages: {round}");
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no resource repeated");
    for id in made.iter().filter(|id| !deleted.contains(*id)) {
        assert!(seen.contains(id), "{id} existed throughout and was skipped");
    }
    // Served in creation order, so a user created during the walk comes after every
    // original user the walk served after it.
    let pos: Vec<usize> = made
        .iter()
        .filter_map(|id| seen.iter().position(|s| s == id))
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "creation order");
}

#[tokio::test]
async fn groups_and_the_root_search_page_by_cursor() {
    let app = spawn_app().await;
    let made_users = users(&app, "r", 7).await;
    let mut made_groups = Vec::new();
    for i in 0..5 {
        let g = app.create_group(&format!("g{i}"), &[]).await;
        made_groups.push(g["id"].as_str().unwrap().to_string());
    }

    let mut seen = Vec::new();
    let mut v = page(&app, "/Groups?cursor=&count=2").await;
    loop {
        assert_eq!(v["totalResults"], 5);
        seen.extend(ids(&v));
        let Some(c) = next(&v) else { break };
        v = page(&app, &format!("/Groups?cursor={c}&count=2")).await;
    }
    assert_eq!(seen, made_groups);

    // POST /.search at the root: users then groups, across the boundary between them.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = app
            .post("/.search", &json!({"cursor": cursor, "count": 3}))
            .await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["totalResults"], 12);
        assert!(v.get("startIndex").is_none());
        seen.extend(ids(&v));
        match next(&v) {
            Some(c) => cursor = c,
            None => break,
        }
    }
    let want: Vec<String> = made_users.iter().chain(&made_groups).cloned().collect();
    assert_eq!(seen, want);
}

#[tokio::test]
async fn a_bad_forged_or_foreign_cursor_is_invalid_cursor() {
    let app = spawn_app().await;
    users(&app, "b", 3).await;
    let first = page(&app, "/Users?cursor&count=1").await;
    let c = next(&first).unwrap();

    for bad in [
        "nonsense",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "%2F%2F",
    ] {
        let r = app.get(&format!("/Users?cursor={bad}&count=1")).await;
        assert_scim_error(r, 400, Some("invalidCursor")).await;
    }
    // Tampered: one character of a real cursor changed.
    for at in [0, c.len() / 2, c.len() - 1] {
        let mut t: Vec<char> = c.chars().collect();
        t[at] = if t[at] == 'A' { 'B' } else { 'A' };
        let t: String = t.into_iter().collect();
        let r = app.get(&format!("/Users?cursor={t}&count=1")).await;
        assert_scim_error(r, 400, Some("invalidCursor")).await;
    }
    // A Users cursor on /Groups, or with another filter, is not a cursor of that query.
    let r = app.get(&format!("/Groups?cursor={c}")).await;
    assert_scim_error(r, 400, Some("invalidCursor")).await;
    let r = app
        .get(&format!(
            "/Users?cursor={c}&filter={}",
            enc("userName sw \"b\"")
        ))
        .await;
    assert_scim_error(r, 400, Some("invalidCursor")).await;
    // POST /.search with a forged cursor in the body.
    let r = app
        .post("/Users/.search", &json!({"cursor": "forged", "count": 1}))
        .await;
    assert_scim_error(r, 400, Some("invalidCursor")).await;

    // Another connection's cursor, presented with that connection's own token.
    let (other, token) = app.new_connection("other").await;
    let r = app
        .client
        .request(
            Method::GET,
            format!("{}/{other}/Users?cursor={c}&count=1", app.scim_base),
        )
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_scim_error(r, 400, Some("invalidCursor")).await;

    // startIndex and cursor together ask for two pagination methods.
    let r = app.get("/Users?cursor=&startIndex=1").await;
    assert_scim_error(r, 400, Some("invalidValue")).await;
    // The real cursor still works after all that.
    let v = page(&app, &format!("/Users?cursor={c}&count=1")).await;
    assert_eq!(v["Resources"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_cursor_older_than_cursor_timeout_is_expired_cursor() {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let app = spawn_app_on_clock(clock.clone(), |_| {}).await;
    users(&app, "e", 3).await;
    let spc = app.get_json("/ServiceProviderConfig").await;
    let timeout = spc["pagination"]["cursorTimeout"].as_i64().unwrap();

    let c = next(&page(&app, "/Users?cursor&count=1").await).unwrap();
    clock.advance(chrono::Duration::seconds(timeout));
    // Still good at exactly cursorTimeout ("the minimum number of seconds that a cursor is
    // valid"), and the page it answers issues a fresh cursor.
    let v = page(&app, &format!("/Users?cursor={c}&count=1")).await;
    let fresh = next(&v).unwrap();
    clock.advance(chrono::Duration::seconds(1));
    let r = app.get(&format!("/Users?cursor={c}&count=1")).await;
    assert_scim_error(r, 400, Some("expiredCursor")).await;
    let v = page(&app, &format!("/Users?cursor={fresh}&count=1")).await;
    assert_eq!(v["Resources"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn service_provider_config_advertises_both_pagination_methods() {
    let app = spawn_app().await;
    let spc = app.get_json("/ServiceProviderConfig").await;
    assert_eq!(
        spc["pagination"],
        json!({
            "cursor": true,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": 100,
            "maxPageSize": spc["filter"]["maxResults"],
            "cursorTimeout": 3600
        })
    );
    // count 0 with a cursor: totals only, and a cursor to go on with (RFC 9865 §2).
    users(&app, "z", 2).await;
    let v = page(&app, "/Users?cursor&count=0").await;
    assert_eq!(
        (v["totalResults"].as_u64(), v["itemsPerPage"].as_u64()),
        (Some(2), Some(0))
    );
    assert!(next(&v).is_some());
    // sortBy cannot be combined with a cursor; said, not ignored.
    let r = app.get("/Users?cursor&sortBy=userName").await;
    assert_scim_error(r, 400, Some("invalidValue")).await;
}
