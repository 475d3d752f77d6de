//! /Groups with every verb: members shown with value/$ref/display/type, PATCH
//! add/remove/replace of members (also `members[value eq "id"]`), excludedAttributes,
//! PUT, DELETE, list and POST /.search.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn post_get_members_have_value_ref_display_type() {
    let app = spawn_app().await;
    let u = app
        .create_user(json!({"schemas": [USER_URN], "userName": "m1", "displayName": "Member One"}))
        .await;
    let uid = u["id"].as_str().unwrap();
    let inner = app.create_group("inner", &[]).await;
    let inner_id = inner["id"].as_str().unwrap();
    let r = app
        .post(
            "/Groups",
            &json!({"schemas": [GROUP_URN], "displayName": "outer", "externalId": "gx",
                    "members": [{"value": uid}, {"value": inner_id}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let g: Value = r.json().await.unwrap();
    let gid = g["id"].as_str().unwrap();
    assert_eq!(location, format!("{}/Groups/{gid}", app.base));
    assert_eq!(g["meta"]["version"], json!(etag));
    assert_eq!(g["meta"]["resourceType"], "Group");
    assert!(g["meta"]["created"].is_string() && g["meta"]["lastModified"].is_string());
    let got = app.get_json(&format!("/Groups/{gid}")).await;
    assert_eq!(got["displayName"], "outer");
    assert_eq!(got["externalId"], "gx");
    let members = got["members"].as_array().unwrap();
    assert_eq!(members.len(), 2);
    let user_m = members.iter().find(|m| m["value"] == json!(uid)).unwrap();
    assert_eq!(user_m["$ref"], json!(format!("{}/Users/{uid}", app.base)));
    assert_eq!(user_m["display"], "Member One");
    assert_eq!(user_m["type"], "User");
    let group_m = members
        .iter()
        .find(|m| m["value"] == json!(inner_id))
        .unwrap();
    assert_eq!(group_m["type"], "Group");
    assert_eq!(group_m["display"], "inner");
    assert_eq!(
        group_m["$ref"],
        json!(format!("{}/Groups/{inner_id}", app.base))
    );
    // The user shows the group it is in.
    let user = app.get_json(&format!("/Users/{uid}")).await;
    assert_eq!(user["groups"][0]["value"], json!(gid));
    assert_eq!(user["groups"][0]["display"], "outer");
    app.shutdown().await;
}

#[tokio::test]
async fn excluded_attributes_members_and_attributes() {
    let app = spawn_app().await;
    let a = app.user("a").await;
    let g = app.create_group("g", &[&a]).await;
    let gid = g["id"].as_str().unwrap();
    let got = app
        .get_json(&format!("/Groups/{gid}?excludedAttributes=members"))
        .await;
    assert!(got.get("members").is_none());
    assert_eq!(got["displayName"], "g");
    let list = app.get_json("/Groups?excludedAttributes=members").await;
    assert!(list["Resources"][0].get("members").is_none());
    assert_eq!(list["Resources"][0]["displayName"], "g");
    let only = app
        .get_json(&format!("/Groups/{gid}?attributes=displayName"))
        .await;
    assert!(only.get("members").is_none() && only.get("meta").is_none());
    assert_eq!(only["id"], json!(gid));
    let with = app
        .get_json(&format!("/Groups/{gid}?attributes=members.value"))
        .await;
    assert_eq!(with["members"], json!([{"value": a}]));
    app.shutdown().await;
}

#[tokio::test]
async fn patch_members_add_remove_replace() {
    let app = spawn_app().await;
    let (a, b, c) = (
        app.user("a").await,
        app.user("b").await,
        app.user("c").await,
    );
    let g = app.create_group("g", &[]).await;
    let gid = g["id"].as_str().unwrap().to_string();
    let path = format!("/Groups/{gid}");
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let r = app
        .patch(
            &path,
            &patch_op(
                json!([{"op": "add", "path": "members", "value": [{"value": a}, {"value": b}]}]),
            ),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.member_ids(&gid).await,
        sorted(vec![a.clone(), b.clone()])
    );

    // Adding an existing member again is a no-op, not a duplicate.
    let r = app
        .patch(
            &path,
            &patch_op(json!([{"op": "add", "path": "members", "value": [{"value": a}]}])),
        )
        .await;
    assert!(r.status().is_success());
    assert_eq!(app.member_ids(&gid).await.len(), 2);

    let r = app
        .patch(
            &path,
            &patch_op(json!([{"op": "remove", "path": format!("members[value eq \"{a}\"]")}])),
        )
        .await;
    assert!(r.status().is_success());
    assert_eq!(app.member_ids(&gid).await, vec![b.clone()]);

    let r = app
        .patch(
            &format!("{path}?attributes=members"),
            &patch_op(json!([{"op": "replace", "path": "members", "value": [{"value": c}, {"value": a}]}])),
        )
        .await;
    assert_eq!(
        r.status(),
        200,
        "attributes asked for: the group comes back"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["members"].as_array().unwrap().len(), 2);
    assert_eq!(
        app.member_ids(&gid).await,
        sorted(vec![a.clone(), c.clone()])
    );

    let r = app
        .patch(
            &path,
            &patch_op(json!([{"op": "replace", "path": "displayName", "value": "renamed"}])),
        )
        .await;
    assert!(r.status().is_success());
    assert_eq!(app.get_json(&path).await["displayName"], json!("renamed"));

    let r = app
        .patch(
            &path,
            &patch_op(json!([{"op": "remove", "path": "members"}])),
        )
        .await;
    assert!(r.status().is_success());
    assert!(app.member_ids(&gid).await.is_empty());

    // Unknown member ids are refused and change nothing.
    let before = app.dump().await;
    let r = app
        .patch(
            &path,
            &patch_op(json!([{"op": "add", "path": "members", "value": [{"value": b}, {"value": "no-such-user"}]}])),
        )
        .await;
    assert_scim_error(r, 400, Some("invalidValue")).await;
    assert_eq!(app.dump().await, before);
    app.shutdown().await;
}

#[tokio::test]
async fn put_replaces_attributes_and_members() {
    let app = spawn_app().await;
    let (a, b) = (app.user("a").await, app.user("b").await);
    let g = app.create_group("g", &[&a]).await;
    let gid = g["id"].as_str().unwrap();
    let r = app
        .put(
            &format!("/Groups/{gid}"),
            &json!({"schemas": [GROUP_URN], "id": gid, "displayName": "g2", "members": [{"value": b}]}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let got: Value = r.json().await.unwrap();
    assert_eq!(got["displayName"], "g2");
    assert_eq!(got["id"], json!(gid));
    assert_eq!(got["meta"]["created"], g["meta"]["created"]);
    assert_eq!(app.member_ids(gid).await, vec![b]);
    assert_ne!(got["meta"]["version"], g["meta"]["version"]);
    app.shutdown().await;
}

#[tokio::test]
async fn delete_list_and_search() {
    let app = spawn_app().await;
    let a = app.user("a").await;
    let g1 = app.create_group("alpha", &[&a]).await;
    let g2 = app.create_group("beta", &[]).await;
    let (g1, g2) = (g1["id"].as_str().unwrap(), g2["id"].as_str().unwrap());
    let list = app
        .get_json("/Groups?sortBy=displayName&sortOrder=descending")
        .await;
    assert_eq!(list["totalResults"], 2);
    assert_eq!(ids(&list), vec![g2.to_string(), g1.to_string()]);
    let page = app.get_json("/Groups?startIndex=2&count=1").await;
    assert_eq!(page["itemsPerPage"], 1);
    assert_eq!(page["totalResults"], 2);
    let r = app
        .post(
            "/Groups/.search",
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                    "filter": format!("members[value eq \"{a}\"]")}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let found: Value = r.json().await.unwrap();
    assert_eq!(ids(&found), vec![g1.to_string()]);

    let r = app.delete(&format!("/Groups/{g1}")).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_scim_error(app.get(&format!("/Groups/{g1}")).await, 404, None).await;
    assert_scim_error(app.delete(&format!("/Groups/{g1}")).await, 404, None).await;
    let list = app.get_json("/Groups").await;
    assert_eq!(ids(&list), vec![g2.to_string()]);
    let user = app.get_json(&format!("/Users/{a}")).await;
    assert!(
        user.get("groups").is_none(),
        "deleted group still listed: {user}"
    );
    app.shutdown().await;
}
