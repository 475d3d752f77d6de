//! Black-box flagged sign-ins: sign-ins over the app API (`/app/v1/.../signin`) whose group
//! claims could not be trusted (Entra `_claim_names`/`hasgroups`, no groups claim where one
//! is expected) are listed by the admin API per connection, never across connections, with
//! the last 7 days counted; bad input is a clear 4xx that changes nothing.

use directory::ManualClock;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

#[allow(dead_code)]
#[path = "scim/helpers.rs"]
mod helpers;

use helpers::TestApp;

/// A server on a manual clock with two Entra connections (A is the harness's own, with its
/// SCIM token) and an app-API key.
struct App {
    t: TestApp,
    clock: Arc<ManualClock>,
    app_key: String,
    a: String,
    b: String,
}

async fn spawn() -> App {
    let clock = Arc::new(ManualClock::new(helpers::clock_start()));
    let t = helpers::spawn_app_for(clock.clone(), "Acme Entra", "entra", |_| {}).await;
    let (b, _) = t.new_connection_for("Globex Entra", "entra").await;
    App {
        app_key: t.app_key("test app").await,
        a: t.connection_id.clone(),
        b,
        clock,
        t,
    }
}

impl App {
    async fn admin_as(
        &self,
        secret: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .t
            .client
            .request(method, format!("{}{path}", self.t.admin));
        if let Some(s) = secret {
            req = req.bearer_auth(s);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.admin_as(Some(&self.t.admin_secret.clone()), method, path, body)
            .await
    }
    async fn flagged(&self, conn: &str) -> Value {
        let (s, v) = self
            .admin(
                Method::GET,
                &format!("/connections/{conn}/jit/flagged"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v
    }
    async fn policy(&self, conn: &str, policy: &str, expect_groups: bool) {
        let (s, mut v) = self
            .admin(Method::GET, &format!("/connections/{conn}/jit"), None)
            .await;
        assert_eq!(s, StatusCode::OK);
        v["policy"] = json!(policy);
        v["expect_groups_claim"] = json!(expect_groups);
        let (s, v) = self
            .admin(Method::PUT, &format!("/connections/{conn}/jit"), Some(v))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    async fn sign_in(&self, conn: &str, body: Value) -> (StatusCode, Value) {
        let resp = self
            .t
            .client
            .post(format!(
                "{}/app/v1/connections/{conn}/signin",
                self.t.origin()
            ))
            .bearer_auth(&self.app_key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

fn subjects(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["subject"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn flagged_signins_are_listed_per_connection_and_counted_for_7_days() {
    let app = spawn().await;
    app.policy(&app.a, "scim_first", false).await;
    app.policy(&app.b, "scim_first", true).await;

    // A: an Entra overage (the token carried _claim_names, not the groups).
    let (s, v) = app
        .sign_in(
            &app.a,
            json!({
                "subject": "aad-oid-ada",
                "email": "ada@acme.example",
                "name": "Ada Lovelace",
                "_claim_names": {"groups": "src1"},
                "_claim_sources": {"src1": {"endpoint": "https://graph.microsoft.com/v1.0/users/aad-oid-ada/getMemberObjects"}}
            }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["decision"]["decision"], "create");
    assert!(
        v["warnings"][0]
            .as_str()
            .unwrap()
            .contains("_claim_names instead of groups"),
        "{v}"
    );
    assert_eq!(v["flag"], "groups_overage_claim_names");
    let ada = v["user"]["id"].as_str().unwrap().to_string();
    // A: a clean sign-in with its groups is not flagged.
    let (s, clean) = app
        .sign_in(
            &app.a,
            json!({"subject": "aad-oid-bob", "email": "bob@acme.example", "groups": ["g-1"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(clean["flag"], Value::Null, "{clean}");
    // B: no groups claim where B expects one, and an implicit-flow overage.
    let (s, _) = app
        .sign_in(
            &app.b,
            json!({"subject": "globex-cy", "email": "cy@globex.example"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    app.clock.advance(chrono::Duration::minutes(5));
    let (s, _) = app
        .sign_in(
            &app.b,
            json!({"subject": "globex-di", "email": "di@globex.example", "hasgroups": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    let fa = app.flagged(&app.a).await;
    assert_eq!(fa["last_7_days"], 1, "{fa}");
    assert_eq!(subjects(&fa), vec!["aad-oid-ada"]);
    let item = &fa["items"][0];
    assert_eq!(item["user_id"], ada.as_str());
    assert_eq!(item["user_name"], "ada@acme.example");
    assert_eq!(item["flag"], "groups_overage_claim_names");
    assert_eq!(item["decision"], "created");
    assert_eq!(item["role"], "member");
    assert_eq!(
        item["why"],
        "Entra groups overage: the token carried _claim_names instead of groups; roles kept as they were"
    );

    // B's admin view holds only B's sign-ins, newest first; A's never show there.
    let fb = app.flagged(&app.b).await;
    assert_eq!(fb["last_7_days"], 2, "{fb}");
    assert_eq!(subjects(&fb), vec!["globex-di", "globex-cy"]);
    assert_eq!(fb["items"][0]["flag"], "groups_overage_hasgroups");
    assert_eq!(fb["items"][1]["flag"], "groups_claim_missing");
    assert!(
        !fb.to_string().contains(&ada),
        "A's user leaked into B: {fb}"
    );
    assert!(!fb.to_string().contains("acme.example"), "{fb}");

    // limit
    let (s, v) = app
        .admin(
            Method::GET,
            &format!("/connections/{}/jit/flagged?limit=1", app.b),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(subjects(&v), vec!["globex-di"]);
    assert_eq!(v["last_7_days"], 2);
    let (s, v) = app
        .admin(
            Method::GET,
            &format!("/connections/{}/jit/flagged?limit=0", app.b),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (v["items"].as_array().unwrap().len(), &v["last_7_days"]),
        (0, &json!(2))
    );

    // Eight days on: nothing in the last 7 days (no badge), the list still shows them.
    app.clock.advance(chrono::Duration::days(8));
    let fb = app.flagged(&app.b).await;
    assert_eq!(fb["last_7_days"], 0);
    assert_eq!(subjects(&fb), vec!["globex-di", "globex-cy"]);
}

#[tokio::test]
async fn a_flagged_sign_in_of_a_scim_deactivated_user_is_refused_and_listed_as_refused() {
    let app = spawn().await;
    app.policy(&app.a, "jit_overwrites", false).await;
    let resp = app
        .t
        .client
        .post(format!("{}/Users", app.t.base))
        .bearer_auth(&app.t.token)
        .header("Content-Type", "application/scim+json")
        .body(
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "gone@acme.example",
                "externalId": "aad-oid-gone",
                "active": false
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let (s, v) = app
        .sign_in(
            &app.a,
            json!({"subject": "aad-oid-gone", "email": "gone@acme.example", "hasgroups": true}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["decision"]["reason"], "the account is deactivated");
    assert_eq!(v["flag"], "groups_overage_hasgroups");
    let fa = app.flagged(&app.a).await;
    let item = &fa["items"][0];
    assert_eq!(item["user_name"], "gone@acme.example");
    assert_eq!(item["decision"], "refused");
    assert_eq!(item["reason"], "the account is deactivated");
    assert_eq!(item["role"], Value::Null);
}

#[tokio::test]
async fn the_flagged_endpoint_refuses_bad_input_and_strangers_and_changes_nothing() {
    let app = spawn().await;
    app.policy(&app.a, "scim_first", true).await;
    let (s, _) = app
        .sign_in(
            &app.a,
            json!({"subject": "aad-oid-1", "email": "one@acme.example"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let before = app.flagged(&app.a).await;
    assert_eq!(before["last_7_days"], 1);
    let path = format!("/connections/{}/jit/flagged", app.a);

    // Admin-authenticated like its neighbours: no secret, a wrong one, an app key.
    for secret in [None, Some("wrong"), Some(app.app_key.as_str())] {
        let (s, v) = app.admin_as(secret, Method::GET, &path, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{secret:?}");
        assert_eq!(v["code"], "unauthorized");
        assert!(v.get("items").is_none());
    }
    // Unknown connection: 404, not an empty list.
    let (s, v) = app
        .admin(Method::GET, "/connections/nope/jit/flagged", None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v["code"], "not_found");
    // Bad limits: a JSON 400 saying what is wrong.
    for q in ["limit=abc", "limit=-1", "limit=201", "limit=99999999999"] {
        let (s, v) = app.admin(Method::GET, &format!("{path}?{q}"), None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}: {v}");
        assert_eq!(v["code"], "bad_request", "{q}");
        assert!(v["message"].as_str().unwrap().contains("limit"), "{q}: {v}");
    }
    // A malformed overage indicator at sign-in is a 400 and records nothing.
    let (s, v) = app
        .sign_in(
            &app.a,
            json!({"subject": "aad-oid-2", "email": "two@acme.example", "hasgroups": "yes"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(app.flagged(&app.a).await, before);
    // A sign-in without a subject is the caller's mistake: 400 as in the admin API (it was
    // a 409 "conflict" here, one classification of errors mapped twice), and nothing stored.
    for subject in ["", "   "] {
        let (s, v) = app
            .sign_in(
                &app.a,
                json!({"subject": subject, "email": "three@acme.example"}),
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{subject:?}: {v}");
        assert_eq!(v["code"], "bad_request", "{v}");
        assert!(v["message"].as_str().unwrap().contains("subject"), "{v}");
    }
    assert_eq!(app.flagged(&app.a).await, before);
    let (s, users) = app
        .admin(Method::GET, &format!("/connections/{}/users", app.a), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        users["total"], 1,
        "the refused body created nobody: {users}"
    );
}
