//! Filters over HTTP (RFC 7644 §3.4.2.2): every operator, and/or/not, parentheses, value
//! paths, sub-attributes, URN prefixes, case rules, unsupported attributes -> 400
//! invalidFilter, and LIKE/SQL-looking values treated as plain characters.

use crate::helpers::*;
use serde_json::{json, Value};

async fn seed(app: &TestApp) -> Vec<String> {
    let users = [
        json!({"schemas": [USER_URN, ENTERPRISE_URN], "userName": "alice", "externalId": "A-1",
               "displayName": "Alice Smith", "title": "Engineer",
               "name": {"givenName": "Alice", "familyName": "Smith"},
               "emails": [{"value": "alice@acme.com", "type": "work", "primary": true},
                          {"value": "alice@home.org", "type": "home"}],
               ENTERPRISE_URN: {"department": "Eng"}}),
        json!({"schemas": [USER_URN], "userName": "bob", "externalId": "b-2",
               "displayName": "Bob Jones", "active": false, "nickName": "100%_done",
               "emails": [{"value": "bob@acme.com", "type": "work"}]}),
        json!({"schemas": [USER_URN], "userName": "carol", "displayName": "Carol O'Brien",
               "title": "\"; DROP TABLE users; --"}),
        json!({"schemas": [USER_URN], "userName": "Dave_x", "externalId": "D-4",
               "displayName": "dave%", "emails": [{"value": "dave@other.net", "type": "work"}]}),
    ];
    let mut ids = vec![];
    for u in users {
        ids.push(app.create_user(u).await["id"].as_str().unwrap().to_string());
    }
    ids
}

async fn names(app: &TestApp, filter: &str) -> Vec<String> {
    let r = app.get(&format!("/Users?filter={}", enc(filter))).await;
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, 200, "{filter}: {text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut out: Vec<String> = v["Resources"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| r["userName"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(v["totalResults"], json!(out.len()), "{filter}");
    out.sort();
    out
}

