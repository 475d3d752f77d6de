//! Webhooks, black-box against a real server and real receivers on loopback ports: signed
//! deliveries in feed order with a stable `webhook-id`; retries on the injected clock's
//! schedule; a receiver that answers 500, times out, redirects or refuses the connection,
//! each shown in the delivery log and on the connection's health without slowing SCIM;
//! bad URLs refused at create; resend, replay, secret rotation with both signatures, and
//! deliveries that survive a restart. (tests/e2e/webhooks.test.mjs verifies the signatures
//! with the independent `standardwebhooks` package.)

#[allow(dead_code)]
#[path = "scim/helpers.rs"]
mod helpers;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxStatus};
use axum::response::IntoResponse;
use chrono::{Duration, TimeZone, Utc};
use directory::ManualClock;
use helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    id: String,
    timestamp: i64,
    signature: String,
    body: String,
}

/// A receiver on a loopback port. `/ok` answers 200; `/flaky` answers 500 to its first
/// `fail_first` requests; `/slow` answers after 3 s; `/redirect` answers 302 to `/ok`.
#[derive(Clone)]
struct Receiver {
    base: String,
    got: Arc<Mutex<Vec<Received>>>,
    fail_first: Arc<Mutex<usize>>,
}

impl Receiver {
    async fn start(fail_first: usize) -> Receiver {
        Receiver::start_on("127.0.0.1:0", fail_first).await
    }

    async fn start_on(addr: &str, fail_first: usize) -> Receiver {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let r = Receiver {
            base,
            got: Arc::default(),
            fail_first: Arc::new(Mutex::new(fail_first)),
        };
        let app = axum::Router::new().fallback(handle).with_state(r.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        r
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn got(&self, path: &str) -> Vec<Received> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }
}

async fn handle(
    State(r): State<Receiver>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: String,
) -> axum::response::Response {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let path = uri.path().to_string();
    r.got.lock().unwrap().push(Received {
        path: path.clone(),
        id: h("webhook-id"),
        timestamp: h("webhook-timestamp").parse().unwrap_or(0),
        signature: h("webhook-signature"),
        body,
    });
    match path.as_str() {
        "/flaky" => {
            let fail = {
                let mut left = r.fail_first.lock().unwrap();
                let fail = *left > 0;
                *left = left.saturating_sub(1);
                fail
            };
            if fail {
                (AxStatus::INTERNAL_SERVER_ERROR, "database down\u{1b}[31m").into_response()
            } else {
                (AxStatus::OK, "thanks").into_response()
            }
        }
        "/slow" => {
            tokio::time::sleep(std::time::Duration::from_secs(3)).await;
            (AxStatus::OK, "late").into_response()
        }
        "/redirect" => (AxStatus::FOUND, [("location", "/ok")], "moved").into_response(),
        _ => (AxStatus::OK, "thanks").into_response(),
    }
}

/// A loopback port nothing listens on.
async fn dead_port() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    port
}

async fn spawn(clock: Arc<ManualClock>) -> TestApp {
    spawn_app_on_clock(clock, |c| {
        c.webhook_tick = std::time::Duration::from_millis(50);
        c.webhook_timeout = std::time::Duration::from_millis(500);
    })
    .await
}

fn start_time() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()
}

