//! Token lifecycle and hardening, black-box: the cross-tenant matrix, rotation with a
//! grace period, revocation, secrets never stored or logged in plaintext, the admission
//! gate under a burst, owner-only database file, and TLS with a locally made certificate.

use chrono::{TimeZone, Utc};
use directory::{connections, tokens, Db, ManualClock};
use muster_server::{start_with_clock, RunningServer, ServerConfig};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 8, 0, 0).unwrap()
}

struct Tenant {
    id: String,
    live: String,
    revoked: String,
    expired: String,
    in_grace: String,
}

/// Two connections, each with a live, a revoked, an expired and an in-grace token.
fn seed(path: &Path) -> (Tenant, Tenant) {
    let db = Db::open(path).unwrap();
    let make = |name: &'static str| {
        db.write_blocking(move |c| {
            let now = t0();
            let conn = connections::create(c, name, connections::Idp::Okta, false, now)?;
            let live = tokens::issue(c, &conn.id, "live", now)?;
            let revoked = tokens::issue(c, &conn.id, "revoked", now)?;
            let expired = tokens::issue(c, &conn.id, "expired", now)?;
            let grace = tokens::issue(c, &conn.id, "grace", now)?;
            c.execute(
                "UPDATE tokens SET revoked_at = '2026-11-01T00:00:00.000Z' WHERE id = ?1",
                [&revoked.id],
            )?;
            c.execute(
                "UPDATE tokens SET expires_at = '2026-11-01T00:00:00.000Z' WHERE id = ?1",
                [&expired.id],
            )?;
            c.execute(
                "UPDATE tokens SET expires_at = '2026-11-03T00:00:00.000Z' WHERE id = ?1",
                [&grace.id],
            )?;
            Ok(Tenant {
                id: conn.id,
                live: live.secret,
                revoked: revoked.secret,
                expired: expired.secret,
                in_grace: grace.secret,
            })
        })
        .unwrap()
    };
    (make("Tenant A"), make("Tenant B"))
}

async fn serve(path: PathBuf, clock: Arc<ManualClock>, max_in_flight: usize) -> RunningServer {
    let mut cfg = ServerConfig::new(path, "127.0.0.1:0".parse().unwrap());
    cfg.max_in_flight_per_connection = max_in_flight;
    start_with_clock(cfg, clock).await.unwrap()
}

async fn call(
    http: &Client,
    method: Method,
    url: &str,
    auth: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let mut req = http.request(method, url);
    if let Some(a) = auth {
        req = req.header("Authorization", a);
    }
    if let Some(b) = body {
        req = req
            .header("Content-Type", "application/scim+json")
            .body(b.to_string());
    }
    let resp = req.send().await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        headers,
    )
}

fn user(name: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name, "password": "Hunter2-plaintext!", "emails": [{"value": name, "primary": true}]})
}

/// Every user and group of a connection, as SCIM returns them, for before/after equality.
async fn dump(http: &Client, base: &str, token: &str) -> Value {
    let auth = format!("Bearer {token}");
    let (_, users, _) = call(
        http,
        Method::GET,
        &format!("{base}/Users?count=1000"),
        Some(&auth),
        None,
    )
    .await;
    let (_, groups, _) = call(
        http,
        Method::GET,
        &format!("{base}/Groups?count=1000"),
        Some(&auth),
        None,
    )
    .await;
    json!({"users": users["Resources"], "groups": groups["Resources"]})
}

