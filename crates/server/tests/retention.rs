//! Retention, black-box against a real server on a clock the test moves
//! (docs/retention.md): the background pass prunes the provisioning log and the change feed
//! by the admin's retention; a consumer's unread events stay up to the hard maximum; an
//! application reading from a pruned cursor gets 410 with where to resync from; the days a
//! deleted user or group is kept are set from the admin API and the CLI, audited, and bad
//! values refused.

#[allow(dead_code)]
#[path = "scim/helpers.rs"]
mod helpers;

use chrono::{DateTime, Duration, TimeZone, Utc};
use directory::{audit, sessions, ManualClock};
use helpers::{spawn_app_on_clock, TestApp, USER_URN};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap()
}

/// A server whose retention pass runs every 50 ms, on a clock at start().
async fn spawn() -> (TestApp, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(start()));
    let app = spawn_app_on_clock(clock.clone(), |c| {
        c.prune_every = std::time::Duration::from_millis(50)
    })
    .await;
    (app, clock)
}

/// An application key for /app/v1, issued through the server's own store.
async fn app_key(app: &TestApp) -> String {
    app.db()
        .write(|c| Ok(sessions::issue_app_key(c, "feed consumer", start())?.0))
        .await
        .unwrap()
}

/// GET /app/v1/feed?{query}: status and body.
async fn feed(app: &TestApp, key: &str, query: &str) -> (StatusCode, Value) {
    let origin = app.admin.trim_end_matches("/api");
    let r = app
        .client
        .get(format!("{origin}/app/v1/feed?{query}"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn seqs(body: &Value) -> Vec<i64> {
    body["events"]
        .as_array()
        .unwrap_or_else(|| panic!("no events in {body}"))
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect()
}

/// Polls `check` every 50 ms until it holds; fails after 15 s with `what`.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..300 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

async fn admin(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    app.admin_json(method, path, body).await
}

/// Creates a user on a connection with its token; returns the SCIM id.
async fn create_user(app: &TestApp, connection: &str, token: &str, name: &str) -> String {
    let r = app
        .client
        .post(format!("{}/{connection}/Users", app.scim_base))
        .bearer_auth(token)
        .header("content-type", helpers::SCIM_JSON)
        .body(json!({"schemas": [USER_URN], "userName": name}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_background_pass_prunes_the_log_and_the_feed_and_old_cursors_get_410() {
    let (app, clock) = spawn().await;
    let key = app_key(&app).await;
    let conn = app.connection_id.clone();
    app.user("old.one@acme.test").await;
    app.get("/Users?count=5").await;
    let old_rows = app.log().await;
    assert_eq!(old_rows.len(), 2, "{old_rows:#?}");
    // Reading registers this key as a consumer of the connection, with the event unread.
    let first = feed(&app, &key, &format!("after=0&connection={conn}&limit=10")).await;
    assert_eq!(first.0, StatusCode::OK);
    let [old_event] = seqs(&first.1)[..] else {
        panic!("{}", first.1)
    };
    // Reading after it acknowledges it, so past the retention (the default 30 days) it goes.
    let first_next = first.1["next"].as_i64().unwrap();
    assert_eq!(first_next, old_event);
    feed(&app, &key, &format!("after={first_next}&connection={conn}")).await;
    clock.advance(Duration::days(31));
    app.user("new.one@acme.test").await;

    // The pass runs by itself: the rows written 31 days ago go, the new one stays.
    eventually("the old log rows are pruned", || async {
        app.log().await.len() == 1
    })
    .await;
    let left = app.log().await;
    assert_eq!(left[0]["method"], "POST");
    assert_eq!(left[0]["status"], 201);
    assert_eq!(
        left[0]["at"].as_str().unwrap(),
        directory::clock::fmt_time(start() + Duration::days(31))
    );

    // A cursor below the pruned event is refused, with where to resync from.
    eventually("the old feed event is pruned", || async {
        feed(&app, &key, &format!("after=0&connection={conn}"))
            .await
            .0
            == StatusCode::GONE
    })
    .await;
    let (status, gone) = feed(&app, &key, &format!("after=0&connection={conn}")).await;
    assert_eq!(status, StatusCode::GONE, "{gone}");
    assert_eq!(gone["code"], "cursor_expired");
    assert!(
        gone["message"].as_str().unwrap().contains("Resync"),
        "{gone}"
    );
    assert_eq!(gone["pruned_through"], json!(old_event));
    let head = gone["resync_after"].as_i64().unwrap();
    // The whole feed too (no connection filter).
    assert_eq!(feed(&app, &key, "after=0").await.0, StatusCode::GONE);
    // From the pruned event on, nothing was skipped: the new user's event follows.
    let (status, rest) = feed(&app, &key, &format!("after={old_event}&connection={conn}")).await;
    assert_eq!(status, StatusCode::OK, "{rest}");
    assert_eq!(seqs(&rest), vec![head]);
    assert_eq!(rest["events"][0]["kind"], "user.created");
    let (status, caught_up) = feed(&app, &key, &format!("after={head}")).await;
    assert_eq!((status, seqs(&caught_up)), (StatusCode::OK, vec![]));
    app.shutdown().await;
}

#[tokio::test]
async fn a_consumers_unread_events_are_kept_until_the_hard_maximum() {
    let (app, clock) = spawn().await;
    let key = app_key(&app).await;
    let a = app.connection_id.clone();
    let (b, b_token) = app.new_connection("Other tenant").await;
    // A consumer of connection A registers by reading it (after=0: it has nothing yet).
    assert_eq!(
        feed(&app, &key, &format!("after=0&connection={a}")).await.0,
        StatusCode::OK
    );
    // B's event comes first in the feed; nobody reads B.
    create_user(&app, &b, &b_token, "b.one@acme.test").await;
    app.user("a.one@acme.test").await;
    app.user("a.two@acme.test").await;
    let (_, all) = feed(&app, &key, &format!("after=0&connection={a}")).await;
    let [e1, e2] = seqs(&all)[..] else {
        panic!("{all}")
    };

    // 31 days on: past the log retention. B's event goes (no consumer reads it; the test
    // watches the store, as reading B's feed would register a consumer of B); A's two stay,
    // unread by A's consumer (its cursor is still 0).
    clock.advance(Duration::days(31));
    eventually("B's event is pruned", || async {
        let b = b.clone();
        app.db()
            .read(move |c| directory::feed::pruned_through(c, Some(&b)))
            .await
            .unwrap()
            > 0
    })
    .await;
    assert_eq!(
        feed(&app, &key, &format!("after=0&connection={b}")).await.0,
        StatusCode::GONE
    );
    let (status, kept) = feed(&app, &key, &format!("after=0&connection={a}")).await;
    assert_eq!(status, StatusCode::OK, "{kept}");
    assert_eq!(seqs(&kept), vec![e1, e2]);

    // Reading after e1 acknowledges e1: it is pruned, e2 (unread) stays.
    let (_, rest) = feed(&app, &key, &format!("after={e1}&connection={a}")).await;
    assert_eq!(seqs(&rest), vec![e2]);
    eventually("the acknowledged event is pruned", || async {
        feed(&app, &key, &format!("after=0&connection={a}")).await.0 == StatusCode::GONE
    })
    .await;
    let (status, rest) = feed(&app, &key, &format!("after={e1}&connection={a}")).await;
    assert_eq!((status, seqs(&rest)), (StatusCode::OK, vec![e2]));

    // Past 90 days an unread event goes too, and the consumer is told to resync.
    clock.advance(Duration::days(60));
    eventually("the unread event is pruned at the hard maximum", || async {
        feed(&app, &key, &format!("after={e1}&connection={a}"))
            .await
            .0
            == StatusCode::GONE
    })
    .await;
    app.shutdown().await;
}

#[tokio::test]
async fn user_and_group_retention_is_set_from_the_admin_api_audited_and_checked() {
    let (app, clock) = spawn().await;
    let conn = app.connection_id.clone();
    let path = format!("/connections/{conn}/retention");
    let (status, v) = admin(&app, Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v, json!({"days": 30, "min_days": 1, "max_days": 90}));

    let (status, v) = admin(&app, Method::PUT, &path, Some(json!({"days": 45}))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["days"], 45);
    let (_, detail) = admin(&app, Method::GET, &format!("/connections/{conn}"), None).await;
    assert_eq!(detail["connection"]["retention_days"], 45);

    // Refused with 400 and a reason; nothing changes.
    for bad in [
        json!({"days": 0}),
        json!({"days": -7}),
        json!({"days": 91}),
        json!({"days": 3651}),
        json!({"days": 1.5}),
        json!({"days": "30"}),
        json!({"days": null}),
        json!({}),
        json!([45]),
    ] {
        let (status, v) = admin(&app, Method::PUT, &path, Some(bad.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} -> {v}");
        assert_eq!(v["code"], "bad_request", "{bad} -> {v}");
        assert!(
            v["message"].as_str().unwrap().contains("from 1 to 90"),
            "{bad} -> {v}"
        );
    }
    let (status, v) = admin(
        &app,
        Method::PUT,
        "/connections/00000000-0000-4000-8000-000000000000/retention",
        Some(json!({"days": 10})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    let (_, v) = admin(&app, Method::GET, &path, None).await;
    assert_eq!(v["days"], 45);

    // One audit row, for the change that was made.
    let (_, trail) = admin(
        &app,
        Method::GET,
        &format!("/connections/{conn}/audit"),
        None,
    )
    .await;
    let rows: Vec<&Value> = trail
        .as_array()
        .unwrap_or_else(|| trail["items"].as_array().unwrap())
        .iter()
        .filter(|r| r["action"] == "retention_set")
        .collect();
    assert_eq!(rows.len(), 1, "{trail}");
    assert_eq!(rows[0]["actor"], "admin");
    assert_eq!(rows[0]["source"], "127.0.0.1");
    assert!(
        rows[0]["detail"].as_str().unwrap().contains("45 days")
            && rows[0]["detail"].as_str().unwrap().contains("was 30"),
        "{}",
        rows[0]
    );

    // The setting is what a DELETE uses: purge 45 days after the deletion.
    clock.advance(Duration::hours(1));
    let uid = app.user("leaver@acme.test").await;
    assert_eq!(
        app.delete(&format!("/Users/{uid}")).await.status(),
        StatusCode::NO_CONTENT
    );
    let (_, user) = admin(
        &app,
        Method::GET,
        &format!("/connections/{conn}/users/{uid}"),
        None,
    )
    .await;
    assert_eq!(
        user["user"]["purge_at"].as_str().unwrap(),
        directory::clock::fmt_time(start() + Duration::hours(1) + Duration::days(45))
    );
    app.shutdown().await;
}

/// Runs `muster` with these arguments: exit code, stdout, stderr.
fn muster(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(args)
        .env_remove("MUSTER_DB")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_cli_sets_user_and_group_retention_and_refuses_bad_values() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("muster.db");
    let db = db.to_str().unwrap();
    let (code, out, err) = muster(&[
        "connection",
        "create",
        "--db",
        db,
        "--name",
        "Acme",
        "--idp",
        "okta",
    ]);
    assert_eq!(code, 0, "{err}");
    let created: Value = serde_json::from_str(&out).unwrap();
    let id = created["id"].as_str().unwrap().to_string();

    let (code, out, err) = muster(&[
        "connection",
        "set-retention",
        "--db",
        db,
        "--connection",
        &id,
        "--days",
        "14",
    ]);
    assert_eq!(code, 0, "{err}");
    let set: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(set, json!({"id": id, "name": "Acme", "retention_days": 14}));

    for bad in ["0", "-3", "91", "3651"] {
        let (code, out, err) = muster(&[
            "connection",
            "set-retention",
            "--db",
            db,
            "--connection",
            &id,
            "--days",
            bad,
        ]);
        assert_eq!(code, 1, "--days {bad}: {out} {err}");
        assert!(err.contains("from 1 to 90"), "--days {bad}: {err}");
        assert!(out.is_empty(), "--days {bad}: {out}");
    }
    let (code, _, err) = muster(&[
        "connection",
        "set-retention",
        "--db",
        db,
        "--connection",
        "00000000-0000-4000-8000-000000000000",
        "--days",
        "10",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("not found"), "{err}");

    let (code, out, _) = muster(&["connection", "list", "--db", db]);
    assert_eq!(code, 0);
    let list: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list[0]["retention_days"], 14);
    // Audited once, as the CLI.
    let store = directory::Db::open(std::path::Path::new(db)).unwrap();
    let trail = store.read_blocking(|c| audit::list(c, &id, 100)).unwrap();
    let rows: Vec<_> = trail
        .iter()
        .filter(|r| r.action == "retention_set")
        .collect();
    assert_eq!(rows.len(), 1, "{trail:?}");
    assert_eq!(rows[0].actor, "cli");
    assert!(rows[0].detail.as_deref().unwrap().contains("14 days"));
}
