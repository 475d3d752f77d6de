//! The OpenAPI document, black-box: a real server answers `GET /api/openapi.json` without the
//! admin secret but behind the Host check, with the checked-in `docs/openapi.json`.

#[allow(dead_code)]
#[path = "scim/helpers.rs"]
mod helpers;

use helpers::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[tokio::test]
async fn the_served_document_is_openapi_3_1_and_the_checked_in_one() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(format!("{}/openapi.json", app.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "no secret needed");
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let doc: Value = serde_json::from_str(&r.text().await.unwrap()).expect("JSON");
    let version = doc["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3.1."), "openapi {version}");
    for (path, method) in [
        ("/api/connections", "post"),
        ("/api/connections/{id}/users", "get"),
        ("/api/connections/{id}/tokens/rotate", "post"),
        ("/api/log/export", "get"),
        ("/api/openapi.json", "get"),
        ("/app/v1/feed", "get"),
        ("/app/v1/connections/{c}/signin", "post"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    assert_eq!(
        doc["paths"]["/api/connections"]["get"]["security"][0]["admin_session"],
        serde_json::json!([])
    );
    assert_eq!(
        doc["paths"]["/app/v1/feed"]["get"]["security"][0]["app_key"],
        serde_json::json!([])
    );
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["admin_session"]["scheme"], "bearer");
    assert_eq!(schemes["app_key"]["scheme"], "bearer");
    assert!(doc["components"]["schemas"]["ApiError"].is_object());

    let file = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/openapi.json"
    ))
    .expect("docs/openapi.json");
    let checked_in: Value = serde_json::from_str(&file).expect("docs/openapi.json is JSON");
    assert!(
        checked_in == doc,
        "the served document differs from docs/openapi.json"
    );
}

#[tokio::test]
async fn only_the_document_is_open_and_only_to_this_servers_names() {
    let app = spawn_app().await;
    let foreign = app
        .client
        .get(format!("{}/openapi.json", app.admin))
        .header("host", "attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        foreign.status(),
        StatusCode::FORBIDDEN,
        "Host check applies"
    );
    let body: Value = foreign.json().await.unwrap();
    assert_eq!(body["code"], "forbidden");

    // Everything else under /api still needs the secret.
    let info = app
        .client
        .get(format!("{}/info", app.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), StatusCode::UNAUTHORIZED);
    let post = app
        .client
        .post(format!("{}/openapi.json", app.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED, "GET only");
    let with_secret = app
        .admin_req(Method::GET, "/openapi.json")
        .send()
        .await
        .unwrap();
    assert_eq!(with_secret.status(), StatusCode::OK);
}
