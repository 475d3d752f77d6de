//! `muster migrate-store` against a real PostgreSQL: a directory filled by simulated IdP
//! traffic, a feed consumer's cursor and an admin's audit trail goes to PostgreSQL and back
//! to a new SQLite file unchanged, row for row, and a server on the copy answers the IdP's
//! original token; a non-empty target, a missing source and an unreachable database are
//! clear refusals.

#[path = "../../directory/tests/support/postgres.rs"]
mod postgres;

use directory::{connections, sessions, tokens, Db};
use idp::scenario::Scenario;
use idp::{Dialect, SimulateOptions};
use muster_server::{start, ServerConfig};
use rusqlite::types::Value as SqlValue;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn muster(args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_str(stdout.trim()).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// Every row of every table (with the rowids the code reads): what must survive.
fn contents(path: &Path) -> Vec<(String, Vec<Vec<SqlValue>>)> {
    let db = rusqlite::Connection::open(path).unwrap();
    let tables: Vec<String> = db
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table'
              AND name NOT IN ('schema_version', 'sqlite_stat1') ORDER BY name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    tables
        .into_iter()
        .map(|t| {
            // The rowids the code reads (keyset pages, list order); others' are only
            // SQLite's own row handles, or equal to the table's integer key.
            let select = if t == "users" || t == "groups" {
                "rowid, *"
            } else {
                "*"
            };
            let mut stmt = db.prepare(&format!("SELECT {select} FROM {t}")).unwrap();
            let n = stmt.column_count();
            let mut rows: Vec<Vec<SqlValue>> = stmt
                .query_map([], |r| (0..n).map(|i| r.get::<_, SqlValue>(i)).collect())
                .unwrap()
                .map(Result::unwrap)
                .collect();
            rows.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
            (t, rows)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_moves_to_postgresql_and_back_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("muster.db");
    let (connection, token, app_key) = {
        let db = Db::open(&src).unwrap();
        db.write_blocking(|c| {
            let now = chrono::Utc::now();
            let conn = connections::create(c, "Okta", connections::Idp::Okta, false, now)?;
            let token = tokens::issue(c, &conn.id, "okta", now)?.secret;
            let key = sessions::issue_app_key(c, "the app", now)?.0;
            Ok((conn.id, token, key))
        })
        .unwrap()
    };
    let src_path = src.to_str().unwrap();
    // An admin action, audited (the IdP's token stays valid for the grace period).
    let (code, _, err) = muster(&[
        "token",
        "rotate",
        "--db",
        src_path,
        "--connection",
        &connection,
        "--grace",
        "24h",
    ]);
    assert_eq!(code, 0, "{err}");
    // An IdP's traffic: users, groups, memberships, a leaver; the log and the feed with it.
    let server = start(ServerConfig::new(
        src.clone(),
        "127.0.0.1:0".parse().unwrap(),
    ))
    .await
    .unwrap();
    let url = format!("{}/{}", server.scim_base, connection);
    let mut opts =
        SimulateOptions::new(&url, &token, Dialect::Okta, Scenario::JoinersMoversLeavers);
    opts.users = 25;
    opts.groups = 3;
    opts.concurrency = 2;
    opts.rounds = 2;
    let summary = idp::run(opts).await.unwrap();
    assert!(!summary.expected.users.is_empty());
    // The application reads the feed twice: its cursor and acknowledgement are kept.
    let origin = server.scim_base.trim_end_matches("/scim/v2").to_string();
    let http = reqwest::Client::new();
    let page: Value = http
        .get(format!("{origin}/app/v1/feed?after=0&limit=10"))
        .bearer_auth(&app_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let last = page["events"].as_array().unwrap().last().unwrap()["seq"]
        .as_i64()
        .unwrap();
    let status = http
        .get(format!("{origin}/app/v1/feed?after={last}&limit=10"))
        .bearer_auth(&app_key)
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success());
    server.shutdown().await;

    let pg = postgres::fresh_database().await;
    let (code, out, err) = muster(&[
        "migrate-store",
        "--from",
        &format!("sqlite:{src_path}"),
        "--to",
        &pg,
    ]);
    assert_eq!(code, 0, "{err}");
    let counts = |out: &Value, table: &str| {
        out["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["table"] == table)
            .map(|t| t["rows"].as_i64().unwrap())
    };
    assert!(counts(&out, "users").unwrap() >= 25, "{out}");
    assert!(counts(&out, "change_feed").unwrap() > 0, "{out}");
    assert_eq!(counts(&out, "feed_cursors"), Some(1), "{out}");
    assert!(counts(&out, "audit").unwrap() >= 1, "{out}");
    assert!(
        !out.to_string().contains("@127.0.0.1:"),
        "no credentials echoed: {out}"
    );

    // Into it again: refused, nothing changed.
    let (code, _, err) = muster(&[
        "migrate-store",
        "--from",
        &format!("sqlite:{src_path}"),
        "--to",
        &pg,
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("already holds data"), "{err}");

    // And back, into a new file.
    let back = dir.path().join("back.db");
    let back_path = back.to_str().unwrap();
    let (code, out_back, err) = muster(&[
        "migrate-store",
        "--from",
        &pg,
        "--to",
        &format!("sqlite:{back_path}"),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out_back["rows"], out["rows"], "{out_back}");
    assert_eq!(out_back["feed_head"], out["feed_head"]);
    let wal = std::fs::metadata(dir.path().join("back.db-wal")).map_or(0, |m| m.len());
    assert_eq!(
        wal, 0,
        "the copy is in the file itself, not left in its WAL"
    );
    let (before, after) = (contents(&src), contents(&back));
    assert_eq!(before.len(), after.len());
    for ((table, rows), (table_after, rows_after)) in before.iter().zip(&after) {
        assert_eq!(table, table_after);
        assert!(
            rows == rows_after,
            "{table} changed on the way: {} rows before, {} after",
            rows.len(),
            rows_after.len()
        );
    }

    // A server on the copy answers the IdP's original token with the same directory.
    let server = start(ServerConfig::new(
        back.clone(),
        "127.0.0.1:0".parse().unwrap(),
    ))
    .await
    .unwrap();
    let users: Value = http
        .get(format!("{}/{}/Users?count=1", server.scim_base, connection))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        users["totalResults"].as_u64().unwrap() as usize,
        summary.expected.users.len(),
        "{users}"
    );
    server.shutdown().await;

    // Over an existing file: refused.
    let (code, _, err) = muster(&[
        "migrate-store",
        "--from",
        &pg,
        "--to",
        &format!("sqlite:{back_path}"),
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("exists"), "{err}");
}

#[test]
fn bad_stores_are_clear_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let closed = format!("postgres://muster:s3cret@127.0.0.1:{port}/muster");

    let (code, _, err) = muster(&[
        "migrate-store",
        "--from",
        &format!("sqlite:{}", missing.display()),
        "--to",
        &closed,
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("missing.db"), "{err}");

    let db = dir.path().join("muster.db");
    drop(Db::open(&db).unwrap());
    let (code, _, err) = muster(&[
        "migrate-store",
        "--from",
        &format!("sqlite:{}", db.display()),
        "--to",
        &closed,
    ]);
    assert_ne!(code, 0);
    assert!(err.contains(&format!("127.0.0.1:{port}/muster")), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let (code, _, err) = muster(&[
        "migrate-store",
        "--from",
        &format!("sqlite:{}", db.display()),
        "--to",
        "sqlite:/tmp/x.db",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("muster backup"), "{err}");
    let (code, _, err) = muster(&["migrate-store", "--from", "mysql://x/y", "--to", &closed]);
    assert_ne!(code, 0);
    assert!(err.contains("sqlite:PATH"), "{err}");
}
