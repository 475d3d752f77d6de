//! Black-box lifecycle per IdP dialect: create → groups → role → mover → deactivate
//! (sessions revoked in the same transaction) → reactivate → delete → restore → purge,
//! with the change feed checked at each step; and concurrent membership PATCHes.

use directory::ManualClock;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

#[allow(dead_code)]
#[path = "scim/helpers.rs"]
mod helpers;

use helpers::TestApp;

/// A server on a manual clock with one connection for the IdP (its SCIM token is the
/// harness's) and an app-API key.
struct App {
    t: TestApp,
    clock: Arc<ManualClock>,
    app_key: String,
    connection: String,
}

async fn spawn(idp: &str) -> App {
    let clock = Arc::new(ManualClock::new(helpers::clock_start()));
    let t = helpers::spawn_app_for(clock.clone(), "Acme", idp, |_| {}).await;
    App {
        app_key: t.app_key("test app").await,
        connection: t.connection_id.clone(),
        clock,
        t,
    }
}

impl App {
    async fn scim(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        ua: &str,
    ) -> (StatusCode, Value) {
        let mut req = self
            .t
            .client
            .request(method, format!("{}{path}", self.t.base))
            .bearer_auth(&self.t.token)
            .header("User-Agent", ua);
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/scim+json")
                .body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
    async fn app(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self
            .t
            .client
            .request(method, format!("{}/app/v1{path}", self.t.origin()))
            .bearer_auth(&self.app_key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
    /// A second, real connection of the same server, for cross-connection checks.
    async fn other_connection(&self) -> String {
        let (s, c) = self
            .admin(
                Method::POST,
                "/connections",
                Some(json!({"name": "Other tenant", "idp": "okta"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        c["connection"]["id"].as_str().unwrap().to_string()
    }
    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.t.admin_req(method, path);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
    /// Feed events of this connection after `cursor`, as (kind, user_id) pairs.
    async fn feed_since(&self, cursor: &mut i64) -> Vec<(String, Option<String>)> {
        let (s, v) = self
            .app(
                Method::GET,
                &format!("/feed?after={cursor}&connection={}", self.connection),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        *cursor = v["next"].as_i64().unwrap();
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["kind"].as_str().unwrap().to_string(),
                    e["user_id"].as_str().map(str::to_string),
                )
            })
            .collect()
    }
}

fn user_body(name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name,
        "externalId": format!("ext-{name}"),
        "name": {"givenName": "Test", "familyName": name},
        "emails": [{"primary": true, "value": name, "type": "work"}],
        "active": true
    })
}

/// How each dialect spells the same intents (from tests/fixtures/idp).
struct Dialect {
    idp: &'static str,
    ua: &'static str,
    add: Box<dyn Fn(&str) -> Value>,
    remove: Box<dyn Fn(&str) -> Value>,
    deactivate: Value,
    reactivate: Value,
}

fn dialects() -> Vec<Dialect> {
    vec![
        Dialect {
            idp: "okta",
            ua: "Okta SCIM Client 1.0.0",
            add: Box::new(
                |id| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "members", "value": [{"value": id, "display": "x"}]}]}),
            ),
            remove: Box::new(
                |id| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove", "path": format!("members[value eq \"{id}\"]")}]}),
            ),
            deactivate: json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": {"active": false}}]}),
            reactivate: json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": {"active": true}}]}),
        },
        Dialect {
            idp: "entra",
            ua: "Microsoft Azure AD SCIM provisioning 1.0.0",
            add: Box::new(
                |id| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "Add", "path": "members", "value": [{"value": id}]}]}),
            ),
            remove: Box::new(
                |id| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "Remove", "path": "members", "value": [{"value": id}]}]}),
            ),
            deactivate: json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}),
            reactivate: json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "Replace", "path": "active", "value": "True"}]}),
        },
        Dialect {
            idp: "entra",
            ua: "Microsoft Azure AD SCIM provisioning 1.0.0 aadOptscim062020",
            add: Box::new(
                |id| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "members", "value": [{"value": id}]}]}),
            ),
            remove: Box::new(
                |id| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove", "path": format!("members[value eq \"{id}\"]")}]}),
            ),
            deactivate: json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "active", "value": false}]}),
            reactivate: json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "active", "value": true}]}),
        },
    ]
}

fn kinds_for(events: &[(String, Option<String>)], user: &str) -> Vec<String> {
    events
        .iter()
        .filter(|(_, u)| u.as_deref() == Some(user))
        .map(|(k, _)| k.clone())
        .collect()
}

