//! Helpers for bench/load.sh. Each opens the database through `directory::Db`, so the file
//! has the production schema (embedded migrations) and settings (WAL, synchronous=FULL).
//!
//!   raw-ceiling --db PATH [--users N] [--batch B] [--mode users|lifecycle|lifecycle-nolog]
//!       creates a connection and N users in transactions of B rows through
//!       Db::write_blocking; `users` = users::create only (the brief's ceiling), `lifecycle` =
//!       lifecycle::create_user + log::append with the request body, as the server's POST
//!       /Users commits; `lifecycle-nolog` = the same without the log row (the log's cost).
//!   seed-log --db PATH --connection ID [--rows N] [--batch B]
//!       appends N provisioning-log rows (10% failures) for the connection.
//! Both print one JSON line.

use chrono::Utc;
use directory::connections::{self, Idp};
use directory::log::{self, LogEntry, LogOutcome};
use directory::{lifecycle, users, Db};
use scim::schema::UserResource;
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

/// `user_body` as the server hands it to the directory: parsed and normalised.
fn user_resource(n: usize) -> UserResource {
    UserResource::parse(&user_body(n)).expect("a valid user body")
}

fn user_body(n: usize) -> serde_json::Value {
    // The Okta create body `muster simulate` sends (password included: it is dropped by
    // normalisation server-side too).
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": format!("raw.user{n}@example.com"),
        "name": { "givenName": "Raw", "familyName": format!("User{n}") },
        "emails": [{ "primary": true, "value": format!("raw.user{n}@example.com"), "type": "work" }],
        "displayName": format!("Raw User{n}"),
        "locale": "en-US",
        "externalId": format!("00uraw{n:010}"),
        "groups": [],
        "password": "placeholder-Xy9!",
        "active": true
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cmd = args.get(1).cloned().unwrap_or_default();
    let db_path = PathBuf::from(arg(&args, "--db").expect("--db PATH"));
    let db = Db::open(&db_path).expect("open db");
    match cmd.as_str() {
        "raw-ceiling" => {
            let n: usize = arg(&args, "--users").map(|s| s.parse().unwrap()).unwrap_or(100_000);
            let batch: usize = arg(&args, "--batch").map(|s| s.parse().unwrap()).unwrap_or(500);
            let mode = arg(&args, "--mode").unwrap_or_else(|| "users".into());
            let cid = db
                .write_blocking(|c| Ok(connections::create(c, "raw-ceiling", Idp::Okta, false, Utc::now())?.id))
                .unwrap();
            let start = Instant::now();
            let mut done = 0;
            while done < n {
                let end = (done + batch).min(n);
                let (cid, mode) = (cid.clone(), mode.clone());
                db.write_blocking(move |c| {
                    for i in done..end {
                        let now = Utc::now();
                        if mode == "lifecycle-nolog" {
                            lifecycle::create_user(c, &cid, &user_resource(i), "scim", now)?;
                        } else if mode == "lifecycle" {
                            let body = user_body(i);
                            let u = lifecycle::create_user(c, &cid, &user_resource(i), "scim", now)?;
                            log::append(c, &LogEntry {
                                at: directory::clock::fmt_time(now),
                                connection_id: Some(cid.clone()),
                                method: "POST".into(),
                                path: "/Users".into(),
                                status: 201,
                                outcome: LogOutcome::Created,
                                resource_type: Some("User".into()),
                                resource_id: Some(u.id.clone()),
                                user_name: Some(u.user_name.clone()),
                                external_id: u.external_id.clone(),
                                dialect: Some("okta".into()),
                                user_agent: Some("Okta SCIM Client 1.0.0".into()),
                                token_prefix: Some("mst_raw".into()),
                                request_body: Some(body.to_string()),
                                duration_ms: 1.0,
                                ..Default::default()
                            })?;
                        } else {
                            users::create(c, &cid, &user_resource(i), now)?;
                        }
                    }
                    Ok(())
                })
                .unwrap();
                done = end;
            }
            let secs = start.elapsed().as_secs_f64();
            println!(
                "{}",
                json!({"mode": mode, "rows": n, "batch": batch, "elapsed_ms": (secs * 1000.0).round(), "rows_per_s": (n as f64 / secs).round()})
            );
        }
        "seed-log" => {
            let cid = arg(&args, "--connection").expect("--connection ID");
            let n: usize = arg(&args, "--rows").map(|s| s.parse().unwrap()).unwrap_or(1_000_000);
            let batch: usize = arg(&args, "--batch").map(|s| s.parse().unwrap()).unwrap_or(5_000);
            let start = Instant::now();
            let base = Utc::now() - chrono::Duration::days(30);
            let mut done = 0;
            while done < n {
                let end = (done + batch).min(n);
                let cid = cid.clone();
                db.write_blocking(move |c| {
                    for i in done..end {
                        let fail = i % 10 == 0;
                        let at = base + chrono::Duration::milliseconds(i as i64 * 2);
                        log::append(c, &LogEntry {
                            at: directory::clock::fmt_time(at),
                            connection_id: Some(cid.clone()),
                            method: if i % 3 == 0 { "GET" } else { "PATCH" }.into(),
                            path: format!("/Users/seed-{i}"),
                            status: if fail { 409 } else { 200 },
                            outcome: if fail { LogOutcome::Conflict } else { LogOutcome::Updated },
                            resource_type: Some("User".into()),
                            resource_id: Some(format!("seed-{i}")),
                            user_name: Some(format!("seed.user{i}@example.com")),
                            external_id: Some(format!("00useed{i:010}")),
                            duration_ms: 1.5,
                            dialect: Some("okta".into()),
                            detail: fail.then(|| "userName is already taken in this connection".to_string()),
                            ..Default::default()
                        })?;
                    }
                    Ok(())
                })
                .unwrap();
                done = end;
            }
            let secs = start.elapsed().as_secs_f64();
            println!("{}", json!({"rows": n, "elapsed_ms": (secs * 1000.0).round(), "rows_per_s": (n as f64 / secs).round()}));
        }
        _ => {
            eprintln!("usage: muster-bench-tools raw-ceiling|seed-log --db PATH ...");
            std::process::exit(2);
        }
    }
}
