//! The IdP simulator and the readiness report against a real Muster: every scenario in
//! every dialect leaves exactly the directory the simulated IdP believes it pushed, and
//! `muster check` passes every applicable check.

use directory::{connections, tokens, Db};
use idp::scenario::{ExpectedGroup, ExpectedState, ExpectedUser, Scenario};
use idp::{Dialect, SimulateOptions};
use muster_server::{start, RunningServer, ServerConfig};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

async fn spawn() -> (tempfile::TempDir, RunningServer, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("muster.db");
    let (id, token) = {
        let db = Db::open(&path).unwrap();
        db.write_blocking(|c| {
            let now = chrono::Utc::now();
            let conn = connections::create(c, "Sim", connections::Idp::Generic, false, now)?;
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
    let url = format!("{}/{}", server.scim_base, id);
    (dir, server, url, token)
}

/// What the server actually holds, in the simulator's terms.
async fn actual(url: &str, token: &str) -> ExpectedState {
    let http = reqwest::Client::new();
    let get = |p: String| {
        let http = http.clone();
        async move {
            http.get(p)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let users = get(format!("{url}/Users?count=1000")).await;
    let groups = get(format!("{url}/Groups?count=1000")).await;
    let mut names = BTreeMap::new();
    let mut state = ExpectedState::default();
    for u in users["Resources"].as_array().unwrap() {
        let name = u["userName"].as_str().unwrap().to_string();
        names.insert(u["id"].as_str().unwrap().to_string(), name.clone());
        state.users.insert(
            name,
            ExpectedUser {
                active: u["active"].as_bool().unwrap_or(true),
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
    state
}

#[tokio::test]
async fn every_scenario_in_every_dialect_leaves_the_expected_directory() {
    for dialect in [
        Dialect::Okta,
        Dialect::Entra,
        Dialect::EntraCompliant,
        Dialect::Google,
    ] {
        for scenario in [
            Scenario::InitialSync,
            Scenario::JoinersMoversLeavers,
            Scenario::GroupRename,
            Scenario::Leaver,
            Scenario::RetryCreate,
            Scenario::GroupBeforeUser,
        ] {
            if !dialect.provisions_groups()
                && matches!(scenario, Scenario::GroupRename | Scenario::GroupBeforeUser)
            {
                continue; // Google Workspace pushes users only
            }
            let (_dir, server, url, token) = spawn().await;
            let mut opts = SimulateOptions::new(&url, &token, dialect, scenario);
            opts.users = 30;
            opts.groups = 4;
            opts.concurrency = 4;
            opts.rounds = 2;
            let summary = idp::run(opts)
                .await
                .unwrap_or_else(|e| panic!("{dialect:?} {scenario:?}: {e}"));
            assert!(
                summary.by_status.keys().all(|s| !s.starts_with('5')),
                "{dialect:?} {scenario:?}: {:?}",
                summary.by_status
            );
            let got = actual(&url, &token).await;
            assert_eq!(got, summary.expected, "{dialect:?} {scenario:?}");
            if scenario == Scenario::RetryCreate {
                let created = summary.by_status.get("201").copied().unwrap_or(0);
                assert!(created >= 1, "the user was created");
            }
            server.shutdown().await;
        }
    }
}

#[tokio::test]
async fn readiness_report_passes_every_applicable_check() {
    let (_dir, server, url, token) = spawn().await;
    let report = idp::check::run_checks(&url, &token, idp::check::CheckOptions::default()).await;
    let failed: Vec<String> = report
        .checks
        .iter()
        .filter(|c| c.outcome == idp::check::Outcome::Fail)
        .map(|c| format!("{}: {}", c.id, c.reason))
        .collect();
    assert!(report.passed(), "failed checks: {failed:#?}");
    assert!(report.checks.len() >= 40);
    // Muster advertises cursor pagination (RFC 9865), so its checks run and pass.
    for id in ["pagination.cursor_walk", "pagination.cursor_invalid"] {
        let c = report.check(id).unwrap_or_else(|| panic!("{id} ran"));
        assert_eq!(c.outcome, idp::check::Outcome::Pass, "{id}: {}", c.reason);
    }
    let html = report.render_html();
    assert!(html.contains("<html") && !html.contains(&token));
    server.shutdown().await;
}

/// README tells admins to paste `scim_url?aadOptscim062020` into Entra as the Tenant URL; Entra
/// keeps that flag as a query parameter on every request. The simulator, given the same URL, must
/// reach the same endpoints: no 404 (it used to request `…/conn?aadOptscim062020/Users`).
#[tokio::test]
async fn entra_tenant_url_with_the_flag_reaches_every_endpoint() {
    for scenario in [Scenario::InitialSync, Scenario::JoinersMoversLeavers] {
        let (_dir, server, url, token) = spawn().await;
        let tenant_url = format!("{url}?aadOptscim062020");
        let mut opts = SimulateOptions::new(&tenant_url, &token, Dialect::EntraCompliant, scenario);
        opts.users = 12;
        opts.groups = 3;
        opts.concurrency = 2;
        opts.rounds = 1;
        let summary = idp::run(opts)
            .await
            .unwrap_or_else(|e| panic!("{scenario:?}: {e}"));
        assert!(summary.requests > 0, "{scenario:?}: no request sent");
        assert_eq!(
            summary.by_status.get("404"),
            None,
            "{scenario:?}: {:?} {:?}",
            summary.by_status,
            summary.failures
        );
        assert!(
            summary.by_status.keys().all(|s| s.starts_with('2')),
            "{scenario:?}: {:?} {:?}",
            summary.by_status,
            summary.failures
        );
        assert_eq!(actual(&url, &token).await, summary.expected, "{scenario:?}");
        server.shutdown().await;
    }
}