/// Creates an endpoint for the app's connection; returns (endpoint id, secret).
async fn endpoint(app: &TestApp, url: &str) -> (String, String) {
    let r = app
        .admin_req(
            Method::POST,
            &format!("/connections/{}/webhooks", app.connection_id),
        )
        .json(&json!({"url": url}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    (
        v["endpoint"]["id"].as_str().unwrap().to_string(),
        v["secret"].as_str().unwrap().to_string(),
    )
}

async fn deliveries(app: &TestApp, id: &str) -> Vec<Value> {
    let r = app
        .admin_req(Method::GET, &format!("/webhooks/{id}/deliveries"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    v.as_array().unwrap().clone()
}

/// Waits (up to 10 s) until the endpoint's deliveries satisfy `done`; returns them.
async fn wait_deliveries(app: &TestApp, id: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..200 {
        let d = deliveries(app, id).await;
        if done(&d) {
            return d;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "deliveries never got there: {:#}",
        json!(deliveries(app, id).await)
    );
}

/// The first attempt of the endpoint's only delivery, once made.
async fn first_attempt(app: &TestApp, id: &str) -> Value {
    let d = wait_deliveries(app, id, |d| d.len() == 1 && attempts(&d[0]) == 1).await;
    d[0]["attempt_log"][0].clone()
}

fn attempts(d: &Value) -> usize {
    d["attempt_log"].as_array().unwrap().len()
}

async fn health_notices(app: &TestApp) -> Vec<String> {
    let v = app
        .admin_req(Method::GET, &format!("/connections/{}", app.connection_id))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    v["connection"]["health_notices"]
        .as_array()
        .unwrap_or_else(|| panic!("no health notices in {v}"))
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

fn verify(secret: &str, r: &Received) -> bool {
    r.signature
        .split(' ')
        .any(|s| directory::webhooks::sign(secret, &r.id, r.timestamp, &r.body).unwrap() == s)
}

#[tokio::test]
async fn create_refuses_urls_that_are_not_http_or_point_at_muster_itself() {
    let app = spawn(Arc::new(ManualClock::new(start_time()))).await;
    let port = reqwest::Url::parse(&app.admin).unwrap().port().unwrap();
    let path = format!("/connections/{}/webhooks", app.connection_id);
    for (url, says) in [
        ("ftp://example.com/hook".to_string(), "http://"),
        ("example.com/hook".to_string(), "http://"),
        ("javascript:alert(1)".to_string(), "http://"),
        (format!("http://127.0.0.1:{port}/api"), "itself"),
        (format!("http://localhost:{port}/hook"), "itself"),
        (format!("http://[::1]:{port}/hook"), "itself"),
    ] {
        let r = app
            .admin_req(Method::POST, &path)
            .json(&json!({"url": url}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{url}");
        let v: Value = r.json().await.unwrap();
        assert!(v["message"].as_str().unwrap().contains(says), "{url}: {v}");
    }
    let r = app
        .admin_req(Method::POST, &path)
        .json(&json!({"url": "http://127.0.0.1:9/hook", "event_types": ["user.exploded"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Loopback on another port is an ordinary receiver.
    let (id, secret) = endpoint(&app, &format!("http://127.0.0.1:{}/hook", port + 1)).await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    // Nothing shows the secret again: not the endpoint, not the list, not the audit trail.
    for path in [
        format!("/webhooks/{id}"),
        format!("/connections/{}/webhooks", app.connection_id),
        format!("/connections/{}/audit", app.connection_id),
    ] {
        let text = app
            .admin_req(Method::GET, &path)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!text.contains(&secret[6..]), "{path} shows the secret");
        if path.ends_with("audit") {
            assert!(text.contains("webhook_created"), "{text}");
        }
    }
}

#[tokio::test]
async fn a_failing_receiver_is_retried_in_order_with_the_same_id_and_shows_on_health() {
    let clock = Arc::new(ManualClock::new(start_time()));
    let app = spawn(clock.clone()).await;
    let rx = Receiver::start(2).await;
    let (id, secret) = endpoint(&app, &rx.url("/flaky")).await;
    app.user("ada").await;
    app.user("grace").await;
    // The first event's first attempt fails; the second waits behind it.
    let d = wait_deliveries(&app, &id, |d| d.len() == 2 && attempts(&d[1]) == 1).await;
    assert_eq!(d[1]["event_type"], "user.created");
    assert_eq!(d[1]["state"], "pending");
    assert_eq!(attempts(&d[0]), 0, "the second event waits for the first");
    let a = &d[1]["attempt_log"][0];
    assert_eq!(a["status"], 500);
    assert_eq!(a["error"], "HTTP 500");
    let excerpt = a["response_excerpt"].as_str().unwrap();
    assert!(
        excerpt.starts_with("database down") && !excerpt.contains('\u{1b}'),
        "{excerpt}"
    );
    // The connection's health says so, and SCIM is untouched.
    let notices = health_notices(&app).await;
    assert!(
        notices
            .iter()
            .any(|n| n.contains("/flaky") && n.contains("failing since")),
        "{notices:?}"
    );
    app.user("linus").await;
    // Not before its time: the retry is ~5 s later on Muster's clock.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(rx.got("/flaky").len(), 1);
    clock.advance(Duration::seconds(6));
    wait_deliveries(&app, &id, |d| attempts(&d[2]) == 2).await;
    clock.advance(Duration::seconds(34));
    let d = wait_deliveries(&app, &id, |d| {
        d.len() == 3 && d.iter().all(|d| d["state"] == "delivered")
    })
    .await;
    assert_eq!(attempts(&d[2]), 3);
    assert_eq!(d[2]["attempt_log"][0]["status"], 200);
    let got = rx.got("/flaky");
    assert_eq!(
        got.len(),
        5,
        "3 attempts of the first event, 1 each of the others"
    );
    // Same id for every attempt of one event; ids differ between events; feed order.
    assert!(got[..3].iter().all(|g| g.id == got[0].id));
    assert_ne!(got[3].id, got[0].id);
    let seqs: Vec<i64> = got
        .iter()
        .map(|g| {
            serde_json::from_str::<Value>(&g.body).unwrap()["data"]["seq"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] <= w[1]), "{seqs:?}");
    for g in &got {
        assert!(verify(&secret, g), "bad signature on {g:?}");
        let body: Value = serde_json::from_str(&g.body).unwrap();
        assert_eq!(body["type"], "user.created");
        assert!(body["timestamp"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-02T09:00"));
        assert_eq!(body["data"]["connection_id"], app.connection_id.as_str());
    }
    // Success clears the failing notice.
    let notices = health_notices(&app).await;
    assert!(
        !notices.iter().any(|n| n.contains("Webhook")),
        "{notices:?}"
    );
}

#[tokio::test]
async fn timeouts_redirects_and_refused_connections_are_failed_attempts_in_the_log() {
    let app = spawn(Arc::new(ManualClock::new(start_time()))).await;
    let rx = Receiver::start(0).await;
    let (slow, _) = endpoint(&app, &rx.url("/slow")).await;
    let (redirect, _) = endpoint(&app, &rx.url("/redirect")).await;
    let (refused, _) = endpoint(
        &app,
        &format!("http://127.0.0.1:{}/hook", dead_port().await),
    )
    .await;
    let started = std::time::Instant::now();
    app.user("ada").await;
    assert!(
        started.elapsed() < std::time::Duration::from_millis(500),
        "a slow receiver slowed SCIM: {:?}",
        started.elapsed()
    );
    let a = first_attempt(&app, &slow).await;
    assert_eq!(a["error"], "timeout after 0.5s", "{a}");
    assert!(a["status"].is_null());
    assert!(a["latency_ms"].as_i64().unwrap() >= 450, "{a}");
    let a = first_attempt(&app, &redirect).await;
    assert_eq!(a["status"], 302);
    assert_eq!(a["error"], "redirect to /ok not followed", "{a}");
    assert!(rx.got("/ok").is_empty(), "the redirect was followed");
    let a = first_attempt(&app, &refused).await;
    assert_eq!(a["error"], "connection refused", "{a}");
    // All three stay pending for their retries; the health names each.
    for id in [&slow, &redirect, &refused] {
        assert_eq!(deliveries(&app, id).await[0]["state"], "pending");
    }
    let notices = health_notices(&app).await;
    assert_eq!(
        notices
            .iter()
            .filter(|n| n.contains("Webhook endpoint"))
            .count(),
        3,
        "{notices:?}"
    );
}

#[tokio::test]
async fn after_the_last_attempt_a_delivery_fails_and_the_endpoint_moves_on() {
    let clock = Arc::new(ManualClock::new(start_time()));
    let app = spawn(clock.clone()).await;
    let rx = Receiver::start(usize::MAX).await;
    let (id, _) = endpoint(&app, &rx.url("/flaky")).await;
    app.user("ada").await;
    app.user("grace").await;
    for n in 1..=10 {
        wait_deliveries(&app, &id, |d| d.len() == 2 && attempts(&d[1]) == n).await;
        // Longer than any delay of the schedule (10 h, +10 % jitter).
        clock.advance(Duration::hours(14));
    }
    let d = wait_deliveries(&app, &id, |d| attempts(&d[0]) >= 1).await;
    assert_eq!(d[1]["state"], "failed");
    assert_eq!(attempts(&d[1]), 10);
    assert_eq!(d[0]["state"], "pending", "the next event is being tried");
}

#[tokio::test]
async fn resend_replay_and_rotation_keep_ids_and_sign_with_both_secrets() {
    let clock = Arc::new(ManualClock::new(start_time()));
    let app = spawn(clock.clone()).await;
    let rx = Receiver::start(0).await;
    let (id, old) = endpoint(&app, &rx.url("/ok")).await;
    app.user("ada").await;
    let d = wait_deliveries(&app, &id, |d| d.len() == 1 && d[0]["state"] == "delivered").await;
    let (delivery, seq) = (d[0]["id"].as_i64().unwrap(), d[0]["seq"].as_i64().unwrap());
    let r = app
        .admin_req(
            Method::POST,
            &format!("/webhooks/{id}/deliveries/{delivery}/resend"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    wait_deliveries(&app, &id, |d| d.len() == 2 && d[0]["state"] == "delivered").await;
    let got = rx.got("/ok");
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].id, got[1].id, "a resend keeps the webhook-id");
    assert_eq!(got[0].body, got[1].body);
    // Rotation: during the overlap both signatures go out, new first.
    let r = app
        .admin_req(Method::POST, &format!("/webhooks/{id}/rotate"))
        .json(&json!({"overlap_seconds": 3600}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let new = r.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new, old);
    app.user("grace").await;
    wait_deliveries(&app, &id, |d| d.len() == 3 && d[0]["state"] == "delivered").await;
    let last = rx.got("/ok").pop().unwrap();
    let sigs: Vec<&str> = last.signature.split(' ').collect();
    assert_eq!(sigs.len(), 2, "{}", last.signature);
    assert!(verify(
        &new,
        &Received {
            signature: sigs[0].into(),
            ..last.clone()
        }
    ));
    assert!(verify(
        &old,
        &Received {
            signature: sigs[1].into(),
            ..last.clone()
        }
    ));
    // After the overlap, the new secret alone.
    clock.advance(Duration::hours(2));
    app.user("linus").await;
    wait_deliveries(&app, &id, |d| d.len() == 4 && d[0]["state"] == "delivered").await;
    let last = rx.got("/ok").pop().unwrap();
    assert!(!last.signature.contains(' ') && verify(&new, &last) && !verify(&old, &last));
    // Replay from the first event: every event since, once each, same ids, feed order.
    let r = app
        .admin_req(Method::POST, &format!("/webhooks/{id}/replay"))
        .json(&json!({"from_seq": seq}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(r.json::<Value>().await.unwrap()["queued"], 3);
    wait_deliveries(&app, &id, |d| {
        d.iter().all(|d| d["state"] == "delivered") && d.len() == 7
    })
    .await;
    let got = rx.got("/ok");
    let firsts = vec![got[0].id.as_str(), got[2].id.as_str(), got[3].id.as_str()];
    let replayed: Vec<&str> = got[4..].iter().map(|g| g.id.as_str()).collect();
    assert_eq!(firsts, replayed);
    // Each action is in the audit trail.
    let audit = app
        .admin_req(
            Method::GET,
            &format!("/connections/{}/audit", app.connection_id),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for action in [
        "webhook_created",
        "webhook_resent",
        "webhook_secret_rotated",
        "webhook_replayed",
    ] {
        assert!(audit.contains(action), "{action} not audited: {audit}");
    }
    assert!(!audit.contains(&new[6..]) && !audit.contains(&old[6..]));
}

#[tokio::test]
async fn disabled_endpoints_get_nothing_and_deliveries_survive_a_restart() {
    // Far in the past, so after the restart (system clock) every retry is due.
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap(),
    ));
    let mut app = spawn(clock.clone()).await;
    let port = dead_port().await;
    let (id, secret) = endpoint(&app, &format!("http://127.0.0.1:{port}/ok")).await;
    let rx = Receiver::start(0).await;
    let (off, _) = endpoint(&app, &rx.url("/ok")).await;
    let r = app
        .admin_req(Method::PATCH, &format!("/webhooks/{off}"))
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    app.user("ada").await;
    let d = wait_deliveries(&app, &id, |d| d.len() == 1 && attempts(&d[0]) == 1).await;
    assert_eq!(d[0]["attempt_log"][0]["error"], "connection refused");
    let message_id = d[0]["message_id"].as_str().unwrap().to_string();
    // The receiver comes up where the endpoint points; after a restart the queued delivery
    // is sent.
    let rx2 = Receiver::start_on(&format!("127.0.0.1:{port}"), 0).await;
    app.restart().await;
    let d = wait_deliveries(&app, &id, |d| d[0]["state"] == "delivered").await;
    assert_eq!(attempts(&d[0]), 2);
    let got = rx2.got("/ok");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, message_id);
    assert!(verify(&secret, &got[0]));
    assert!(
        rx.got("/ok").is_empty(),
        "a disabled endpoint was sent an event"
    );
    assert!(deliveries(&app, &off).await.is_empty());
}

/// The signing secret is sealed at rest: neither the column nor the database files hold it.
/// A database restored without its key file cannot sign that endpoint's deliveries: each
/// attempt says so in the log (no panic, no 500), other endpoints keep delivering, and a
/// rotation mends it.
#[tokio::test]
async fn secrets_are_sealed_at_rest_and_a_lost_key_is_shown_and_mended_by_rotation() {
    let mut app = spawn_app_with(|c| {
        c.webhook_tick = std::time::Duration::from_millis(50);
        c.webhook_timeout = std::time::Duration::from_millis(500);
    })
    .await;
    let rx = Receiver::start(0).await;
    let (id, secret) = endpoint(&app, &rx.url("/ok")).await;
    let stored: String = {
        let id = id.clone();
        app.db()
            .read(move |db| {
                db.query_row(
                    "SELECT secret FROM webhook_endpoints WHERE id = ?1",
                    [&id],
                    |r| r.get(0),
                )
            })
            .await
            .unwrap()
    };
    assert!(stored.starts_with("sealed:v1:"), "{stored}");
    let key = secret.trim_start_matches("whsec_");
    for file in ["muster.db", "muster.db-wal"] {
        let bytes = std::fs::read(app.dir.path().join(file)).unwrap_or_default();
        assert!(
            !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
            "{file} holds the secret in clear"
        );
    }
    let key_file = app.dir.path().join("muster.db.key");
    assert!(key_file.exists(), "the key lives beside the database");

    // Restored elsewhere: the database without its key file.
    std::fs::remove_file(&key_file).unwrap();
    app.restart().await;
    let rx2 = Receiver::start(0).await;
    let (other, other_secret) = endpoint(&app, &rx2.url("/ok")).await;
    app.user("ada").await;
    let d = wait_deliveries(&app, &id, |d| d.len() == 1 && attempts(&d[0]) >= 1).await;
    let error = d[0]["attempt_log"][0]["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        error.contains("cannot sign") && error.contains("rotate the secret"),
        "{error}"
    );
    assert!(rx.got("/ok").is_empty(), "nothing unsigned was sent");
    let d = wait_deliveries(&app, &other, |d| {
        d.len() == 1 && d[0]["state"] == "delivered"
    })
    .await;
    assert_eq!(attempts(&d[0]), 1, "the other endpoint is not held up");
    assert!(verify(&other_secret, &rx2.got("/ok")[0]));

    // Rotation seals a new secret under the new key; the waiting delivery then goes out.
    let r = app
        .admin_req(Method::POST, &format!("/webhooks/{id}/rotate"))
        .json(&json!({"overlap_seconds": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let rotated: Value = r.json().await.unwrap();
    let new_secret = rotated["secret"].as_str().unwrap().to_string();
    let r = app
        .admin_req(
            Method::POST,
            &format!("/webhooks/{id}/deliveries/{}/resend", d_id(&app, &id).await),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    for _ in 0..200 {
        if !rx.got("/ok").is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let got = rx.got("/ok");
    assert!(
        !got.is_empty(),
        "after the rotation the endpoint is delivered to"
    );
    assert!(verify(&new_secret, &got[0]));
}

/// The id of the endpoint's first delivery.
async fn d_id(app: &TestApp, id: &str) -> i64 {
    deliveries(app, id).await[0]["id"].as_i64().unwrap()
}
