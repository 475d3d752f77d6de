//! Every IdP request body under tests/fixtures/idp/{okta,entra} run through the scim crate,
//! asserting the exact resulting resource (or membership changes, or parsed query).

use scim::filter::{matches, parse};
use scim::list::ListQuery;
use scim::patch::{
    apply_group_patch, apply_user_patch, parse_patch, split_group_patch, MemberChange, MemberRef,
};
use scim::schema::{normalize_group, normalize_user, ResourceKind};
use scim::urn;
use serde_json::{json, Value};
use std::path::PathBuf;

const USER_ID: &str = "2819c223-7f76-453a-919d-413861904646";
const OTHER_ID: &str = "902c246b-6245-4190-8e05-00816be7344a";
const GROUP_ID: &str = "e9e30dba-f08f-4109-8486-d5c6a331660a";

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/idp")
}

/// Loads a fixture with its `{{placeholders}}` filled in.
fn fixture(idp: &str, name: &str) -> Value {
    let path = fixture_dir().join(idp).join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = text
        .replace("{{userId}}", USER_ID)
        .replace("{{otherUserId}}", OTHER_ID)
        .replace("{{groupId}}", GROUP_ID);
    let v: Value = serde_json::from_str(&text).unwrap();
    for key in ["idp", "source", "method", "path", "notes", "body"] {
        assert!(v.get(key).is_some(), "{name} lacks {key}");
    }
    v
}

fn body(idp: &str, name: &str) -> Value {
    fixture(idp, name)["body"].clone()
}

/// A stored user as normalize_user leaves it (the state PATCH fixtures start from).
fn stored_user() -> Value {
    json!({
        "schemas": [urn::USER],
        "externalId": "00ujl29u0le5T6Aj10h7",
        "userName": "test.user@okta.local",
        "name": {"givenName": "Test", "familyName": "User"},
        "displayName": "Test User",
        "active": true,
        "emails": [{"value": "test.user@okta.local", "type": "work", "primary": true}]
    })
}

fn patched_user(idp: &str, name: &str, start: Value) -> Value {
    let req = parse_patch(&body(idp, name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut user = start;
    apply_user_patch(&mut user, &req).unwrap_or_else(|e| panic!("{name}: {e}"));
    // What the storage layer does next; must be stable.
    assert_eq!(
        normalize_user(&user).unwrap(),
        user,
        "{name}: PATCH result is not normalised"
    );
    user
}

fn with(mut base: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            base.as_object_mut().unwrap().remove(k);
        } else {
            base[k] = v.clone();
        }
    }
    base
}

#[test]
fn entra_03_replace_work_email_and_family_name() {
    let got = patched_user("entra", "entra-03-patch-user-multivalued", stored_user());
    let want = with(
        stored_user(),
        json!({
            "name": {"givenName": "Test", "familyName": "updatedFamilyName"},
            "emails": [{"value": "updatedEmail@microsoft.com", "type": "work", "primary": true}]
        }),
    );
    assert_eq!(got, want);
}

#[test]
fn entra_03_creates_work_email_when_user_has_none() {
    let start = with(
        stored_user(),
        json!({"emails": [{"value": "home@x.org", "type": "home"}]}),
    );
    let got = patched_user("entra", "entra-03-patch-user-multivalued", start);
    assert_eq!(
        got["emails"],
        json!([{"value": "home@x.org", "type": "home"}, {"value": "updatedEmail@microsoft.com", "type": "work"}])
    );
}

