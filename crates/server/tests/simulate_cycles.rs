//! Entra's provisioning cycles and its DELETE 30 days after the disable, simulated against a
//! real Muster: the directory ends exactly as the simulated Entra believes (active, disabled,
//! deleted), every cycle's counts add up, simulated time is scaled rather than waited, and
//! the provisioning log sees the traffic as Entra's.

use directory::{connections, tokens, Db};
use idp::scenario::{ExpectedGroup, ExpectedState, ExpectedUser, Scenario};
use idp::{Dialect, SimulateOptions};
use muster_server::{start, RunningServer, ServerConfig};
use reqwest::Client;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

const ENTRA_UA: &str = "Microsoft Azure AD SCIM provisioning 1.0.0";

struct Target {
    _dir: tempfile::TempDir,
    server: RunningServer,
    connection: String,
    url: String,
    token: String,
    http: Client,
}

async fn spawn() -> Target {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("muster.db");
    let (connection, token) = {
        let db = Db::open(&path).unwrap();
        db.write_blocking(|c| {
            let now = chrono::Utc::now();
            let conn = connections::create(c, "Contoso", connections::Idp::Entra, false, now)?;
            Ok((
                conn.id.clone(),
                tokens::issue(c, &conn.id, "t", now)?.secret,
            ))
        })
        .unwrap()
    };
    let server = start(ServerConfig::new(path, "127.0.0.1:0".parse().unwrap()))
        .await
        .unwrap();
    let url = format!("{}/{}", server.scim_base, connection);
    Target {
        _dir: dir,
        server,
        connection,
        url,
        token,
        http: Client::new(),
    }
}

impl Target {
    async fn scim(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn admin(&self, path: &str) -> Value {
        let r = self
            .http
            .get(format!("{}{path}", self.server.admin_base))
            .bearer_auth(&self.server.admin_secret)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap()
    }

    /// Every user the console knows, live or soft-deleted: userName -> (id, status).
    async fn console_users(&self) -> BTreeMap<String, (String, String)> {
        let page = self
            .admin(&format!(
                "/connections/{}/users?status=all&limit=500",
                self.connection
            ))
            .await;
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                (
                    u["user_name"].as_str().unwrap().to_string(),
                    (
                        u["id"].as_str().unwrap().to_string(),
                        u["status"].as_str().unwrap().to_string(),
                    ),
                )
            })
            .collect()
    }

    /// What the server holds, in the simulator's terms: SCIM for live users and groups, the
    /// admin API for the soft-deleted users SCIM no longer shows.
    async fn actual(&self) -> ExpectedState {
        let (_, users) = self.scim("/Users?count=1000").await;
        let (_, groups) = self.scim("/Groups?count=1000").await;
        let mut names = BTreeMap::new();
        let mut state = ExpectedState::default();
        for u in users["Resources"].as_array().unwrap() {
            let name = u["userName"].as_str().unwrap().to_string();
            names.insert(u["id"].as_str().unwrap().to_string(), name.clone());
            state.users.insert(
                name,
                ExpectedUser {
                    active: u["active"].as_bool().unwrap(),
                    groups: BTreeSet::new(),
                },
            );
        }
        for g in groups["Resources"].as_array().unwrap() {
            let gname = g["displayName"].as_str().unwrap().to_string();
            let mut members = BTreeSet::new();
            for m in g["members"].as_array().cloned().unwrap_or_default() {
                let uname = names[m["value"].as_str().unwrap()].clone();
                state
                    .users
                    .get_mut(&uname)
                    .unwrap()
                    .groups
                    .insert(gname.clone());
                members.insert(uname);
            }
            state.groups.insert(gname, ExpectedGroup { members });
        }
        state.deleted = self
            .console_users()
            .await
            .into_iter()
            .filter(|(_, (_, status))| status == "deleted")
            .map(|(name, _)| name)
            .collect();
        state
    }

    /// The connection's provisioning log rows sent as Entra, oldest first, once there are at
    /// least `min` (refused requests are logged off the request path), and the other rows
    /// (this test's own reads, an out-of-band DELETE).
    async fn log(&self, min: usize) -> (Vec<Value>, Vec<Value>) {
        for _ in 0..50 {
            let page = self
                .admin(&format!("/connections/{}/log?limit=1000", self.connection))
                .await;
            let mut rows = page["items"].as_array().unwrap().clone();
            rows.reverse();
            let (entra, others): (Vec<Value>, Vec<Value>) =
                rows.into_iter().partition(|r| r["user_agent"] == ENTRA_UA);
            if entra.len() >= min {
                return (entra, others);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the log never reached {min} rows");
    }
}

/// The dialect Muster should detect for the simulator's PATCHes.
fn patch_dialect(d: Dialect) -> &'static str {
    match d {
        Dialect::Entra => "entra",
        _ => "entra-aadOptscim062020",
    }
}

