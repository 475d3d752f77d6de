//! A running sync is visible: real SCIM requests against a real server on a clock the test
//! moves, read back from `GET /api/connections/{id}/sync` — the running cycle with its counts
//! while the IdP pushes, the ended cycle in the history once the gap has passed, a new cycle
//! after it; a readiness run's requests never count.

#[allow(dead_code)]
#[path = "scim/helpers.rs"]
mod helpers;

use chrono::{DateTime, Duration, TimeZone, Utc};
use directory::ManualClock;
use helpers::{spawn_app_on_clock, TestApp, PATCH_URN, SCIM_JSON, USER_URN};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

const OKTA_UA: &str = "Okta SCIM Client 1.0.0";

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 14, 2, 0).unwrap()
}

fn at(secs: i64) -> String {
    directory::clock::fmt_time(start() + Duration::seconds(secs))
}

/// A SCIM request as Okta sends it; returns the status.
async fn okta(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> StatusCode {
    let mut r = app.req(method, path).header("user-agent", OKTA_UA);
    if let Some(b) = body {
        r = r.header("content-type", SCIM_JSON).body(b.to_string());
    }
    r.send().await.unwrap().status()
}

async fn sync(app: &TestApp, connection: &str) -> (StatusCode, Value) {
    app.barrier().await;
    let r = app
        .admin_req(Method::GET, &format!("/connections/{connection}/sync"))
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

fn counts(c: &Value) -> [i64; 7] {
    [
        "requests",
        "created",
        "updated",
        "deactivated",
        "deleted",
        "unchanged",
        "failed",
    ]
    .map(|k| c[k].as_i64().unwrap_or_else(|| panic!("{k} in {c}")))
}

#[tokio::test]
async fn a_running_cycle_then_its_summary_in_the_history() {
    let clock = Arc::new(ManualClock::new(start()));
    let app = spawn_app_on_clock(clock.clone(), |c| {
        c.sync_gap = std::time::Duration::from_secs(60)
    })
    .await;
    let id = app.connection_id.clone();

    let (status, quiet) = sync(&app, &id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        quiet,
        json!({"running": null, "recent": [], "gap_secs": 60})
    );

    // The push: three joiners, 10 s apart, then one update, one leaver, one retried create.
    let mut ids = vec![];
    for name in ["ada", "brian", "chen"] {
        let r = app
            .req(Method::POST, "/Users")
            .header("user-agent", OKTA_UA)
            .header("content-type", SCIM_JSON)
            .body(json!({"schemas": [USER_URN], "userName": name, "active": true}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        ids.push(
            r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
        clock.advance(Duration::seconds(10));
    }
    let (_, running) = sync(&app, &id).await;
    let r = &running["running"];
    assert_eq!(r["started_at"], at(0));
    assert_eq!(r["last_at"], at(20));
    assert_eq!(counts(r), [3, 3, 0, 0, 0, 0, 0]);
    assert_eq!(r["running"], true);
    assert_eq!(r["dialect"], "okta");
    // Three requests over 20 s.
    assert_eq!(r["requests_per_second"], 0.15);

    // A readiness run meanwhile: tagged, so neither counted nor keeping the cycle alive.
    let tagged = app
        .req(Method::GET, "/Users?count=1")
        .header(idp::client::CHECK_HEADER, "readiness")
        .send()
        .await
        .unwrap();
    assert_eq!(tagged.status(), StatusCode::OK);

    let patch = |ops: Value| Some(json!({"schemas": [PATCH_URN], "Operations": ops}));
    let replace_name = patch(json!([{"op": "replace", "path": "displayName", "value": "Ada L."}]));
    assert_eq!(
        okta(
            &app,
            Method::PATCH,
            &format!("/Users/{}", ids[0]),
            replace_name
        )
        .await,
        StatusCode::OK
    );
    clock.advance(Duration::seconds(10));
    let leave = patch(json!([{"op": "replace", "value": {"active": false}}]));
    assert_eq!(
        okta(&app, Method::PATCH, &format!("/Users/{}", ids[1]), leave).await,
        StatusCode::OK
    );
    let again = Some(json!({"schemas": [USER_URN], "userName": "chen"}));
    assert_eq!(
        okta(&app, Method::POST, "/Users", again).await,
        StatusCode::CONFLICT
    );
    let (_, running) = sync(&app, &id).await;
    let r = &running["running"];
    assert_eq!(r["started_at"], at(0));
    assert_eq!(r["last_at"], at(40));
    assert_eq!(counts(r), [6, 3, 1, 1, 0, 0, 1]);
    assert_eq!(running["recent"], json!([]));

    // A minute of silence after the last request is still the same cycle; a second more ends it.
    clock.advance(Duration::seconds(60));
    assert_eq!(sync(&app, &id).await.1["running"]["started_at"], at(0));
    clock.advance(Duration::seconds(1));
    let (_, ended) = sync(&app, &id).await;
    assert_eq!(ended["running"], Value::Null);
    let recent = ended["recent"].as_array().unwrap();
    assert_eq!(recent.len(), 1);
    assert_eq!(recent[0]["started_at"], at(0));
    assert_eq!(recent[0]["last_at"], at(40));
    assert_eq!(recent[0]["running"], false);
    assert_eq!(recent[0]["complete"], true);
    assert_eq!(counts(&recent[0]), [6, 3, 1, 1, 0, 0, 1]);
    assert_eq!(recent[0]["since_previous_secs"], Value::Null);

    // The IdP's next push is a new cycle; the ended one stays in the history.
    clock.advance(Duration::minutes(40) - Duration::seconds(101));
    assert_eq!(
        okta(&app, Method::DELETE, &format!("/Users/{}", ids[2]), None).await,
        StatusCode::NO_CONTENT
    );
    let (_, next) = sync(&app, &id).await;
    let r = &next["running"];
    assert_eq!(r["started_at"], at(40 * 60));
    assert_eq!(counts(r), [1, 0, 0, 0, 1, 0, 0]);
    assert_eq!(r["since_previous_secs"], 40 * 60);
    assert_eq!(next["recent"][0]["started_at"], at(0));

    // Another connection's cycles are its own; an unknown connection is 404.
    let (other, _) = app.new_connection("other").await;
    let (status, theirs) = sync(&app, &other).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (theirs["running"].clone(), theirs["recent"].clone()),
        (Value::Null, json!([]))
    );
    let (status, body) = sync(&app, "no-such-connection").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "not_found");
}
