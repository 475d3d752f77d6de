//! Scenarios leave the server in exactly the state their Summary predicts, in every dialect.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use idp::dialect::Dialect;
use idp::scenario::{run, ExpectedGroup, ExpectedState, ExpectedUser, Scenario, SimulateOptions};

use crate::broken_server::{spawn, Breaks, Fixture, TOKEN};

/// The fixture's directory, in the Summary's terms.
fn server_state(app: &Arc<Fixture>) -> ExpectedState {
    let store = app.store.lock().unwrap();
    let name_of: BTreeMap<String, String> = store
        .users
        .iter()
        .map(|(id, u)| (id.clone(), u["userName"].as_str().unwrap().to_string()))
        .collect();
    let mut users: BTreeMap<String, ExpectedUser> = store
        .users
        .values()
        .map(|u| {
            (
                u["userName"].as_str().unwrap().to_string(),
                ExpectedUser {
                    active: u["active"] == true,
                    groups: BTreeSet::new(),
                },
            )
        })
        .collect();
    let mut groups = BTreeMap::new();
    for g in store.groups.values() {
        let gname = g["displayName"].as_str().unwrap().to_string();
        let mut members = BTreeSet::new();
        for m in g["members"].as_array().into_iter().flatten() {
            if let Some(n) = m["value"].as_str().and_then(|id| name_of.get(id)) {
                members.insert(n.clone());
                users.get_mut(n).unwrap().groups.insert(gname.clone());
            }
        }
        groups.insert(gname, ExpectedGroup { members });
    }
    ExpectedState {
        users,
        groups,
        ..ExpectedState::default()
    }
}

fn opts(url: &str, dialect: Dialect, scenario: Scenario) -> SimulateOptions {
    let mut o = SimulateOptions::new(url, TOKEN, dialect, scenario);
    o.users = 40;
    o.groups = 6;
    o.concurrency = 4;
    o.seed = 42;
    o
}

#[tokio::test]
async fn initial_sync_matches_server_in_every_dialect() {
    for d in Dialect::ALL {
        let (url, app) = spawn(Breaks::default()).await;
        let s = run(opts(&url, d, Scenario::InitialSync)).await.unwrap();
        assert!(s.failures.is_empty(), "{d}: {:?}", s.failures);
        assert_eq!(s.expected, server_state(&app), "{d}");
        assert_eq!(s.expected.users.len(), 40);
        if d.provisions_groups() {
            assert_eq!(s.expected.groups.len(), 6);
            assert!(s
                .expected
                .users
                .values()
                .all(|u| (1..=5).contains(&u.groups.len())));
        } else {
            assert!(s.expected.groups.is_empty());
        }
        assert_eq!(s.requests, s.by_status.values().sum::<usize>());
        assert!(s.render_text().contains("initial-sync"));
    }
}

#[tokio::test]
async fn joiners_movers_leavers_survive_rate_limiting() {
    let (url, app) = spawn(Breaks::default()).await;
    let mut o = opts(&url, Dialect::Entra, Scenario::JoinersMoversLeavers);
    // More in flight than the fixture admits: 429s must be waited out and retried.
    o.concurrency = 40;
    o.rounds = 2;
    let s = run(o).await.unwrap();
    assert!(s.failures.is_empty(), "{:?}", s.failures);
    assert!(s.rate_limited > 0, "expected 429s: {:?}", s.by_status);
    assert_eq!(s.expected, server_state(&app));
    assert!(s.expected.users.values().any(|u| !u.active));
    assert!(s.expected.users.len() > 40);
}

#[tokio::test]
async fn okta_jml_and_group_rename() {
    let (url, app) = spawn(Breaks::default()).await;
    let s = run(opts(&url, Dialect::Okta, Scenario::JoinersMoversLeavers))
        .await
        .unwrap();
    assert!(s.failures.is_empty(), "{:?}", s.failures);
    assert_eq!(s.expected, server_state(&app));

    let (url, app) = spawn(Breaks::default()).await;
    let s = run(opts(&url, Dialect::EntraCompliant, Scenario::GroupRename))
        .await
        .unwrap();
    assert!(s.expected.groups.keys().all(|g| g.ends_with("renamed")));
    assert_eq!(s.expected, server_state(&app));
}

#[tokio::test]
async fn retry_create_and_leaver() {
    let (url, app) = spawn(Breaks::default()).await;
    let s = run(opts(&url, Dialect::Generic, Scenario::RetryCreate))
        .await
        .unwrap();
    assert_eq!(s.observations["retry_create"]["exactly_one_created"], true);
    assert_eq!(s.expected, server_state(&app));

    let (url, _app) = spawn(Breaks {
        no_409: true,
        ..Breaks::default()
    })
    .await;
    let s = run(opts(&url, Dialect::Generic, Scenario::RetryCreate))
        .await
        .unwrap();
    assert_eq!(s.observations["retry_create"]["exactly_one_created"], false);

    let (url, app) = spawn(Breaks::default()).await;
    let s = run(opts(&url, Dialect::Okta, Scenario::Leaver))
        .await
        .unwrap();
    assert_eq!(s.observations["leaver"]["active"], false);
    assert_eq!(s.expected, server_state(&app));
}

#[tokio::test]
async fn group_before_user_records_the_answer() {
    let (url, app) = spawn(Breaks::default()).await;
    let s = run(opts(&url, Dialect::Okta, Scenario::GroupBeforeUser))
        .await
        .unwrap();
    let obs = &s.observations["group_before_user"];
    // This fixture does not validate member ids, so it accepts and keeps the dangling one.
    assert_eq!(obs["early_patch_status"], 204);
    assert_eq!(obs["dangling_member_kept"], true);
    assert_eq!(s.expected, server_state(&app));
    assert!(run(opts(&url, Dialect::Google, Scenario::GroupBeforeUser))
        .await
        .is_err());
}

#[tokio::test]
async fn leaver_delete_later_counts_404_as_gone_and_anything_else_as_a_failure() {
    // A plain server: two DELETEs 204, the out-of-band-deleted leaver's DELETE 404.
    let (url, app) = spawn(Breaks::default()).await;
    let mut o = opts(&url, Dialect::Entra, Scenario::LeaverDeleteLater);
    (o.leavers, o.deleted_out_of_band) = (3, 1);
    let s = run(o).await.unwrap();
    assert!(s.failures.is_empty(), "{:?}", s.failures);
    let last = s.cycles.last().unwrap();
    assert_eq!(
        (last.users_deleted, last.already_gone, last.failures),
        (2, 1, 0)
    );
    assert_eq!(s.expected.deleted.len(), 3);
    let held = server_state(&app);
    assert_eq!(
        (&held.users, &held.groups),
        (&s.expected.users, &s.expected.groups)
    );

    // A server that answers 500 where it means 404: that DELETE is a failure, not "gone",
    // and the simulated Entra still believes the user exists (disabled).
    let (url, _app) = spawn(Breaks {
        server_error_not_found: true,
        ..Breaks::default()
    })
    .await;
    let mut o = opts(&url, Dialect::EntraCompliant, Scenario::LeaverDeleteLater);
    (o.leavers, o.deleted_out_of_band) = (3, 1);
    let s = run(o).await.unwrap();
    let last = s.cycles.last().unwrap();
    assert_eq!(
        (last.users_deleted, last.already_gone, last.failures),
        (2, 0, 1)
    );
    assert_eq!(s.failures.len(), 1);
    assert!(s.failures[0].contains("answered 500"), "{:?}", s.failures);
    assert_eq!(s.expected.deleted.len(), 2);
    assert_eq!(s.expected.users.values().filter(|u| !u.active).count(), 1);
}
