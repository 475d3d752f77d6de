//! /Users with every verb: POST, GET by id and list (paging, sort, projections), PUT,
//! PATCH, DELETE, POST /.search, the Enterprise extension, and passwords never kept.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn full_user(name: &str) -> Value {
    json!({
        "schemas": [USER_URN, ENTERPRISE_URN],
        "userName": name,
        "externalId": format!("ext-{name}"),
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "displayName": format!("Display {name}"),
        "emails": [{"value": format!("{name}@example.com"), "type": "work", "primary": true}],
        "active": true,
        "password": "Sup3r-Secret-Pa55word!",
        ENTERPRISE_URN: {"department": "Engineering", "employeeNumber": "42"}
    })
}

#[tokio::test]
async fn post_returns_201_location_meta_and_etag() {
    let app = spawn_app().await;
    let r = app.post("/Users", &full_user("ada")).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with(SCIM_JSON));
    let u: Value = r.json().await.unwrap();
    let id = u["id"].as_str().unwrap();
    assert_eq!(location, format!("{}/Users/{id}", app.base));
    assert_eq!(u["meta"]["location"], json!(location));
    assert_eq!(u["meta"]["resourceType"], "User");
    assert_eq!(u["meta"]["version"], json!(etag));
    assert!(etag.starts_with("W/\""));
    let created = u["meta"]["created"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(created).is_ok(),
        "{created}"
    );
    assert_eq!(u["meta"]["lastModified"], u["meta"]["created"]);
    assert_eq!(u["userName"], "ada");
    assert_eq!(u[ENTERPRISE_URN]["department"], "Engineering");
    assert!(u.get("password").is_none(), "password returned: {u}");

    let got = app.get_json(&format!("/Users/{id}")).await;
    assert_eq!(got["userName"], "ada");
    assert_eq!(got["name"]["familyName"], "Lovelace");
    assert_eq!(got["meta"], u["meta"]);
    assert!(got.get("password").is_none());
    app.shutdown().await;
}