#[tokio::test]
async fn entra_batches_joiners_movers_leavers_into_cycles() {
    for dialect in [Dialect::Entra, Dialect::EntraCompliant] {
        let t = spawn().await;
        let mut opts =
            SimulateOptions::new(&t.url, &t.token, dialect, Scenario::JoinersMoversLeavers);
        (opts.users, opts.groups, opts.concurrency, opts.rounds) = (30, 8, 4, 3);
        // A 40-minute cycle gap plays in 0.2 real seconds.
        opts.time_scale = Some(2400.0 / 0.2);
        let started = Instant::now();
        let s = idp::run(opts).await.unwrap();
        let real = started.elapsed();

        assert!(s.failures.is_empty(), "{dialect}: {:?}", s.failures);
        assert!(
            s.by_status.keys().all(|k| !k.starts_with('5')),
            "{:?}",
            s.by_status
        );
        // Three gaps of 0.2 s were really waited, and not forty minutes each.
        assert!(
            real >= Duration::from_millis(600) && real < Duration::from_secs(60),
            "{real:?}"
        );

        let at: Vec<u64> = s.cycles.iter().map(|c| c.at_secs).collect();
        assert_eq!(at, vec![0, 2400, 4800, 7200], "{dialect}");
        let first = &s.cycles[0];
        assert_eq!(
            (first.cycle, first.users_created, first.groups_created),
            (1, 30, 8)
        );
        assert_eq!(
            (first.users_updated, first.users_moved, first.users_disabled),
            (0, 0, 0)
        );
        // 30 users: one joiner, one mover, one updated and one leaver per incremental cycle.
        for c in &s.cycles[1..] {
            assert_eq!(
                (
                    c.users_created,
                    c.groups_created,
                    c.users_moved,
                    c.users_updated,
                    c.users_disabled,
                    c.users_deleted,
                    c.failures
                ),
                (1, 0, 1, 1, 1, 0, 0),
                "{dialect} cycle {}",
                c.cycle
            );
        }
        assert_eq!(
            s.cycles.iter().map(|c| c.requests).sum::<usize>(),
            s.requests,
            "every request belongs to a cycle"
        );
        assert!(s.render_text().contains("cycle   4 at    +2h00m"));

        let got = t.actual().await;
        assert_eq!(got, s.expected, "{dialect}");
        assert_eq!(got.users.len(), 33);
        assert_eq!(got.users.values().filter(|u| !u.active).count(), 3);
        assert!(got.deleted.is_empty());

        // The log sees Entra: one row per request with its User-Agent, the dialect detected
        // from it; the only other rows are this test's own reads.
        let (log, others) = t.log(s.requests).await;
        assert_eq!(log.len(), s.requests);
        assert!(
            others
                .iter()
                .all(|r| r["method"] == "GET" && r["user_agent"].is_null()),
            "{others:?}"
        );
        for row in &log {
            let d = row["dialect"].as_str().unwrap_or_default();
            assert!(d.starts_with("entra"), "{row}");
            if row["method"] == "PATCH" {
                assert_eq!(d, patch_dialect(dialect), "{row}");
            }
        }
        // Deactivation went out as Entra phrases it, and Muster took it.
        let disables = log
            .iter()
            .filter(|r| r["method"] == "PATCH" && r["outcome"] == "deactivated")
            .count();
        assert_eq!(disables, 3, "{dialect}");
        t.server.shutdown().await;
    }
}

