//! Black-box lifecycle per IdP dialect: create → groups → role → mover → deactivate
//! (sessions revoked in the same transaction) → reactivate → delete → restore → purge,
//! with the change feed checked at each step; and concurrent membership PATCHes.

use chrono::{TimeZone, Utc};
use directory::{connections, sessions, tokens, Db, ManualClock};
use muster_server::{start_with_clock, RunningServer, ServerConfig};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

struct App {
    server: RunningServer,
    clock: Arc<ManualClock>,
    http: Client,
    scim: String,
    token: String,
    app_key: String,
    admin: String,
    secret: String,
    connection: String,
    _dir: tempfile::TempDir,
}

async fn spawn(idp: &str) -> App {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("muster.db");
    let start = Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap();
    let (connection, token, app_key) = {
        let db = Db::open(&path).unwrap();
        let idp: connections::Idp = idp.parse().unwrap();
        db.write_blocking(move |c| {
            let conn = connections::create(c, "Acme", idp, false, start)?;
            let t = tokens::issue(c, &conn.id, "initial", start)?;
            let (key, _) = sessions::issue_app_key(c, "test app", start)?;
            Ok((conn.id, t.secret, key))
        })
        .unwrap()
    };
    let clock = Arc::new(ManualClock::new(start));
    let server = start_with_clock(
        ServerConfig::new(path, "127.0.0.1:0".parse().unwrap()),
        clock.clone(),
    )
    .await
    .unwrap();
    App {
        scim: format!("{}/{}", server.scim_base, connection),
        admin: server.admin_base.clone(),
        secret: server.admin_secret.clone(),
        server,
        clock,
        http: Client::new(),
        token,
        app_key,
        connection,
        _dir: dir,
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
            .http
            .request(method, format!("{}{path}", self.scim))
            .bearer_auth(&self.token)
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
            .http
            .request(method, format!("{}/app/v1{path}", self.server_origin()))
            .bearer_auth(&self.app_key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.admin))
            .bearer_auth(&self.secret);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
    fn server_origin(&self) -> String {
        format!("http://{}", self.server.addr)
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
        app.server.shutdown().await;
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
    app.server.shutdown().await;
}
