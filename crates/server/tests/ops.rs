//! Running Muster in production, black-box: `/healthz` and `/readyz` for load balancers,
//! `/metrics` behind its token (read with an independent Prometheus parser), `x-request-id`
//! on responses and in the provisioning log, `muster backup`/`restore` while a server
//! writes, and `muster serve` stopping on SIGTERM.

#[allow(dead_code)]
#[path = "scim/helpers.rs"]
mod helpers;

use helpers::{spawn_app, spawn_app_with, sqlite_only, TestApp, SCIM_JSON, USER_URN};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const METRICS_TOKEN: &str = "metrics-token-for-tests-0123456789";

/// `http://127.0.0.1:port`, where the operations endpoints live.
fn origin(app: &TestApp) -> String {
    app.scim_base.trim_end_matches("/scim/v2").to_string()
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", origin(app)))
        .send()
        .await
        .unwrap()
}

fn user(name: &str) -> Value {
    json!({"schemas": [USER_URN], "userName": name, "active": true})
}

// ---------------------------------------------------------------- /healthz and /readyz

/// Both answer without credentials, say ok, and reveal nothing else.
#[tokio::test]
async fn healthz_and_readyz_answer_ok_without_credentials() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz"] {
        let r = get(&app, path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(
            r.json::<Value>().await.unwrap(),
            json!({"status": "ok"}),
            "{path}"
        );
    }
    app.shutdown().await;
}

/// A writer that does not commit a trivial write within 2 s makes /readyz 503 (with a short
/// reason); once it catches up, /readyz is 200 again. /healthz stays 200 throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_503_while_the_writer_is_stuck() {
    let app = spawn_app().await;
    let db = app.db().clone();
    let stall = tokio::spawn(async move {
        db.write(|_| {
            std::thread::sleep(Duration::from_secs(4));
            Ok(())
        })
        .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let r = get(&app, "/readyz").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "answered at the 2 s bound"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["reason"], "database writer is not keeping up");
    assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
    assert_eq!(get(&app, "/healthz").await.status(), StatusCode::OK);
    stall.await.unwrap().unwrap();
    assert_eq!(get(&app, "/readyz").await.status(), StatusCode::OK);
    app.shutdown().await;
}

/// A database whose schema is behind this build's newest version is not ready.
#[tokio::test]
async fn readyz_is_503_when_the_schema_is_not_current() {
    let app = spawn_app().await;
    app.db()
        .write(|c| {
            c.execute(
                "DELETE FROM schema_version WHERE version = (SELECT MAX(version) FROM schema_version)",
                (),
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let r = get(&app, "/readyz").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["reason"], "database schema is not current");
    app.shutdown().await;
}

// ---------------------------------------------------------------- /metrics

async fn scrape(app: &TestApp) -> prometheus_parse::Scrape {
    let r = get_metrics(app, Some(METRICS_TOKEN)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = r.text().await.unwrap();
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap()
}

async fn get_metrics(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut r = app.client.get(format!("{}/metrics", origin(app)));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().await.unwrap()
}

/// The value of the counter, gauge or untyped sample `metric` with exactly these labels
/// among its labels; None when absent.
fn value(s: &prometheus_parse::Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    s.samples
        .iter()
        .find(|x| x.metric == metric && labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)))
        .map(|x| match x.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            ref other => panic!("{metric} is {other:?}"),
        })
}