#[tokio::test]
async fn cross_tenant_matrix_refuses_everything_but_own_live_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("muster.db");
    let (a, b) = seed(&path);
    let clock = Arc::new(ManualClock::new(t0()));
    let server = serve(path.clone(), clock, 64).await;
    let http = Client::new();
    let base_a = format!("{}/{}", server.scim_base, a.id);
    let base_b = format!("{}/{}", server.scim_base, b.id);
    let own = format!("Bearer {}", a.live);

    // Data in both tenants.
    let (_, ua, _) = call(
        &http,
        Method::POST,
        &format!("{base_a}/Users"),
        Some(&own),
        Some(user("a1@a.test")),
    )
    .await;
    let ua = ua["id"].as_str().unwrap().to_string();
    let (_, ga, _) = call(
        &http,
        Method::POST,
        &format!("{base_a}/Groups"),
        Some(&own),
        Some(json!({"displayName": "A group"})),
    )
    .await;
    let ga = ga["id"].as_str().unwrap().to_string();
    let (_, ub, _) = call(
        &http,
        Method::POST,
        &format!("{base_b}/Users"),
        Some(&format!("Bearer {}", b.live)),
        Some(user("b1@b.test")),
    )
    .await;
    let ub = ub["id"].as_str().unwrap().to_string();

    let before_a = dump(&http, &base_a, &a.live).await;
    let before_b = dump(&http, &base_b, &b.live).await;

    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": {"active": false}}]});
    let routes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/Users".into(), None),
        (Method::POST, "/Users".into(), Some(user("intruder@x.test"))),
        (
            Method::POST,
            "/Users/.search".into(),
            Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]})),
        ),
        (Method::GET, format!("/Users/{ua}"), None),
        (Method::PUT, format!("/Users/{ua}"), Some(user("a1@a.test"))),
        (Method::PATCH, format!("/Users/{ua}"), Some(patch.clone())),
        (Method::DELETE, format!("/Users/{ua}"), None),
        (Method::GET, "/Groups".into(), None),
        (
            Method::POST,
            "/Groups".into(),
            Some(json!({"displayName": "Intruders"})),
        ),
        (Method::GET, format!("/Groups/{ga}"), None),
        (
            Method::PUT,
            format!("/Groups/{ga}"),
            Some(json!({"displayName": "Renamed"})),
        ),
        (
            Method::PATCH,
            format!("/Groups/{ga}"),
            Some(json!({"Operations": [{"op": "replace", "value": {"displayName": "Renamed"}}]})),
        ),
        (Method::DELETE, format!("/Groups/{ga}"), None),
        (Method::GET, "/ServiceProviderConfig".into(), None),
        (Method::GET, "/Schemas".into(), None),
        (Method::GET, "/ResourceTypes".into(), None),
    ];
    let refused: Vec<(&str, Option<String>)> = vec![
        (
            "other connection's token",
            Some(format!("Bearer {}", b.live)),
        ),
        ("revoked", Some(format!("Bearer {}", a.revoked))),
        ("expired", Some(format!("Bearer {}", a.expired))),
        ("malformed: Basic", Some(format!("Basic {}", a.live))),
        ("malformed: no scheme", Some(a.live.clone())),
        ("malformed: empty bearer", Some("Bearer ".into())),
        (
            "malformed: unknown token",
            Some("Bearer mst_not-a-real-token".into()),
        ),
        ("no header", None),
    ];
    for (method, path, body) in &routes {
        for (what, auth) in &refused {
            let (status, err, headers) = call(
                &http,
                method.clone(),
                &format!("{base_a}{path}"),
                auth.as_deref(),
                body.clone(),
            )
            .await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{what} on {method} {path}"
            );
            assert_eq!(
                err["status"],
                json!("401"),
                "{what} on {method} {path}: SCIM error body"
            );
            assert!(headers.contains_key("www-authenticate"));
        }
    }
    assert_eq!(
        dump(&http, &base_a, &a.live).await,
        before_a,
        "tenant A unchanged"
    );
    assert_eq!(
        dump(&http, &base_b, &b.live).await,
        before_b,
        "tenant B unchanged"
    );

    // A's token on B's URL: a real id of B and a made-up id answer exactly alike.
    let (s1, e1, _) = call(
        &http,
        Method::GET,
        &format!("{base_b}/Users/{ub}"),
        Some(&own),
        None,
    )
    .await;
    let (s2, e2, _) = call(
        &http,
        Method::GET,
        &format!("{base_b}/Users/00000000-0000-0000-0000-000000000000"),
        Some(&own),
        None,
    )
    .await;
    assert_eq!((s1, &e1), (s2, &e2));
    assert_eq!(s1, StatusCode::UNAUTHORIZED);

    // Own live and in-grace tokens work on every route.
    for tok in [&a.live, &a.in_grace] {
        let auth = format!("Bearer {tok}");
        for (method, path, body) in &routes[..4] {
            let (status, _, _) = call(
                &http,
                method.clone(),
                &format!("{base_a}{path}"),
                Some(&auth),
                body.clone(),
            )
            .await;
            assert!(
                status.is_success() || status == StatusCode::CONFLICT,
                "{method} {path} with own token: {status}"
            );
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn rotation_keeps_the_old_token_through_its_grace_then_refuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("muster.db");
    let (a, _) = seed(&path);
    let clock = Arc::new(ManualClock::new(t0()));
    let server = serve(path, clock.clone(), 64).await;
    let http = Client::new();
    let admin = |p: &str| format!("{}{p}", server.admin_base);
    let secret = format!("Bearer {}", server.admin_secret);
    let base = format!("{}/{}", server.scim_base, a.id);

    let (s, issued, _) = call(
        &http,
        Method::POST,
        &admin(&format!("/connections/{}/tokens/rotate", a.id)),
        Some(&secret),
        Some(json!({"grace_seconds": 3600})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let new = issued["token"].as_str().unwrap().to_string();
    assert_eq!(issued["row"]["state"], json!("live"));

    // Through the grace period both work; the console sees both tokens' last use.
    for tok in [&a.live, &new] {
        let (s, _, _) = call(
            &http,
            Method::GET,
            &format!("{base}/Users"),
            Some(&format!("Bearer {tok}")),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
    }
    clock.advance(chrono::Duration::minutes(59));
    let (s, _, _) = call(
        &http,
        Method::GET,
        &format!("{base}/Users"),
        Some(&format!("Bearer {}", a.live)),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "still inside the grace period");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (_, list, _) = call(
        &http,
        Method::GET,
        &admin(&format!("/connections/{}/tokens", a.id)),
        Some(&secret),
        None,
    )
    .await;
    let old_row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["label"] == json!("live"))
        .unwrap()
        .clone();
    let new_row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["prefix"] == issued["row"]["prefix"])
        .unwrap()
        .clone();
    assert_eq!(old_row["state"], json!("in_grace"));
    assert!(old_row["last_used_at"].is_string() && new_row["last_used_at"].is_string());
    assert_eq!(old_row["last_used_addr"], json!("127.0.0.1"));

    // Past the grace period the old token is refused and the log says which one.
    clock.advance(chrono::Duration::minutes(2));
    let (s, _, _) = call(
        &http,
        Method::GET,
        &format!("{base}/Users"),
        Some(&format!("Bearer {}", a.live)),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _, _) = call(
        &http,
        Method::GET,
        &format!("{base}/Users"),
        Some(&format!("Bearer {new}")),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);

    // Revoke the new one: refused at once.
    let new_id = new_row["id"].as_str().unwrap();
    let (s, _, _) = call(
        &http,
        Method::POST,
        &admin(&format!("/connections/{}/tokens/{new_id}/revoke", a.id)),
        Some(&secret),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = call(
        &http,
        Method::GET,
        &format!("{base}/Users"),
        Some(&format!("Bearer {new}")),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (_, log, _) = call(
        &http,
        Method::GET,
        &admin(&format!("/connections/{}/log?outcome=auth_failed", a.id)),
        Some(&secret),
        None,
    )
    .await;
    let prefixes: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["token_prefix"].as_str())
        .collect();
    assert!(
        prefixes.contains(&&a.live[..12]),
        "expired token named by prefix: {prefixes:?}"
    );
    assert!(
        prefixes.contains(&&new[..12]),
        "revoked token named by prefix"
    );
    let (_, audit, _) = call(
        &http,
        Method::GET,
        &admin(&format!("/connections/{}/audit", a.id)),
        Some(&secret),
        None,
    )
    .await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"token_rotated") && actions.contains(&"token_revoked"),
        "{actions:?}"
    );
    assert!(audit
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["source"] == json!("127.0.0.1")));
    server.shutdown().await;
}

