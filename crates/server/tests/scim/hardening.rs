//! Abuse and back-pressure: an error answer never takes effect later, limits refuse with a
//! SCIM 400 and store nothing, secrets never reach the database or the admin API in any
//! request shape, refusals leave keep-alive connections usable, and every rejection —
//! including those before routing — speaks SCIM.

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::time::Duration;

/// Occupies the writer for `hold` (SQLite's writer thread; on PostgreSQL, the app
/// connection's write lock); resolves once the writer has taken the job.
async fn block_writer(app: &TestApp, hold: Duration) -> tokio::task::JoinHandle<()> {
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let tenant = app.connection_id.clone();
    let db = app.db().clone();
    let task = tokio::spawn(async move {
        let write = db.write(move |_| {
            let _ = started_tx.send(());
            std::thread::sleep(hold);
            Ok(())
        });
        directory::db::with_tenant(&tenant, write)
            .await
            .expect("blocking job runs");
    });
    started_rx.await.expect("the writer took the blocking job");
    task
}

async fn users_named(app: &TestApp, name: &str) -> u64 {
    let v = app
        .get_json(&format!(
            "/Users?filter={}",
            enc(&format!("userName eq \"{name}\""))
        ))
        .await;
    v["totalResults"].as_u64().unwrap()
}

#[tokio::test]
async fn an_abandoned_write_never_takes_effect_and_its_retry_succeeds() {
    let app = spawn_app_with(|c| c.request_deadline = Duration::from_millis(300)).await;
    let blocker = block_writer(&app, Duration::from_millis(1500)).await;
    let body = json!({"schemas": [USER_URN], "userName": "late@acme.test"});
    let r = app.post("/Users", &body).await;
    assert!(
        r.headers().get("retry-after").is_some(),
        "503 without Retry-After"
    );
    let v = assert_scim_error(r, 503, None).await;
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("nothing was changed"),
        "{v}"
    );
    blocker.await.unwrap();
    app.barrier().await;
    assert_eq!(
        users_named(&app, "late@acme.test").await,
        0,
        "the abandoned create committed"
    );
    let retry = app.post("/Users", &body).await;
    assert_eq!(
        retry.status(),
        StatusCode::CREATED,
        "the retry is a create, not a 409"
    );
    assert_eq!(users_named(&app, "late@acme.test").await, 1);
}

#[tokio::test]
async fn a_write_the_writer_took_before_the_deadline_is_answered_with_its_outcome() {
    if sqlite_only("the group commit that takes a write and commits it after the deadline") {
        return;
    }
    let app = spawn_app_with(|c| c.request_deadline = Duration::from_millis(400)).await;
    // The writer is busy; the create queues behind; then a slow job queues behind the
    // create, so both run in the next group: the create is taken at ~200 ms, and its group
    // commits at ~1,400 ms, well after the deadline.
    let first = block_writer(&app, Duration::from_millis(200)).await;
    let body = json!({"schemas": [USER_URN], "userName": "taken@acme.test"});
    let create = {
        let req = app
            .req(Method::POST, "/Users")
            .header("content-type", SCIM_JSON)
            .json(&body);
        tokio::spawn(async move { req.send().await.unwrap() })
    };
    // Wait until the create is queued behind the blocker (its log row is written later).
    for _ in 0..200 {
        if app.db().pending() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        app.db().pending() >= 2,
        "the create never reached the writer's queue"
    );
    // The request queues its token's last-use note and then its write, microseconds apart.
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Queued as the same connection's, so the writer takes it after the create (its
    // round-robin would otherwise give another tenant's command its turn first).
    let (db, tenant) = (app.db().clone(), app.connection_id.clone());
    let slow = tokio::spawn(async move {
        directory::db::with_tenant(
            &tenant,
            db.write(|_| {
                std::thread::sleep(Duration::from_millis(1200));
                Ok(())
            }),
        )
        .await
    });
    let r = create.await.unwrap();
    first.await.unwrap();
    slow.await.unwrap().unwrap();
    // Either answer is truthful only if it matches what is stored.
    let status = r.status();
    let stored = users_named(&app, "taken@acme.test").await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "a taken write is answered with its outcome"
    );
    assert_eq!(stored, 1);
}

