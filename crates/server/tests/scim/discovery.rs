//! Discovery endpoints (RFC 7644 §4): ServiceProviderConfig that tells the truth about
//! what the server does, ResourceTypes, Schemas and Schemas/{id}.

use crate::helpers::*;
use serde_json::{json, Value};

#[tokio::test]
async fn service_provider_config_is_truthful() {
    let app = spawn_app().await;
    let spc = app.get_json("/ServiceProviderConfig").await;
    assert_eq!(
        spc["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"])
    );
    assert_eq!(spc["authenticationSchemes"][0]["type"], "oauthbearertoken");
    assert_eq!(
        spc["meta"]["location"],
        json!(format!("{}/ServiceProviderConfig", app.base))
    );

    // patch.supported: PATCH works.
    assert_eq!(spc["patch"]["supported"], true);
    let id = app.user("spc").await;
    let r = app
        .patch(
            &format!("/Users/{id}"),
            &patch_op(json!([{"op": "replace", "path": "title", "value": "x"}])),
        )
        .await;
    assert_eq!(r.status(), 200);

    // bulk.supported false: /Bulk is refused.
    assert_eq!(spc["bulk"]["supported"], false);
    let r = app
        .post("/Bulk", &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": []}))
        .await;
    assert_scim_error(r, 501, None).await;

    // filter.supported with maxResults: pages never exceed it.
    assert_eq!(spc["filter"]["supported"], true);
    let max = spc["filter"]["maxResults"].as_u64().unwrap();
    assert!(max > 0);
    let page = app.get_json(&format!("/Users?count={}", max * 10)).await;
    assert!(page["itemsPerPage"].as_u64().unwrap() <= max);

    // sort.supported and etag.supported: sortBy works, responses carry ETags.
    assert_eq!(spc["sort"]["supported"], true);
    app.get_json("/Users?sortBy=userName").await;
    assert_eq!(spc["etag"]["supported"], true);
    let r = app.get(&format!("/Users/{id}")).await;
    assert!(r.headers().contains_key("etag"));

    // changePassword false: a password sent is never kept.
    assert_eq!(spc["changePassword"]["supported"], false);

    // maxPayloadSize is the body limit actually enforced (1 MiB).
    assert_eq!(spc["bulk"]["maxPayloadSize"], 1024 * 1024);
    app.shutdown().await;
}

#[tokio::test]
async fn resource_types_and_schemas() {
    let app = spawn_app().await;
    let rts = app.get_json("/ResourceTypes").await;
    assert_eq!(rts["totalResults"], 2);
    let names: Vec<&str> = rts["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["User", "Group"]);
    let user_rt = app.get_json("/ResourceTypes/User").await;
    assert_eq!(user_rt["endpoint"], "/Users");
    assert_eq!(user_rt["schema"], USER_URN);
    assert!(user_rt["schemaExtensions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["schema"] == ENTERPRISE_URN));
    assert_eq!(
        app.get_json("/ResourceTypes/Group").await["schema"],
        GROUP_URN
    );
    assert_scim_error(app.get("/ResourceTypes/Nope").await, 404, None).await;

    let schemas = app.get_json("/Schemas").await;
    let ids: Vec<&str> = schemas["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    for want in [USER_URN, GROUP_URN, ENTERPRISE_URN] {
        assert!(ids.contains(&want), "{want} missing from {ids:?}");
    }
    assert_eq!(schemas["totalResults"], json!(ids.len()));
    for id in &ids {
        let one = app.get_json(&format!("/Schemas/{id}")).await;
        assert_eq!(one["id"], json!(id));
        assert!(one["attributes"].as_array().is_some_and(|a| !a.is_empty()));
    }
    let user = app.get_json(&format!("/Schemas/{USER_URN}")).await;
    let attr = |name: &str| -> Value {
        user["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not in the User schema"))
    };
    assert_eq!(attr("userName")["uniqueness"], "server");
    assert_eq!(attr("userName")["caseExact"], false);
    assert_eq!(attr("password")["returned"], "never");
    assert_eq!(attr("emails")["multiValued"], true);
    assert_scim_error(
        app.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:Nope")
            .await,
        404,
        None,
    )
    .await;
    app.shutdown().await;
}
