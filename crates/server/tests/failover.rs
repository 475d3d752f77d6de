//! Two `muster serve` processes on one PostgreSQL database, a burst of SCIM creates and
//! group PATCHes spread over both, and one of them killed (SIGKILL) mid-burst: every write
//! either instance acknowledged is there, the survivor answers every request sent to it, and
//! the change feed is numbered without a gap, one `user.created` per stored user.

#[path = "../../directory/tests/support/postgres.rs"]
mod postgres;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

const SECRET: &str = "failover-admin-secret-0123456789";

struct Instance {
    child: Child,
    origin: String,
}

fn serve(url: &str, dir: &std::path::Path) -> Instance {
    std::fs::create_dir_all(dir).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(["serve", "--bind", "127.0.0.1:0", "--admin-secret", SECRET])
        .arg("--db")
        .arg(dir.join("muster.db"))
        .args(["--database", url])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start muster serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("the start line");
    let start: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("start line: {line}"));
    Instance {
        child,
        origin: format!("http://{}", start["addr"].as_str().unwrap()),
    }
}

/// What one request of the burst did: which instance, and the write it acknowledged.
#[derive(Debug)]
enum Outcome {
    Created(String),
    Added(String),
    /// Refused or cut off: not acknowledged, so it may or may not be stored.
    Unacknowledged,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_instance_loses_no_acknowledged_write_and_the_other_keeps_answering() {
    let url = postgres::fresh_database().await;
    let tmp = tempfile::tempdir().unwrap();
    let mut a = serve(&url, &tmp.path().join("a"));
    let b = serve(&url, &tmp.path().join("b"));
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    let made: Value = http
        .post(format!("{}/api/connections", a.origin))
        .bearer_auth(SECRET)
        .json(&json!({"name": "failover", "idp": "okta"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (cid, token) = (
        made["connection"]["id"].as_str().unwrap().to_string(),
        made["token"].as_str().unwrap().to_string(),
    );
    let base = |origin: &str| format!("{origin}/scim/v2/{cid}");
    // A group and members-to-be, through the instance that survives.
    let group: Value = http
        .post(format!("{}/Groups", base(&b.origin)))
        .bearer_auth(&token)
        .json(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Everyone"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let gid = group["id"].as_str().unwrap().to_string();

    let (origins, token, gid) = (
        Arc::new([a.origin.clone(), b.origin.clone()]),
        Arc::new(token),
        Arc::new(gid),
    );
    let (kill_tx, kill_rx) = tokio::sync::oneshot::channel::<()>();
    let killer = tokio::spawn(async move {
        let _ = kill_rx.await;
        a.child.kill().expect("SIGKILL instance a");
        a.child.wait().unwrap();
    });
    let mut kill_tx = Some(kill_tx);
    let total = 240;
    let mut outcomes: Vec<(usize, Outcome)> = Vec::new();
    // Eight requests in flight at a time, alternating instances; instance a dies a third of
    // the way through, while requests to it are in flight.
    for wave in 0..total / 8 {
        if wave == total / 8 / 3 {
            let _ = kill_tx.take().unwrap().send(());
        }
        let requests = (0..8).map(|k| {
            let i = wave * 8 + k;
            let (http, origins, token, gid, cid) = (
                http.clone(),
                origins.clone(),
                token.clone(),
                gid.clone(),
                cid.clone(),
            );
            async move {
                let at = i % 2;
                let base = format!("{}/scim/v2/{cid}", origins[at]);
                let user = json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": format!("f{i}@acme.example"),
                    "active": true
                });
                let sent = http
                    .post(format!("{base}/Users"))
                    .bearer_auth(token.as_str())
                    .json(&user)
                    .send()
                    .await;
                let created = match sent {
                    Ok(r) if r.status() == 201 => r
                        .json::<Value>()
                        .await
                        .ok()
                        .and_then(|v| v["id"].as_str().map(str::to_string)),
                    Ok(r) => {
                        assert!(at == 0, "the surviving instance answered {}", r.status());
                        None
                    }
                    Err(e) => {
                        assert!(at == 0, "the surviving instance failed: {e}");
                        None
                    }
                };
                let Some(uid) = created else {
                    return (at, Outcome::Unacknowledged);
                };
                if i % 3 != 0 {
                    return (at, Outcome::Created(uid));
                }
                let patch = json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "add", "path": "members", "value": [{"value": uid}]}]
                });
                match http
                    .patch(format!("{base}/Groups/{gid}"))
                    .bearer_auth(token.as_str())
                    .json(&patch)
                    .send()
                    .await
                {
                    Ok(r) if r.status().is_success() => (at, Outcome::Added(uid)),
                    Ok(r) => {
                        assert!(at == 0, "the surviving instance answered {}", r.status());
                        (at, Outcome::Created(uid))
                    }
                    Err(e) => {
                        assert!(at == 0, "the surviving instance failed: {e}");
                        (at, Outcome::Created(uid))
                    }
                }
            }
        });
        outcomes.extend(futures::future::join_all(requests).await);
    }
    killer.await.unwrap();

    // Instance a really died mid-burst: some of its requests went unacknowledged, and it
    // acknowledged some before.
    let a_acked = outcomes
        .iter()
        .filter(|(at, o)| *at == 0 && !matches!(o, Outcome::Unacknowledged))
        .count();
    let a_lost = outcomes
        .iter()
        .filter(|(at, o)| *at == 0 && matches!(o, Outcome::Unacknowledged))
        .count();
    assert!(a_acked > 0 && a_lost > 0, "acked {a_acked}, lost {a_lost}");

    // Every acknowledged create and membership is there, read through the survivor.
    let b_base = base(&b.origin);
    let members: Value = http
        .get(format!("{b_base}/Groups/{gid}"))
        .bearer_auth(token.as_str())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let members: std::collections::HashSet<String> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap().to_string())
        .collect();
    for (_, o) in &outcomes {
        let uid = match o {
            Outcome::Created(u) | Outcome::Added(u) => u,
            Outcome::Unacknowledged => continue,
        };
        let r = http
            .get(format!("{b_base}/Users/{uid}"))
            .bearer_auth(token.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "acknowledged user {uid} is missing");
        if let Outcome::Added(_) = o {
            assert!(
                members.contains(uid),
                "acknowledged member {uid} is missing"
            );
        }
    }

    // The feed: numbered without a gap, one user.created per user stored.
    let store = directory::pg::PgStore::connect(&url).await.unwrap();
    let mut client = store.client().await.unwrap();
    let head = directory::pg::feed::number(&mut client).await.unwrap();
    let seqs: Vec<i64> = client
        .query("SELECT seq FROM change_feed ORDER BY seq", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(seqs, (1..=head).collect::<Vec<_>>(), "a gap in the feed");
    let users: i64 = client
        .query_one("SELECT count(*) FROM users", &[])
        .await
        .unwrap()
        .get(0);
    let created: i64 = client
        .query_one(
            "SELECT count(*) FROM change_feed WHERE kind = 'user.created'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(created, users);
    let mut b = b;
    b.child.kill().unwrap();
    b.child.wait().unwrap();
}