#[tokio::test]
async fn password_is_never_stored_logged_or_returned() {
    let app = spawn_app().await;
    let u = app.create_user(full_user("pw")).await;
    let id = u["id"].as_str().unwrap().to_string();
    let mut put = full_user("pw");
    put["password"] = json!("An0ther-Secret-Pa55!");
    assert_eq!(app.put(&format!("/Users/{id}"), &put).await.status(), 200);
    let r = app
        .patch(
            &format!("/Users/{id}"),
            &patch_op(
                json!([{"op": "replace", "path": "password", "value": "Th1rd-Secret-Pa55!"}]),
            ),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let got = app.get_json(&format!("/Users/{id}")).await;
    assert!(got.get("password").is_none());
    let list = app.get_json("/Users?attributes=password").await;
    assert!(!list.to_string().contains("Secret-Pa55"));
    let log = app.log().await;
    assert!(!serde_json::to_string(&log).unwrap().contains("Secret-Pa55"));
    app.shutdown().await;
}

#[tokio::test]
async fn raw_database_files_never_contain_the_password() {
    if sqlite_only("it reads the SQLite file, its WAL and shared memory") {
        return;
    }
    let app = spawn_app().await;
    let u = app.create_user(full_user("raw")).await;
    let id = u["id"].as_str().unwrap().to_string();
    let mut put = full_user("raw");
    put["password"] = json!("An0ther-Secret-Pa55!");
    assert_eq!(app.put(&format!("/Users/{id}"), &put).await.status(), 200);
    app.barrier().await;
    // The database, its WAL and shared memory hold the user but never the password.
    let all: Vec<u8> = std::fs::read_dir(app.dir.path())
        .unwrap()
        .flat_map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert!(all.windows(15).any(|w| w == b"raw@example.com"));
    assert!(!all.windows(11).any(|w| w == b"Secret-Pa55"));
    app.shutdown().await;
}

#[tokio::test]
async fn list_paging_counts_and_sorting() {
    let app = spawn_app().await;
    for name in ["carol", "alice", "Dave", "bob", "eve"] {
        app.user(name).await;
    }
    let all = app.get_json("/Users").await;
    assert_eq!(all["totalResults"], 5);
    assert_eq!(all["itemsPerPage"], 5);
    assert_eq!(all["startIndex"], 1);
    assert_eq!(
        all["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );

    let page = app.get_json("/Users?startIndex=2&count=2").await;
    assert_eq!(page["totalResults"], 5);
    assert_eq!(page["itemsPerPage"], 2);
    assert_eq!(page["startIndex"], 2);
    assert_eq!(page["Resources"].as_array().unwrap().len(), 2);
    assert_eq!(ids(&page), ids(&all)[1..3].to_vec());

    let past = app.get_json("/Users?startIndex=10").await;
    assert_eq!(past["totalResults"], 5);
    assert_eq!(past["Resources"].as_array().map_or(0, Vec::len), 0);
    let zero = app.get_json("/Users?count=0").await;
    assert_eq!(zero["totalResults"], 5);
    assert_eq!(zero["Resources"].as_array().map_or(0, Vec::len), 0);

    let names = |v: &Value| -> Vec<String> {
        v["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["userName"].as_str().unwrap().to_string())
            .collect()
    };
    let asc = app.get_json("/Users?sortBy=userName").await;
    assert_eq!(names(&asc), ["alice", "bob", "carol", "Dave", "eve"]);
    let desc = app
        .get_json("/Users?sortBy=userName&sortOrder=descending")
        .await;
    assert_eq!(names(&desc), ["eve", "Dave", "carol", "bob", "alice"]);
    let sorted_page = app
        .get_json("/Users?sortBy=userName&startIndex=2&count=2")
        .await;
    assert_eq!(names(&sorted_page), ["bob", "carol"]);
    app.shutdown().await;
}

#[tokio::test]
async fn attributes_and_excluded_attributes_on_every_read() {
    let app = spawn_app().await;
    let u = app.create_user(full_user("proj")).await;
    let id = u["id"].as_str().unwrap();
    let by_id = app
        .get_json(&format!("/Users/{id}?attributes=userName,name.givenName"))
        .await;
    let mut keys: Vec<&str> = by_id
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["id", "name", "schemas", "userName"]);
    assert_eq!(by_id["name"], json!({"givenName": "Ada"}));

    let excluded = app
        .get_json(&format!(
            "/Users/{id}?excludedAttributes=emails,name,{ENTERPRISE_URN}"
        ))
        .await;
    assert!(excluded.get("emails").is_none());
    assert!(excluded.get("name").is_none());
    assert!(excluded.get(ENTERPRISE_URN).is_none());
    assert_eq!(excluded["userName"], "proj");
    assert_eq!(excluded["id"], json!(id));

    let ent = app
        .get_json(&format!(
            "/Users/{id}?attributes={ENTERPRISE_URN}:department"
        ))
        .await;
    assert_eq!(ent[ENTERPRISE_URN], json!({"department": "Engineering"}));

    let list = app.get_json("/Users?attributes=userName").await;
    let r = &list["Resources"][0];
    assert_eq!(r["userName"], "proj");
    assert!(r.get("emails").is_none() && r.get("meta").is_none());
    let list = app.get_json("/Users?excludedAttributes=emails").await;
    assert!(list["Resources"][0].get("emails").is_none());
    assert!(list["Resources"][0].get("name").is_some());

    let search = app
        .post(
            "/Users/.search",
            &json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                "filter": "userName eq \"proj\"",
                "attributes": ["displayName"],
                "startIndex": 1, "count": 10
            }),
        )
        .await;
    assert_eq!(search.status(), 200);
    let search: Value = search.json().await.unwrap();
    assert_eq!(search["totalResults"], 1);
    assert_eq!(search["Resources"][0]["displayName"], "Display proj");
    assert!(search["Resources"][0].get("userName").is_none());
    let search = app
        .post(
            "/Users/.search",
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                    "excludedAttributes": ["name"]}),
        )
        .await;
    let search: Value = search.json().await.unwrap();
    assert!(search["Resources"][0].get("name").is_none());
    assert_eq!(search["Resources"][0]["userName"], "proj");
    app.shutdown().await;
}

#[tokio::test]
async fn put_replaces_everything_but_id_and_meta() {
    let app = spawn_app().await;
    let u = app.create_user(full_user("put")).await;
    let id = u["id"].as_str().unwrap().to_string();
    let replacement = json!({
        "schemas": [USER_URN],
        "id": id,
        "userName": "put-renamed",
        "name": {"givenName": "Grace"},
        "active": false,
        "meta": {"resourceType": "User", "created": "1999-01-01T00:00:00Z", "version": "W/\"999\""}
    });
    let r = app.put(&format!("/Users/{id}"), &replacement).await;
    assert_eq!(r.status(), 200);
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let got: Value = r.json().await.unwrap();
    assert_eq!(got["id"], json!(id));
    assert_eq!(got["userName"], "put-renamed");
    assert_eq!(got["name"], json!({"givenName": "Grace"}));
    assert_eq!(got["active"], false);
    assert!(got.get("emails").is_none(), "PUT is a full replace");
    assert!(got.get("externalId").is_none());
    assert!(got.get(ENTERPRISE_URN).is_none());
    assert_eq!(got["meta"]["created"], u["meta"]["created"]);
    assert_ne!(got["meta"]["version"], u["meta"]["version"]);
    assert_eq!(got["meta"]["version"], json!(etag));
    let again = app.get_json(&format!("/Users/{id}")).await;
    assert_eq!(again, got);

    // A body naming another id is a mutability error and changes nothing.
    let mut wrong = replacement.clone();
    wrong["id"] = json!("00000000-0000-0000-0000-000000000000");
    let r = app.put(&format!("/Users/{id}"), &wrong).await;
    assert_scim_error(r, 400, Some("mutability")).await;
    assert_eq!(app.get_json(&format!("/Users/{id}")).await, got);
    app.shutdown().await;
}