#[tokio::test]
async fn whole_lifecycle_in_every_dialect() {
    for d in dialects() {
        let app = spawn(d.idp).await;
        let ua = d.ua;
        let mut cursor = 0;

        // Joiner: two users, two groups.
        let (s, alice) = app
            .scim(
                Method::POST,
                "/Users",
                Some(user_body("alice@acme.test")),
                ua,
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{}", d.ua);
        let alice = alice["id"].as_str().unwrap().to_string();
        let (_, bob) = app
            .scim(Method::POST, "/Users", Some(user_body("bob@acme.test")), ua)
            .await;
        let bob = bob["id"].as_str().unwrap().to_string();
        let group = |name: &str| json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name});
        let (_, admins) = app
            .scim(Method::POST, "/Groups", Some(group("Admins")), ua)
            .await;
        let admins = admins["id"].as_str().unwrap().to_string();
        let (_, eng) = app
            .scim(Method::POST, "/Groups", Some(group("Engineering")), ua)
            .await;
        let eng = eng["id"].as_str().unwrap().to_string();

        // Roles: a custom default, then Admins before Engineering.
        let (s, _) = app
            .admin(
                Method::POST,
                &format!("/connections/{}/roles", app.connection),
                Some(json!({"name": "viewer", "description": "Read only"})),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let mappings = json!({"default_role": "viewer", "mappings": [{"group_id": admins, "role": "admin"}, {"group_id": eng, "role": "member"}]});
        let (s, _) = app
            .admin(
                Method::PUT,
                &format!("/connections/{}/roles/mappings", app.connection),
                Some(mappings),
            )
            .await;
        assert_eq!(s, StatusCode::OK);

        let (s, _) = app
            .scim(
                Method::PATCH,
                &format!("/Groups/{eng}"),
                Some((d.add)(&alice)),
                ua,
            )
            .await;
        assert!(s.is_success(), "{ua}: {s}");
        let (s, _) = app
            .scim(
                Method::PATCH,
                &format!("/Groups/{admins}"),
                Some((d.add)(&bob)),
                ua,
            )
            .await;
        assert!(s.is_success());
        let role = |v: &Value| v["role"].as_str().map(str::to_string);
        let (_, a) = app
            .app(
                Method::GET,
                &format!("/connections/{}/users/{alice}", app.connection),
                None,
            )
            .await;
        assert_eq!(role(&a).as_deref(), Some("member"), "{ua}");
        assert_eq!(a["role_via_group"].as_str(), Some(eng.as_str()));
        let (_, b) = app
            .app(
                Method::GET,
                &format!("/connections/{}/users/{bob}", app.connection),
                None,
            )
            .await;
        assert_eq!(role(&b).as_deref(), Some("admin"));
        let events = app.feed_since(&mut cursor).await;
        assert_eq!(
            kinds_for(&events, &alice),
            vec![
                "user.created",
                "role.changed",
                "membership.added",
                "role.changed"
            ],
            "{ua}: {events:?}"
        );

        // Mover: alice leaves Engineering and joins Admins; her role follows.
        app.scim(
            Method::PATCH,
            &format!("/Groups/{eng}"),
            Some((d.remove)(&alice)),
            ua,
        )
        .await;
        app.scim(
            Method::PATCH,
            &format!("/Groups/{admins}"),
            Some((d.add)(&alice)),
            ua,
        )
        .await;
        let (_, a) = app
            .app(
                Method::GET,
                &format!("/connections/{}/users/{alice}", app.connection),
                None,
            )
            .await;
        assert_eq!(role(&a).as_deref(), Some("admin"), "{ua}");
        let events = app.feed_since(&mut cursor).await;
        assert_eq!(
            kinds_for(&events, &alice),
            vec![
                "membership.removed",
                "role.changed",
                "membership.added",
                "role.changed"
            ],
            "{ua}"
        );

        // Leaver: a live session, then deactivation in this dialect's shape.
        let (s, sess) = app
            .app(
                Method::POST,
                &format!("/connections/{}/users/{alice}/sessions", app.connection),
                Some(json!({})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let token = sess["token"].as_str().unwrap().to_string();
        let (_, check) = app
            .app(
                Method::POST,
                "/sessions/check",
                Some(json!({"token": token})),
            )
            .await;
        assert_eq!(check["valid"], json!(true));
        let (s, u) = app
            .scim(
                Method::PATCH,
                &format!("/Users/{alice}"),
                Some(d.deactivate.clone()),
                ua,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{ua}");
        assert_eq!(u["active"], json!(false));
        // The very next check after the SCIM response already says revoked.
        let (_, check) = app
            .app(
                Method::POST,
                "/sessions/check",
                Some(json!({"token": token})),
            )
            .await;
        assert_eq!(check["valid"], json!(false), "{ua}");
        assert_eq!(check["reason"], json!("revoked"));
        assert!(check["session"]["revoked_reason"]
            .as_str()
            .unwrap()
            .contains("deactivated"));
        assert!(check["session"]["revoked_at"].is_string());
        let (s, _) = app
            .app(
                Method::POST,
                &format!("/connections/{}/users/{alice}/sessions", app.connection),
                Some(json!({})),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "no session for a deactivated user");
        let events = app.feed_since(&mut cursor).await;
        assert_eq!(
            kinds_for(&events, &alice),
            vec!["user.deactivated", "sessions.revoked"],
            "{ua}"
        );

        // Reactivation restores the account, not the old session.
        let (s, u) = app
            .scim(
                Method::PATCH,
                &format!("/Users/{alice}"),
                Some(d.reactivate.clone()),
                ua,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(u["active"], json!(true));
        let (_, check) = app
            .app(
                Method::POST,
                "/sessions/check",
                Some(json!({"token": token})),
            )
            .await;
        assert_eq!(check["valid"], json!(false));
        let (s, _) = app
            .app(
                Method::POST,
                &format!("/connections/{}/users/{alice}/sessions", app.connection),
                Some(json!({})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let events = app.feed_since(&mut cursor).await;
        assert_eq!(kinds_for(&events, &alice), vec!["user.reactivated"]);

        // Delete (Entra sends it 30 days after the disable): 404 over SCIM, restorable.
        app.clock.advance(chrono::Duration::days(30));
        let (s, _) = app
            .scim(Method::DELETE, &format!("/Users/{alice}"), None, ua)
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, _) = app
            .scim(Method::GET, &format!("/Users/{alice}"), None, ua)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let events = app.feed_since(&mut cursor).await;
        assert_eq!(
            kinds_for(&events, &alice),
            vec!["membership.removed", "user.deleted", "sessions.revoked"],
            "{ua}"
        );
        let (s, restored) = app
            .admin(
                Method::POST,
                &format!("/connections/{}/users/{alice}/restore", app.connection),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{restored}");
        let (s, _) = app
            .scim(Method::GET, &format!("/Users/{alice}"), None, ua)
            .await;
        assert_eq!(s, StatusCode::OK);
        let events = app.feed_since(&mut cursor).await;
        assert_eq!(kinds_for(&events, &alice)[0], "user.restored");

        // Purge after the retention window: data gone, tombstone in the log.
        app.scim(Method::DELETE, &format!("/Users/{alice}"), None, ua)
            .await;
        let (_, page) = app
            .admin(
                Method::GET,
                &format!("/connections/{}/users?status=deleted", app.connection),
                None,
            )
            .await;
        assert_eq!(
            page["items"][0]["purge_at"].as_str().map(|s| &s[..10]),
            Some("2026-12-31"),
            "30-day retention from Dec 1"
        );
        app.clock.advance(chrono::Duration::days(31));
        let (s, purged) = app.admin(Method::POST, "/purge", None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(purged["purged"], json!(1));
        let (s, _) = app
            .admin(
                Method::GET,
                &format!("/connections/{}/users/{alice}", app.connection),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (_, log) = app
            .admin(
                Method::GET,
                &format!("/connections/{}/log?outcome=purged", app.connection),
                None,
            )
            .await;
        assert_eq!(
            log["items"][0]["resource_id"].as_str(),
            Some(alice.as_str())
        );
        let events = app.feed_since(&mut cursor).await;
        assert!(kinds_for(&events, &alice).contains(&"user.purged".to_string()));

        // Bob never moved: still admin, one creation event, no spurious changes.
        let (_, b) = app
            .app(
                Method::GET,
                &format!("/connections/{}/users/{bob}", app.connection),
                None,
            )
            .await;
        assert_eq!(role(&b).as_deref(), Some("admin"));
        app.t.shutdown().await;
    }
}

#[tokio::test]
async fn concurrent_membership_patches_lose_no_member_and_roles_follow() {
    let app = spawn("okta").await;
    let ua = "Okta SCIM Client 1.0.0";
    let (_, g) = app
        .scim(Method::POST, "/Groups", Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Everyone"})), ua)
        .await;
    let gid = g["id"].as_str().unwrap().to_string();
    let mappings =
        json!({"default_role": "member", "mappings": [{"group_id": gid, "role": "admin"}]});
    let (s, _) = app
        .admin(
            Method::PUT,
            &format!("/connections/{}/roles/mappings", app.connection),
            Some(mappings),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let mut ids = Vec::new();
    for i in 0..40 {
        let (_, u) = app
            .scim(
                Method::POST,
                "/Users",
                Some(user_body(&format!("u{i}@acme.test"))),
                ua,
            )
            .await;
        ids.push(u["id"].as_str().unwrap().to_string());
    }
    let path = format!("/Groups/{gid}");
    let patches = ids.iter().map(|id| {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "members", "value": [{"value": id}]}]});
        app.scim(Method::PATCH, &path, Some(body), ua)
    });
    for (s, _) in futures::future::join_all(patches).await {
        assert_eq!(s, StatusCode::NO_CONTENT);
    }
    let (_, group) = app
        .scim(Method::GET, &format!("/Groups/{gid}"), None, ua)
        .await;
    let members: std::collections::HashSet<&str> = group["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    assert_eq!(members.len(), ids.len());
    for id in &ids {
        assert!(members.contains(id.as_str()));
        let (_, u) = app
            .app(
                Method::GET,
                &format!("/connections/{}/users/{id}", app.connection),
                None,
            )
            .await;
        assert_eq!(u["role"], json!("admin"));
    }
    app.t.shutdown().await;
}

const DEPT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";
const MUSTER_ROLE: &str = "urn:ietf:params:scim:schemas:extension:muster:2.0:User:role";
const GOOGLE_UA: &str = "Google-Auto-Provisioning";

/// A Google Workspace user: no groups ever arrive, the department rides in the
/// enterprise extension.
fn google_user(name: &str, department: &str) -> Value {
    json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "userName": name,
        "externalId": format!("g-{name}"),
        "name": {"givenName": "Test", "familyName": name},
        "emails": [{"value": name, "type": "work", "primary": true}],
        "active": true,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": department}
    })
}

impl App {
    async fn app_user(&self, id: &str) -> Value {
        let (s, u) = self
            .app(
                Method::GET,
                &format!("/connections/{}/users/{id}", self.connection),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        u
    }
    async fn put_mappings(&self, body: Value) -> (StatusCode, Value) {
        self.admin(
            Method::PUT,
            &format!("/connections/{}/roles/mappings", self.connection),
            Some(body),
        )
        .await
    }
    /// Role-changed events of this connection after `cursor`, as (user, old, new, data).
    async fn role_changes_since(&self, cursor: &mut i64) -> Vec<(String, String, String, Value)> {
        let (s, v) = self
            .app(
                Method::GET,
                &format!("/feed?after={cursor}&connection={}", self.connection),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        *cursor = v["next"].as_i64().unwrap();
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "role.changed")
            .map(|e| {
                (
                    e["user_id"].as_str().unwrap().to_string(),
                    e["data"]["old"].as_str().unwrap_or_default().to_string(),
                    e["data"]["new"].as_str().unwrap_or_default().to_string(),
                    e["data"].clone(),
                )
            })
            .collect()
    }
}

#[tokio::test]
async fn users_only_connection_gets_roles_from_an_attribute() {
    let app = spawn("google").await;
    let mut cursor = 0;
    let (s, alice) = app
        .scim(
            Method::POST,
            "/Users",
            Some(google_user("alice@acme.test", "Finance")),
            GOOGLE_UA,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{alice}");
    let alice = alice["id"].as_str().unwrap().to_string();
    let (_, bob) = app
        .scim(
            Method::POST,
            "/Users",
            Some(google_user("bob@acme.test", "Sales")),
            GOOGLE_UA,
        )
        .await;
    let bob = bob["id"].as_str().unwrap().to_string();
    assert_eq!(app.app_user(&alice).await["role"], json!("member"));

    // Bad lists are refused with 400 and change nothing.
    let roles_path = format!("/connections/{}/roles", app.connection);
    let bad = [
        json!([{"attribute": {"path": DEPT, "value": "Finance"}, "role": "owner"}]),
        json!([{"attribute": {"path": "", "value": "Finance"}, "role": "admin"}]),
        json!([{"attribute": {"path": DEPT, "value": "  "}, "role": "admin"}]),
        json!([{"attribute": {"path": "emails[type eq", "value": "x"}, "role": "admin"}]),
        json!([{"role": "admin"}]),
        json!([{"group_id": "g1", "attribute": {"path": DEPT, "value": "Finance"}, "role": "admin"}]),
        json!([
            {"attribute": {"path": DEPT, "value": "Finance"}, "role": "admin"},
            {"attribute": {"path": DEPT.to_uppercase(), "value": "FINANCE"}, "role": "member"}
        ]),
    ];
    for mappings in bad {
        let body = json!({"default_role": "member", "mappings": mappings});
        let (s, err) = app.put_mappings(body.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {err}");
        assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()));
        let (s, _) = app
            .admin(Method::POST, &format!("{roles_path}/preview"), Some(body))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let (_, view) = app.admin(Method::GET, &roles_path, None).await;
        assert_eq!(view["mappings"], json!([]));
    }
    assert_eq!(app.app_user(&alice).await["role"], json!("member"));
    assert!(app.role_changes_since(&mut cursor).await.is_empty());

    // The preview names exactly the users whose role would change, and why.
    let mappings = json!({"default_role": "member", "mappings": [
        {"attribute": {"path": MUSTER_ROLE, "value": "owner"}, "role": "admin"},
        {"attribute": {"path": DEPT, "value": "finance"}, "role": "admin"}
    ]});
    let (s, preview) = app
        .admin(
            Method::POST,
            &format!("{roles_path}/preview"),
            Some(mappings.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{preview}");
    let preview = preview.as_array().unwrap();
    assert_eq!(preview.len(), 1, "{preview:?}");
    assert_eq!(preview[0]["user_id"], json!(alice));
    assert_eq!(preview[0]["new_role"], json!("admin"));
    assert_eq!(
        preview[0]["via_attribute"],
        json!({"path": DEPT, "value": "finance"})
    );
    assert_eq!(preview[0]["via_group"], Value::Null);
    assert!(app.role_changes_since(&mut cursor).await.is_empty());

    let (s, _) = app.put_mappings(mappings).await;
    assert_eq!(s, StatusCode::OK);
    let (_, view) = app.admin(Method::GET, &roles_path, None).await;
    assert_eq!(
        view["mappings"][1],
        json!({"group_id": null, "group_name": null, "attribute": {"path": DEPT, "value": "finance"}, "role": "admin", "direct_members": 0, "group_deleted_at": null})
    );
    let a = app.app_user(&alice).await;
    assert_eq!(a["role"], json!("admin"));
    assert_eq!(a["role_via_group"], Value::Null);
    assert_eq!(a["role_via_attribute"]["value"], json!("finance"));
    assert_eq!(app.app_user(&bob).await["role"], json!("member"));
    let changes = app.role_changes_since(&mut cursor).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(
        (&changes[0].0, changes[0].1.as_str(), changes[0].2.as_str()),
        (&alice, "member", "admin")
    );
    assert_eq!(changes[0].3["via_attribute"]["path"], json!(DEPT));

    // Google PUTs the whole user: Bob moves to finance (any case) and gains the role;
    // Alice moves to Sales and loses it.
    let (s, _) = app
        .scim(
            Method::PUT,
            &format!("/Users/{bob}"),
            Some(google_user("bob@acme.test", "FINANCE")),
            GOOGLE_UA,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app
        .scim(
            Method::PUT,
            &format!("/Users/{alice}"),
            Some(google_user("alice@acme.test", "Sales")),
            GOOGLE_UA,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(app.app_user(&bob).await["role"], json!("admin"));
    assert_eq!(app.app_user(&alice).await["role"], json!("member"));
    assert_eq!(
        app.app_user(&alice).await["role_via_attribute"],
        Value::Null
    );
    let changes: Vec<_> = app
        .role_changes_since(&mut cursor)
        .await
        .into_iter()
        .map(|(u, old, new, data)| {
            assert!(data["cause"].as_str().unwrap().contains("SCIM"), "{data}");
            (u, old, new)
        })
        .collect();
    assert_eq!(
        changes,
        vec![
            (bob.clone(), "member".into(), "admin".into()),
            (alice.clone(), "admin".into(), "member".into())
        ]
    );

    // A PATCH of the Muster extension's role: the higher mapping takes over for Alice.
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "add", "path": MUSTER_ROLE, "value": "Owner"}
    ]});
    let (s, body) = app
        .scim(
            Method::PATCH,
            &format!("/Users/{alice}"),
            Some(patch),
            GOOGLE_UA,
        )
        .await;
    assert!(s.is_success(), "{s}: {body}");
    let a = app.app_user(&alice).await;
    assert_eq!(a["role"], json!("admin"));
    assert_eq!(a["role_via_attribute"]["path"], json!(MUSTER_ROLE));
    let changes = app.role_changes_since(&mut cursor).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(
        (changes[0].1.as_str(), changes[0].2.as_str()),
        ("member", "admin")
    );
    // Removing it drops her back; a write that leaves the attribute alone changes nothing.
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "remove", "path": MUSTER_ROLE}
    ]});
    app.scim(
        Method::PATCH,
        &format!("/Users/{alice}"),
        Some(patch),
        GOOGLE_UA,
    )
    .await;
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "replace", "path": "name.givenName", "value": "Robert"}
    ]});
    app.scim(
        Method::PATCH,
        &format!("/Users/{bob}"),
        Some(patch),
        GOOGLE_UA,
    )
    .await;
    let changes = app.role_changes_since(&mut cursor).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(
        (&changes[0].0, changes[0].1.as_str(), changes[0].2.as_str()),
        (&alice, "admin", "member")
    );
    assert_eq!(app.app_user(&bob).await["role"], json!("admin"));

    // Users table of the console shows the source of the role.
    let (_, page) = app
        .admin(
            Method::GET,
            &format!("/connections/{}/users", app.connection),
            None,
        )
        .await;
    let bob_row = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == json!(bob))
        .unwrap();
    assert_eq!(bob_row["role_via_attribute"]["value"], json!("finance"));
    app.t.shutdown().await;
}