#[test]
fn entra_04_replace_user_name() {
    let got = patched_user("entra", "entra-04-patch-user-username", stored_user());
    assert_eq!(
        got,
        with(
            stored_user(),
            json!({"userName": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"})
        )
    );
}

#[test]
fn every_disable_dialect_sets_active_false() {
    for (idp, name) in [
        ("entra", "entra-05-patch-disable-user-doc"),
        ("entra", "entra-compat-01-disable-user-noflag"),
        ("entra", "entra-compat-02-disable-user-flag"),
        ("okta", "okta-04-patch-deactivate-user"),
    ] {
        let got = patched_user(idp, name, stored_user());
        assert_eq!(got, with(stored_user(), json!({"active": false})), "{name}");
    }
}

#[test]
fn entra_add_string_with_and_without_flag() {
    for name in [
        "entra-compat-03-add-string-noflag",
        "entra-compat-04-add-string-flag",
    ] {
        let got = patched_user("entra", name, stored_user());
        assert_eq!(
            got,
            with(stored_user(), json!({"nickName": "Babs"})),
            "{name}"
        );
    }
}

#[test]
fn entra_compat_05_one_op_per_attribute() {
    let got = patched_user(
        "entra",
        "entra-compat-05-replace-multiple-noflag",
        stored_user(),
    );
    let want = json!({
        "schemas": [urn::USER, urn::ENTERPRISE_USER],
        "externalId": "Eqpj",
        "userName": "test.user@okta.local",
        "name": {"givenName": "Gtfd", "familyName": "Pkqf"},
        "displayName": "Pvlo",
        "active": true,
        "emails": [{"value": "TestBcwqnm@test.microsoft.com", "type": "work", "primary": true}],
        urn::ENTERPRISE_USER: {"employeeNumber": "Eqpj"}
    });
    assert_eq!(got, want);
}

#[test]
fn entra_compat_06_dotted_keys_in_pathless_value() {
    let got = patched_user(
        "entra",
        "entra-compat-06-replace-multiple-flag",
        stored_user(),
    );
    let want = json!({
        "schemas": [urn::USER, urn::ENTERPRISE_USER],
        "externalId": "00ujl29u0le5T6Aj10h7",
        "userName": "test.user@okta.local",
        "name": {"givenName": "Kkom", "familyName": "Unua"},
        "displayName": "Bjfe",
        "active": true,
        "emails": [{"value": "TestMhvaes@test.microsoft.com", "type": "work", "primary": true}],
        urn::ENTERPRISE_USER: {"employeeNumber": "Aklq"}
    });
    assert_eq!(got, want);
}

#[test]
fn entra_01_create_user() {
    let got = normalize_user(&body("entra", "entra-01-create-user")).unwrap();
    // meta dropped, empty roles unassigned, enterprise URN listed without a body dropped.
    let want = json!({
        "schemas": [urn::USER],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "active": true,
        "emails": [{"value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com", "type": "work", "primary": true}]
    });
    assert_eq!(got, want);
}

#[test]
fn okta_02_create_user_drops_password_and_groups() {
    let got = normalize_user(&body("okta", "okta-02-create-user")).unwrap();
    let want = json!({
        "schemas": [urn::USER],
        "externalId": "00ujl29u0le5T6Aj10h7",
        "userName": "test.user@okta.local",
        "name": {"givenName": "Test", "familyName": "User"},
        "displayName": "Test User",
        "locale": "en-US",
        "active": true,
        "emails": [{"value": "test.user@okta.local", "type": "work", "primary": true}]
    });
    assert_eq!(got, want);
}

#[test]
fn okta_03_put_user_drops_id_meta_groups() {
    let got = normalize_user(&body("okta", "okta-03-put-user")).unwrap();
    let want = json!({
        "schemas": [urn::USER],
        "userName": "test.user@okta.local",
        "name": {"givenName": "Another", "middleName": "Excited", "familyName": "User"},
        "active": true,
        "emails": [{"value": "test.user@okta.local", "display": "test.user@okta.local", "type": "work", "primary": true}]
    });
    assert_eq!(got, want);
}

#[test]
fn entra_06_create_group_drops_adscim_schema_and_meta() {
    let (group, members) = normalize_group(&body("entra", "entra-06-create-group")).unwrap();
    assert_eq!(
        group,
        json!({"schemas": [urn::GROUP], "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "displayName"})
    );
    assert_eq!(members, None);
}

#[test]
fn okta_group_bodies() {
    let (group, members) = normalize_group(&body("okta", "okta-05-create-group")).unwrap();
    assert_eq!(
        group,
        json!({"schemas": [urn::GROUP], "displayName": "Test SCIMv2"})
    );
    assert_eq!(members, Some(vec![]));
    let (group, members) = normalize_group(&body("okta", "okta-10-put-group-aiw")).unwrap();
    assert_eq!(
        group,
        json!({"schemas": [urn::GROUP], "displayName": "Test SCIMv2"})
    );
    assert_eq!(
        members,
        Some(vec![MemberRef {
            value: USER_ID.into(),
            display: Some("test.user@okta.local".into()),
            kind: None
        }])
    );
}

fn stored_group() -> Value {
    json!({"schemas": [urn::GROUP], "displayName": "Old name"})
}

fn group_patch(idp: &str, name: &str) -> (Vec<MemberChange>, Value) {
    let req = parse_patch(&body(idp, name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let (changes, rest) = split_group_patch(req).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut group = stored_group();
    apply_group_patch(&mut group, &rest).unwrap_or_else(|e| panic!("{name}: {e}"));
    (changes, group)
}

fn member(id: &str, display: Option<&str>) -> MemberRef {
    MemberRef {
        value: id.into(),
        display: display.map(Into::into),
        kind: None,
    }
}

#[test]
fn group_renames() {
    let (changes, group) = group_patch("entra", "entra-09-patch-group-rename");
    assert!(changes.is_empty());
    assert_eq!(
        group,
        json!({"schemas": [urn::GROUP], "displayName": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"})
    );
    // Okta echoes the group id in the value: ignored, displayName applied.
    let (changes, group) = group_patch("okta", "okta-07-patch-group-rename");
    assert!(changes.is_empty());
    assert_eq!(
        group,
        json!({"schemas": [urn::GROUP], "displayName": "Test SCIMv2"})
    );
}

#[test]
fn entra_10_add_member() {
    let (changes, group) = group_patch("entra", "entra-10-patch-group-add-member");
    assert_eq!(
        changes,
        vec![MemberChange::Add(vec![member(USER_ID, None)])]
    );
    assert_eq!(group, stored_group());
}

#[test]
fn entra_remove_member_dialects_all_remove_one_id() {
    for name in [
        "entra-11-patch-group-remove-member-noflag",
        "entra-compat-07-remove-member-noflag",
        "entra-compat-08-remove-member-flag",
    ] {
        let (changes, group) = group_patch("entra", name);
        assert_eq!(
            changes,
            vec![MemberChange::Remove(vec![USER_ID.into()])],
            "{name}"
        );
        assert_eq!(group, stored_group(), "{name}");
    }
}

#[test]
fn okta_08_remove_then_add_in_order() {
    let (changes, _) = group_patch("okta", "okta-08-patch-group-members-remove-and-add");
    assert_eq!(
        changes,
        vec![
            MemberChange::Remove(vec![OTHER_ID.into()]),
            MemberChange::Add(vec![member(USER_ID, Some("test.user@okta.local"))]),
        ]
    );
}

#[test]
fn okta_09_replace_all_members() {
    let (changes, _) = group_patch("okta", "okta-09-patch-group-members-replace");
    assert_eq!(
        changes,
        vec![MemberChange::ReplaceAll(vec![
            member(USER_ID, Some("test.user@okta.local")),
            member(OTHER_ID, Some("test.user@okta.local")),
        ])]
    );
}

/// Minimal application/x-www-form-urlencoded query parsing for the GET fixtures.
fn query_pairs(path: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'%' => {
                    out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                    i += 3;
                }
                b'+' => {
                    out.push(b' ');
                    i += 1;
                }
                b => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        String::from_utf8(out).unwrap()
    };
    let query = path.split_once('?').map(|(_, q)| q).unwrap_or("");
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn get_query(idp: &str, name: &str) -> ListQuery {
    let f = fixture(idp, name);
    assert_eq!(f["method"], "GET");
    ListQuery::from_params(&query_pairs(f["path"].as_str().unwrap()), 200).unwrap()
}

#[test]
fn get_user_by_username_filters() {
    let q = get_query("okta", "okta-01-get-user-by-username");
    assert_eq!(
        q.filter,
        Some(parse(r#"userName eq "test.user@okta.local""#).unwrap())
    );
    assert_eq!((q.start_index, q.count), (1, Some(100)));
    let user = with(
        stored_user(),
        json!({"id": USER_ID, "userName": "Test.User@OKTA.local"}),
    );
    assert!(
        matches(q.filter.as_ref().unwrap(), ResourceKind::User, &user),
        "userName is caseExact=false"
    );

    let q = get_query("entra", "entra-02-get-user-by-username");
    let f = q.filter.unwrap();
    assert_eq!(
        f.to_string(),
        r#"userName eq "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee""#
    );
    assert!(!matches(&f, ResourceKind::User, &user));
}

#[test]
fn get_groups_by_display_name() {
    let group = json!({"schemas": [urn::GROUP], "id": GROUP_ID, "displayName": "Test SCIMv2"});
    let q = get_query("okta", "okta-06-get-groups-by-displayname");
    assert!(matches(
        q.filter.as_ref().unwrap(),
        ResourceKind::Group,
        &group
    ));
    let q = get_query("entra", "entra-08-get-group-by-displayname");
    assert!(q.projection.excludes("members"));
    assert!(!matches(
        q.filter.as_ref().unwrap(),
        ResourceKind::Group,
        &group
    ));
}

#[test]
fn entra_07_excluded_members_projection() {
    let q = get_query("entra", "entra-07-get-group-excluding-members");
    assert!(q.projection.excludes("members"));
    assert!(!q.projection.excludes("displayName"));
    let mut g = json!({"schemas": [urn::GROUP], "id": GROUP_ID, "displayName": "x", "members": [{"value": USER_ID}]});
    q.projection.apply(&mut g);
    assert_eq!(
        g,
        json!({"schemas": [urn::GROUP], "id": GROUP_ID, "displayName": "x"})
    );
}

#[test]
fn okta_11_delete_has_no_body() {
    let f = fixture("okta", "okta-11-delete-group");
    assert_eq!(
        (f["method"].as_str(), &f["body"]),
        (Some("DELETE"), &Value::Null)
    );
}

/// A fixture added to the corpus without a test here fails this test.
#[test]
fn every_fixture_is_covered() {
    let src = include_str!("idp_fixtures.rs");
    let mut seen = 0;
    for idp in ["okta", "entra"] {
        for entry in std::fs::read_dir(fixture_dir().join(idp)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let stem = name.trim_end_matches(".json");
            assert!(
                src.contains(&format!("\"{stem}\"")),
                "fixture {idp}/{name} has no test"
            );
            seen += 1;
        }
    }
    assert!(seen >= 30, "expected the whole corpus, saw {seen}");
}
