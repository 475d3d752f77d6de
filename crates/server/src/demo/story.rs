//! The live demo's story: demo connections (Okta-style and Entra-style) and a scripted story played
//! over real SCIM on loopback — initial sync, a mover whose role changes, a leaver whose
//! session is revoked, a token rotation, a rejected user found by triage — with pause,
//! speed and a one-action reset that removes every piece of demo data.

use super::handle::{initial, Demo};
use crate::api::types::{DemoPhase, DemoState, StepStatus};
use crate::state::AppState;
use directory::{connections, roles, Actor};
use idp::dialect::{MemberRef, Person};
use idp::{Dialect, ScimClient, SimulateOptions};
use serde_json::Value;
use std::time::Duration;

impl Demo {
    /// Starts the story; false when one is already playing.
    pub fn start(&self, st: AppState, speed: f64) -> bool {
        let mut task = self.task.lock().unwrap_or_else(|e| e.into_inner());
        if task.as_ref().is_some_and(|t| !t.is_finished()) {
            return false;
        }
        let ids = self.snapshot().connection_ids;
        *self.inner.lock().unwrap_or_else(|e| e.into_inner()) = DemoState {
            connection_ids: ids,
            ..initial(speed.clamp(0.25, 100.0))
        };
        self.update(|s| s.phase = DemoPhase::Running);
        let demo = self.clone();
        *task = Some(tokio::spawn(async move {
            let result = play(&demo, &st).await;
            demo.update(|s| match &result {
                Ok(()) => s.phase = DemoPhase::Finished,
                Err(e) => {
                    s.phase = DemoPhase::Failed;
                    if let Some(step) = s.steps.iter_mut().find(|x| x.status == StepStatus::Running)
                    {
                        step.status = StepStatus::Failed;
                        step.detail = Some(e.clone());
                    }
                }
            });
            st.dir.touched("*");
        }));
        true
    }