#[tokio::test]
async fn patch_add_replace_remove_and_if_match() {
    let app = spawn_app().await;
    let u = app.create_user(full_user("pat")).await;
    let id = u["id"].as_str().unwrap().to_string();
    let path = format!("/Users/{id}");
    let r = app
        .patch(
            &path,
            &patch_op(json!([
                {"op": "add", "path": "nickName", "value": "Countess"},
                {"op": "replace", "path": "name.familyName", "value": "King"},
                {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "ada@king.org"},
                {"op": "remove", "path": "displayName"},
                {"op": "replace", "path": format!("{ENTERPRISE_URN}:department"), "value": "Maths"}
            ])),
        )
        .await;
    assert_eq!(r.status(), 200);
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let got: Value = r.json().await.unwrap();
    assert_eq!(got["nickName"], "Countess");
    assert_eq!(got["name"]["familyName"], "King");
    assert_eq!(got["name"]["givenName"], "Ada");
    assert_eq!(got["emails"][0]["value"], "ada@king.org");
    assert!(got.get("displayName").is_none());
    assert_eq!(got[ENTERPRISE_URN]["department"], "Maths");
    assert_eq!(got[ENTERPRISE_URN]["employeeNumber"], "42");
    assert_eq!(app.get_json(&path).await, got);

    // If-Match with the current version applies; a stale one is 412 and changes nothing.
    let r = app
        .req(reqwest::Method::PATCH, &path)
        .header("content-type", SCIM_JSON)
        .header("if-match", &etag)
        .json(&patch_op(
            json!([{"op": "replace", "path": "title", "value": "Dr"}]),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let now: Value = r.json().await.unwrap();
    let r = app
        .req(reqwest::Method::PATCH, &path)
        .header("content-type", SCIM_JSON)
        .header("if-match", &etag)
        .json(&patch_op(
            json!([{"op": "replace", "path": "title", "value": "Prof"}]),
        ))
        .send()
        .await
        .unwrap();
    assert_scim_error(r, 412, None).await;
    let r = app
        .req(reqwest::Method::PUT, &path)
        .header("content-type", SCIM_JSON)
        .header("if-match", "W/\"1\"")
        .json(&json!({"schemas": [USER_URN], "userName": "pat"}))
        .send()
        .await
        .unwrap();
    assert_scim_error(r, 412, None).await;
    let r = app
        .req(reqwest::Method::DELETE, &path)
        .header("if-match", "W/\"1\"")
        .send()
        .await
        .unwrap();
    assert_scim_error(r, 412, None).await;
    assert_eq!(app.get_json(&path).await, now);
    app.shutdown().await;
}

#[tokio::test]
async fn delete_is_204_then_404_and_frees_the_user_name() {
    let app = spawn_app().await;
    let id = app.user("gone").await;
    let keep = app.user("kept").await;
    let g = app.create_group("team", &[&id, &keep]).await;
    let gid = g["id"].as_str().unwrap();
    let r = app.delete(&format!("/Users/{id}")).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(r.bytes().await.unwrap().is_empty());
    assert_scim_error(app.get(&format!("/Users/{id}")).await, 404, None).await;
    assert_scim_error(app.delete(&format!("/Users/{id}")).await, 404, None).await;
    assert_scim_error(
        app.patch(
            &format!("/Users/{id}"),
            &patch_op(json!([{"op": "replace", "path": "active", "value": false}])),
        )
        .await,
        404,
        None,
    )
    .await;
    assert_scim_error(
        app.put(
            &format!("/Users/{id}"),
            &json!({"schemas": [USER_URN], "userName": "gone"}),
        )
        .await,
        404,
        None,
    )
    .await;
    let list = app.get_json("/Users").await;
    assert_eq!(ids(&list), vec![keep.clone()]);
    let filtered = app
        .get_json(&format!("/Users?filter={}", enc("userName eq \"gone\"")))
        .await;
    assert_eq!(filtered["totalResults"], 0);
    assert_eq!(app.member_ids(gid).await, vec![keep]);
    // The name is free again for a new user.
    let again = app.user("gone").await;
    assert_ne!(again, id);
    app.shutdown().await;
}

#[tokio::test]
async fn duplicate_user_name_is_409_case_insensitively() {
    let app = spawn_app().await;
    app.user("Case.Person@Example.com").await;
    let before = app.dump().await;
    let r = app
        .post(
            "/Users",
            &json!({"schemas": [USER_URN], "userName": "case.person@example.COM"}),
        )
        .await;
    assert_scim_error(r, 409, Some("uniqueness")).await;
    // Renaming another user onto the name is refused the same way.
    let other = app.user("other").await;
    let r = app
        .patch(
            &format!("/Users/{other}"),
            &patch_op(
                json!([{"op": "replace", "path": "userName", "value": "CASE.PERSON@example.com"}]),
            ),
        )
        .await;
    assert_scim_error(r, 409, Some("uniqueness")).await;
    let after = app.dump().await;
    assert_eq!(after["users"].as_array().unwrap().len(), 2);
    assert_eq!(after["users"][0], before["users"][0]);
    app.shutdown().await;
}

/// externalId is the IdP's key for a person: one live user per externalId per connection
/// (exact, as RFC 7643 §3.1 makes it case-sensitive). A second create, a PUT or a PATCH onto
/// another user's is 409 uniqueness and changes nothing; a deleted user does not hold it.
#[tokio::test]
async fn duplicate_external_id_is_409_and_a_deleted_user_frees_it() {
    let app = spawn_app().await;
    let first =
        |name: &str, ext: &str| json!({"schemas": [USER_URN], "userName": name, "externalId": ext});
    let a = app.create_user(first("a@acme.example", "00u-A")).await;
    let before = app.dump().await;
    let r = app.post("/Users", &first("b@acme.example", "00u-A")).await;
    let body = assert_scim_error(r, 409, Some("uniqueness")).await;
    assert!(
        body["detail"].as_str().unwrap().contains("externalId"),
        "{body}"
    );
    assert_eq!(app.dump().await["users"], before["users"], "nothing stored");
    // Case matters for externalId: another case is another identifier.
    let other = app.create_user(first("c@acme.example", "00U-a")).await;
    let other_id = other["id"].as_str().unwrap();
    let before = app.dump().await;
    let r = app
        .patch(
            &format!("/Users/{other_id}"),
            &patch_op(json!([{"op": "replace", "path": "externalId", "value": "00u-A"}])),
        )
        .await;
    assert_scim_error(r, 409, Some("uniqueness")).await;
    let r = app
        .put(
            &format!("/Users/{other_id}"),
            &first("c@acme.example", "00u-A"),
        )
        .await;
    assert_scim_error(r, 409, Some("uniqueness")).await;
    assert_eq!(
        app.dump().await["users"],
        before["users"],
        "nothing changed"
    );
    // Deleted (in its retention window): the externalId is free for a new user.
    let r = app
        .delete(&format!("/Users/{}", a["id"].as_str().unwrap()))
        .await;
    assert_eq!(r.status(), 204);
    let again = app.create_user(first("a2@acme.example", "00u-A")).await;
    assert_ne!(again["id"], a["id"]);
    app.shutdown().await;
}

#[tokio::test]
async fn enterprise_extension_is_stored_and_filterable() {
    let app = spawn_app().await;
    app.create_user(full_user("eng1")).await;
    let mut sales = full_user("sales1");
    sales[ENTERPRISE_URN] = json!({"department": "Sales", "manager": {"value": "boss-1"}});
    app.create_user(sales).await;
    app.user("nodept").await;
    let q = |f: &str| format!("/Users?filter={}", enc(f));
    let got = app
        .get_json(&q(&format!(
            "{ENTERPRISE_URN}:department eq \"engineering\""
        )))
        .await;
    assert_eq!(got["totalResults"], 1);
    assert_eq!(got["Resources"][0]["userName"], "eng1");
    let got = app
        .get_json(&q(&format!("{ENTERPRISE_URN}:manager.value eq \"boss-1\"")))
        .await;
    assert_eq!(got["Resources"][0]["userName"], "sales1");
    let got = app
        .get_json(&q(&format!("{ENTERPRISE_URN}:department pr")))
        .await;
    assert_eq!(got["totalResults"], 2);
    let got = app
        .get_json(&q(&format!("not ({ENTERPRISE_URN}:department pr)")))
        .await;
    assert_eq!(got["Resources"][0]["userName"], "nodept");
    app.shutdown().await;
}
