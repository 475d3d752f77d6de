//! Deprovisioning evidence (docs/evidence.md), black-box against a real server on a clock the
//! test moves: leavers in every dialect (Okta PUT and PATCH, Entra PATCH with and without
//! aadOptscim062020, DELETE), a deactivation refused 400 then retried, a user reactivated, an
//! application acknowledging part of the feed and a window the retention pass pruned. Every
//! figure of the JSON is asserted; the CSV's rows, the PDF's text (pdftotext, an independent
//! reader), the hash (jq + sha256sum, as the docs say) and the CLI's report agree with it.
//! Bad dates, formats, connections and a missing admin secret are refused.

#[allow(dead_code)]
#[path = "scim/helpers.rs"]
mod helpers;

use chrono::{DateTime, Duration, SecondsFormat, SubsecRound, Utc};
use directory::{feed, log, sessions, Clock, ManualClock};
use helpers::{spawn_app_on_clock, sqlite_only, TestApp, PATCH_URN, SCIM_JSON, USER_URN};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

const OKTA: &str = "Okta SCIM Client 1.0.0";
const ENTRA: &str = "Microsoft Azure AD SCIM provisioning 1.0.0";

fn fmt(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn micros(t: &Value) -> i64 {
    DateTime::parse_from_rfc3339(t.as_str().unwrap_or_else(|| panic!("not a time: {t}")))
        .unwrap()
        .timestamp_micros()
}

/// A SCIM request on `connection` with its token, as the IdP with `user_agent` sends it.
async fn scim(
    app: &TestApp,
    (connection, token): (&str, &str),
    method: Method,
    path: &str,
    user_agent: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut r = app
        .client
        .request(method, format!("{}/{connection}{path}", app.scim_base))
        .bearer_auth(token)
        .header("user-agent", user_agent);
    if let Some(b) = body {
        r = r.header("content-type", SCIM_JSON).body(b.to_string());
    }
    let r = r.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Creates `name` (externalId `ext-<local part>`) with one session per `sessions`; its id.
async fn joiner(
    app: &TestApp,
    clock: &ManualClock,
    conn: (&str, &str),
    name: &str,
    user_agent: &str,
    sessions: usize,
) -> String {
    let (s, v) = scim(
        app,
        conn,
        Method::POST,
        "/Users",
        user_agent,
        Some(json!({"schemas": [USER_URN], "userName": name, "externalId": external_id(name), "active": true})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let (c, u, now) = (conn.0.to_string(), id.clone(), clock.now());
    app.db()
        .write(move |db| {
            for _ in 0..sessions {
                sessions::create(db, &c, &u, Duration::hours(8), "test", now)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    id
}

fn external_id(name: &str) -> String {
    format!("ext-{}", name.split('@').next().unwrap())
}

fn put_body(name: &str, active: bool) -> Value {
    json!({"schemas": [USER_URN], "userName": name, "externalId": external_id(name), "active": active})
}

fn patch_body(ops: Value) -> Value {
    json!({"schemas": [PATCH_URN], "Operations": ops})
}

async fn admin_get(app: &TestApp, path: &str) -> reqwest::Response {
    app.admin_req(Method::GET, path).send().await.unwrap()
}

/// GET /api/evidence?{query} as JSON, with its hash header.
async fn report(app: &TestApp, query: &str) -> (Value, String) {
    let r = admin_get(app, &format!("/evidence?{query}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let hash = r.headers()["x-muster-evidence-sha256"]
        .to_str()
        .unwrap()
        .to_string();
    (r.json().await.unwrap(), hash)
}

/// Runs a shell pipeline with `input` on stdin; its stdout.
fn pipe(cmd: &str, input: &[u8]) -> String {
    let mut child = std::process::Command::new("sh")
        .args(["-c", cmd])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{cmd} failed");
    String::from_utf8(out.stdout).unwrap()
}

/// The documented check: `jq -jcS 'del(.integrity)' report.json | sha256sum`.
fn documented_hash(json: &[u8]) -> String {
    pipe("jq -jcS 'del(.integrity)' | sha256sum", json)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// Runs `muster` with these arguments: exit code, stdout, stderr.
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

/// The period the scenario lies in, and what the test knows about each leaver.
struct Scenario {
    app: TestApp,
    a: String,
    b: String,
    /// `from` (a date) and `to` (an RFC 3339 time) as the test asks for them.
    from: String,
    to: String,
    day_start: DateTime<Utc>,
    to_time: DateTime<Utc>,
    complete_from: String,
    /// user name -> (connection, user id)
    ids: HashMap<&'static str, (String, String)>,
    /// The refused PATCH's arrival side: its log row id.
    refused_log_id: i64,
    /// Users the readiness run created (and purged) on connection `a`.
    test_users: i64,
}

/// Day 0: a leaver whose rows retention will prune. Day 12, with the log kept 10 days: seven
/// leavers on two connections, one refused before it succeeded, one reactivated, the first
/// three acknowledged by an application.
async fn scenario() -> Scenario {
    // Two weeks back, so the CLI's own "now" (the wall clock) lies after the whole period.
    let start = (Utc::now() - Duration::days(14) - Duration::hours(2)).trunc_subsecs(0);
    let clock = Arc::new(ManualClock::new(start));
    let app = spawn_app_on_clock(clock.clone(), |c| {
        c.prune_every = std::time::Duration::from_millis(50)
    })
    .await;
    let a = app.connection_id.clone();
    let (b, b_token) = app.new_connection("Entra tenant").await;
    let (ca, cb) = (
        (a.as_str(), app.token.as_str()),
        (b.as_str(), b_token.as_str()),
    );
    let mut ids = HashMap::new();

    let early = joiner(&app, &clock, ca, "early@acme.test", OKTA, 1).await;
    let (s, v) = scim(
        &app,
        ca,
        Method::PUT,
        &format!("/Users/{early}"),
        OKTA,
        Some(put_body("early@acme.test", false)),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    app.barrier().await;

    clock.advance(Duration::days(12));
    let r = app
        .admin_req(Method::PUT, "/settings/log-retention")
        .json(&json!({"days": 10}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let mut complete_from = None;
    for _ in 0..300 {
        complete_from = app.db().read(log::complete_from).await.unwrap();
        if complete_from.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // The newest pruned row is day 0's deactivation: complete a millisecond after it.
    let complete_from = complete_from.expect("the retention pass prunes day 0");
    assert_eq!(complete_from, fmt(start + Duration::milliseconds(1)));

    let step = || clock.advance(Duration::minutes(1));
    // Okta: PUT with active false.
    let ada = joiner(&app, &clock, ca, "ada@acme.test", OKTA, 2).await;
    step();
    let (s, _) = scim(
        &app,
        ca,
        Method::PUT,
        &format!("/Users/{ada}"),
        OKTA,
        Some(put_body("ada@acme.test", false)),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    ids.insert("ada@acme.test", (a.clone(), ada));
    // Okta: PATCH without a path.
    let bob = joiner(&app, &clock, ca, "bob@acme.test", OKTA, 1).await;
    step();
    let ops = json!([{"op": "replace", "value": {"active": false}}]);
    let (s, _) = scim(
        &app,
        ca,
        Method::PATCH,
        &format!("/Users/{bob}"),
        OKTA,
        Some(patch_body(ops)),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    ids.insert("bob@acme.test", (a.clone(), bob));
    // Entra without aadOptscim062020: "Replace" and the string "False".
    let cy = joiner(&app, &clock, cb, "cy@acme.test", ENTRA, 1).await;
    step();
    let ops = json!([{"op": "Replace", "path": "active", "value": "False"}]);
    let (s, v) = scim(
        &app,
        cb,
        Method::PATCH,
        &format!("/Users/{cy}"),
        ENTRA,
        Some(patch_body(ops)),
    )
    .await;
    assert!(s.is_success(), "{v}");
    ids.insert("cy@acme.test", (b.clone(), cy));

    // An application reads the feed and acknowledges everything so far.
    let key = app
        .db()
        .write(move |c| Ok(sessions::issue_app_key(c, "hr app", start)?.0))
        .await
        .unwrap();
    app.barrier().await;
    let head = app.db().read(feed::head).await.unwrap();
    let origin = app.admin.trim_end_matches("/api");
    let r = app
        .client
        .get(format!("{origin}/app/v1/feed?after={head}"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // Entra with aadOptscim062020.
    let di = joiner(&app, &clock, cb, "di@acme.test", ENTRA, 1).await;
    step();
    let ops = json!([{"op": "replace", "path": "active", "value": false}]);
    let (s, v) = scim(
        &app,
        cb,
        Method::PATCH,
        &format!("/Users/{di}?aadOptscim062020"),
        ENTRA,
        Some(patch_body(ops)),
    )
    .await;
    assert!(s.is_success(), "{v}");
    ids.insert("di@acme.test", (b.clone(), di));
    // Okta: DELETE.
    let eve = joiner(&app, &clock, ca, "eve@acme.test", OKTA, 1).await;
    step();
    let (s, _) = scim(
        &app,
        ca,
        Method::DELETE,
        &format!("/Users/{eve}"),
        OKTA,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    ids.insert("eve@acme.test", (a.clone(), eve));
    // A deactivation refused (an operation the PATCH engine does not know), retried 5 min later.
    let fay = joiner(&app, &clock, ca, "fay@acme.test", OKTA, 1).await;
    step();
    let ops = json!([{"op": "replace", "path": "active", "value": false}, {"op": "frobnicate", "path": "title", "value": "x"}]);
    let (s, v) = scim(
        &app,
        ca,
        Method::PATCH,
        &format!("/Users/{fay}"),
        OKTA,
        Some(patch_body(ops)),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    clock.advance(Duration::minutes(5));
    let ops = json!([{"op": "replace", "path": "active", "value": false}]);
    let (s, _) = scim(
        &app,
        ca,
        Method::PATCH,
        &format!("/Users/{fay}"),
        OKTA,
        Some(patch_body(ops)),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    ids.insert("fay@acme.test", (a.clone(), fay.clone()));
    // Deactivated, then the IdP sets the user active again.
    let gus = joiner(&app, &clock, ca, "gus@acme.test", OKTA, 1).await;
    step();
    let (s, _) = scim(
        &app,
        ca,
        Method::PUT,
        &format!("/Users/{gus}"),
        OKTA,
        Some(put_body("gus@acme.test", false)),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    step();
    let (s, _) = scim(
        &app,
        ca,
        Method::PUT,
        &format!("/Users/{gus}"),
        OKTA,
        Some(put_body("gus@acme.test", true)),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    ids.insert("gus@acme.test", (a.clone(), gus));
    let refused_log_id = app
        .log()
        .await
        .iter()
        .find(|e| e["status"] == json!(400) && e["path"].as_str().unwrap().contains(&fay))
        .map(|e| e["id"].as_i64().unwrap())
        .expect("the refused PATCH is logged");

    // A readiness run from the console against connection a: its test users are created,
    // deactivated, deleted and purged inside the period. They are Muster's own, not leavers.
    step();
    let r = app
        .admin_req(Method::POST, "/check")
        .json(&json!({"connection_id": a}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    app.barrier().await;
    let conn = a.clone();
    let (test_users, purged) = app
        .db()
        .read(move |c| {
            let count = |sql: &str| -> directory::Result<i64> {
                c.query_row(sql, [&conn], |r| r.get(0))
            };
            Ok((
                count(
                    "SELECT COUNT(DISTINCT resource_id) FROM provisioning_log WHERE connection_id = ?1
                        AND traffic = 'check' AND outcome = 'created' AND resource_type = 'User'",
                )?,
                count(
                    "SELECT COUNT(*) FROM provisioning_log WHERE connection_id = ?1
                        AND outcome = 'purged' AND resource_type = 'User'",
                )?,
            ))
        })
        .await
        .unwrap();
    assert!(test_users >= 2, "the run created {test_users} user(s)");
    assert_eq!(purged, test_users, "every test user is purged at once");

    let to_time = clock.now() + Duration::minutes(30);
    clock.advance(Duration::hours(1));
    let day_start = start.date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc();
    Scenario {
        from: start.format("%Y-%m-%d").to_string(),
        to: fmt(to_time),
        app,
        a,
        b,
        day_start,
        to_time,
        complete_from,
        ids,
        refused_log_id,
        test_users,
    }
}

fn leaver<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["leavers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["user_name"] == json!(name))
        .unwrap_or_else(|| panic!("{name} is not a leaver in {r:#}"))
}

/// Nearest rank over the receipt-to-commit times of the report's leavers.
fn latency_of(r: &Value) -> Value {
    let mut us: Vec<i64> = r["leavers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["receipt_to_commit_us"].as_i64().unwrap())
        .collect();
    us.sort_unstable();
    let rank = |p: usize| us[(p * us.len()).div_ceil(100) - 1];
    json!({"count": us.len(), "p50_us": rank(50), "p95_us": rank(95), "max_us": us.last()})
}

#[tokio::test(flavor = "multi_thread")]
async fn the_report_lists_every_leaver_and_what_retention_no_longer_covers() {
    let sc = scenario().await;
    let app = &sc.app;
    let query = format!("from={}&to={}", sc.from, sc.to.replace('+', "%2B"));
    // The log rows first: reading them adds a (barrier) connection, which "all" would list.
    let log: HashMap<i64, Value> = {
        let mut rows = app.log().await;
        rows.extend(app.log_of(&sc.b).await);
        rows.into_iter()
            .map(|e| (e["id"].as_i64().unwrap(), e))
            .collect()
    };
    let (r, hash) = report(app, &format!("connection=all&{query}")).await;

    assert_eq!(r["kind"], json!("muster.deprovisioning-evidence"));
    assert_eq!(r["scope"]["connection_id"], Value::Null);
    assert_eq!(r["scope"]["from"], json!(fmt(sc.day_start)));
    assert_eq!(r["scope"]["to"], json!(fmt(sc.to_time)));
    let scoped: Vec<&Value> = r["scope"]["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["id"])
        .collect();
    assert!(
        scoped.contains(&&json!(sc.a)) && scoped.contains(&&json!(sc.b)),
        "{scoped:?}"
    );

    // Coverage: day 0's rows are gone, and the report says so with what the sessions show.
    let cov = &r["coverage"];
    assert_eq!(cov["complete"], json!(false));
    assert_eq!(cov["covered_from"], json!(sc.complete_from));
    assert_eq!(cov["covered_to"], json!(fmt(sc.to_time)));
    assert_eq!(cov["log_retention_days"], json!(10));
    let gaps = cov["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{gaps:#?}");
    assert_eq!(gaps[0]["from"], json!(fmt(sc.day_start)));
    assert_eq!(gaps[0]["to"], json!(sc.complete_from));
    assert_eq!(gaps[0]["sessions_revoked_by_deprovisioning"], json!(1));
    assert!(gaps[0]["reason"]
        .as_str()
        .unwrap()
        .contains("removed by retention (the log keeps 10 days)"));
    assert!(r["leavers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["user_name"] != json!("early@acme.test")));

    // Every leaver: how, in which dialect, its sessions, the application's acknowledgement.
    let expect = [
        (
            "ada@acme.test",
            "deactivated",
            "PUT",
            "okta",
            2,
            "acknowledged",
        ),
        (
            "bob@acme.test",
            "deactivated",
            "PATCH",
            "okta",
            1,
            "acknowledged",
        ),
        (
            "cy@acme.test",
            "deactivated",
            "PATCH",
            "entra",
            1,
            "acknowledged",
        ),
        (
            "di@acme.test",
            "deactivated",
            "PATCH",
            "entra-aadOptscim062020",
            1,
            "pending",
        ),
        ("eve@acme.test", "deleted", "DELETE", "okta", 1, "pending"),
        (
            "fay@acme.test",
            "deactivated",
            "PATCH",
            "okta",
            1,
            "pending",
        ),
        ("gus@acme.test", "deactivated", "PUT", "okta", 1, "pending"),
    ];
    let names: Vec<&Value> = r["leavers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["user_name"])
        .collect();
    assert_eq!(
        names,
        expect
            .iter()
            .map(|e| json!(e.0))
            .collect::<Vec<_>>()
            .iter()
            .collect::<Vec<_>>()
    );
    for (name, how, method, dialect, sessions, ack) in expect {
        let l = leaver(&r, name);
        let (conn, id) = &sc.ids[name];
        assert_eq!(l["connection_id"], json!(conn), "{name}");
        assert_eq!(l["user_id"], json!(id), "{name}");
        assert_eq!(l["external_id"], json!(external_id(name)), "{name}");
        assert_eq!(l["how"], json!(how), "{name}");
        assert_eq!(l["method"], json!(method), "{name}");
        assert_eq!(l["dialect"], json!(dialect), "{name}");
        assert_eq!(l["sessions_revoked"], json!(sessions), "{name}");
        assert_eq!(l["sessions_revoked_at"], l["committed_at"], "{name}");
        assert_eq!(l["revoked_in_same_transaction"], json!(true), "{name}");
        assert_eq!(l["consumption"]["status"], json!(ack), "{name}");
        assert!(l["consumption"]["feed_seq"].is_i64(), "{name}");
        if ack == "acknowledged" {
            assert_eq!(
                l["consumption"]["consumers"][0]["app_key"]
                    .as_str()
                    .unwrap()
                    .split(" (")
                    .next(),
                Some("hr app")
            );
        }
        // Receipt and commit are the log row's: its time, less its measured duration.
        let row = &log[&l["log_id"].as_i64().unwrap()];
        assert_eq!(l["committed_at"], row["at"], "{name}");
        assert_eq!(l["request_id"], row["request_id"], "{name}");
        let us = (row["duration_ms"].as_f64().unwrap() * 1000.0).round() as i64;
        assert_eq!(l["receipt_to_commit_us"], json!(us), "{name}");
        assert_eq!(
            micros(&l["committed_at"]) - micros(&l["received_at"]),
            us,
            "{name}"
        );
        assert!(us > 0, "{name}");
    }

    // The refused deactivation: one failed attempt, resolved five minutes later.
    let fay = leaver(&r, "fay@acme.test");
    assert_eq!(fay["failed_attempts"], json!(1));
    let failed = r["failed_requests"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    let f = &failed[0];
    assert_eq!(f["user_name"], json!("fay@acme.test"));
    assert_eq!(f["intent"], json!("deactivate"));
    assert_eq!(f["method"], json!("PATCH"));
    assert_eq!(f["status"], json!(400));
    assert_eq!(f["log_id"], json!(sc.refused_log_id));
    assert_eq!(f["resolution"], json!("succeeded"));
    assert_eq!(f["resolved_at"], fay["committed_at"]);
    assert_eq!(fay["first_failed_at"], f["received_at"]);
    let delay = micros(&fay["committed_at"]) - micros(&f["received_at"]);
    assert_eq!(f["resolved_after_us"], json!(delay));
    assert_eq!(fay["retry_delay_us"], json!(delay));
    assert!((300_000_000..310_000_000).contains(&delay), "{delay}");

    // The reactivation, on the leaver and on its own.
    let gus = leaver(&r, "gus@acme.test");
    assert_eq!(gus["reactivated_by"], json!("idp"));
    let reactivations = r["reactivations"].as_array().unwrap();
    assert_eq!(reactivations.len(), 1, "{reactivations:#?}");
    assert_eq!(reactivations[0]["user_name"], json!("gus@acme.test"));
    assert_eq!(reactivations[0]["deprovisioned_at"], gus["committed_at"]);
    assert_eq!(reactivations[0]["reactivated_at"], gus["reactivated_at"]);
    assert_eq!(
        micros(&gus["reactivated_at"]) - micros(&gus["committed_at"]),
        60_000_000
    );
    for name in [
        "ada@acme.test",
        "bob@acme.test",
        "cy@acme.test",
        "di@acme.test",
        "eve@acme.test",
        "fay@acme.test",
    ] {
        assert_eq!(leaver(&r, name)["reactivated_at"], Value::Null, "{name}");
    }

    // The summary.
    let s = &r["summary"];
    assert_eq!(s["leavers"], json!(7));
    assert_eq!(s["deprovisionings"], json!(7));
    assert_eq!(s["deactivated"], json!(6));
    assert_eq!(s["deleted"], json!(1));
    assert_eq!(
        s["by_dialect"],
        json!({"entra": 1, "entra-aadOptscim062020": 1, "okta": 5})
    );
    assert_eq!(s["sessions_revoked"], json!(8));
    assert_eq!(s["receipt_to_revocation"], latency_of(&r));
    assert_eq!(s["failed_first"].as_array().unwrap().len(), 1);
    assert_eq!(s["failed_first"][0]["user_name"], json!("fay@acme.test"));
    assert_eq!(s["failed_first"][0]["failed_attempts"], json!(1));
    assert_eq!(s["failed_first"][0]["delay_us"], json!(delay));
    assert_eq!(s["unresolved_failures"], json!(0));
    assert_eq!(s["reactivated_users"], json!(1));
    assert_eq!(s["acknowledged"], json!(3));
    assert_eq!(s["pending_acknowledgement"], json!(4));
    assert_eq!(s["no_consumer"], json!(0));
    assert_eq!(s["acknowledgement_unknown"], json!(0));
    // The readiness run's test users were purged in the period: left out, and counted.
    assert_eq!(r["purges"], json!([]));
    assert_eq!(s["own_test_users_left_out"], json!(sc.test_users));
    assert!(r["method"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m.as_str().unwrap().contains("own_test_users_left_out")));

    // The hash: the header, the report's own, and the documented jq | sha256sum agree.
    assert_eq!(r["integrity"]["sha256"], json!(hash));
    assert_eq!(documented_hash(r.to_string().as_bytes()), hash);
    assert_eq!(r["integrity"]["signature"], Value::Null);

    // One connection: only its leavers; the gap and its sessions are that connection's.
    let (one, _) = report(app, &format!("connection={}&{query}", sc.a)).await;
    let names: Vec<&Value> = one["leavers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["user_name"])
        .collect();
    assert_eq!(
        names,
        [
            json!("ada@acme.test"),
            json!("bob@acme.test"),
            json!("eve@acme.test"),
            json!("fay@acme.test"),
            json!("gus@acme.test")
        ]
        .iter()
        .collect::<Vec<_>>()
    );
    assert_eq!(one["scope"]["connection_id"], json!(sc.a));
    assert_eq!(one["summary"]["by_dialect"], json!({"okta": 5}));
    assert_eq!(one["summary"]["sessions_revoked"], json!(6));
    assert_eq!(
        one["summary"]["own_test_users_left_out"],
        json!(sc.test_users)
    );
    assert_eq!(
        one["coverage"]["gaps"][0]["sessions_revoked_by_deprovisioning"],
        json!(1)
    );
    let (other, _) = report(app, &format!("connection={}&{query}", sc.b)).await;
    assert_eq!(other["summary"]["leavers"], json!(2));
    assert_eq!(other["summary"]["own_test_users_left_out"], json!(0));
    assert_eq!(
        other["coverage"]["gaps"][0]["sessions_revoked_by_deprovisioning"],
        json!(0)
    );

    // A period wholly after the pruning is complete; one wholly inside the gap covers nothing.
    let (after, _) = report(app, &format!("from={}&to={}", sc.complete_from, sc.to)).await;
    assert_eq!(after["coverage"]["complete"], json!(true));
    assert_eq!(after["coverage"]["gaps"], json!([]));
    assert_eq!(after["summary"]["leavers"], json!(7));
    let (inside, _) = report(app, &format!("from={}&to={}", sc.from, sc.complete_from)).await;
    assert_eq!(inside["coverage"]["complete"], json!(false));
    assert_eq!(inside["coverage"]["covered_from"], Value::Null);
    assert_eq!(inside["summary"]["leavers"], json!(0));
    assert_eq!(
        inside["coverage"]["gaps"][0]["sessions_revoked_by_deprovisioning"],
        json!(1)
    );

    // The downloads carry the same hash and the same rows.
    let download = |format: &'static str| {
        let q = format!("connection=all&{query}&format={format}");
        async move {
            let r = admin_get(app, &format!("/evidence?{q}")).await;
            assert_eq!(r.status(), StatusCode::OK, "{format}");
            let h = r.headers()["x-muster-evidence-sha256"]
                .to_str()
                .unwrap()
                .to_string();
            let disposition = r.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .to_string();
            let kind = r.headers()["content-type"].to_str().unwrap().to_string();
            (h, disposition, kind, r.bytes().await.unwrap().to_vec())
        }
    };
    let (h, disposition, kind, body) = download("json").await;
    assert_eq!(h, hash);
    assert!(
        disposition.contains(&format!("muster-evidence-{}-", sc.from)),
        "{disposition}"
    );
    assert!(kind.starts_with("application/json"));
    let file: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(file, r);
    assert_eq!(documented_hash(&body), hash);

    let (h, _, kind, body) = download("csv").await;
    assert_eq!(h, hash);
    assert!(kind.starts_with("text/csv"));
    let csv = String::from_utf8(body).unwrap();
    let notes: Vec<&str> = csv.lines().filter(|l| l.starts_with("# ")).collect();
    assert!(
        notes
            .iter()
            .any(|l| l.starts_with("# NOT COVERED: ") && l.contains(&sc.complete_from)),
        "{notes:#?}"
    );
    assert!(notes.iter().any(|l| l.contains(&hash)), "{notes:#?}");
    let left_out = format!(
        "Muster's own test users left out (readiness runs and connection tests): {}",
        sc.test_users
    );
    assert!(notes.iter().any(|l| l.contains(&left_out)), "{notes:#?}");
    let mut rows = csv.lines().filter(|l| !l.starts_with("# "));
    let header: Vec<&str> = rows.next().unwrap().split(',').collect();
    assert_eq!(header[0], "record");
    let rows: Vec<Vec<&str>> = rows.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 8, "7 leavers and 1 failed request:\n{csv}");
    assert_eq!(rows.iter().filter(|r| r[0] == "leaver").count(), 7);
    assert_eq!(rows.iter().filter(|r| r[0] == "failed_request").count(), 1);
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let eve = rows
        .iter()
        .find(|r| r[col("user_name")] == "eve@acme.test")
        .unwrap();
    assert_eq!(
        (
            eve[col("how")],
            eve[col("method")],
            eve[col("sessions_revoked")]
        ),
        ("deleted", "DELETE", "1")
    );
    assert!(rows
        .iter()
        .filter(|r| r[0] == "leaver")
        .all(|r| r.len() == header.len()));

    let (h, _, kind, pdf) = download("pdf").await;
    assert_eq!(h, hash);
    assert_eq!(kind, "application/pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    let text = pipe("pdftotext - -", &pdf);
    for needle in [
        "Deprovisioning evidence",
        "Leavers: 7 (7 deprovisionings: 6 deactivated, 1 deleted)",
        "By dialect: entra 1, entra-aadOptscim062020 1, okta 5",
        "Sessions revoked: 8",
        "Failed at first, then succeeded: 1 leaver(s)",
        "Deprovisioned, then reactivated or restored: 1 user(s)",
        "Application acknowledgement: 3 acknowledged, 4 pending",
        "NOT COVERED",
        "removed by retention",
        &left_out,
        &hash,
    ] {
        assert!(text.contains(needle), "{needle:?} not in the PDF:\n{text}");
    }
    let lat = &s["receipt_to_revocation"];
    let ms = |us: &Value| {
        let us = us.as_i64().unwrap();
        format!("{}.{:03} ms", us / 1000, us % 1000)
    };
    assert!(
        text.contains(&format!(
            "p50 {}, p95 {}, max {}",
            ms(&lat["p50_us"]),
            ms(&lat["p95_us"]),
            ms(&lat["max_us"])
        )),
        "{text}"
    );
    for (name, _, _, _, _, _) in expect {
        assert!(text.contains(name), "{name} not in the PDF:\n{text}");
        assert!(
            text.contains(&external_id(name)),
            "{name}'s externalId not in the PDF"
        );
    }

    // The CLI reads the same database and writes the same report (only its time differs).
    if sqlite_only("muster evidence reads the SQLite file (--db)") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (json_path, csv_path, pdf_path) = (
        dir.path().join("e.json"),
        dir.path().join("e.csv"),
        dir.path().join("e.pdf"),
    );
    let (code, out, err) = muster(&[
        "evidence",
        "--db",
        sc.app.db_path.to_str().unwrap(),
        "--from",
        &sc.from,
        "--to",
        &sc.to,
        "--json",
        json_path.to_str().unwrap(),
        "--csv",
        csv_path.to_str().unwrap(),
        "--pdf",
        pdf_path.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let cli: Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    let without_when = |v: &Value| {
        let mut v = v.clone();
        v.as_object_mut().unwrap().remove("generated_at");
        v.as_object_mut().unwrap().remove("integrity");
        v
    };
    assert_eq!(without_when(&cli), without_when(&r));
    let cli_hash = cli["integrity"]["sha256"].as_str().unwrap();
    assert_eq!(
        documented_hash(&std::fs::read(&json_path).unwrap()),
        cli_hash
    );
    assert!(out.contains(&format!("SHA-256: {cli_hash}")), "{out}");
    assert!(
        out.contains("Leavers: 7 (6 deactivated, 1 deleted); sessions revoked: 8"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "Receipt to revocation: p50 {}, p95 {}, max {}",
            ms(&lat["p50_us"]),
            ms(&lat["p95_us"]),
            ms(&lat["max_us"])
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "NOT COVERED: {} to {}",
            fmt(sc.day_start),
            sc.complete_from
        )),
        "{out}"
    );
    assert!(
        out.contains(
            "Failed at first, then succeeded: 1; failures never resolved: 0; reactivated later: 1"
        ),
        "{out}"
    );
    assert!(out.contains(&left_out), "{out}");
    let cli_csv = std::fs::read_to_string(&csv_path).unwrap();
    assert_eq!(cli_csv.lines().filter(|l| !l.starts_with('#')).count(), 9);
    assert!(std::fs::read(&pdf_path).unwrap().starts_with(b"%PDF-"));
    // Scoped to one connection from the CLI, too.
    let (code, out, err) = muster(&[
        "evidence",
        "--db",
        sc.app.db_path.to_str().unwrap(),
        "--connection",
        &sc.b,
        "--from",
        &sc.from,
        "--to",
        &sc.to,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Leavers: 2 (2 deactivated, 0 deleted); sessions revoked: 2"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_are_refused_with_what_is_wrong() {
    let clock = Arc::new(ManualClock::new(Utc::now().trunc_subsecs(0)));
    let app = spawn_app_on_clock(clock, |_| {}).await;
    let cases = [
        ("to=2026-11-30", StatusCode::BAD_REQUEST, "from is required"),
        ("from=2026-11-01", StatusCode::BAD_REQUEST, "to is required"),
        (
            "from=&to=2026-11-30",
            StatusCode::BAD_REQUEST,
            "from is required",
        ),
        (
            "from=yesterday&to=2026-11-30",
            StatusCode::BAD_REQUEST,
            "\"yesterday\" is neither a date",
        ),
        (
            "from=2026-11-01&to=2026-13-01",
            StatusCode::BAD_REQUEST,
            "\"2026-13-01\" is neither a date",
        ),
        (
            "from=2026-11-30&to=2026-11-01",
            StatusCode::BAD_REQUEST,
            "the period ends before it starts",
        ),
        (
            "from=2010-01-01&to=2026-11-01",
            StatusCode::BAD_REQUEST,
            "at most ten years",
        ),
        (
            "from=2999-01-01&to=2999-01-02",
            StatusCode::BAD_REQUEST,
            "starts after the time of the report",
        ),
        (
            "from=2026-11-01&to=2026-11-30&format=xlsx",
            StatusCode::BAD_REQUEST,
            "format is json, csv or pdf, not \"xlsx\"",
        ),
        (
            "from=2026-11-01&to=2026-11-30&connection=nope",
            StatusCode::NOT_FOUND,
            "connection nope",
        ),
    ];
    for (query, status, message) in cases {
        let r = admin_get(&app, &format!("/evidence?{query}")).await;
        assert_eq!(r.status(), status, "{query}");
        assert!(
            r.headers().get("x-muster-evidence-sha256").is_none(),
            "{query}"
        );
        let v: Value = r.json().await.unwrap();
        assert!(
            v["message"].as_str().unwrap_or("").contains(message),
            "{query}: {v}"
        );
    }
    // The admin secret is required, on every format.
    let url = format!(
        "{}/evidence?from=2026-11-01&to=2026-11-30&format=pdf",
        app.admin
    );
    for auth in [None, Some("not-the-secret")] {
        let mut r = app.client.get(&url);
        if let Some(a) = auth {
            r = r.bearer_auth(a);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        assert!(r.headers().get("x-muster-evidence-sha256").is_none());
    }
    let ok = admin_get(&app, "/evidence?from=2026-11-01&to=2026-11-30&format=csv").await;
    assert_eq!(ok.status(), StatusCode::OK);

    // The CLI: bad dates, an unknown connection and a missing database exit non-zero.
    if sqlite_only("muster evidence reads the SQLite file (--db)") {
        return;
    }
    let db = app.db_path.to_str().unwrap();
    for (args, message) in [
        (
            vec!["--from", "2026-11-31", "--to", "2026-12-01"],
            "\"2026-11-31\" is neither a date",
        ),
        (
            vec!["--from", "2026-11-30", "--to", "2026-11-01"],
            "the period ends before it starts",
        ),
        (
            vec![
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-30",
                "--connection",
                "nope",
            ],
            "no connection nope",
        ),
    ] {
        let mut full = vec!["evidence", "--db", db];
        full.extend(args.iter().copied());
        let (code, out, err) = muster(&full);
        assert_eq!(code, 1, "{args:?}: {out}");
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
    }
    let missing = app.dir.path().join("none.db");
    let (code, _, err) = muster(&[
        "evidence",
        "--db",
        missing.to_str().unwrap(),
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("no database at"), "{err}");
    assert!(!missing.exists(), "a report must not create a database");
}