    /// Stops the story and removes every demo connection with all its data.
    pub async fn reset(&self, st: &AppState) -> directory::Result<usize> {
        if let Some(t) = self.task.lock().unwrap_or_else(|e| e.into_inner()).take() {
            t.abort();
        }
        let n = st.dir.remove_demo().await?;
        *self.inner.lock().unwrap_or_else(|e| e.into_inner()) = initial(1.0);
        Ok(n)
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

async fn play(demo: &Demo, st: &AppState) -> Result<(), String> {
    // 1. Connections.
    demo.begin("connections", st.dir.now());
    let (o, ot) = st
        .dir
        .create_connection("Demo — Acme (Okta)", connections::Idp::Okta, Actor::Demo)
        .await
        .map_err(err)?;
    let (e, et) = st
        .dir
        .create_connection(
            "Demo — Contoso (Entra)",
            connections::Idp::Entra,
            Actor::Demo,
        )
        .await
        .map_err(err)?;
    let (okta, okta_token, entra, entra_token) = (o.id, ot.secret, e.id, et.secret);
    demo.update(|s| s.connection_ids = vec![okta.clone(), entra.clone()]);
    demo.done(
        "connections",
        st.dir.now(),
        "Acme (Okta) and Contoso (Entra) created, each with a token shown once.".into(),
        Some(format!("/connections/{okta}")),
    );
    demo.beat(2.0).await;

    // 2–3. Initial syncs through the simulator, over real HTTP on loopback.
    let okta_url = format!("{}/{okta}", st.scim_base);
    let entra_url = format!("{}/{entra}", st.scim_base);
    demo.begin("okta-sync", st.dir.now());
    let mut opts = SimulateOptions::new(
        &okta_url,
        &okta_token,
        Dialect::Okta,
        idp::scenario::Scenario::InitialSync,
    );
    (opts.users, opts.groups, opts.concurrency, opts.seed) = (40, 4, 4, 7);
    let okta_sync = idp::run(opts).await.map_err(err)?;
    demo.done(
        "okta-sync",
        st.dir.now(),
        format!(
            "{} requests, {} users and {} groups, p99 {:.0} ms.",
            okta_sync.requests,
            okta_sync.expected.users.len(),
            okta_sync.expected.groups.len(),
            okta_sync.latency_ms.p99
        ),
        Some(format!("/connections/{okta}/users")),
    );
    demo.beat(2.0).await;
    demo.begin("entra-sync", st.dir.now());
    let mut opts = SimulateOptions::new(
        &entra_url,
        &entra_token,
        Dialect::EntraCompliant,
        idp::scenario::Scenario::InitialSync,
    );
    (opts.users, opts.groups, opts.concurrency, opts.seed) = (20, 3, 4, 8);
    let entra_sync = idp::run(opts).await.map_err(err)?;
    demo.done(
        "entra-sync",
        st.dir.now(),
        format!(
            "{} requests, {} users, {} groups.",
            entra_sync.requests,
            entra_sync.expected.users.len(),
            entra_sync.expected.groups.len()
        ),
        Some(format!("/connections/{entra}/groups")),
    );
    demo.beat(2.0).await;

    // 4. Roles.
    demo.begin("roles", st.dir.now());
    let http = ScimClient::new(&okta_url, &okta_token, Dialect::Okta).map_err(err)?;
    let groups = http
        .send(&idp::dialect::ScimRequest::get(
            "/Groups?count=100".to_string(),
        ))
        .await
        .map_err(err)?;
    let groups: Vec<Value> = groups
        .body
        .and_then(|b| b["Resources"].as_array().cloned())
        .unwrap_or_default();
    if groups.len() < 2 {
        return Err("the initial sync produced fewer than two groups".into());
    }
    let admin_group = groups[0].clone();
    let (c2, maps) = (
        okta.clone(),
        groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                roles::RoleMapping::group(
                    g["id"].as_str().unwrap_or_default(),
                    if i == 0 { "admin" } else { "member" },
                )
            })
            .collect::<Vec<_>>(),
    );
    let changes = st
        .dir
        .save_role_mappings(&c2, maps, "member", Actor::Demo)
        .await
        .map_err(err)?;
    demo.done(
        "roles",
        st.dir.now(),
        format!(
            "\"{}\" → admin, {} other groups → member; {} users' roles recomputed.",
            admin_group["displayName"].as_str().unwrap_or(""),
            groups.len() - 1,
            changes.len()
        ),
        Some(format!("/connections/{okta}/roles")),
    );
    demo.beat(2.0).await;

