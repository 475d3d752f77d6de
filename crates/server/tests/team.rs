//! The team on a real server: owners add people with roles, people enrol from a one-time
//! link and sign in as themselves (password, TOTP), and every admin-API route refuses the
//! roles that lack its permission (the matrix is walked from the route table, so a new
//! route is covered the moment it exists). Every refusal named by issue 19 is checked, with
//! its audit row.

#[allow(dead_code)]
#[path = "scim/helpers.rs"]
mod helpers;

use chrono::Utc;
use directory::access::{Permission, Role};
use directory::admins::totp;
use directory::{audit, audit_search, ManualClock};
use helpers::{spawn_app, spawn_app_on_clock, TestApp};
use muster_server::api::access::Access;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

const PASSWORD: &str = "correct horse battery staple";

/// Adds a person through the admin API (with the admin secret) and returns their
/// enrolment secret.
async fn add(app: &TestApp, email: &str, role: &str) -> String {
    let (s, v) = app
        .admin_json(
            Method::POST,
            "/team/admins",
            Some(json!({"email": email, "role": role})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let url = v["url"].as_str().unwrap();
    url.split_once("#enrol=")
        .expect("secret in the fragment")
        .1
        .to_string()
}

async fn public(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    let r = app
        .client
        .post(format!("{}{}", app.admin, path))
        .header("user-agent", "team-test/1.0")
        .json(&body)
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn enrol(app: &TestApp, secret: &str) {
    let (s, v) = public(
        app,
        "/auth/enrol",
        json!({"enrolment": secret, "password": PASSWORD}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

async fn sign_in(
    app: &TestApp,
    email: &str,
    password: &str,
    code: Option<&str>,
) -> (StatusCode, Value) {
    public(
        app,
        "/auth/password",
        json!({"email": email, "password": password, "totp": code}),
    )
    .await
}

/// A person with a role, enrolled and signed in: their session secret.
async fn member(app: &TestApp, email: &str, role: &str) -> String {
    let secret = add(app, email, role).await;
    enrol(app, &secret).await;
    let (s, v) = sign_in(app, email, PASSWORD, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["me"]["role"], role);
    v["session"].as_str().unwrap().to_string()
}

async fn as_session(
    app: &TestApp,
    session: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut r = app
        .client
        .request(method, format!("{}{}", app.admin, path))
        .bearer_auth(session)
        .header("user-agent", "team-test/1.0");
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let s = r.status();
    let stream = r
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if stream {
        // The live stream never ends: its status is the answer.
        return (s, Value::Null);
    }
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn server_audit(app: &TestApp) -> Vec<audit::AuditEntry> {
    let q = audit_search::AuditQuery {
        connection: Some("server".into()),
        ..Default::default()
    };
    app.db()
        .read(move |c| audit_search::page(c, &q, 1000))
        .await
        .unwrap()
        .entries
}

/// Every route × every role: allowed exactly when the role holds the route's permission.
/// Path parameters name nothing that exists, so an allowed request ends in 404/400 at
/// worst and never changes the test's own data; what matters is that it is not refused.
#[tokio::test]
async fn every_route_refuses_exactly_the_roles_without_its_permission() {
    let app = spawn_app().await;
    let mut sessions = Vec::new();
    for role in Role::ALL {
        let email = format!("{}@example.com", role.as_str());
        sessions.push((role, member(&app, &email, role.as_str()).await));
    }
    let mut rules = muster_server::api::routes().rules().to_vec();
    // Signing out ends the session the rest of the walk uses: last.
    rules.sort_by_key(|r| r.path == "/auth/signout");
    assert!(
        rules.len() > 80,
        "the table lists every route ({})",
        rules.len()
    );
    let mut matrix = Vec::new();
    for rule in &rules {
        let path = rule
            .path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "nope" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        let method = Method::from_bytes(rule.method.as_bytes()).unwrap();
        let mut row = format!("{:6} {:48}", rule.method, rule.path);
        for (role, session) in &sessions {
            let body = (method != Method::GET).then(|| json!({}));
            let (s, v) = as_session(&app, session, method.clone(), &path, body).await;
            let allowed = match rule.access {
                Access::Public => true,
                Access::Needs(p) => role.allows(p),
            };
            if allowed {
                assert!(
                    s != StatusCode::FORBIDDEN && s != StatusCode::UNAUTHORIZED,
                    "{} {} as {}: {s} {v}",
                    rule.method,
                    rule.path,
                    role.as_str()
                );
            } else {
                assert_eq!(
                    s,
                    StatusCode::FORBIDDEN,
                    "{} {} as {}: {v}",
                    rule.method,
                    rule.path,
                    role.as_str()
                );
                assert_eq!(v["code"], "forbidden");
                assert!(v["message"].as_str().unwrap().contains(role.as_str()));
            }
            row.push_str(if allowed { " yes " } else { "  -  " });
        }
        matrix.push(row);
    }
    // The matrix, for the closing note and for anyone reading the test's output.
    println!("{:6} {:48} owner admin support viewer", "", "route");
    for row in matrix {
        println!("{row}");
    }
    // Refusals are audited with the person and their role.
    let denied: Vec<_> = server_audit(&app)
        .await
        .into_iter()
        .filter(|e| e.action == "access.denied")
        .collect();
    assert!(denied
        .iter()
        .any(|e| e.actor_email.as_deref() == Some("viewer@example.com")
            && e.actor_role.as_deref() == Some("viewer")
            && e.user_agent.as_deref() == Some("team-test/1.0")
            && e.detail.as_deref() == Some("POST /api/connections")));
}

/// The route table and the OpenAPI document describe the same operations, and each
/// documented admin operation names its permission.
#[tokio::test]
async fn the_document_lists_every_route_with_its_permission() {
    let doc = muster_server::api::openapi::document_json();
    let doc: Value = serde_json::from_str(&doc).unwrap();
    for rule in muster_server::api::routes().rules() {
        let op = &doc["paths"][format!("/api{}", rule.path)][rule.method.to_lowercase()];
        assert!(
            op.is_object(),
            "{} {} is not documented",
            rule.method,
            rule.path
        );
        match rule.access {
            Access::Public => assert!(op["x-muster-permission"].is_null()),
            Access::Needs(p) => assert_eq!(op["x-muster-permission"], p.as_str(), "{}", rule.path),
        }
    }
    // The permission names are the ones the console checks.
    assert_eq!(Permission::Export.as_str(), "export");
}

#[tokio::test]
async fn wrong_passwords_unknown_people_and_disabled_accounts_are_refused_and_audited() {
    let app = spawn_app().await;
    let session = member(&app, "ada@example.com", "admin").await;

    let (s, v) = sign_in(&app, "ada@example.com", "not the password at all", None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_credentials"))
    );
    let (s2, v2) = sign_in(&app, "nobody@example.com", PASSWORD, None).await;
    assert_eq!(s2, StatusCode::UNAUTHORIZED);
    assert_eq!(
        v2["message"], v["message"],
        "unknown emails are not told apart"
    );

    // A role downgrade applies to the very next request.
    let (s, _) = as_session(
        &app,
        &session,
        Method::POST,
        "/connections",
        Some(json!({"name": "x", "idp": "okta"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let id = admin_id(&app, "ada@example.com").await;
    let (s, v) = app
        .admin_json(
            Method::PATCH,
            &format!("/team/admins/{id}"),
            Some(json!({"role": "viewer"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _) = as_session(
        &app,
        &session,
        Method::POST,
        "/connections",
        Some(json!({"name": "y", "idp": "okta"})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, me) = as_session(&app, &session, Method::GET, "/auth/me", None).await;
    assert_eq!(me["role"], "viewer");
    assert!(!me["permissions"]
        .as_array()
        .unwrap()
        .contains(&json!("manage")));

    // Disabling ends the session at once and refuses new sign-ins.
    let (s, _) = app
        .admin_json(
            Method::PATCH,
            &format!("/team/admins/{id}"),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = as_session(&app, &session, Method::GET, "/connections", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    let (s, v) = sign_in(&app, "ada@example.com", PASSWORD, None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("disabled"))
    );

    let failed: Vec<_> = server_audit(&app)
        .await
        .into_iter()
        .filter(|e| e.action == "signin.failed")
        .map(|e| e.detail.unwrap_or_default())
        .collect();
    assert!(
        failed.contains(&"bad_credentials: ada@example.com".to_string()),
        "{failed:?}"
    );
    assert!(failed.contains(&"bad_credentials: nobody@example.com".to_string()));
    assert!(failed.contains(&"disabled: ada@example.com".to_string()));
    let role_change = server_audit(&app)
        .await
        .into_iter()
        .find(|e| e.action == "admin.role")
        .unwrap();
    assert_eq!(
        role_change.detail.as_deref(),
        Some("ada@example.com: admin → viewer")
    );
}

async fn admin_id(app: &TestApp, email: &str) -> String {
    let (_, list) = app.admin_json(Method::GET, "/team/admins", None).await;
    list.as_array()
        .unwrap()
        .iter()
        .find(|a| a["email"] == email)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn enrolment_links_work_once_and_expire_and_sessions_expire() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let app = spawn_app_on_clock(clock.clone(), |_| {}).await;
    let secret = add(&app, "bo@example.com", "support").await;
    let (s, v) = public(&app, "/auth/enrolment", json!({"enrolment": secret})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["email"].as_str(), v["role"].as_str()),
        (Some("bo@example.com"), Some("support"))
    );
    let (s, v) = public(
        &app,
        "/auth/enrol",
        json!({"enrolment": secret, "password": "short"}),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    enrol(&app, &secret).await;
    let (s, _) = public(
        &app,
        "/auth/enrol",
        json!({"enrolment": secret, "password": PASSWORD}),
    )
    .await;
    assert_eq!(s, StatusCode::GONE, "a link works once");
    let (s, _) = public(&app, "/auth/enrolment", json!({"enrolment": "mae_nope"})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let late = add(&app, "cy@example.com", "viewer").await;
    clock.advance(chrono::Duration::days(8));
    let (s, v) = public(
        &app,
        "/auth/enrol",
        json!({"enrolment": late, "password": PASSWORD}),
    )
    .await;
    assert_eq!(s, StatusCode::GONE, "{v}");

    let (s, v) = sign_in(&app, "bo@example.com", PASSWORD, None).await;
    assert_eq!(s, StatusCode::OK);
    let session = v["session"].as_str().unwrap().to_string();
    let (s, _) = as_session(&app, &session, Method::GET, "/connections", None).await;
    assert_eq!(s, StatusCode::OK);
    // Idle for longer than the idle limit: over.
    clock.advance(chrono::Duration::minutes(
        directory::admin_sessions::IDLE_MINUTES + 1,
    ));
    let (s, v) = as_session(&app, &session, Method::GET, "/connections", None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("session_ended"))
    );

    // Signing out ends a session; it does not come back.
    let (_, v) = sign_in(&app, "bo@example.com", PASSWORD, None).await;
    let session = v["session"].as_str().unwrap().to_string();
    let (s, _) = as_session(&app, &session, Method::POST, "/auth/signout", None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = as_session(&app, &session, Method::GET, "/connections", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn totp_is_required_once_turned_on_and_a_code_works_once() {
    let app = spawn_app().await;
    let secret = add(&app, "di@example.com", "owner").await;
    let (_, view) = public(&app, "/auth/enrolment", json!({"enrolment": secret})).await;
    let seed = view["totp_seed"].as_str().unwrap().to_string();
    assert!(view["totp_uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/Muster:"));
    let now = || Utc::now().timestamp() as u64;
    let (s, v) = public(
        &app,
        "/auth/enrol",
        json!({"enrolment": secret, "password": PASSWORD, "totp_seed": seed, "totp_code": "000000"}),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "a wrong code does not turn TOTP on: {v}"
    );
    let code = totp::code(&seed, now()).unwrap();
    let (s, v) = public(
        &app,
        "/auth/enrol",
        json!({"enrolment": secret, "password": PASSWORD, "totp_seed": seed, "totp_code": code}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["totp"], true);

    let (s, v) = sign_in(&app, "di@example.com", PASSWORD, None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("totp_required"))
    );
    let wrong = if code == "123456" { "654321" } else { "123456" };
    let (s, v) = sign_in(&app, "di@example.com", PASSWORD, Some(wrong)).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_totp"))
    );
    let code = totp::code(&seed, now()).unwrap();
    let (s, v) = sign_in(&app, "di@example.com", PASSWORD, Some(&code)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["me"]["method"], "password+totp");
    let (s, v) = sign_in(&app, "di@example.com", PASSWORD, Some(&code)).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_totp")),
        "a code is not replayable"
    );
}

#[tokio::test]
async fn the_admin_secret_is_only_for_this_machine_once_there_is_a_team() {
    let app = spawn_app().await;
    let proxied = || {
        app.admin_req(Method::GET, "/connections")
            .header("x-forwarded-for", "203.0.113.9")
    };
    // No team yet: the secret works as it always did, even through a proxy.
    assert_eq!(proxied().send().await.unwrap().status(), StatusCode::OK);
    member(&app, "eve@example.com", "owner").await;
    let r = proxied().send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "sign_in_required");
    // From this machine it still works (the desktop app, the operator).
    let (s, _) = app.admin_json(Method::GET, "/connections", None).await;
    assert_eq!(s, StatusCode::OK);
    // The team keeps an owner.
    let id = admin_id(&app, "eve@example.com").await;
    let (s, v) = app
        .admin_json(
            Method::PATCH,
            &format!("/team/admins/{id}"),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    // No credential, or a made-up session: 401, never data.
    let r = app
        .client
        .get(format!("{}/connections", app.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let (s, _) = as_session(&app, "mas_made_up", Method::GET, "/connections", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn repeated_failures_from_one_address_are_throttled() {
    let app = spawn_app().await;
    member(&app, "fa@example.com", "viewer").await;
    for _ in 0..muster_server::throttle::THROTTLE_FAILURES {
        let (s, _) = sign_in(&app, "fa@example.com", "wrong wrong wrong", None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, v) = sign_in(&app, "fa@example.com", PASSWORD, None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("throttled"))
    );
}

#[tokio::test]
async fn sessions_are_listed_and_owners_revoke_anyones() {
    let mut app = spawn_app().await;
    let owner = member(&app, "gu@example.com", "owner").await;
    let support = member(&app, "ha@example.com", "support").await;
    let (_, mine) = as_session(&app, &support, Method::GET, "/auth/sessions", None).await;
    let mine = mine.as_array().unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["current"], true);
    assert_eq!(mine[0]["user_agent"], "team-test/1.0");
    let sid = mine[0]["id"].as_str().unwrap().to_string();
    // Support cannot revoke someone else's session; the owner can.
    let (_, all) = as_session(&app, &owner, Method::GET, "/team/sessions", None).await;
    let owners = all
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["email"] == "gu@example.com")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _) = as_session(
        &app,
        &support,
        Method::POST,
        &format!("/auth/sessions/{owners}/revoke"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = as_session(
        &app,
        &owner,
        Method::POST,
        &format!("/team/sessions/{sid}/revoke"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = as_session(&app, &support, Method::GET, "/connections", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let revoked = server_audit(&app)
        .await
        .into_iter()
        .find(|e| e.action == "session.revoke")
        .unwrap();
    assert_eq!(revoked.actor_email.as_deref(), Some("gu@example.com"));
    assert_eq!(revoked.detail.as_deref(), Some("ha@example.com"));

    // Sessions live in the database: the owner's survives a restart, the revoked one stays
    // revoked.
    app.restart().await;
    let (s, me) = as_session(&app, &owner, Method::GET, "/auth/me", None).await;
    assert_eq!(
        (s, &me["email"]),
        (StatusCode::OK, &json!("gu@example.com"))
    );
    let (s, _) = as_session(&app, &support, Method::GET, "/auth/me", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}