#[tokio::test]
async fn retry_after_reflects_the_writers_backlog() {
    if sqlite_only("the writer's queue, whose backlog Retry-After estimates") {
        return;
    }
    let app = spawn_app_with(|c| c.request_deadline = Duration::from_millis(300)).await;
    let blocker = block_writer(&app, Duration::from_millis(3000)).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let r = app
        .post(
            "/Users",
            &json!({"schemas": [USER_URN], "userName": "ra@acme.test"}),
        )
        .await;
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_scim_error(r, 503, None).await;
    assert!(
        wait >= 2,
        "Retry-After {wait}: the writer has been busy for 1.5 s already"
    );
    blocker.await.unwrap();
}

#[tokio::test]
async fn limits_refuse_with_a_scim_400_and_store_nothing() {
    let app = spawn_app().await;
    let long = "x".repeat(1025);
    let emails = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| json!({"value": format!("u{i}@acme.test")}))
            .collect()
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "userName",
            json!({"schemas": [USER_URN], "userName": long}),
            "invalidValue",
        ),
        (
            "displayName",
            json!({"schemas": [USER_URN], "userName": "a@acme.test", "displayName": long}),
            "invalidValue",
        ),
        (
            "name.givenName",
            json!({"schemas": [USER_URN], "userName": "b@acme.test", "name": {"givenName": long}}),
            "invalidValue",
        ),
        (
            "20,000 emails",
            json!({"schemas": [USER_URN], "userName": "c@acme.test", "emails": emails(20_000)}),
            "tooMany",
        ),
        (
            "a 300 KB resource",
            json!({"schemas": [USER_URN], "userName": "d@acme.test",
                   "addresses": (0..300).map(|i| json!({"formatted": format!("{i}{}", "y".repeat(1000))})).collect::<Vec<_>>()}),
            "invalidValue",
        ),
    ];
    for (what, body, scim_type) in &cases {
        let r = app.post("/Users", body).await;
        let v = assert_scim_error(r, 400, Some(scim_type)).await;
        assert!(
            v["detail"].as_str().unwrap().contains("at most"),
            "{what}: {v}"
        );
    }
    assert_eq!(app.get_json("/Users").await["totalResults"], 0);

    // At the limit: accepted, every value kept, duplicates folded.
    let mut at_limit = emails(999);
    at_limit.push(json!({"value": "u0@acme.test"}));
    let u = app
        .create_user(json!({"schemas": [USER_URN], "userName": "e@acme.test", "emails": at_limit}))
        .await;
    assert_eq!(u["emails"].as_array().unwrap().len(), 999);

    // PATCH past the limit: refused, the stored user unchanged.
    let id = u["id"].as_str().unwrap();
    let before = app.get_json(&format!("/Users/{id}")).await;
    let r = app
        .patch(
            &format!("/Users/{id}"),
            &patch_op(json!([{"op": "add", "path": "emails", "value": [{"value": "one-more@acme.test"}, {"value": "two-more@acme.test"}]}])),
        )
        .await;
    assert_scim_error(r, 400, Some("tooMany")).await;
    let r = app
        .patch(
            &format!("/Users/{id}"),
            &patch_op(json!([{"op": "replace", "path": "displayName", "value": long}])),
        )
        .await;
    assert_scim_error(r, 400, Some("invalidValue")).await;
    assert_eq!(app.get_json(&format!("/Users/{id}")).await, before);

    // Members per request.
    let many: Vec<Value> = (0..10_001)
        .map(|i| json!({"value": format!("m{i}")}))
        .collect();
    let r = app
        .post(
            "/Groups",
            &json!({"schemas": [GROUP_URN], "displayName": "big", "members": many}),
        )
        .await;
    assert_scim_error(r, 400, Some("tooMany")).await;
    let g = app.create_group("small", &[]).await;
    let many: Vec<Value> = (0..1001)
        .map(|i| json!({"value": format!("m{i}")}))
        .collect();
    let r = app
        .patch(
            &format!("/Groups/{}", g["id"].as_str().unwrap()),
            &patch_op(json!([{"op": "add", "path": "members", "value": many}])),
        )
        .await;
    assert_scim_error(r, 400, Some("tooMany")).await;
    assert_eq!(app.get_json("/Groups").await["totalResults"], 1);
}