#[tokio::test]
async fn no_secret_is_stored_or_logged_in_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("muster.db");
    let (a, _) = seed(&path);
    // The real binary, with the most verbose logging, so its output can be scanned.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_muster"))
        .args([
            "serve",
            "--db",
            path.to_str().unwrap(),
            "--bind",
            "127.0.0.1:0",
        ])
        .env("MUSTER_LOG", "trace")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    let info: Value = serde_json::from_str(&line).unwrap();
    let base = format!("{}/{}", info["scim_base"].as_str().unwrap(), a.id);
    let http = Client::new();
    let own = format!("Bearer {}", a.live);
    let (s, _, _) = call(
        &http,
        Method::POST,
        &format!("{base}/Users"),
        Some(&own),
        Some(user("pw@a.test")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let patch = json!({"Operations": [{"op": "replace", "path": "password", "value": "Hunter2-plaintext!"}]});
    call(
        &http,
        Method::GET,
        &format!("{base}/Users?filter=userName%20eq%20%22pw@a.test%22"),
        Some(&own),
        None,
    )
    .await;
    call(
        &http,
        Method::GET,
        &format!("{base}/Users"),
        Some(&format!("Bearer {}", a.revoked)),
        None,
    )
    .await;
    let admin = info["admin"].as_str().unwrap().to_string();
    let secret = format!("Bearer {}", info["admin_secret"].as_str().unwrap());
    let mut api_bodies = String::new();
    for p in [
        format!("/connections/{}/tokens", a.id),
        format!("/connections/{}/log", a.id),
        format!("/connections/{}", a.id),
    ] {
        let (_, v, _) = call(
            &http,
            Method::GET,
            &format!("{admin}{p}"),
            Some(&secret),
            None,
        )
        .await;
        api_bodies.push_str(&v.to_string());
    }
    let (_, u, _) = call(
        &http,
        Method::GET,
        &format!("{base}/Users?filter=userName%20eq%20%22pw@a.test%22"),
        Some(&own),
        None,
    )
    .await;
    let uid = u["Resources"][0]["id"].as_str().unwrap().to_string();
    let (s, after, _) = call(
        &http,
        Method::PATCH,
        &format!("{base}/Users/{uid}"),
        Some(&own),
        Some(patch),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(after.get("password").is_none());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&output.stderr).to_string();

    let mut stored = std::fs::read(&path).unwrap();
    for suffix in ["-wal", "-shm"] {
        if let Ok(mut more) = std::fs::read(format!("{}{suffix}", path.display())) {
            stored.append(&mut more);
        }
    }
    let stored = String::from_utf8_lossy(&stored).to_string();
    for secret in [
        &a.live,
        &a.revoked,
        &a.expired,
        &a.in_grace,
        &"Hunter2-plaintext!".to_string(),
    ] {
        assert!(
            !stored.contains(secret.as_str()),
            "database holds a plaintext secret"
        );
        assert!(
            !logs.contains(secret.as_str()),
            "log output holds a plaintext secret"
        );
        assert!(
            !api_bodies.contains(secret.as_str()),
            "admin API returns a plaintext secret"
        );
    }
    assert!(
        !logs.is_empty() || output.status.code().is_none(),
        "the run produced log output to scan"
    );
}

#[cfg(unix)]
#[test]
fn database_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("muster.db");
    let _db = Db::open(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[tokio::test]
async fn a_burst_beyond_the_gate_gets_201_or_429_with_retry_after_never_5xx() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("muster.db");
    let (a, _) = seed(&path);
    let server = serve(path, Arc::new(ManualClock::new(t0())), 4).await;
    let http = Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();
    let base = format!("{}/{}", server.scim_base, a.id);
    let own = format!("Bearer {}", a.live);
    let sends = (0..200).map(|i| {
        let (http, base, own) = (http.clone(), base.clone(), own.clone());
        async move {
            let (s, v, h) = call(
                &http,
                Method::POST,
                &format!("{base}/Users"),
                Some(&own),
                Some(user(&format!("burst{i}@a.test"))),
            )
            .await;
            (s, v, h)
        }
    });
    let results = futures::future::join_all(sends).await;
    let (mut created, mut limited) = (vec![], 0);
    for (s, v, h) in results {
        match s {
            StatusCode::CREATED => created.push(v["id"].as_str().unwrap().to_string()),
            StatusCode::TOO_MANY_REQUESTS => {
                limited += 1;
                let retry = h
                    .get("retry-after")
                    .expect("429 carries Retry-After")
                    .to_str()
                    .unwrap();
                assert!(
                    retry.parse::<u32>().is_ok(),
                    "integer seconds, as Okta honours: {retry}"
                );
                assert_eq!(v["status"], json!("429"));
            }
            other => panic!("unexpected {other}: {v}"),
        }
    }
    assert!(limited > 0, "the gate engaged");
    assert!(!created.is_empty());
    for id in &created {
        let (s, _, _) = call(
            &http,
            Method::GET,
            &format!("{base}/Users/{id}"),
            Some(&own),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn tls_with_a_locally_generated_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("muster.db");
    let (a, _) = seed(&path);
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();
    let mut cfg = ServerConfig::new(path, "127.0.0.1:0".parse().unwrap());
    cfg.tls = Some((cert_path, key_path));
    let server = start_with_clock(cfg, Arc::new(ManualClock::new(t0())))
        .await
        .unwrap();
    assert!(server.scim_base.starts_with("https://"));
    let port = server.addr.port();
    let http = Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .resolve("localhost", server.addr)
        .min_tls_version(reqwest::tls::Version::TLS_1_2)
        .build()
        .unwrap();
    let url = format!("https://localhost:{port}/scim/v2/{}/Users", a.id);
    let (s, v, _) = call(
        &http,
        Method::GET,
        &url,
        Some(&format!("Bearer {}", a.live)),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // Plain HTTP to the TLS port does not get an answer with data.
    let plain = Client::new()
        .get(format!("http://127.0.0.1:{port}/scim/v2/{}/Users", a.id))
        .bearer_auth(&a.live)
        .send()
        .await;
    assert!(plain.map(|r| !r.status().is_success()).unwrap_or(true));
    server.shutdown().await;
}