#[tokio::test]
async fn restore_brings_memberships_back() {
    let app = spawn("okta").await;
    let ua = "Okta SCIM Client 1.0.0";
    let mut cursor = 0;
    let mut ids = Vec::new();
    for name in ["ann@acme.test", "ben@acme.test", "cat@acme.test"] {
        let (_, u) = app
            .scim(Method::POST, "/Users", Some(user_body(name)), ua)
            .await;
        ids.push(u["id"].as_str().unwrap().to_string());
    }
    let (ann, ben, cat) = (ids[0].clone(), ids[1].clone(), ids[2].clone());
    let group = |name: &str, members: &[&str]| {
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name,
               "members": members.iter().map(|m| json!({"value": m})).collect::<Vec<_>>()})
    };
    let (_, admins) = app
        .scim(Method::POST, "/Groups", Some(group("Admins", &[&ann])), ua)
        .await;
    let admins = admins["id"].as_str().unwrap().to_string();
    let (_, eng) = app
        .scim(
            Method::POST,
            "/Groups",
            Some(group("Engineering", &[&ann, &ben, &cat])),
            ua,
        )
        .await;
    let eng = eng["id"].as_str().unwrap().to_string();
    let (_, temp) = app
        .scim(Method::POST, "/Groups", Some(group("Temp", &[&ann])), ua)
        .await;
    let temp = temp["id"].as_str().unwrap().to_string();
    let (s, _) = app
        .put_mappings(json!({"default_role": "member", "mappings": [
            {"group_id": admins, "role": "admin"}
        ]}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(app.app_user(&ann).await["role"], json!("admin"));
    let members_of = |g: Value| -> Vec<String> {
        let mut v: Vec<String> = g["members"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|m| m["value"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    app.feed_since(&mut cursor).await;

    // Ann is deleted: she leaves every group's members over SCIM while deleted.
    let (s, _) = app
        .scim(Method::DELETE, &format!("/Users/{ann}"), None, ua)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    for g in [&admins, &eng, &temp] {
        let (_, body) = app
            .scim(Method::GET, &format!("/Groups/{g}"), None, ua)
            .await;
        assert!(!members_of(body).contains(&ann), "{g}");
    }
    let (_, found) = app
        .scim(
            Method::GET,
            &format!("/Groups?filter=members.value eq \"{ann}\""),
            None,
            ua,
        )
        .await;
    assert_eq!(found["totalResults"], json!(0));
    // Temp goes away while she is deleted; it must not come back with her.
    let (s, _) = app
        .scim(Method::DELETE, &format!("/Groups/{temp}"), None, ua)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    app.feed_since(&mut cursor).await;

    let (s, restored) = app
        .admin(
            Method::POST,
            &format!("/connections/{}/users/{ann}/restore", app.connection),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{restored}");
    let (_, body) = app
        .scim(Method::GET, &format!("/Groups/{admins}"), None, ua)
        .await;
    assert_eq!(members_of(body), vec![ann.clone()]);
    let (_, body) = app
        .scim(Method::GET, &format!("/Groups/{eng}"), None, ua)
        .await;
    assert_eq!(
        members_of(body.clone()),
        sorted(vec![ann.clone(), ben.clone(), cat.clone()])
    );
    let (_, u) = app
        .scim(Method::GET, &format!("/Users/{ann}"), None, ua)
        .await;
    let mut groups: Vec<&str> = u["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["value"].as_str().unwrap())
        .collect();
    groups.sort();
    assert_eq!(groups, sorted(vec![admins.clone(), eng.clone()]));
    let a = app.app_user(&ann).await;
    assert_eq!(a["role"], json!("admin"));
    assert_eq!(a["role_via_group"], json!(admins));
    let events = app.feed_since(&mut cursor).await;
    assert_eq!(
        kinds_for(&events, &ann),
        vec!["user.restored", "membership.added", "membership.added"],
        "{events:?}"
    );
    // Group counts follow (the console's groups table reads them).
    let (_, detail) = app
        .admin(
            Method::GET,
            &format!("/connections/{}/groups/{eng}", app.connection),
            None,
        )
        .await;
    assert_eq!(detail["group"]["member_count"], json!(3), "{detail}");

    // Restoring her twice is refused and changes nothing.
    let (s, _) = app
        .admin(
            Method::POST,
            &format!("/connections/{}/users/{ann}/restore", app.connection),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Engineering is deleted; Ben is deleted after it; restoring the group brings back
    // Ann and Cat, not Ben — and Ben's own restore later brings him back into it.
    app.scim(Method::DELETE, &format!("/Groups/{eng}"), None, ua)
        .await;
    app.scim(Method::DELETE, &format!("/Users/{ben}"), None, ua)
        .await;
    let (s, _) = app
        .scim(Method::GET, &format!("/Groups/{eng}"), None, ua)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    app.feed_since(&mut cursor).await;
    let (s, g) = app
        .admin(
            Method::POST,
            &format!("/connections/{}/groups/{eng}/restore", app.connection),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{g}");
    assert_eq!(g["member_count"], json!(2));
    let (s, body) = app
        .scim(Method::GET, &format!("/Groups/{eng}"), None, ua)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(members_of(body), sorted(vec![ann.clone(), cat.clone()]));
    let events = app.feed_since(&mut cursor).await;
    assert_eq!(kinds_for(&events, &ann), vec!["membership.added"]);
    assert_eq!(kinds_for(&events, &cat), vec!["membership.added"]);
    assert!(kinds_for(&events, &ben).is_empty());

    let (s, _) = app
        .admin(
            Method::POST,
            &format!("/connections/{}/users/{ben}/restore", app.connection),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, body) = app
        .scim(Method::GET, &format!("/Groups/{eng}"), None, ua)
        .await;
    assert_eq!(
        members_of(body),
        sorted(vec![ann.clone(), ben.clone(), cat.clone()])
    );

    // A deleted group keeps its role mapping, dormant: Admins deleted → Ann to default;
    // restored → admin again via the returned membership, without re-mapping it.
    app.scim(Method::DELETE, &format!("/Groups/{admins}"), None, ua)
        .await;
    assert_eq!(app.app_user(&ann).await["role"], json!("member"));
    let (s, _) = app
        .admin(
            Method::POST,
            &format!("/connections/{}/groups/{admins}/restore", app.connection),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(app.app_user(&ann).await["role"], json!("admin"));

    // Restore of something live (400), unknown (404), or of this connection's group asked
    // through another real connection (404): refused.
    let other = app.other_connection().await;
    for (path, want) in [
        (
            format!("/connections/{}/groups/{eng}/restore", app.connection),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/connections/{}/groups/nope/restore", app.connection),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/connections/{other}/groups/{eng}/restore"),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (s, v) = app.admin(Method::POST, &path, None).await;
        assert_eq!(s, want, "{path}: {v}");
    }

    // Purge: held memberships of purged resources go with them.
    app.scim(Method::DELETE, &format!("/Users/{cat}"), None, ua)
        .await;
    app.clock.advance(chrono::Duration::days(31));
    let (s, purged) = app.admin(Method::POST, "/purge", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(purged["purged"].as_i64().unwrap() >= 2, "{purged}");
    let (s, _) = app
        .admin(
            Method::POST,
            &format!("/connections/{}/users/{cat}/restore", app.connection),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Nothing is left held: every parked membership was returned or purged with its side.
    let held: i64 = app
        .t
        .db()
        .read(|c| c.query_row("SELECT COUNT(*) FROM held_memberships", (), |r| r.get(0)))
        .await
        .unwrap();
    assert_eq!(held, 0);
    app.t.shutdown().await;
}

/// The console's view of deleted groups: listed by status with their dates and how many
/// members a restore brings back; a restore refused for a taken displayName (409), past the
/// purge date or after purge (410), or an unknown id (404) changes nothing.
#[tokio::test]
async fn deleted_groups_are_listed_counted_and_restored_or_refused() {
    let app = spawn("okta").await;
    let ua = "Okta SCIM Client 1.0.0";
    let conn = app.connection.clone();
    let mut ids = Vec::new();
    for name in ["ann@acme.test", "ben@acme.test", "cat@acme.test"] {
        let (_, u) = app
            .scim(Method::POST, "/Users", Some(user_body(name)), ua)
            .await;
        ids.push(u["id"].as_str().unwrap().to_string());
    }
    let (ann, ben, cat) = (ids[0].clone(), ids[1].clone(), ids[2].clone());
    let group = |name: &str, members: &[&str]| {
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name,
               "members": members.iter().map(|m| json!({"value": m})).collect::<Vec<_>>()})
    };
    let create = |body: Value| {
        let app = &app;
        async move {
            let (s, g) = app.scim(Method::POST, "/Groups", Some(body), ua).await;
            assert_eq!(s, StatusCode::CREATED, "{g}");
            g["id"].as_str().unwrap().to_string()
        }
    };
    let eng = create(group("Engineering", &[&ann, &ben, &cat])).await;
    let ops = create(group("Ops", &[&ann])).await;
    let (s, _) = app
        .put_mappings(json!({"default_role": "member", "mappings": [
            {"group_id": eng, "role": "admin"}
        ]}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(app.app_user(&ann).await["role"], json!("admin"));
    let page = |status: &str| {
        let app = &app;
        let path = format!("/connections/{}/groups?{status}", app.connection);
        async move {
            let (s, v) = app.admin(Method::GET, &path, None).await;
            (s, v)
        }
    };
    let (_, live) = page("").await;
    assert_eq!(live["items"][0]["status"], json!("present"));
    assert_eq!(live["items"][0]["held_member_count"], Value::Null);
    assert_eq!(live["items"][0]["deleted_at"], Value::Null);

    // Deleted over SCIM on Nov 1 09:00 with the default 30-day retention.
    let (s, _) = app
        .scim(Method::DELETE, &format!("/Groups/{eng}"), None, ua)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(app.app_user(&ann).await["role"], json!("member"));
    let (s, live) = page("").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(live["total"], json!(1), "{live}");
    assert_eq!(live["items"][0]["id"], json!(ops));
    let (_, present) = page("status=present").await;
    assert_eq!(present["total"], json!(1), "{present}");
    let (s, deleted) = page("status=deleted").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(deleted["total"], json!(1), "{deleted}");
    let row = &deleted["items"][0];
    assert_eq!(row["id"], json!(eng));
    assert_eq!(row["status"], json!("deleted"));
    assert_eq!(row["deleted_at"], json!("2026-11-01T09:00:00.000Z"));
    assert_eq!(row["purge_at"], json!("2026-12-01T09:00:00.000Z"));
    assert_eq!(row["member_count"], json!(0));
    assert_eq!(row["held_member_count"], json!(3));
    let (_, all) = page("status=all&sort=display_name").await;
    assert_eq!(all["total"], json!(2));
    assert_eq!(all["items"][0]["display_name"], json!("Engineering"));
    assert_eq!(all["items"][1]["held_member_count"], Value::Null);
    let (_, searched) = page("status=deleted&q=engin").await;
    assert_eq!(searched["total"], json!(1));
    let (_, searched) = page("status=deleted&q=ops").await;
    assert_eq!(searched["total"], json!(0));
    // An unknown status is refused, not read as "present".
    for bad in ["status=bogus", "status=active", "status=DELETED"] {
        let (s, v) = page(bad).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
        assert_eq!(v["code"], json!("bad_request"));
        assert!(v["message"]
            .as_str()
            .unwrap()
            .contains("present, deleted, all"));
    }

    // Cat is deleted after the group: the count and the detail leave her out.
    app.scim(Method::DELETE, &format!("/Users/{cat}"), None, ua)
        .await;
    let (_, deleted) = page("status=deleted").await;
    assert_eq!(deleted["items"][0]["held_member_count"], json!(2));
    let detail_path = format!("/connections/{conn}/groups/{eng}");
    let (s, detail) = app.admin(Method::GET, &detail_path, None).await;
    assert_eq!(s, StatusCode::OK, "{detail}");
    assert_eq!(detail["group"]["status"], json!("deleted"));
    assert_eq!(detail["group"]["held_member_count"], json!(2));
    assert_eq!(detail["members"], json!([]));
    // Ann and Ben joined in one request (same added_at): the order between them is by id.
    let mut held: Vec<(&str, &str)> = detail["held_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_str().unwrap(), m["user_name"].as_str().unwrap()))
        .collect();
    held.sort_by_key(|(_, name)| *name);
    assert_eq!(
        held,
        vec![
            (ann.as_str(), "ann@acme.test"),
            (ben.as_str(), "ben@acme.test")
        ]
    );
    assert_eq!(detail["held_members_deleted_since"], json!(1));

    // Another live group now has its name (case-insensitively): 409, nothing restored.
    let clash = create(group("ENGINEERING", &[&ben])).await;
    let restore = |gid: String, conn: String| {
        let app = &app;
        async move {
            app.admin(
                Method::POST,
                &format!("/connections/{conn}/groups/{gid}/restore"),
                None,
            )
            .await
        }
    };
    let mut cursor = 0;
    app.feed_since(&mut cursor).await;
    let (s, v) = restore(eng.clone(), conn.clone()).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], json!("conflict"));
    assert!(
        v["message"].as_str().unwrap().contains("'Engineering'"),
        "{v}"
    );
    let (_, after) = app.admin(Method::GET, &detail_path, None).await;
    assert_eq!(after["group"]["status"], json!("deleted"));
    assert_eq!(after["group"]["held_member_count"], json!(2));
    assert_eq!(after["group"]["updated_at"], detail["group"]["updated_at"]);
    let (s, _) = app
        .scim(Method::GET, &format!("/Groups/{eng}"), None, ua)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(app.feed_since(&mut cursor).await.is_empty());

    // Once the clash is gone, the restore brings Ann and Ben back, and with them the role
    // the group's kept mapping grants.
    app.scim(Method::DELETE, &format!("/Groups/{clash}"), None, ua)
        .await;
    app.feed_since(&mut cursor).await;
    let (s, restored) = restore(eng.clone(), conn.clone()).await;
    assert_eq!(s, StatusCode::OK, "{restored}");
    assert_eq!(restored["status"], json!("present"));
    assert_eq!(restored["member_count"], json!(2));
    assert_eq!(restored["purge_at"], Value::Null);
    let (_, live) = app.admin(Method::GET, &detail_path, None).await;
    let mut back: Vec<&str> = live["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    back.sort();
    let mut want = vec![ann.as_str(), ben.as_str()];
    want.sort();
    assert_eq!(back, want);
    assert_eq!(live["held_members"], json!([]));
    let events = app.feed_since(&mut cursor).await;
    assert_eq!(events[0].0, "group.restored", "{events:?}");
    assert_eq!(
        kinds_for(&events, &ann),
        vec!["membership.added", "role.changed"]
    );
    assert_eq!(app.app_user(&ann).await["role"], json!("admin"));
    assert_eq!(app.app_user(&ben).await["role"], json!("admin"));
    assert_eq!(app.app_user(&ben).await["role"], json!("admin"));

    // Unknown ids, and a real id asked through another real connection: 404, fail closed.
    let other = app.other_connection().await;
    for (gid, c) in [
        ("nope".to_string(), conn.clone()),
        (ops.clone(), other.clone()),
    ] {
        let (s, v) = restore(gid.clone(), c.clone()).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{c}/{gid}: {v}");
        assert_eq!(v["code"], json!("not_found"));
    }
    let (s, _) = app
        .admin(
            Method::GET,
            &format!("/connections/{other}/groups/{eng}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Ops is deleted; 31 days on its retention has ended: refused before the purger ran…
    app.scim(Method::DELETE, &format!("/Groups/{ops}"), None, ua)
        .await;
    app.clock.advance(chrono::Duration::days(31));
    app.feed_since(&mut cursor).await;
    let (s, v) = restore(ops.clone(), conn.clone()).await;
    assert_eq!(s, StatusCode::GONE, "{v}");
    assert_eq!(v["code"], json!("gone"));
    assert!(
        v["message"].as_str().unwrap().contains("retention ended"),
        "{v}"
    );
    let (_, still) = page("status=deleted&q=ops").await;
    assert_eq!(still["total"], json!(1));
    assert_eq!(still["items"][0]["held_member_count"], json!(1));
    assert!(app.feed_since(&mut cursor).await.is_empty());

    // …and after it: the tombstone says it is gone for good.
    let (s, purged) = app.admin(Method::POST, "/purge", None).await;
    assert_eq!(s, StatusCode::OK, "{purged}");
    let (s, v) = restore(ops.clone(), conn.clone()).await;
    assert_eq!(s, StatusCode::GONE, "{v}");
    assert_eq!(v["code"], json!("gone"));
    let msg = v["message"].as_str().unwrap();
    assert!(msg.contains("'Ops' was purged"), "{msg}");
    let (s, _) = app
        .admin(
            Method::GET,
            &format!("/connections/{conn}/groups/{ops}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, log) = app
        .admin(
            Method::GET,
            &format!("/connections/{conn}/log?outcome=purged"),
            None,
        )
        .await;
    let tomb = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource_id"] == json!(ops))
        .unwrap_or_else(|| panic!("no tombstone for Ops: {log}"));
    assert_eq!(tomb["resource_type"], json!("Group"));
    let (_, feed) = app
        .app(
            Method::GET,
            &format!("/feed?after={cursor}&connection={conn}"),
            None,
        )
        .await;
    assert!(
        feed["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "group.purged" && e["group_id"] == json!(ops)),
        "{feed}"
    );
    let (_, deleted) = page("status=deleted").await;
    assert_eq!(deleted["total"], json!(0), "{deleted}");
    app.t.shutdown().await;
}

/// Malformed JSON bodies on the admin and app APIs are a JSON 400 `bad_request` that says
/// why (not axum's plain-text 415/422), and change nothing.
#[tokio::test]
async fn malformed_bodies_are_a_json_400_and_change_nothing() {
    let app = spawn("okta").await;
    let roles = format!("/connections/{}/roles", app.connection);
    let mappings = format!("{roles}/mappings");
    let (s, before) = app.admin(Method::GET, &roles, None).await;
    assert_eq!(s, StatusCode::OK, "{before}");
    let preview = format!("{roles}/preview");
    let bad: [(&str, Value); 4] = [
        // An attribute mapping without its value, a wrong type, the wrong shape.
        (
            &mappings,
            json!({"default_role": "member",
                   "mappings": [{"attribute": {"path": "title"}, "role": "admin"}]}),
        ),
        (
            &mappings,
            json!({"default_role": "member", "mappings": "admin"}),
        ),
        (&preview, json!([1, 2, 3])),
        (&roles, json!({"name": 7, "description": "x"})),
    ];
    for (path, body) in bad {
        let method = if path.ends_with("/preview") || path.ends_with("/roles") {
            Method::POST
        } else {
            Method::PUT
        };
        let (s, e) = app.admin(method.clone(), path, Some(body.clone())).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{method} {path} {body}: {e}");
        assert_eq!(e["code"], json!("bad_request"), "{e}");
        assert!(
            !e["message"].as_str().unwrap_or("").is_empty(),
            "says why: {e}"
        );
    }
    // Not JSON at all.
    let resp = app
        .t
        .admin_req(Method::PUT, &mappings)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let e: Value = resp.json().await.unwrap();
    assert_eq!(e["code"], json!("bad_request"));
    let (_, after) = app.admin(Method::GET, &roles, None).await;
    assert_eq!(before, after, "nothing changed");

    // The app API's session check, with a token of the wrong type.
    let (s, e) = app
        .app(Method::POST, "/sessions/check", Some(json!({"token": 42})))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["code"], json!("bad_request"), "{e}");
}

/// A restore never hands back a membership the IdP removed while the user was deleted:
/// Okta re-pushing Admins without Ann (PUT), or Entra removing Ben by id (PATCH), forgets
/// the held membership, so restoring them does not make them admins again. A group the IdP
/// did not touch still comes back.
#[tokio::test]
async fn a_restore_does_not_return_memberships_the_idp_removed_meanwhile() {
    let app = spawn("okta").await;
    let ua = "Okta SCIM Client 1.0.0";
    let mut ids = Vec::new();
    for name in ["ann@acme.test", "ben@acme.test", "cat@acme.test"] {
        let (s, u) = app
            .scim(Method::POST, "/Users", Some(user_body(name)), ua)
            .await;
        assert_eq!(s, StatusCode::CREATED, "{u}");
        ids.push(u["id"].as_str().unwrap().to_string());
    }
    let (ann, ben, cat) = (ids[0].clone(), ids[1].clone(), ids[2].clone());
    let group = |name: &str, members: &[&str]| {
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name,
               "members": members.iter().map(|m| json!({"value": m})).collect::<Vec<_>>()})
    };
    let (_, admins) = app
        .scim(
            Method::POST,
            "/Groups",
            Some(group("Admins", &[&ann, &ben, &cat])),
            ua,
        )
        .await;
    let admins = admins["id"].as_str().unwrap().to_string();
    let (_, eng) = app
        .scim(
            Method::POST,
            "/Groups",
            Some(group("Engineering", &[&ann, &ben])),
            ua,
        )
        .await;
    let eng = eng["id"].as_str().unwrap().to_string();
    let (s, _) = app
        .put_mappings(json!({"default_role": "member", "mappings": [
            {"group_id": admins, "role": "admin"}
        ]}))
        .await;
    assert_eq!(s, StatusCode::OK);
    for u in [&ann, &ben] {
        let (s, _) = app
            .scim(Method::DELETE, &format!("/Users/{u}"), None, ua)
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
    }
    // Okta pushes Admins with only Cat; Entra-style PATCH removes Ben by id (a no-op for
    // the live member list, since he is deleted, but a statement about him).
    let (s, body) = app
        .scim(
            Method::PUT,
            &format!("/Groups/{admins}"),
            Some(group("Admins", &[&cat])),
            ua,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, body) = app
        .scim(
            Method::PATCH,
            &format!("/Groups/{eng}"),
            Some(
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "Remove", "path": "members",
                                        "value": [{"value": ben}]}]}),
            ),
            ua,
        )
        .await;
    assert!(s.is_success(), "{s} {body}");

    for u in [&ann, &ben] {
        let (s, r) = app
            .admin(
                Method::POST,
                &format!("/connections/{}/users/{u}/restore", app.connection),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
    }
    let members = |g: Value| -> Vec<String> {
        let mut v: Vec<String> = g["members"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|m| m["value"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let (_, body) = app
        .scim(Method::GET, &format!("/Groups/{admins}"), None, ua)
        .await;
    assert_eq!(members(body), vec![cat.clone()], "nobody rejoins Admins");
    let (_, body) = app
        .scim(Method::GET, &format!("/Groups/{eng}"), None, ua)
        .await;
    assert_eq!(
        members(body),
        vec![ann.clone()],
        "Ann's untouched membership returns, Ben's not"
    );
    assert_eq!(app.app_user(&ann).await["role"], json!("member"));
    assert_eq!(app.app_user(&ben).await["role"], json!("member"));
    assert_eq!(app.app_user(&cat).await["role"], json!("admin"));
}