/// Every shape a password can arrive in, per request; none may reach the database files or
/// the admin API.
#[tokio::test]
async fn no_password_shape_reaches_the_database_or_the_admin_api() {
    let app = spawn_app().await;
    let uid = app.user("shape@acme.test").await;
    let core = USER_URN;
    let secret = |i: usize| format!("Pw-{i}-S3cret");
    let mut requests: Vec<(Method, String, Value)> = vec![];
    let patch_shapes = |i: usize| -> Vec<Value> {
        let s = secret(i);
        vec![
            json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "password", "value": s}]}),
            json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "PassWord", "value": s}]}),
            json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": " password ", "value": s}]}),
            json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": format!("{core}:password"), "value": s}]}),
            json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": format!("{core}:Password"), "value": s}]}),
            json!({"schemas": [PATCH_URN], "Operations": [{"Op": "Replace", "Path": "password", "Value": s}]}),
            json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "value": {"password": s}}]}),
            json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "value": {format!("{core}:password"): s}}]}),
            json!({"schemas": [PATCH_URN], "Operations": [{"op": "add", "value": {"displayName": "x", " Password": s}}]}),
            json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "password[", "value": s}]}),
        ]
    };
    let mut i = 0;
    for body in patch_shapes(0) {
        i += 1;
        let mut b = body.clone();
        let text = b.to_string().replace(&secret(0), &secret(i));
        b = serde_json::from_str(&text).unwrap();
        requests.push((Method::PATCH, format!("/Users/{uid}"), b));
    }
    for body in [
        json!({"schemas": [USER_URN], "userName": "p1@acme.test", "password": "X"}),
        json!({"schemas": [USER_URN], "userName": "p2@acme.test", "PASSWORD": "X"}),
        json!({"schemas": [USER_URN], "userName": "p3@acme.test", format!("{core}:password"): "X"}),
    ] {
        i += 1;
        let text = body
            .to_string()
            .replace("\"X\"", &format!("\"{}\"", secret(i)));
        requests.push((
            Method::POST,
            "/Users".into(),
            serde_json::from_str(&text).unwrap(),
        ));
    }
    i += 1;
    requests.push((
        Method::PUT,
        format!("/Users/{uid}"),
        json!({"schemas": [USER_URN], "userName": "shape@acme.test", "password": secret(i)}),
    ));
    for (m, path, body) in &requests {
        let r = app.send(m.clone(), path, Some(body)).await;
        assert!(
            r.status().as_u16() < 500,
            "{m} {path} {body}: {}",
            r.status()
        );
    }
    let log = app.log().await;
    assert!(log.len() >= requests.len());
    // The admin API's view of every row, detail included.
    let mut api_text = String::new();
    for row in &log {
        let id = row["id"].as_i64().unwrap();
        let r = app
            .admin_req(Method::GET, &format!("/log/{id}"))
            .send()
            .await
            .unwrap();
        api_text.push_str(&r.text().await.unwrap());
    }
    api_text.push_str(&serde_json::to_string(&log).unwrap());
    assert!(api_text.contains("[redacted]"));
    let mut files = Vec::new();
    for entry in std::fs::read_dir(app.dir.path()).unwrap() {
        files.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let files = String::from_utf8_lossy(&files);
    for n in 1..=i {
        let s = secret(n);
        assert!(!api_text.contains(&s), "{s} reached the admin API");
        assert!(!files.contains(&s), "{s} reached the database files");
    }
}

