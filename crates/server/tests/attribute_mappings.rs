//! Attribute mappings over the admin API: the preview checks each row exactly as save does
//! (save refuses the same rows with a 400 naming the row) and lists a value, or none, for
//! every mapping instead of leaving the missing ones out.

#[allow(dead_code)]
#[path = "scim/helpers.rs"]
mod helpers;

use helpers::{spawn_app, TestApp, USER_URN};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn admin(app: &TestApp, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
    let r = app
        .admin_req(method, path)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn preview_marks_the_rows_save_refuses_and_save_names_the_first() {
    let app = spawn_app().await;
    let mappings = json!([
        {"scim_path": "title", "app_key": "title"},
        {"scim_path": "emails[type eq", "app_key": "email"},
        {"scim_path": "name.givenName", "app_key": "title"},
    ]);
    let base = format!("/connections/{}/attribute-mappings", app.connection_id);

    let (s, v) = admin(
        &app,
        Method::POST,
        &format!("{base}/preview"),
        json!({"user_id": null, "mappings": mappings}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["invalid"], 2, "{v}");
    assert_eq!(v["missing"], 0, "{v}");
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows[0]["problem"].is_null(), "{v}");
    assert_eq!(rows[1]["problem"]["field"], "scim_path", "{v}");
    let msg = rows[1]["problem"]["message"].as_str().unwrap();
    assert!(msg.contains("is not a SCIM path"), "{msg}");
    assert_eq!(rows[2]["problem"]["field"], "app_key", "{v}");

    // Save refuses the same list, naming the first bad row; nothing is stored.
    let (s, v) = admin(&app, Method::PUT, &base, mappings).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let message = v["message"].as_str().unwrap();
    assert!(message.contains("mapping 2"), "{message}");
    assert!(
        message.contains(msg),
        "{message} should repeat the preview's {msg}"
    );
    let stored: Value = app
        .admin_req(Method::GET, &base)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored, json!([]));
}

#[tokio::test]
async fn preview_shows_a_missing_value_as_a_row_and_counts_it() {
    let app = spawn_app().await;
    let user = app
        .create_user(
            json!({"schemas": [USER_URN], "userName": "ada@example.com", "title": "Engineer"}),
        )
        .await;
    let (s, v) = admin(
        &app,
        Method::POST,
        &format!(
            "/connections/{}/attribute-mappings/preview",
            app.connection_id
        ),
        json!({"user_id": user["id"], "mappings": [
            {"scim_path": "title", "app_key": "title"},
            {"scim_path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "app_key": "department"},
        ]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["invalid"], 0, "{v}");
    assert_eq!(v["missing"], 1, "{v}");
    assert_eq!(v["rows"][0]["value"], "Engineer", "{v}");
    assert_eq!(v["rows"][1]["app_key"], "department", "{v}");
    assert!(v["rows"][1]["value"].is_null(), "{v}");
    assert!(v["rows"][1]["problem"].is_null(), "{v}");
}