#[tokio::test]
async fn entra_deletes_leavers_thirty_days_after_disabling_them() {
    for dialect in [Dialect::Entra, Dialect::EntraCompliant] {
        let t = spawn().await;
        let mut opts = SimulateOptions::new(&t.url, &t.token, dialect, Scenario::LeaverDeleteLater);
        (opts.users, opts.groups, opts.concurrency) = (20, 3, 4);
        (opts.leavers, opts.deleted_out_of_band) = (3, 1);
        // Thirty days play in about half a real second.
        opts.time_scale = Some(30.0 * 86_400.0 / 0.5);
        let started = Instant::now();
        let s = idp::run(opts).await.unwrap();
        assert!(started.elapsed() >= Duration::from_millis(500));

        assert!(s.failures.is_empty(), "{dialect}: {:?}", s.failures);
        assert!(
            s.by_status.keys().all(|k| !k.starts_with('5')),
            "{:?}",
            s.by_status
        );
        let at: Vec<u64> = s.cycles.iter().map(|c| c.at_secs).collect();
        // Disabled in the second cycle; deleted in the first cycle 30 days after it.
        assert_eq!(at, vec![0, 2400, 2400 * 1081], "{dialect}");
        let (sync, disable, delete) = (&s.cycles[0], &s.cycles[1], &s.cycles[2]);
        assert_eq!((sync.users_created, sync.groups_created), (20, 3));
        assert_eq!((disable.users_disabled, disable.requests), (3, 3));
        // One leaver was already removed in Muster: its DELETE got 404 and counts as gone.
        assert_eq!(
            (
                delete.users_deleted,
                delete.already_gone,
                delete.failures,
                delete.requests
            ),
            (2, 1, 0, 3),
            "{dialect}"
        );
        assert!(s.render_text().contains("+30d0h40m"));

        let observed = &s.observations["leaver_delete_later"];
        let leavers: BTreeSet<String> = observed["disabled"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert_eq!(leavers.len(), 3);
        assert_eq!(observed["deleted_out_of_band"].as_array().unwrap().len(), 1);

        // Exactly: 17 active users in their groups, the 3 leavers deleted and in no group.
        let got = t.actual().await;
        assert_eq!(got, s.expected, "{dialect}");
        assert_eq!(got.deleted, leavers);
        assert_eq!(got.users.len(), 17);
        assert!(got.users.values().all(|u| u.active));
        assert!(got.groups.values().all(|g| g.members.is_disjoint(&leavers)));

        // SCIM answers 404 for each deleted leaver; the console still lists them as deleted
        // (inside the retention window) and everyone else as active.
        let console = t.console_users().await;
        assert_eq!(console.len(), 20);
        for (name, (id, status)) in &console {
            if leavers.contains(name) {
                assert_eq!(status, "deleted", "{name}");
                assert_eq!(t.scim(&format!("/Users/{id}")).await.0, 404, "{name}");
            } else {
                assert_eq!(status, "active", "{name}");
            }
        }

        // The log: Entra's three DELETEs (two 204, one 404) under its dialect; the out-of-band
        // DELETE is someone else's and says so.
        let (log, others) = t.log(s.requests).await;
        assert_eq!(log.len(), s.requests);
        assert!(log.iter().all(|r| r["dialect"]
            .as_str()
            .unwrap_or_default()
            .starts_with("entra")));
        let entra: Vec<&Value> = log.iter().filter(|r| r["method"] == "DELETE").collect();
        assert_eq!(entra.len(), 3);
        assert!(entra
            .iter()
            .all(|r| r["dialect"].as_str().unwrap().starts_with("entra")));
        let mut statuses: Vec<i64> = entra
            .iter()
            .map(|r| r["status"].as_i64().unwrap())
            .collect();
        statuses.sort();
        assert_eq!(statuses, vec![204, 204, 404]);
        let outsider: Vec<&Value> = others.iter().filter(|r| r["method"] == "DELETE").collect();
        assert_eq!(outsider.len(), 1);
        assert_eq!(outsider[0]["status"], 204);
        assert!(outsider[0]["dialect"].is_null(), "{}", outsider[0]);
        // The disable went out as PATCH in Entra's dialect before any DELETE.
        let disabled: Vec<&Value> = log
            .iter()
            .filter(|r| r["method"] == "PATCH" && r["outcome"] == "deactivated")
            .collect();
        assert_eq!(disabled.len(), 3);
        assert!(disabled
            .iter()
            .all(|r| r["dialect"] == patch_dialect(dialect)));
        t.server.shutdown().await;
    }
}

/// `muster simulate` exposes the cycle settings and refuses the ones that cannot work.
#[tokio::test]
async fn cli_runs_entra_cycles_and_refuses_bad_settings() {
    let t = spawn().await;
    let muster = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_muster"))
            .arg("simulate")
            .args(["--url", &t.url, "--token", &t.token])
            .args(args)
            .output()
            .unwrap()
    };

    let out = muster(&["--idp", "okta", "--scenario", "leaver-delete-later"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("models Entra"));

    let out = muster(&[
        "--idp",
        "entra",
        "--scenario",
        "joiners-movers-leavers",
        "--time-scale",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("time scale"));

    let out = muster(&[
        "--idp",
        "entra",
        "--scenario",
        "leaver-delete-later",
        "--time-scale",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("real seconds"));

    // Simulated time is bounded: a DELETE a million years later is refused, not a panic.
    let out = muster(&[
        "--idp",
        "entra",
        "--scenario",
        "leaver-delete-later",
        "--delete-after-days",
        "365000000",
    ]);
    assert_eq!(out.status.code(), Some(2), "clap refuses the value");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--delete-after-days"));
    // Nothing was sent for any refused run.
    assert!(t.console_users().await.is_empty());

    let out = tokio::task::spawn_blocking({
        let (url, token) = (t.url.clone(), t.token.clone());
        move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_muster"))
                .args(["simulate", "--url", &url, "--token", &token])
                .args([
                    "--idp",
                    "entra-compliant",
                    "--scenario",
                    "leaver-delete-later",
                ])
                .args(["--users", "6", "--groups", "2", "--leavers", "2"])
                .args(["--cycle-interval", "600", "--delete-after-days", "7"])
                .args(["--deleted-out-of-band", "0", "--json"])
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let at: Vec<u64> = summary["cycles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["at_secs"].as_u64().unwrap())
        .collect();
    // 600 s cycles; deleted at the first cycle at or after 600 s + 7 days.
    assert_eq!(at, vec![0, 600, 600 + 7 * 86_400]);
    assert_eq!(summary["cycles"][2]["users_deleted"], 2);
    assert_eq!(summary["cycles"][2]["already_gone"], 0);
    assert_eq!(summary["expected"]["deleted"].as_array().unwrap().len(), 2);
    t.server.shutdown().await;
}