#[tokio::test]
async fn a_credential_in_the_query_string_is_refused_and_not_kept() {
    let app = spawn_app().await;
    for query in [
        "access_token=QueryTok3n",
        "filter=userName%20pr&Access_Token=QueryTok3n",
        "api_key=QueryTok3n",
        "client_secret=QueryTok3n",
    ] {
        let r = app.get(&format!("/Users?{query}")).await;
        let v = assert_scim_error(r, 400, None).await;
        assert!(
            v["detail"]
                .as_str()
                .unwrap()
                .contains("Authorization header"),
            "{v}"
        );
    }
    app.barrier().await;
    let r = app
        .admin_req(Method::GET, "/log?limit=100")
        .send()
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    assert!(text.contains("[redacted]"), "{text}");
    assert!(!text.contains("QueryTok3n"), "{text}");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(app.dir.path()).unwrap() {
        files.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    assert!(!String::from_utf8_lossy(&files).contains("QueryTok3n"));
}

/// Sends raw HTTP/1.1 bytes on one socket and reads until `responses` full responses (with
/// Content-Length bodies) arrived or the peer closed; returns their status lines and bodies.
fn raw_exchange(addr: &str, bytes: &[u8], responses: usize) -> Vec<(u16, String)> {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(bytes).unwrap();
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        // Parse what we have.
        while let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            if buf.len() < end + 4 + len {
                break;
            }
            let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
            let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).to_string();
            out.push((status, body));
            buf.drain(..end + 4 + len);
        }
        if out.len() >= responses {
            return out;
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return out,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[tokio::test]
async fn a_refusal_before_the_body_is_read_leaves_the_connection_usable() {
    let app = spawn_app_with(|c| c.max_in_flight_per_connection = 1).await;
    let (other, other_token) = app.new_connection("other").await;
    let addr = app
        .scim_base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let big = format!(
        "{{\"schemas\":[\"{USER_URN}\"],\"userName\":\"x@acme.test\",\"displayName\":\"{}\"}}",
        "d".repeat(200)
    );
    let big = format!("{big}{}", " ".repeat(60_000));
    let path = |c: &str| format!("/scim/v2/{c}");
    let conn = app.connection_id.clone();
    // 401 (wrong token) before the body, then a good request on the same socket.
    let req = format!(
        "POST {}/Users HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer wrong\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\n\r\n{big}\
         GET {}/ServiceProviderConfig HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\r\n",
        path(&conn),
        big.len(),
        path(&other),
        other_token
    );
    let a = addr.clone();
    let got = tokio::task::spawn_blocking(move || raw_exchange(&a, req.as_bytes(), 2))
        .await
        .unwrap();
    assert_eq!(
        got.len(),
        2,
        "the second request on the connection got no answer: {got:?}"
    );
    assert_eq!(got[0].0, 401);
    assert_eq!(got[1].0, 200, "{}", got[1].1);

    // 429 (the connection's one place is taken by a request stuck behind the writer).
    let blocker = block_writer(&app, Duration::from_millis(1500)).await;
    let stuck = {
        let req = app
            .req(Method::POST, "/Users")
            .header("content-type", SCIM_JSON)
            .json(&json!({"schemas": [USER_URN], "userName": "stuck@acme.test"}));
        tokio::spawn(async move { req.send().await.unwrap().status() })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    let req = format!(
        "POST {}/Users HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\n\r\n{big}\
         GET {}/ServiceProviderConfig HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\r\n",
        path(&conn),
        app.token,
        big.len(),
        path(&other),
        other_token
    );
    let a = addr.clone();
    let got = tokio::task::spawn_blocking(move || raw_exchange(&a, req.as_bytes(), 2))
        .await
        .unwrap();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].0, 429, "{}", got[0].1);
    assert!(got[0].1.contains(ERROR_URN));
    assert_eq!(got[1].0, 200);
    blocker.await.unwrap();
    assert_eq!(stuck.await.unwrap(), StatusCode::CREATED);
}