    // 5. Mover: someone not in the admin group joins it.
    demo.begin("mover", st.dir.now());
    let admin_id = admin_group["id"].as_str().unwrap_or_default().to_string();
    let members: Vec<String> = admin_group["members"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(|x| x["value"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let users = http
        .send(&idp::dialect::ScimRequest::get(
            "/Users?count=200".to_string(),
        ))
        .await
        .map_err(err)?;
    let users: Vec<Value> = users
        .body
        .and_then(|b| b["Resources"].as_array().cloned())
        .unwrap_or_default();
    let mover = users
        .iter()
        .find(|u| !members.iter().any(|m| Some(m.as_str()) == u["id"].as_str()))
        .cloned()
        .ok_or("no user to move")?;
    let mover_id = mover["id"].as_str().unwrap_or_default().to_string();
    let before = role_of(st, &okta, &mover_id).await;
    let req = Dialect::Okta.add_members(
        &admin_id,
        admin_group["displayName"].as_str().unwrap_or(""),
        &[MemberRef {
            id: mover_id.clone(),
            user_name: mover["userName"].as_str().unwrap_or("").into(),
        }],
    );
    http.send(&req).await.map_err(err)?;
    let after = role_of(st, &okta, &mover_id).await;
    demo.done(
        "mover",
        st.dir.now(),
        format!(
            "{}: {} → {}",
            mover["userName"].as_str().unwrap_or(""),
            before.unwrap_or_default(),
            after.unwrap_or_default()
        ),
        Some(format!("/connections/{okta}/users?user={mover_id}")),
    );
    demo.beat(2.0).await;

    // 6. Leaver with a live session.
    demo.begin("leaver", st.dir.now());
    let leaver = users
        .iter()
        .rev()
        .find(|u| u["id"] != mover["id"])
        .cloned()
        .ok_or("no leaver")?;
    let leaver_id = leaver["id"].as_str().unwrap_or_default().to_string();
    let (c2, l2) = (okta.clone(), leaver_id.clone());
    let issued = st
        .dir
        .create_session(&c2, &l2, chrono::Duration::hours(8), "demo")
        .await
        .map_err(err)?;
    let resp = http
        .send(&Dialect::Okta.deactivate_user(&leaver_id))
        .await
        .map_err(err)?;
    let answered = std::time::Instant::now();
    let token = issued.token.clone();
    let check = st.dir.check_session(&token).await.map_err(err)?;
    if check.valid {
        return Err("the leaver's session is still valid".into());
    }
    demo.done("leaver", st.dir.now(),
        format!(
            "{} deactivated (HTTP {}); their session was already revoked when the SCIM response arrived ({} µs later: {}).",
            leaver["userName"].as_str().unwrap_or(""),
            resp.status,
            answered.elapsed().as_micros(),
            check.session.and_then(|s| s.revoked_reason).unwrap_or_default()
        ),
        Some(format!("/connections/{okta}/users?user={leaver_id}")),
    );
    demo.beat(2.0).await;

    // 7. Rotation with a grace period, then the IdP moves over.
    demo.begin("rotate", st.dir.now());
    let c2 = okta.clone();
    let (rotated, _) = st
        .dir
        .rotate_token(&c2, chrono::Duration::hours(24), Actor::Demo)
        .await
        .map_err(err)?;
    let old_ok = http
        .send(&idp::dialect::ScimRequest::get(
            "/Users?count=1".to_string(),
        ))
        .await
        .map_err(err)?
        .status;
    let new_client = ScimClient::new(&okta_url, &rotated.secret, Dialect::Okta).map_err(err)?;
    let new_ok = new_client
        .send(&idp::dialect::ScimRequest::get(
            "/Users?count=1".to_string(),
        ))
        .await
        .map_err(err)?
        .status;
    demo.done("rotate", st.dir.now(), format!("New token {}… issued; the old token still answers {old_ok} during its 24 h grace, the new one {new_ok}.", rotated.prefix), Some(format!("/connections/{okta}/tokens")));
    demo.beat(2.0).await;

    // 8. A rejected user, then triage finds out why.
    demo.begin("rejected", st.dir.now());
    let entra_client =
        ScimClient::new(&entra_url, &entra_token, Dialect::EntraCompliant).map_err(err)?;
    let dana = Person {
        user_name: String::new(),
        given_name: "Dana".into(),
        family_name: "Lee".into(),
        email: "dana.lee@contoso.example".into(),
        external_id: "dana-lee-oid".into(),
    };
    let resp = entra_client
        .send(&Dialect::EntraCompliant.create_user(&dana))
        .await
        .map_err(err)?;
    // Refused requests are logged off the request path; give the writer its next commit.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let report = st
        .dir
        .triage("dana.lee@contoso.example", None)
        .await
        .map_err(err)?;
    let diagnosis = report
        .findings
        .first()
        .map(|f| f.diagnosis.summary.clone())
        .unwrap_or_default();
    demo.done(
        "rejected",
        st.dir.now(),
        format!("Entra got HTTP {}. Triage: {diagnosis}", resp.status),
        Some("/triage?q=dana.lee%40contoso.example".into()),
    );
    Ok(())
}

async fn role_of(st: &AppState, conn: &str, user: &str) -> Option<String> {
    st.dir
        .user(conn, user)
        .await
        .ok()
        .flatten()
        .and_then(|u| u.role)
}
