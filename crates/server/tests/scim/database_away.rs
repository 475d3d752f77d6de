//! PostgreSQL going away under a running server, through a TCP relay the test cuts and
//! restores (the cluster itself is shared by the whole run): SCIM answers 503 with
//! Retry-After while it is away, never a 500 or a hang, and nothing it refused is stored
//! later; once it is back the same instance answers again by itself, every acknowledged
//! write still there.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// Relays TCP connections from a loopback port to `upstream`. `cut` drops every relayed
/// connection and turns new ones away (accepted, then closed); `restore` relays again.
struct Relay {
    port: u16,
    open: Arc<AtomicBool>,
    relayed: Arc<Mutex<Vec<AbortHandle>>>,
    accepting: AbortHandle,
}

impl Relay {
    async fn start(upstream: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Arc::new(AtomicBool::new(true));
        let relayed: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (o, r) = (open.clone(), relayed.clone());
        let accepting = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if !o.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut out) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
                r.lock().unwrap().push(task.abort_handle());
            }
        })
        .abort_handle();
        Relay {
            port,
            open,
            relayed,
            accepting,
        }
    }

    fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for task in self.relayed.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accepting.abort();
        self.cut();
    }
}

fn user(name: &str) -> serde_json::Value {
    json!({"schemas": [USER_URN], "userName": name, "externalId": format!("ext-{name}")})
}

/// What the load balancer's readiness check answers.
async fn readyz(app: &TestApp) -> StatusCode {
    let r = app.client.get(format!("{}/readyz", app.origin())).send();
    r.await.unwrap().status()
}

/// How many users named `name` the connection has.
async fn count(app: &TestApp, name: &str) -> u64 {
    let q = format!("/Users?filter=userName%20eq%20%22{name}%22");
    app.get_json(&q).await["totalResults"].as_u64().unwrap()
}

#[tokio::test]
async fn the_database_going_away_is_503_with_retry_after_and_the_instance_recovers_by_itself() {
    if !on_postgres() {
        eprintln!("skipped on SQLite: about a PostgreSQL server going away");
        return;
    }
    let url = fresh_postgres().await;
    // postgres://USER@HOST:PORT/DB: the server reaches HOST:PORT through the relay.
    let (head, rest) = url.split_once('@').expect("a user in the URL");
    let (upstream, db) = rest.split_once('/').expect("a database in the URL");
    let relay = Relay::start(upstream.to_string()).await;
    let relayed = format!("{head}@127.0.0.1:{}/{db}", relay.port);
    let app = spawn_app_with(|c| c.database = Some((relayed, Default::default()))).await;

    let kept = app.create_user(user("kept@acme.example")).await;

    relay.cut();
    let started = Instant::now();
    for (what, r) in [
        (
            "POST",
            app.post("/Users", &user("refused@acme.example")).await,
        ),
        ("GET", app.get("/Users?count=5").await),
    ] {
        let retry_after = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        assert!(
            retry_after.is_some_and(|s| s >= 1),
            "{what}: Retry-After {retry_after:?}"
        );
        let body = assert_scim_error(r, 503, None).await;
        assert!(
            body["detail"].as_str().unwrap().contains("retry"),
            "{what}: {body}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the refusals took {:?}",
        started.elapsed()
    );
    assert_eq!(
        readyz(&app).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "readyz while away"
    );

    relay.restore();
    // The same instance answers again by itself: no restart, only requests retried.
    let deadline = Instant::now() + Duration::from_secs(30);
    let created = loop {
        let r = app.post("/Users", &user("after@acme.example")).await;
        match r.status() {
            StatusCode::CREATED => break r.json::<serde_json::Value>().await.unwrap(),
            StatusCode::SERVICE_UNAVAILABLE if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            other => panic!(
                "after the database came back: {other}: {}",
                r.text().await.unwrap()
            ),
        }
    };
    assert_eq!(created["userName"], "after@acme.example");
    let back = app
        .get_json(&format!("/Users/{}", kept["id"].as_str().unwrap()))
        .await;
    assert_eq!(
        back["userName"], "kept@acme.example",
        "an acknowledged write survived"
    );
    assert_eq!(
        count(&app, "refused@acme.example").await,
        0,
        "a refused create was stored"
    );
    assert_eq!(count(&app, "after@acme.example").await, 1);
    assert_eq!(readyz(&app).await, StatusCode::OK, "readyz once back");
    app.shutdown().await;
}