/// Without the token /metrics is 401; with it, the SCIM request counter moves with real
/// requests (labelled by connection, method and status), the latency histogram has
/// buckets, a 429 is counted as a rejection, and the gauges are read at scrape time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_scim_requests_behind_their_token() {
    let app = spawn_app_with(|c| {
        c.metrics_token = Some(METRICS_TOKEN.into());
        c.max_in_flight_per_connection = 1;
    })
    .await;
    assert_eq!(
        get_metrics(&app, None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get_metrics(&app, Some("metrics-token-for-tests-wrong"))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get_metrics(&app, Some(&app.admin_secret)).await.status(),
        StatusCode::UNAUTHORIZED,
        "the admin secret does not read metrics"
    );

    let conn = app.connection_id.as_str();
    let created = [("connection", conn), ("method", "POST"), ("status", "201")];
    let before = scrape(&app).await;
    let created_before = value(&before, "muster_scim_requests_total", &created).unwrap_or(0.0);
    let limit = [("reason", "in_flight_limit")];
    assert_eq!(
        value(&before, "muster_scim_rejections_total", &limit),
        Some(0.0)
    );
    assert_eq!(value(&before, "muster_tokens_expiring_7d", &[]), Some(0.0));
    // The SQLite file and its WAL, or the PostgreSQL database as its server counts it.
    assert!(value(&before, "muster_database_bytes", &[]).unwrap() > 0.0);
    assert!(value(&before, "muster_writer_pending", &[]).is_some());

    for i in 0..3 {
        let r = app.post("/Users", &user(&format!("m{i}@acme.test"))).await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    assert_eq!(app.get("/Users").await.status(), StatusCode::OK);
    // A request for a connection that does not exist is counted, without its id.
    let r = app
        .client
        .get(format!("{}/no-such-connection/Users", app.scim_base))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // One request holds the connection's only place (its body is still coming) while a
    // second arrives: 429, counted as an in_flight_limit rejection.
    let held = hold_request(&app, "/Users");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.post("/Users", &user("refused@acme.test"))
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    held.shutdown(std::net::Shutdown::Both).unwrap();

    // A token rotated with a day's grace: the old one expires within 7 days.
    let id = app.connection_id.clone();
    app.db()
        .write(move |c| {
            directory::tokens::rotate(
                c,
                &id,
                chrono::Duration::hours(24),
                &directory::Actor::Cli,
                chrono::Utc::now(),
            )
        })
        .await
        .unwrap();

    let after = scrape(&app).await;
    assert_eq!(
        value(&after, "muster_scim_requests_total", &created).unwrap() - created_before,
        3.0
    );
    let listed = [("connection", conn), ("method", "GET"), ("status", "200")];
    assert_eq!(
        value(&after, "muster_scim_requests_total", &listed),
        Some(1.0)
    );
    let unknown = [("connection", "none"), ("method", "GET"), ("status", "401")];
    assert_eq!(
        value(&after, "muster_scim_requests_total", &unknown),
        Some(1.0)
    );
    assert!(!after
        .samples
        .iter()
        .any(|s| s.labels.get("connection") == Some("no-such-connection")));
    let refused = [("connection", conn), ("method", "POST"), ("status", "429")];
    assert_eq!(
        value(&after, "muster_scim_requests_total", &refused),
        Some(1.0)
    );
    assert_eq!(
        value(&after, "muster_scim_rejections_total", &limit),
        Some(1.0)
    );
    assert_eq!(value(&after, "muster_tokens_expiring_7d", &[]), Some(1.0));

    let histogram = after
        .samples
        .iter()
        .find(|s| {
            s.metric == "muster_scim_request_duration_seconds"
                && s.labels.get("method") == Some("POST")
        })
        .expect("a latency histogram for POST");
    let prometheus_parse::Value::Histogram(buckets) = &histogram.value else {
        panic!("not a histogram: {:?}", histogram.value);
    };
    assert!(buckets.len() > 5, "{buckets:?}");
    let all = buckets.iter().map(|b| b.count).fold(0.0, f64::max);
    assert!(all >= 4.0, "3 created + 1 refused POSTs: {buckets:?}");
    app.shutdown().await;
}

/// Without a configured metrics token the endpoint does not exist, whatever is presented,
/// and is not the console's page either (the console answers every other path).
#[tokio::test]
async fn metrics_is_404_without_a_configured_token() {
    let console = tempfile::tempdir().unwrap();
    std::fs::write(console.path().join("index.html"), "<html>console</html>").unwrap();
    let dir = console.path().to_path_buf();
    let app = spawn_app_with(move |c| c.console_dir = Some(dir)).await;
    assert_eq!(get(&app, "/anything").await.status(), StatusCode::OK);
    assert_eq!(
        get_metrics(&app, None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get_metrics(&app, Some(METRICS_TOKEN)).await.status(),
        StatusCode::NOT_FOUND
    );
    app.shutdown().await;
}

/// Opens a raw connection and sends a SCIM POST whose body never finishes: the request
/// holds its place in the connection's admission gate until the socket is closed.
fn hold_request(app: &TestApp, path: &str) -> TcpStream {
    let url = reqwest::Url::parse(&format!("{}{path}", app.base)).unwrap();
    let mut s = TcpStream::connect((url.host_str().unwrap(), url.port().unwrap())).unwrap();
    write!(
        s,
        "POST {} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: {SCIM_JSON}\r\nContent-Length: 1000\r\n\r\n{{\"userName\":",
        url.path(),
        url.host_str().unwrap(),
        app.token
    )
    .unwrap();
    s
}

// ---------------------------------------------------------------- request ids

fn request_id(r: &reqwest::Response) -> String {
    r.headers()
        .get("x-request-id")
        .expect("x-request-id on the response")
        .to_str()
        .unwrap()
        .to_string()
}

/// Every response carries x-request-id: a sane one sent by the client is kept, anything
/// else replaced by a new UUID, and the SCIM request's log row keeps the same id.
#[tokio::test]
async fn request_ids_are_on_every_response_and_in_the_log_row() {
    let app = spawn_app().await;
    for path in ["/healthz", "/api/connections"] {
        let r = get(&app, path).await;
        uuid::Uuid::parse_str(&request_id(&r)).expect("a generated UUID");
    }

    let kept = "okta-Req.42_a";
    let r = app
        .req(Method::POST, "/Users")
        .header("content-type", SCIM_JSON)
        .header("x-request-id", kept)
        .body(user("rid@acme.test").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(request_id(&r), kept);

    let generated = request_id(&app.get("/Users").await);
    uuid::Uuid::parse_str(&generated).unwrap();

    let too_long = "x".repeat(65);
    let mut replaced = vec![];
    for bad in ["has space", "semi;colon", too_long.as_str()] {
        let r = app
            .req(Method::GET, "/Users/not-there")
            .header("x-request-id", bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let id = request_id(&r);
        assert_ne!(id, bad);
        uuid::Uuid::parse_str(&id).unwrap();
        replaced.push(id);
    }

    let log = app.log().await;
    let row = |id: &str| {
        log.iter()
            .find(|r| r["request_id"] == id)
            .unwrap_or_else(|| panic!("no log row with request_id {id}: {log:#?}"))
            .clone()
    };
    let created = row(kept);
    assert_eq!(
        (created["method"].as_str(), created["status"].as_i64()),
        (Some("POST"), Some(201))
    );
    assert_eq!(row(&generated)["method"], "GET");
    for id in &replaced {
        assert_eq!(row(id)["status"], 404);
    }
    app.shutdown().await;
}

// ---------------------------------------------------------------- backup and restore

fn muster(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(args)
        .output()
        .expect("muster runs")
}

/// (id, userName) of every user of `connection` in the database at `path`.
fn users_in(path: &Path, connection: &str) -> Vec<(String, String)> {
    let c = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let mut stmt = c
        .prepare("SELECT id, user_name FROM users WHERE connection_id = ?1 ORDER BY id")
        .unwrap();
    let rows = stmt
        .query_map([connection], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    rows
}

/// `muster backup` copies the database consistently while SCIM creates keep coming; the
/// copy restores into a new path, opens, and holds exactly users the source has, at least
/// every one acknowledged before the backup began and fewer than at the end. A restore
/// over the live database, or over an existing file without --force, is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_while_writing_then_restore() {
    if sqlite_only("muster backup and restore copy the SQLite file; PostgreSQL has pg_dump") {
        return;
    }
    let app = spawn_app().await;
    for i in 0..20 {
        assert_eq!(
            app.post("/Users", &user(&format!("seed{i}@acme.test")))
                .await
                .status(),
            StatusCode::CREATED
        );
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let acked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(20));
    let writer = {
        let (client, base, token) = (app.client.clone(), app.base.clone(), app.token.clone());
        let (stop, acked) = (stop.clone(), acked.clone());
        tokio::spawn(async move {
            for i in 0..5000 {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let r = client
                    .post(format!("{base}/Users"))
                    .bearer_auth(&token)
                    .header("content-type", SCIM_JSON)
                    .body(user(&format!("bg{i}@acme.test")).to_string())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::CREATED);
                acked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        })
    };
    while acked.load(std::sync::atomic::Ordering::Relaxed) < 60 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let dir = app.dir.path().to_path_buf();
    let backup = dir.join("backup.db");
    let source = app.db_path.clone();
    let before = acked.load(std::sync::atomic::Ordering::Relaxed);
    let out = {
        let (source, backup) = (source.clone(), backup.clone());
        tokio::task::spawn_blocking(move || {
            muster(&[
                "backup",
                "--db",
                source.to_str().unwrap(),
                "--to",
                backup.to_str().unwrap(),
            ])
        })
        .await
        .unwrap()
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(printed["bytes"].as_u64().unwrap() > 0);
    let after_backup = acked.load(std::sync::atomic::Ordering::Relaxed);
    // Keep writing past the backup, then stop.
    while acked.load(std::sync::atomic::Ordering::Relaxed) < after_backup + 20 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.await.unwrap();

    // Over the database the server has open: refused, even with --force.
    let out = muster(&[
        "restore",
        "--from",
        backup.to_str().unwrap(),
        "--db",
        source.to_str().unwrap(),
        "--force",
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("in use"),
        "{out:?}"
    );

    let restored = dir.join("restored").join("muster.db");
    let out = muster(&[
        "restore",
        "--from",
        backup.to_str().unwrap(),
        "--db",
        restored.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        printed["schema_version"].as_i64(),
        Some(directory::Db::newest_schema_version())
    );
    let again = muster(&[
        "restore",
        "--from",
        backup.to_str().unwrap(),
        "--db",
        restored.to_str().unwrap(),
    ]);
    assert!(
        !again.status.success(),
        "an existing database is kept without --force"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));

    // The restored database opens as a store, and is the source at one moment.
    let store = directory::Db::open(&restored).unwrap();
    let integrity: String = store
        .read_blocking(|c| c.query_row("PRAGMA integrity_check", (), |r| r.get(0)))
        .unwrap();
    assert_eq!(integrity, "ok");
    drop(store);
    let copied = users_in(&restored, &app.connection_id);
    let end = users_in(&source, &app.connection_id);
    assert_eq!(end.len(), acked.load(std::sync::atomic::Ordering::Relaxed));
    assert!(
        copied.len() >= before,
        "{} < {before} acknowledged before the backup",
        copied.len()
    );
    assert!(copied.len() <= after_backup && copied.len() < end.len());
    let source_rows: std::collections::HashMap<_, _> = end.into_iter().collect();
    for (id, name) in &copied {
        assert_eq!(source_rows.get(id), Some(name), "user {id} in the backup");
    }
    app.shutdown().await;
}

// ---------------------------------------------------------------- SIGTERM

struct Serve {
    child: std::process::Child,
    addr: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn raw_post(addr: &str, path: &str, token: &str, body: &str, sent: usize) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: {SCIM_JSON}\r\nContent-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..sent]
    )
    .unwrap();
    s
}

/// SIGTERM: `muster serve` stops accepting, lets a request in flight finish (its body
/// arrives after the signal and it is answered 201), does not wait past its 10 s bound for
/// a request that never completes, drains the writer (a GET's log row, a detached write,
/// is stored) and folds the WAL into the database file, and exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_in_flight_requests_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("muster.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_muster"))
        .args([
            "serve",
            "--db",
            db.to_str().unwrap(),
            "--bind",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let info: Value = serde_json::from_str(&line).unwrap();
    let mut serve = Serve {
        child,
        addr: info["addr"].as_str().unwrap().to_string(),
    };
    let client = reqwest::Client::new();
    let created: Value = client
        .post(format!("{}/connections", info["admin"].as_str().unwrap()))
        .bearer_auth(info["admin_secret"].as_str().unwrap())
        .json(&json!({"name": "term", "idp": "okta"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let conn = created["connection"]["id"].as_str().unwrap().to_string();
    let token = created["token"].as_str().unwrap().to_string();
    let base = format!("{}/{conn}", info["scim_base"].as_str().unwrap());
    let r = client
        .post(format!("{base}/Users"))
        .bearer_auth(&token)
        .header("content-type", SCIM_JSON)
        .body(user("before@acme.test").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = client
        .get(format!("{base}/Users"))
        .bearer_auth(&token)
        .header("x-request-id", "last-read-before-sigterm")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let path = format!("/scim/v2/{conn}/Users");
    let body = user("in-flight@acme.test").to_string();
    let mut finishing = raw_post(&serve.addr, &path, &token, &body, 10);
    let _stuck = raw_post(&serve.addr, &path, &token, &body, 10);
    std::thread::sleep(Duration::from_millis(300));

    let signalled = Instant::now();
    let kill = Command::new("kill")
        .args(["-TERM", &serve.child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    std::thread::sleep(Duration::from_millis(300));
    finishing.write_all(&body.as_bytes()[10..]).unwrap();
    finishing
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = [0u8; 12];
    finishing.read_exact(&mut answer).unwrap();
    assert_eq!(
        &answer, b"HTTP/1.1 201",
        "the request in flight is answered"
    );
    assert!(
        TcpStream::connect(&serve.addr).is_err() || {
            // Accepted by the kernel's backlog at most; never answered.
            let mut s = TcpStream::connect(&serve.addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
            let _ = write!(s, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
            let mut buf = [0u8; 1];
            !matches!(s.read(&mut buf), Ok(n) if n > 0)
        },
        "no new request is answered after SIGTERM"
    );

    let status = loop {
        if let Some(status) = serve.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(15),
            "still running {:?} after SIGTERM",
            signalled.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    // Before anything opens the file again (the last connection to close checkpoints too).
    let wal = std::fs::metadata(dir.path().join("muster.db-wal")).map_or(0, |m| m.len());
    assert_eq!(wal, 0, "the WAL was checkpointed into the database at exit");

    let c = rusqlite::Connection::open(&db).unwrap();
    let names: Vec<String> = c
        .prepare("SELECT user_name FROM users ORDER BY user_name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(names, ["before@acme.test", "in-flight@acme.test"]);
    let logged: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM provisioning_log WHERE request_id = 'last-read-before-sigterm'",
            (),
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(logged, 1, "the read's log row was written before exit");
}

/// A secret the operator supplied (here through MUSTER_ADMIN_SECRET, as the packaged unit
/// does) is not echoed on the startup line, so a service manager's journal never holds it;
/// it still signs in. A generated one is printed once, since nobody else knows it.
#[tokio::test]
async fn a_supplied_admin_secret_is_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "operator-chosen-secret-0123456789";
    let mut child = Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(["serve", "--bind", "127.0.0.1:0", "--console", "."])
        .arg("--db")
        .arg(dir.path().join("muster.db"))
        .env("MUSTER_ADMIN_SECRET", secret)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let serve = Serve {
        child,
        addr: String::new(),
    };
    assert!(
        !line.contains(secret),
        "startup line echoes the secret: {line}"
    );
    let info: Value = serde_json::from_str(&line).unwrap();
    assert!(info["admin_secret"].is_null(), "{info}");
    assert!(
        !info["console_url"].as_str().unwrap().contains("#secret="),
        "{info}"
    );
    let r = reqwest::Client::new()
        .get(format!("{}/connections", info["admin"].as_str().unwrap()))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    drop(serve);
}
