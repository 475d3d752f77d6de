//! The live demo plays start to finish over real SCIM and every step leaves its evidence;
//! reset removes every piece of demo data; the readiness report runs from the admin API
//! against one of Muster's own connections with a temporary token it revokes after.

use muster_server::{start, ServerConfig};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn demo_plays_every_step_and_reset_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(ServerConfig::new(
        dir.path().join("m.db"),
        "127.0.0.1:0".parse().unwrap(),
    ))
    .await
    .unwrap();
    let http = Client::new();
    let api = |p: &str| format!("{}{p}", server.admin_base);
    let post = |p: String, body: Value| {
        http.post(p)
            .bearer_auth(&server.admin_secret)
            .json(&body)
            .send()
    };
    let get = |p: String| http.get(p).bearer_auth(&server.admin_secret).send();

    let r = post(api("/demo/start"), json!({"speed": 100.0}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = post(api("/demo/start"), json!({"speed": 100.0}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT, "one demo at a time");
    let mut state = Value::Null;
    for _ in 0..600 {
        state = get(api("/demo")).await.unwrap().json().await.unwrap();
        if state["phase"] != json!("running") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(state["phase"], json!("finished"), "{state:#}");
    let steps = state["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 8);
    assert!(
        steps
            .iter()
            .all(|s| s["status"] == json!("done") && s["detail"].is_string()),
        "{state:#}"
    );
    let detail = |id: &str| {
        steps.iter().find(|s| s["id"] == json!(id)).unwrap()["detail"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(detail("mover").contains("→ admin"), "{}", detail("mover"));
    assert!(detail("leaver").contains("revoked"), "{}", detail("leaver"));
    assert!(
        detail("rotate").contains("answers 200"),
        "{}",
        detail("rotate")
    );
    assert!(
        detail("rejected").contains("HTTP 400") && detail("rejected").contains("refused"),
        "{}",
        detail("rejected")
    );

    let conns: Value = get(api("/connections"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let demo: Vec<&Value> = conns
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["demo"] == json!(true))
        .collect();
    assert_eq!(demo.len(), 2);
    assert!(demo.iter().any(|c| c["user_count"].as_i64().unwrap() >= 40));

    // The readiness report against a demo connection, from the admin API.
    let okta = demo.iter().find(|c| c["idp"] == json!("okta")).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let report: Value = post(api("/check"), json!({"connection_id": okta}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        report["counts"]["fail"],
        json!(0),
        "{:#}",
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["outcome"] == json!("fail"))
            .collect::<Vec<_>>()
            .len()
    );
    let tokens: Value = get(api(&format!("/connections/{okta}/tokens")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let temp = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["label"] == json!("readiness check"))
        .unwrap();
    assert_eq!(
        temp["state"],
        json!("revoked"),
        "the temporary token is revoked after the run"
    );

    let r = post(api("/demo/reset"), json!({})).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let conns: Value = get(api("/connections"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        conns.as_array().unwrap().is_empty(),
        "demo data removed in one action"
    );
    let log: Value = get(api("/log")).await.unwrap().json().await.unwrap();
    assert!(
        log["items"].as_array().unwrap().is_empty(),
        "demo log rows removed too"
    );
    server.shutdown().await;
}