#[tokio::test]
async fn rejections_before_the_handlers_speak_scim() {
    let app = spawn_app().await;
    // URI too long.
    let r = app
        .get(&format!("/Users?attributes={}", "a".repeat(20_000)))
        .await;
    assert_scim_error(r, 414, None).await;
    // Headers too large.
    let r = app
        .req(Method::GET, "/Users")
        .header("x-padding", "p".repeat(40_000))
        .send()
        .await
        .unwrap();
    assert_scim_error(r, 431, None).await;
    // Body too large.
    let r = app
        .req(Method::POST, "/Users")
        .header("content-type", SCIM_JSON)
        .body(vec![b' '; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_scim_error(r, 413, None).await;
    // Unsupported media type.
    let r = app
        .req(Method::POST, "/Users")
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_scim_error(r, 415, None).await;
    // A path that names no connection.
    let r = app
        .client
        .get(format!("{}/", app.scim_base))
        .send()
        .await
        .unwrap();
    assert_scim_error(r, 404, None).await;
}

#[tokio::test]
async fn unsupported_methods_get_405_with_allow() {
    let app = spawn_app().await;
    let uid = app.user("m@acme.test").await;
    for (m, path, allow) in [
        (Method::POST, "/ServiceProviderConfig".to_string(), "GET"),
        (Method::DELETE, "/Schemas".to_string(), "GET"),
        (Method::PUT, format!("/Schemas/{USER_URN}"), "GET"),
        (Method::PATCH, "/ResourceTypes".to_string(), "GET"),
        (Method::POST, "/ResourceTypes/User".to_string(), "GET"),
        (Method::PUT, "/Users".to_string(), "GET, POST"),
        (Method::DELETE, "/Groups".to_string(), "GET, POST"),
        (
            Method::POST,
            format!("/Users/{uid}"),
            "GET, PUT, PATCH, DELETE",
        ),
        (Method::GET, "/.search".to_string(), "POST"),
        (Method::GET, "/Users/.search".to_string(), "POST"),
    ] {
        let r = app.send(m.clone(), &path, None).await;
        assert_eq!(
            r.headers()
                .get("allow")
                .map(|v| v.to_str().unwrap().to_string()),
            Some(allow.to_string()),
            "{m} {path}"
        );
        assert_scim_error(r, 405, None).await;
    }
}

#[tokio::test]
async fn search_at_the_root_covers_users_and_groups() {
    let app = spawn_app().await;
    let a = app.user("root-a@acme.test").await;
    app.user("root-b@acme.test").await;
    app.create_group("Root Group", &[&a]).await;
    let app = &app;
    let search = |body: Value| async move {
        let r = app.post("/.search", &body).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<Value>().await.unwrap()
    };
    let urn = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
    let all = search(json!({"schemas": [urn]})).await;
    assert_eq!(all["totalResults"], 3, "{all}");
    let types: Vec<&str> = all["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["meta"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["User", "User", "Group"]);
    // Paging runs across the two types.
    let page = search(json!({"schemas": [urn], "startIndex": 2, "count": 2})).await;
    assert_eq!(page["totalResults"], 3);
    assert_eq!(page["itemsPerPage"], 2);
    assert_eq!(page["Resources"][1]["displayName"], "Root Group");
    // A filter on a User-only attribute finds users only; projection applies to both.
    let by_name = search(json!({"schemas": [urn], "filter": "userName eq \"root-b@acme.test\"", "attributes": ["userName"]})).await;
    assert_eq!(by_name["totalResults"], 1);
    assert_eq!(by_name["Resources"][0]["userName"], "root-b@acme.test");
    assert!(by_name["Resources"][0].get("emails").is_none());
    let groups_only = search(json!({"schemas": [urn], "filter": "displayName eq \"Root Group\"", "excludedAttributes": ["members"]})).await;
    assert_eq!(groups_only["totalResults"], 1, "{groups_only}");
    assert!(groups_only["Resources"][0].get("members").is_none());
}

#[tokio::test]
async fn strict_where_the_rfc_is_strict() {
    let app = spawn_app().await;
    let uid = app.user("strict@acme.test").await;
    let before = app.get_json(&format!("/Users/{uid}")).await;
    // A PATCH path that does not parse is invalidPath, and nothing changes.
    for path in ["$$$", "emails[", "name..givenName", "]"] {
        let r = app
            .patch(
                &format!("/Users/{uid}"),
                &patch_op(json!([{"op": "replace", "path": path, "value": "x"}])),
            )
            .await;
        assert_scim_error(r, 400, Some("invalidPath")).await;
    }
    assert_eq!(app.get_json(&format!("/Users/{uid}")).await, before);
    // active has a server default: removing it is refused, never a silent reactivation.
    let r = app
        .patch(
            &format!("/Users/{uid}"),
            &patch_op(json!([{"op": "replace", "path": "active", "value": false}])),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let inactive = app.get_json(&format!("/Users/{uid}")).await;
    let r = app
        .patch(
            &format!("/Users/{uid}"),
            &patch_op(json!([{"op": "remove", "path": "active"}])),
        )
        .await;
    assert_scim_error(r, 400, Some("mutability")).await;
    assert_eq!(app.get_json(&format!("/Users/{uid}")).await, inactive);
    let user_schema = app.get_json(&format!("/Schemas/{USER_URN}")).await;
    let active = user_schema["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "active")
        .unwrap();
    assert!(active["description"]
        .as_str()
        .unwrap()
        .contains("PATCH remove"));
    // A Group sent to /Users is refused; missing schemas is accepted (documented).
    let r = app
        .post(
            "/Users",
            &json!({"schemas": [GROUP_URN], "userName": "g@acme.test"}),
        )
        .await;
    assert_scim_error(r, 400, Some("invalidSyntax")).await;
    let r = app
        .post(
            "/Groups",
            &json!({"schemas": [USER_URN], "displayName": "u"}),
        )
        .await;
    assert_scim_error(r, 400, Some("invalidSyntax")).await;
    let r = app
        .post("/Users", &json!({"userName": "no-schemas@acme.test"}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(users_named(&app, "g@acme.test").await, 0);
    // /Schemas says the server derives members.$ref, display and type.
    let group = app.get_json(&format!("/Schemas/{GROUP_URN}")).await;
    let members = group["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "members")
        .unwrap();
    for sub in members["subAttributes"].as_array().unwrap() {
        let want = if sub["name"] == "value" {
            "immutable"
        } else {
            "readOnly"
        };
        assert_eq!(sub["mutability"], want, "members.{}", sub["name"]);
    }
}

#[tokio::test]
async fn the_admin_api_checks_host() {
    let app = spawn_app_with(|c| c.admin_hosts = vec!["muster.acme.test".into()]).await;
    let port = app
        .admin
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    for (host, ok) in [
        (format!("127.0.0.1:{port}"), true),
        (format!("localhost:{port}"), true),
        ("muster.acme.test".to_string(), true),
        ("MUSTER.acme.test:443".to_string(), true),
        (format!("attacker.example:{port}"), false),
        ("attacker.example".to_string(), false),
    ] {
        let r = app
            .admin_req(Method::GET, "/connections")
            .header("host", host.clone())
            .send()
            .await
            .unwrap();
        let want = if ok {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(r.status(), want, "Host: {host}");
    }
}

/// A pooled keep-alive client bursting far above the admission gate sees only answers
/// (201 or 429 with Retry-After), never a reset connection, and its pool keeps working.
/// Resets depend on timing; the deterministic proof that an early refusal keeps the
/// connection usable is the raw-socket test above.
#[tokio::test]
async fn a_burst_above_the_gate_gets_answers_not_resets() {
    let app = spawn_app_with(|c| c.max_in_flight_per_connection = 2).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(8)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let blocker = block_writer(&app, Duration::from_millis(800)).await;
    // Larger than what the HTTP layer would skip by itself after an early answer.
    let padding = " ".repeat(100_000);
    let mut tasks = Vec::new();
    for i in 0..120 {
        let body = format!(
            "{{\"schemas\":[\"{USER_URN}\"],\"userName\":\"burst{i}@acme.test\"}}{padding}"
        );
        let req = client
            .post(format!("{}/Users", app.base))
            .bearer_auth(&app.token)
            .header("content-type", SCIM_JSON)
            .body(body);
        tasks.push(tokio::spawn(async move {
            match req.send().await {
                Ok(r) => {
                    let retry = r.headers().get("retry-after").is_some();
                    Ok((r.status().as_u16(), retry))
                }
                Err(e) => Err(e.to_string()),
            }
        }));
    }
    let mut errors = Vec::new();
    let (mut created, mut refused) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok((201, _)) => created += 1,
            Ok((429, true)) => refused += 1,
            Ok(other) => errors.push(format!("unexpected {other:?}")),
            Err(e) => errors.push(e),
        }
    }
    blocker.await.unwrap();
    assert!(
        errors.is_empty(),
        "transport errors or odd answers: {errors:?}"
    );
    assert!(
        refused > 0,
        "the burst never exceeded the gate ({created} created)"
    );
    assert_eq!(created + refused, 120);
    // The pool's connections still carry requests.
    for _ in 0..10 {
        let r = client
            .get(format!("{}/Users?count=1", app.base))
            .bearer_auth(&app.token)
            .send()
            .await
            .expect("pooled connection usable after the burst");
        assert_eq!(r.status(), StatusCode::OK);
    }
}