#[tokio::test]
async fn every_operator_and_combination() {
    let app = spawn_app().await;
    seed(&app).await;
    let ent = ENTERPRISE_URN;
    let cases: Vec<(String, Vec<&str>)> = vec![
        (r#"userName eq "ALICE""#.into(), vec!["alice"]),
        (r#"UserName EQ "alice""#.into(), vec!["alice"]),
        (
            r#"userName ne "alice""#.into(),
            vec!["Dave_x", "bob", "carol"],
        ),
        (
            r#"userName co "A""#.into(),
            vec!["Dave_x", "alice", "carol"],
        ),
        (r#"userName sw "b""#.into(), vec!["bob"]),
        (r#"userName ew "X""#.into(), vec!["Dave_x"]),
        (r#"userName gt "bob""#.into(), vec!["Dave_x", "carol"]),
        (
            r#"userName ge "bob""#.into(),
            vec!["Dave_x", "bob", "carol"],
        ),
        (r#"userName lt "bob""#.into(), vec!["alice"]),
        (r#"userName le "bob""#.into(), vec!["alice", "bob"]),
        (r#"externalId eq "a-1""#.into(), vec![]),
        (r#"externalId eq "A-1""#.into(), vec!["alice"]),
        ("externalId pr".into(), vec!["Dave_x", "alice", "bob"]),
        ("not (externalId pr)".into(), vec!["carol"]),
        ("active eq false".into(), vec!["bob"]),
        ("active ne false".into(), vec!["Dave_x", "alice", "carol"]),
        (
            r#"active eq true and userName sw "a""#.into(),
            vec!["alice"],
        ),
        (
            r#"userName eq "bob" or userName eq "carol""#.into(),
            vec!["bob", "carol"],
        ),
        (
            r#"(userName eq "bob" or userName eq "carol") and active eq true"#.into(),
            vec!["carol"],
        ),
        (
            r#"userName eq "bob" or userName eq "carol" and active eq true"#.into(),
            vec!["bob", "carol"],
        ),
        (
            r#"not (userName eq "bob" or userName eq "carol")"#.into(),
            vec!["Dave_x", "alice"],
        ),
        (
            r#"emails[type eq "work" and value co "acme"]"#.into(),
            vec!["alice", "bob"],
        ),
        (r#"emails[type eq "home"]"#.into(), vec!["alice"]),
        (r#"emails.value ew "OTHER.net""#.into(), vec!["Dave_x"]),
        (r#"emails co "@acme.com""#.into(), vec!["alice", "bob"]),
        ("emails pr".into(), vec!["Dave_x", "alice", "bob"]),
        (r#"emails.type eq "home""#.into(), vec!["alice"]),
        (r#"name.familyName eq "smith""#.into(), vec!["alice"]),
        (r#"NAME.GIVENNAME sw "al""#.into(), vec!["alice"]),
        (format!(r#"{USER_URN}:userName eq "carol""#), vec!["carol"]),
        (format!(r#"{ent}:department eq "eng""#), vec!["alice"]),
        (
            format!(r#"{}:department eq "eng""#, ent.to_uppercase()),
            vec!["alice"],
        ),
        (
            r#"meta.created gt "2000-01-01T00:00:00Z""#.into(),
            vec!["Dave_x", "alice", "bob", "carol"],
        ),
        (
            r#"meta.lastModified lt "2000-01-01T00:00:00Z""#.into(),
            vec![],
        ),
        // LIKE wildcards and SQL are plain characters.
        (r#"displayName co "%""#.into(), vec!["Dave_x"]),
        (r#"userName co "_""#.into(), vec!["Dave_x"]),
        (r#"displayName sw "_""#.into(), vec![]),
        (r#"displayName ew "%""#.into(), vec!["Dave_x"]),
        (r#"nickName eq "100%_done""#.into(), vec!["bob"]),
        (r#"nickName co "0_""#.into(), vec![]),
        (r#"displayName co "O'Brien""#.into(), vec!["carol"]),
        (r#"displayName eq "' OR 1=1 --""#.into(), vec![]),
        (
            r#"title eq "\"; DROP TABLE users; --""#.into(),
            vec!["carol"],
        ),
        (r#"title co "\"; DROP TABLE""#.into(), vec!["carol"]),
    ];
    for (filter, want) in &cases {
        assert_eq!(&names(&app, filter).await, want, "filter {filter}");
    }
    // Nothing was dropped or changed by the SQL-looking values.
    assert_eq!(app.get_json("/Users").await["totalResults"], 4);
    app.shutdown().await;
}

#[tokio::test]
async fn id_is_case_exact_and_filterable() {
    let app = spawn_app().await;
    let ids = seed(&app).await;
    let got = names(&app, &format!(r#"id eq "{}""#, ids[1])).await;
    assert_eq!(got, ["bob"]);
    let got = names(&app, &format!(r#"id eq "{}""#, ids[1].to_uppercase())).await;
    assert!(got.is_empty());
    app.shutdown().await;
}

#[tokio::test]
async fn group_filters() {
    let app = spawn_app().await;
    let ids = seed(&app).await;
    let g = app.create_group("Alpha Team", &[&ids[0], &ids[1]]).await;
    app.create_group("beta_%", &[&ids[2]]).await;
    let q = |f: &str| format!("/Groups?filter={}", enc(f));
    let gnames = |v: &Value| -> Vec<String> {
        let mut n: Vec<String> = v["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["displayName"].as_str().unwrap().to_string())
            .collect();
        n.sort();
        n
    };
    let v = app.get_json(&q(r#"displayName eq "alpha team""#)).await;
    assert_eq!(gnames(&v), ["Alpha Team"]);
    let v = app
        .get_json(&q(&format!(r#"members[value eq "{}"]"#, ids[2])))
        .await;
    assert_eq!(gnames(&v), ["beta_%"]);
    let v = app
        .get_json(&q(&format!(r#"members.value eq "{}""#, ids[1])))
        .await;
    assert_eq!(v["Resources"][0]["id"], g["id"]);
    let v = app.get_json(&q(r#"displayName co "_%""#)).await;
    assert_eq!(gnames(&v), ["beta_%"]);
    let v = app.get_json(&q(r#"displayName sw "%""#)).await;
    assert_eq!(gnames(&v), Vec::<String>::new());
    assert_scim_error(
        app.get(&q(r#"members.display eq "x""#)).await,
        400,
        Some("invalidFilter"),
    )
    .await;
    app.shutdown().await;
}

#[tokio::test]
async fn unsupported_or_malformed_filters_are_400_invalid_filter() {
    let app = spawn_app().await;
    seed(&app).await;
    let bad = [
        r#"password eq "x""#,
        r#"foo eq "x""#,
        r#"name.bogus eq "x""#,
        r#"emails.display eq "x""#,
        r#"urn:example:unknown:1.0:User:foo eq "x""#,
        r#"userName eq"#,
        r#"userName xx "a""#,
        r#"(userName eq "a""#,
        r#"userName eq "a")"#,
        r#"userName eq "a" and"#,
        r#"active gt true"#,
        r#"userName eq 3"#,
        r#"meta.created gt "yesterday""#,
        r#"emails[type eq "work""#,
        r#"userName eq "unterminated"#,
    ];
    for f in bad {
        let r = app.get(&format!("/Users?filter={}", enc(f))).await;
        let body = assert_scim_error(r, 400, Some("invalidFilter")).await;
        assert!(!body["detail"].as_str().unwrap().is_empty(), "{f}");
    }
    let r = app
        .post(
            "/Users/.search",
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                    "filter": "nope eq \"x\""}),
        )
        .await;
    assert_scim_error(r, 400, Some("invalidFilter")).await;
    assert_eq!(app.get_json("/Users").await["totalResults"], 4);
    app.shutdown().await;
}
