//! The Audit screen's API over real HTTP: `GET /api/audit` filters and pages the trail across
//! the server and every connection, `GET /api/audit/export` hands it out as CSV or JSON and is
//! audited itself, and wrong filters are a 400 that records nothing.

#[allow(dead_code)]
#[path = "scim/helpers.rs"]
mod helpers;

use chrono::{TimeZone, Utc};
use directory::ManualClock;
use helpers::{spawn_app_on_clock, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

async fn page(app: &TestApp, query: &str) -> Value {
    let (status, body) = app
        .admin_json(Method::GET, &format!("/audit?{query}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    body
}

fn actions(page: &Value) -> Vec<String> {
    page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap().to_string())
        .collect()
}

/// Two more connections, a rotation on the second, the log retention set.
async fn seeded() -> (TestApp, String, String) {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap(),
    ));
    let app = spawn_app_on_clock(clock, |_| {}).await;
    let (a, _) = app.new_connection("Acme, \"EU\"").await;
    let (b, _) = app.new_connection("Globex").await;
    let (status, _) = app
        .admin_json(
            Method::POST,
            &format!("/connections/{b}/tokens/rotate"),
            Some(json!({"grace_seconds": 60})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app
        .admin_json(
            Method::PUT,
            "/settings/log-retention",
            Some(json!({"days": 21})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    (app, a, b)
}

#[tokio::test]
async fn filters_select_rows_across_the_server_and_every_connection() {
    let (app, a, b) = seeded().await;

    let all = page(&app, "").await;
    assert_eq!(
        actions(&all),
        [
            "log_retention_set",
            "token_rotated",
            "connection_created",
            "connection_created",
            "connection_created",
        ]
    );
    assert_eq!(all["next_before"], Value::Null);
    assert_eq!(all["rows"][0]["connection_id"], Value::Null);
    assert_eq!(all["rows"][1]["connection_id"], b.as_str());
    assert_eq!(all["rows"][1]["source"], "127.0.0.1");

    assert_eq!(
        actions(&page(&app, &format!("connection={b}")).await),
        ["token_rotated", "connection_created"]
    );
    let only_a = page(&app, &format!("connection={a}")).await;
    assert_eq!(actions(&only_a), ["connection_created"]);
    assert_eq!(only_a["rows"][0]["detail"], "'Acme, \"EU\"' for okta");
    assert_eq!(
        actions(&page(&app, "connection=server").await),
        ["log_retention_set"]
    );
    assert_eq!(
        actions(&page(&app, "action=token_*").await),
        ["token_rotated"]
    );
    assert_eq!(
        actions(&page(&app, "action=connection_created&q=globex").await),
        ["connection_created"]
    );
    assert_eq!(
        actions(&page(&app, "actor=cli").await),
        Vec::<String>::new()
    );
    assert_eq!(actions(&page(&app, "actor=admin").await).len(), 5);
    assert_eq!(
        actions(
            &page(
                &app,
                "since=2026-03-01T10:00:00Z&until=2026-03-01T10:00:00.001Z"
            )
            .await
        )
        .len(),
        5
    );
    assert_eq!(
        actions(
            &page(
                &app,
                "since=2026-03-01T11:00:00%2B01:00&until=2026-03-01T10:00:00Z"
            )
            .await
        )
        .len(),
        0
    );
    app.shutdown().await;
}

#[tokio::test]
async fn pages_follow_next_before_without_skipping_or_repeating() {
    let (app, _, _) = seeded().await;
    let all: Vec<i64> = page(&app, "").await["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    let mut seen = vec![];
    let mut query = "limit=2".to_string();
    loop {
        let p = page(&app, &query).await;
        seen.extend(
            p["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_i64().unwrap()),
        );
        match p["next_before"].as_i64() {
            Some(b) => query = format!("limit=2&before={b}"),
            None => break,
        }
    }
    assert_eq!(seen, all);
    app.shutdown().await;
}

#[tokio::test]
async fn wrong_filters_are_a_400_and_an_export_with_them_records_nothing() {
    let (app, _, _) = seeded().await;
    for query in [
        "since=yesterday",
        "until=2026-02-30T00:00:00Z",
        "limit=0",
        "limit=1001",
        "limit=many",
        "actor=robot",
        "before=x",
    ] {
        let (status, body) = app
            .admin_json(Method::GET, &format!("/audit?{query}"), None)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["code"], "bad_request", "{query}");
    }
    for query in [
        "format=xlsx",
        "format=csv&since=nope",
        "format=json&actor=x",
    ] {
        let (status, body) = app
            .admin_json(Method::GET, &format!("/audit/export?{query}"), None)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
    }
    assert_eq!(
        actions(&page(&app, "action=audit.export").await),
        Vec::<String>::new()
    );
    app.shutdown().await;
}

#[tokio::test]
async fn exports_are_dated_attachments_and_are_audited() {
    let (app, a, _) = seeded().await;

    let r = app
        .admin_req(
            Method::GET,
            &format!("/audit/export?format=csv&connection={a}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"muster-audit-2026-03-01.csv\""
    );
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[0].starts_with("id,at,connection_id,actor,actor_email,"));
    assert!(
        lines[1].ends_with(",\"'Acme, \"\"EU\"\"' for okta\""),
        "{}",
        lines[1]
    );

    let r = app
        .admin_req(Method::GET, "/audit/export?format=json&action=connection_*")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"muster-audit-2026-03-01.json\""
    );
    let rows: Vec<Value> = r.json().await.unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r["action"] == "connection_created"));

    // Each export left its row: the connection one on that connection, with its filters.
    let exports = page(&app, "action=audit.export").await;
    let rows = exports["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{exports}");
    let detail: Value = serde_json::from_str(rows[1]["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail, json!({"connection": a, "format": "csv", "rows": 1}));
    assert_eq!(rows[1]["connection_id"], a.as_str());
    assert_eq!(rows[1]["actor"], "admin");
    assert_eq!(rows[0]["connection_id"], Value::Null);
    let detail: Value = serde_json::from_str(rows[0]["detail"].as_str().unwrap()).unwrap();
    assert_eq!(
        detail,
        json!({"action": "connection_*", "format": "json", "rows": 3})
    );
    app.shutdown().await;
}
