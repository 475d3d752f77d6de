//! Each dialect sends exactly the requests the IdPs' documentation shows (table-driven over the fixture files).

use idp::dialect::{Dialect, MemberRef, Person, ScimRequest};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/payloads/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
        .unwrap()
}

fn assert_matches(name: &str, req: &ScimRequest) {
    let f = fixture(name);
    assert_eq!(req.method.as_str(), f["method"], "{name}: method");
    assert_eq!(req.path, f["path"], "{name}: path");
    let want = if f["body"].is_null() {
        None
    } else {
        Some(f["body"].clone())
    };
    assert_eq!(req.body, want, "{name}: body");
}

fn okta_person() -> Person {
    Person {
        user_name: "test.user@okta.local".into(),
        given_name: "Test".into(),
        family_name: "User".into(),
        email: "test.user@okta.local".into(),
        external_id: "00ujl29u0le5T6Aj10h7".into(),
    }
}

#[test]
fn dialects_reproduce_documented_requests() {
    let uid = "{{userId}}";
    let gid = "{{groupId}}";
    let entra_person = Person {
        user_name: "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee".into(),
        given_name: "givenName".into(),
        family_name: "familyName".into(),
        email: "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com".into(),
        external_id: "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef".into(),
    };
    let member = [MemberRef {
        id: uid.into(),
        user_name: String::new(),
    }];
    let cases: Vec<(&str, ScimRequest)> = vec![
        (
            "okta-01-get-user-by-username",
            Dialect::Okta.find_user("test.user@okta.local"),
        ),
        (
            "okta-04-patch-deactivate-user",
            Dialect::Okta.deactivate_user(uid),
        ),
        (
            "okta-05-create-group",
            Dialect::Okta.create_group("Test SCIMv2", "ignored"),
        ),
        (
            "okta-06-get-groups-by-displayname",
            Dialect::Okta.find_group("Test SCIMv2"),
        ),
        (
            "okta-07-patch-group-rename",
            Dialect::Okta.rename_group(gid, "Test SCIMv2"),
        ),
        (
            "entra-01-create-user",
            Dialect::Entra.create_user(&entra_person),
        ),
        (
            "entra-02-get-user-by-username",
            Dialect::Entra.find_user(&entra_person.user_name),
        ),
        (
            "entra-06-create-group",
            Dialect::Entra.create_group("displayName", "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"),
        ),
        (
            "entra-08-get-group-by-displayname",
            Dialect::Entra.find_group("displayName"),
        ),
        (
            "entra-09-patch-group-rename",
            Dialect::Entra.rename_group(
                gid,
                "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName",
            ),
        ),
        (
            "entra-10-patch-group-add-member",
            Dialect::Entra.add_members(gid, "ignored", &member),
        ),
        (
            "entra-11-patch-group-remove-member-noflag",
            Dialect::Entra.remove_members(gid, "ignored", &[uid.to_string()]),
        ),
        (
            "entra-compat-01-disable-user-noflag",
            Dialect::Entra.deactivate_user(uid),
        ),
        (
            "entra-compat-02-disable-user-flag",
            Dialect::EntraCompliant.deactivate_user(uid),
        ),
        (
            "entra-compat-08-remove-member-flag",
            Dialect::EntraCompliant.remove_members(gid, "ignored", &[uid.to_string()]),
        ),
    ];
    for (name, req) in cases {
        assert_matches(name, &req);
    }
}

#[test]
fn okta_create_matches_except_the_random_password() {
    let mut req = Dialect::Okta.create_user(&okta_person());
    let body = req.body.as_mut().unwrap();
    assert!(body["password"].as_str().is_some_and(|p| p.len() == 8));
    body["password"] = fixture("okta-02-create-user")["body"]["password"].clone();
    assert_matches("okta-02-create-user", &req);
}

#[test]
fn okta_group_push_adds_members_with_display_and_no_type() {
    let f = fixture("okta-08-patch-group-members-remove-and-add");
    let req = Dialect::Okta.add_members(
        "{{groupId}}",
        "Test SCIMv2",
        &[MemberRef {
            id: "{{userId}}".into(),
            user_name: "test.user@okta.local".into(),
        }],
    );
    let ops = req.body.unwrap()["Operations"].as_array().unwrap().clone();
    // Okta re-asserts id and displayName first, then adds.
    assert_eq!(ops[0]["value"]["id"], "{{groupId}}");
    assert!(ops[0].get("path").is_none());
    assert_eq!(ops[1], f["body"]["Operations"][1]);
    let remove =
        Dialect::Okta.remove_members("{{groupId}}", "Test SCIMv2", &["{{otherUserId}}".into()]);
    assert_eq!(
        remove.body.unwrap()["Operations"][1],
        f["body"]["Operations"][0]
    );
}

#[test]
fn entra_updates_differ_by_flag() {
    // Without the flag: one Title-Case Replace per attribute; with it: path-less dotted keys.
    let plain = Dialect::Entra
        .update_name("u", &Value::Null, "G", "F")
        .body
        .unwrap();
    assert_eq!(plain["Operations"][0]["op"], "Replace");
    assert_eq!(plain["Operations"][0]["path"], "name.givenName");
    let flag = Dialect::EntraCompliant
        .update_name("u", &Value::Null, "G", "F")
        .body
        .unwrap();
    assert!(flag["Operations"][0].get("path").is_none());
    assert_eq!(flag["Operations"][0]["value"]["name.givenName"], "G");
    // Okta PUTs back the object it read.
    let read = serde_json::json!({ "id": "u", "userName": "x", "name": { "givenName": "A" }, "meta": { "resourceType": "User" } });
    let put = Dialect::Okta.update_name("u", &read, "B", "C");
    assert_eq!(put.method.as_str(), "PUT");
    assert_eq!(put.body.unwrap()["meta"]["resourceType"], "User");
}

#[test]
fn user_agents_are_the_real_ones() {
    assert_eq!(Dialect::Okta.user_agent(), "Okta SCIM Client 1.0.0");
    assert!(!Dialect::Google.provisions_groups());
}
