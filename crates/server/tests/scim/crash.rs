//! Crash safety: the real `muster` binary SIGKILLed in the middle of a burst of creates
//! and PATCHes; on restart every acknowledged write is there as acknowledged, the file
//! passes PRAGMA integrity_check, and the server takes traffic at once.

use crate::helpers::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

struct Serve {
    child: Child,
    scim_base: String,
    admin: String,
    secret: String,
}

fn serve(db: &std::path::Path) -> Serve {
    let mut child = Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(["serve", "--db"])
        .arg(db)
        .args(["--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("muster serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("muster serve prints its addresses");
    let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    Serve {
        child,
        scim_base: v["scim_base"].as_str().unwrap().to_string(),
        admin: v["admin"].as_str().unwrap().to_string(),
        secret: v["admin_secret"].as_str().unwrap().to_string(),
    }
}

impl Drop for Serve {
    /// Never leave a server behind, even when an assertion fails.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a worker was told was committed.
#[derive(Default, Debug)]
struct Acked {
    /// userName -> (id, highest acknowledged title step, step in flight when killed)
    users: Vec<(String, String, u32, Option<u32>)>,
}

#[tokio::test]
async fn sigkill_mid_burst_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let mut s = serve(&db);
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    let created: Value = client
        .post(format!("{}/connections", s.admin))
        .bearer_auth(&s.secret)
        .json(&json!({"name": "crash", "idp": "okta"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let conn = created["connection"]["id"].as_str().unwrap().to_string();
    let token = created["token"].as_str().unwrap().to_string();
    let base = format!("{}/{conn}", s.scim_base);

    let acked = Arc::new(Mutex::new(Acked::default()));
    let acks = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = vec![];
    for w in 0..32 {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        let (acked, acks, stop) = (acked.clone(), acks.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            // Bounded: at most 20 users per worker, 3 PATCHes each.
            for k in 0..20 {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let name = format!("w{w}-u{k}");
                let r = client
                    .post(format!("{base}/Users"))
                    .bearer_auth(&token)
                    .header("content-type", SCIM_JSON)
                    .json(&json!({"schemas": [USER_URN], "userName": name, "title": "t0"}))
                    .send()
                    .await;
                let Ok(r) = r else { return };
                if r.status() != 201 {
                    return;
                }
                let Ok(v) = r.json::<Value>().await else { return };
                let id = v["id"].as_str().unwrap().to_string();
                let slot = {
                    let mut a = acked.lock().unwrap();
                    a.users.push((name.clone(), id.clone(), 0, None));
                    a.users.len() - 1
                };
                acks.fetch_add(1, Ordering::SeqCst);
                for step in 1..=3u32 {
                    acked.lock().unwrap().users[slot].3 = Some(step);
                    let r = client
                        .patch(format!("{base}/Users/{id}"))
                        .bearer_auth(&token)
                        .header("content-type", SCIM_JSON)
                        .json(&patch_op(json!([{"op": "replace", "path": "title", "value": format!("t{step}")}])))
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status() == 200 => {
                            let mut a = acked.lock().unwrap();
                            a.users[slot].2 = step;
                            a.users[slot].3 = None;
                            acks.fetch_add(1, Ordering::SeqCst);
                        }
                        _ => return,
                    }
                }
            }
        }));
    }
    // Kill once the burst is well under way (enough acknowledged writes), or after ~2 s
    // whichever comes first; the kill time is not asserted on.
    for _ in 0..200 {
        if acks.load(Ordering::SeqCst) >= 300 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    s.child.kill().expect("SIGKILL");
    s.child.wait().unwrap();
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.await.unwrap();
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(
        !acked.users.is_empty(),
        "nothing was acknowledged before the kill"
    );

    // The file is sound before anything touches it again.
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        let check: String = c
            .query_row("PRAGMA integrity_check", (), |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let fk: Vec<String> = c
            .prepare("PRAGMA foreign_key_check")
            .unwrap()
            .query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(fk.is_empty(), "foreign key violations: {fk:?}");
    }

    let s2 = serve(&db);
    let base = format!("{}/{conn}", s2.scim_base);
    // Takes traffic at once: the first request after start is a write that succeeds.
    let r = client
        .post(format!("{base}/Users"))
        .bearer_auth(&token)
        .header("content-type", SCIM_JSON)
        .json(&json!({"schemas": [USER_URN], "userName": "after-crash"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    for (name, id, done, in_flight) in &acked.users {
        let r = client
            .get(format!("{base}/Users/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "acknowledged user {name} lost");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["userName"], json!(name));
        let title = v["title"].as_str().unwrap();
        // As acknowledged, or the write that was in flight when the process died.
        let ok = title == format!("t{done}") || in_flight.is_some_and(|s| title == format!("t{s}"));
        assert!(
            ok,
            "{name}: title {title}, acknowledged t{done}, in flight {in_flight:?}"
        );
    }
    let list: Value = client
        .get(format!("{base}/Users?count=1"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let total = list["totalResults"].as_u64().unwrap() as usize;
    // Every acknowledged user plus at most one unacknowledged create per worker, plus ours.
    assert!(total > acked.users.len() && total <= acked.users.len() + 32 + 1);
    drop(s2);
}
