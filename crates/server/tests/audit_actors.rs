//! Every entry point records an admin action the same way: a connection created, a token
//! rotated or revoked from the admin API and from the `muster` CLI each leaves one audit row
//! naming its actor (the admin with their address, or the CLI) and the token's prefix.

#[allow(dead_code)]
#[path = "scim/helpers.rs"]
mod helpers;

use directory::audit::{self, AuditEntry};
use helpers::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

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

fn trail(db: &directory::Db, connection: &str) -> Vec<AuditEntry> {
    let c = connection.to_string();
    let mut rows = db.read_blocking(|d| audit::list(d, &c, 100)).unwrap();
    rows.reverse(); // oldest first
    rows
}

fn row<'a>(rows: &'a [AuditEntry], action: &str) -> &'a AuditEntry {
    let found: Vec<_> = rows.iter().filter(|r| r.action == action).collect();
    assert_eq!(found.len(), 1, "one {action} row: {rows:#?}");
    found[0]
}

#[test]
fn the_cli_audits_creating_a_connection_and_rotating_and_revoking_its_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("muster.db");
    let db = db_path.to_str().unwrap();
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
    let created: Value = serde_json::from_str(out.trim()).unwrap();
    let id = created["id"].as_str().unwrap().to_string();

    let (code, out, err) = muster(&[
        "token",
        "rotate",
        "--db",
        db,
        "--connection",
        &id,
        "--grace",
        "1h",
    ]);
    assert_eq!(code, 0, "{err}");
    let rotated: Value = serde_json::from_str(out.trim()).unwrap();
    let (code, _, err) = muster(&[
        "token",
        "revoke",
        "--db",
        db,
        "--connection",
        &id,
        "--token",
        created["token_prefix"].as_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");

    // A rotation of a connection that does not exist is refused and leaves no row anywhere.
    let (code, _, err) = muster(&[
        "token",
        "rotate",
        "--db",
        db,
        "--connection",
        "00000000-0000-4000-8000-000000000000",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("not found"), "{err}");

    let store = directory::Db::open(&db_path).unwrap();
    let rows = trail(&store, &id);
    let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        ["connection_created", "token_rotated", "token_revoked"]
    );
    for r in &rows {
        assert_eq!(r.actor, "cli", "{r:?}");
        assert_eq!(r.source, None, "the CLI has no network address: {r:?}");
    }
    assert_eq!(
        row(&rows, "connection_created").token_prefix.as_deref(),
        created["token_prefix"].as_str()
    );
    assert_eq!(
        row(&rows, "token_rotated").token_prefix.as_deref(),
        rotated["token_prefix"].as_str()
    );
    assert_eq!(
        row(&rows, "token_rotated").detail.as_deref(),
        Some("old tokens valid for 3600 s")
    );
    assert_eq!(
        row(&rows, "token_revoked").token_prefix.as_deref(),
        created["token_prefix"].as_str()
    );
    let stray = store
        .read_blocking(|d| audit::list(d, "00000000-0000-4000-8000-000000000000", 10))
        .unwrap();
    assert!(stray.is_empty(), "{stray:?}");
}

/// With MUSTER_DATABASE_URL, as for `muster serve`, the CLI's commands work on the
/// PostgreSQL database: a connection the CLI creates there is the servers' connection, its
/// token works against a server on that database, and the CLI's action is audited there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_works_on_postgresql_through_muster_database_url() {
    if !helpers::on_postgres() {
        eprintln!("skipped on SQLite: about the CLI on a PostgreSQL database");
        return;
    }
    let url = helpers::fresh_postgres().await;
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("muster.db");
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_muster"))
            .args(args)
            .arg("--db")
            .arg(&files)
            .env_remove("MUSTER_DB")
            .env("MUSTER_DATABASE_URL", &url)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "muster {args:?}: {err}");
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let created = tokio::task::block_in_place(|| {
        cli(&["connection", "create", "--name", "Acme", "--idp", "okta"])
    });
    assert!(
        !files.exists(),
        "no SQLite file made beside the PostgreSQL database"
    );
    let app =
        helpers::spawn_app_with(|c| c.database = Some((url.clone(), Default::default()))).await;
    let base = format!("{}/{}", app.scim_base, created["id"].as_str().unwrap());
    let r = app
        .client
        .get(format!("{base}/Users"))
        .bearer_auth(created["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the CLI's token on a server");
    let db = directory::Db::connect_postgres(&url, &Default::default(), &files)
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    let rows = db.read(move |d| audit::list(d, &id, 10)).await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (rows[0].action.as_str(), rows[0].actor.as_str()),
        ("connection_created", "cli")
    );
    app.shutdown().await;
}

#[tokio::test]
async fn the_admin_api_audits_the_same_actions_as_the_admin_with_their_address() {
    let app = spawn_app().await;
    let (id, _token) = app.new_connection("Contoso").await;
    let r = app
        .admin_req(Method::POST, &format!("/connections/{id}/tokens/rotate"))
        .json(&json!({"grace_seconds": 60}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let rotated: Value = r.json().await.unwrap();
    let tid = rotated["row"]["id"].as_str().unwrap();
    let r = app
        .admin_req(
            Method::POST,
            &format!("/connections/{id}/tokens/{tid}/revoke"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let c = id.clone();
    let mut rows = app
        .db()
        .read(move |d| audit::list(d, &c, 100))
        .await
        .unwrap();
    rows.reverse();
    let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        ["connection_created", "token_rotated", "token_revoked"]
    );
    for r in &rows {
        assert_eq!(r.actor, "admin", "{r:?}");
        assert_eq!(r.source.as_deref(), Some("127.0.0.1"), "{r:?}");
    }
    assert_eq!(
        row(&rows, "token_rotated").detail.as_deref(),
        Some("old tokens valid for 60 s")
    );
    assert_eq!(
        row(&rows, "token_revoked").token_prefix,
        row(&rows, "token_rotated").token_prefix
    );
    app.shutdown().await;
}

/// A server-wide setting (the provisioning log's retention) is an admin action too: it is
/// audited as the admin with their address, on the server's own trail
/// (`GET /api/audit?connection=server`),
/// and a refused value leaves no row.
#[tokio::test]
async fn changing_the_log_retention_is_audited_on_the_servers_trail() {
    let app = spawn_app().await;
    let r = app
        .admin_req(Method::PUT, "/settings/log-retention")
        .json(&json!({"days": 14}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .admin_req(Method::PUT, "/settings/log-retention")
        .json(&json!({"days": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let r = app
        .admin_req(Method::GET, "/audit?connection=server")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page: Value = r.json().await.unwrap();
    let rows = page["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0]["action"], "log_retention_set");
    assert_eq!(rows[0]["actor"], "admin");
    assert_eq!(rows[0]["source"], "127.0.0.1");
    assert_eq!(rows[0]["detail"], "14 days");
    app.shutdown().await;
}
