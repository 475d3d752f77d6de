//! Every IdP fixture under tests/fixtures/idp replayed end to end with its IdP's
//! User-Agent (Entra with and without aadOptscim062020), its effect read back with GET,
//! and the connection's detected dialect as the admin API reports it.

use crate::helpers::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::path::PathBuf;

const OKTA_UA: &str = "Okta SCIM Client 1.0.0";
const ENTRA_UA: &str = "Microsoft Azure AD SCIM provisioning 1.0.0";

fn fixtures() -> Vec<(String, String)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/idp");
    let mut out = vec![];
    for idp in ["okta", "entra"] {
        for e in std::fs::read_dir(root.join(idp)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "json") {
                let name = p.file_stem().unwrap().to_string_lossy().to_string();
                out.push((name, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// What each fixture needs before it runs.
struct Seed {
    user: String,
    other: String,
    group: String,
}

async fn seed(app: &TestApp, name: &str) -> Seed {
    let user_name = if name == "okta-02-create-user" {
        "someone.else@okta.local"
    } else if name == "entra-02-get-user-by-username" {
        "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee"
    } else {
        "test.user@okta.local"
    };
    // The create fixture carries Okta's externalId: the seed user must not hold it
    // (externalId is unique per connection, as userName is).
    let external_id = if name == "okta-02-create-user" {
        "00u-seed-someone-else"
    } else {
        "00ujl29u0le5T6Aj10h7"
    };
    let user = app
        .create_user(json!({
            "schemas": [USER_URN],
            "userName": user_name,
            "externalId": external_id,
            "name": {"givenName": "Test", "familyName": "User"},
            "displayName": "Test User",
            "active": true,
            "emails": [{"value": "test.user@okta.local", "type": "work", "primary": true}]
        }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other = app.user("other.user@okta.local").await;
    let group_name = match name {
        "okta-07-patch-group-rename" => "Old Name",
        "entra-08-get-group-by-displayname" => "displayName",
        _ => "Test SCIMv2",
    };
    let members: Vec<&str> = match name {
        "okta-08-patch-group-members-remove-and-add" => vec![&other],
        n if n.contains("remove-member") => vec![&user, &other],
        "okta-07-patch-group-rename" => vec![&user],
        _ => vec![],
    };
    let group = app.create_group(group_name, &members).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    Seed { user, other, group }
}

#[tokio::test]
async fn every_fixture_replayed_end_to_end() {
    let all = fixtures();
    assert_eq!(all.len(), 30, "fixture count changed: update this test");
    for (name, text) in all {
        let mut app = spawn_app().await;
        // On PostgreSQL: two instances, the seed and the replay alternating between them.
        app.add_peer().await;
        let s = seed(&app, &name).await;
        let text = text
            .replace("{{userId}}", &s.user)
            .replace("{{otherUserId}}", &s.other)
            .replace("{{groupId}}", &s.group);
        let fx: Value = serde_json::from_str(&text).unwrap();
        let idp = fx["idp"].as_str().unwrap();
        let flagged = name.ends_with("-flag");
        let mut path = fx["path"].as_str().unwrap().to_string();
        if flagged {
            path.push(if path.contains('?') { '&' } else { '?' });
            path.push_str("aadOptscim062020");
        }
        let method = Method::from_bytes(fx["method"].as_str().unwrap().as_bytes()).unwrap();
        let ua = if idp == "okta" { OKTA_UA } else { ENTRA_UA };
        let mut req = app.req(method, &path).header("user-agent", ua);
        if !fx["body"].is_null() {
            req = req
                .header("content-type", SCIM_JSON)
                .body(serde_json::to_vec(&fx["body"]).unwrap());
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let body = r.text().await.unwrap();
        assert!(status < 300, "{name}: {status} {body}");
        let resp: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        check_effect(&app, &name, &s, status, &resp).await;

        let want = match (idp, flagged) {
            ("okta", _) => "okta",
            (_, true) => "entra-aadOptscim062020",
            _ => "entra",
        };
        assert_eq!(app.dialect().await.as_deref(), Some(want), "{name}");
        // Exactly one log row carries the IdP's User-Agent: the fixture's, as answered.
        let log = app.log().await;
        let rows: Vec<&Value> = log
            .iter()
            .filter(|r| r["user_agent"] == json!(ua))
            .collect();
        assert_eq!(rows.len(), 1, "{name}: {log:?}");
        assert_eq!(rows[0]["status"], json!(status), "{name}");
        assert_eq!(rows[0]["method"], fx["method"], "{name}");
        app.shutdown().await;
    }
}

async fn user(app: &TestApp, id: &str) -> Value {
    app.get_json(&format!("/Users/{id}")).await
}

async fn check_effect(app: &TestApp, name: &str, s: &Seed, status: u16, resp: &Value) {
    let u = &s.user;
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    match name {
        "okta-01-get-user-by-username" | "entra-02-get-user-by-username" => {
            assert_eq!(resp["totalResults"], 1, "{name}");
            assert_eq!(resp["Resources"][0]["id"], json!(u), "{name}");
        }
        "okta-02-create-user" => {
            assert_eq!(status, 201);
            let got = user(app, resp["id"].as_str().unwrap()).await;
            assert_eq!(got["userName"], "test.user@okta.local");
            assert_eq!(got["locale"], "en-US");
            assert_eq!(got["externalId"], "00ujl29u0le5T6Aj10h7");
            assert_eq!(got["active"], true);
            assert!(got.get("password").is_none());
        }
        "okta-03-put-user" => {
            let got = user(app, u).await;
            assert_eq!(got["name"]["givenName"], "Another");
            assert_eq!(got["name"]["middleName"], "Excited");
            assert_eq!(got["id"], json!(u));
        }
        "okta-04-patch-deactivate-user"
        | "entra-05-patch-disable-user-doc"
        | "entra-compat-01-disable-user-noflag"
        | "entra-compat-02-disable-user-flag" => {
            assert_eq!(user(app, u).await["active"], false, "{name}");
        }
        "okta-05-create-group" | "entra-06-create-group" => {
            assert_eq!(status, 201);
            let g = app
                .get_json(&format!("/Groups/{}", resp["id"].as_str().unwrap()))
                .await;
            let want = if name.starts_with("okta") {
                "Test SCIMv2"
            } else {
                "displayName"
            };
            assert_eq!(g["displayName"], want);
            assert_eq!(g["members"], json!([]));
            if name.starts_with("entra") {
                assert_eq!(g["externalId"], "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159");
            }
        }
        "okta-06-get-groups-by-displayname" => {
            assert_eq!(resp["totalResults"], 1);
            assert_eq!(resp["Resources"][0]["id"], json!(s.group));
        }
        "okta-07-patch-group-rename" => {
            let g = app.get_json(&format!("/Groups/{}", s.group)).await;
            assert_eq!(g["displayName"], "Test SCIMv2");
            assert_eq!(app.member_ids(&s.group).await, vec![u.clone()]);
        }
        "okta-08-patch-group-members-remove-and-add" => {
            assert_eq!(app.member_ids(&s.group).await, vec![u.clone()]);
        }
        "okta-09-patch-group-members-replace" => {
            assert_eq!(
                app.member_ids(&s.group).await,
                sorted(vec![u.clone(), s.other.clone()])
            );
        }
        "okta-10-put-group-aiw" => {
            assert_eq!(app.member_ids(&s.group).await, vec![u.clone()]);
        }
        "okta-11-delete-group" => {
            assert_eq!(status, 204);
            assert_eq!(app.get(&format!("/Groups/{}", s.group)).await.status(), 404);
        }
        "entra-01-create-user" => {
            assert_eq!(status, 201);
            let got = user(app, resp["id"].as_str().unwrap()).await;
            assert_eq!(
                got["userName"],
                "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee"
            );
            assert_eq!(got["externalId"], "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef");
            assert_eq!(
                got["emails"][0]["value"],
                "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"
            );
            assert_eq!(got["name"]["formatted"], "givenName familyName");
            assert_eq!(got["active"], true);
        }
        "entra-03-patch-user-multivalued" => {
            let got = user(app, u).await;
            assert_eq!(got["emails"][0]["value"], "updatedEmail@microsoft.com");
            assert_eq!(got["emails"][0]["type"], "work");
            assert_eq!(got["name"]["familyName"], "updatedFamilyName");
        }
        "entra-04-patch-user-username" => {
            assert_eq!(
                user(app, u).await["userName"],
                "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"
            );
        }
        "entra-07-get-group-excluding-members" => {
            assert_eq!(resp["id"], json!(s.group));
            assert!(resp.get("members").is_none());
        }
        "entra-08-get-group-by-displayname" => {
            assert_eq!(resp["totalResults"], 1);
            assert_eq!(resp["Resources"][0]["id"], json!(s.group));
            assert!(resp["Resources"][0].get("members").is_none());
        }
        "entra-09-patch-group-rename" => {
            let g = app.get_json(&format!("/Groups/{}", s.group)).await;
            assert_eq!(
                g["displayName"],
                "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
            );
        }
        "entra-10-patch-group-add-member" => {
            assert_eq!(app.member_ids(&s.group).await, vec![u.clone()]);
        }
        "entra-11-patch-group-remove-member-noflag"
        | "entra-compat-07-remove-member-noflag"
        | "entra-compat-08-remove-member-flag" => {
            assert_eq!(
                app.member_ids(&s.group).await,
                vec![s.other.clone()],
                "{name}"
            );
        }
        "entra-compat-03-add-string-noflag" | "entra-compat-04-add-string-flag" => {
            assert_eq!(user(app, u).await["nickName"], "Babs", "{name}");
        }
        "entra-compat-05-replace-multiple-noflag" => {
            let got = user(app, u).await;
            assert_eq!(got["displayName"], "Pvlo");
            assert_eq!(got["emails"][0]["value"], "TestBcwqnm@test.microsoft.com");
            assert_eq!(got["name"]["givenName"], "Gtfd");
            assert_eq!(got["name"]["familyName"], "Pkqf");
            assert_eq!(got["externalId"], "Eqpj");
            assert_eq!(got[ENTERPRISE_URN]["employeeNumber"], "Eqpj");
        }
        "entra-compat-06-replace-multiple-flag" => {
            let got = user(app, u).await;
            assert_eq!(got["displayName"], "Bjfe");
            assert_eq!(got["emails"][0]["value"], "TestMhvaes@test.microsoft.com");
            assert_eq!(got["name"]["givenName"], "Kkom");
            assert_eq!(got["name"]["familyName"], "Unua");
            assert!(got.get("name.givenName").is_none());
            assert_eq!(got[ENTERPRISE_URN]["employeeNumber"], "Aklq");
        }
        other => panic!("fixture {other} has no expected effect: add one"),
    }
}
