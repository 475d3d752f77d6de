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

/// Pause holds the story between steps (nothing starts while paused, however long), a speed
/// change while paused applies on resume, out-of-range speeds are refused without effect,
/// and a reset in the middle of the story still leaves no demo data behind.
#[tokio::test]
async fn demo_pause_holds_speed_applies_and_reset_mid_story_removes_everything() {
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
    let state = || async {
        http.get(api("/demo"))
            .bearer_auth(&server.admin_secret)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    let statuses = |s: &Value| -> Vec<String> {
        s["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["status"].as_str().unwrap().to_string())
            .collect()
    };

    // Bad speeds: 400, and nothing starts or changes.
    for bad in [0.0, -1.0, 0.1, 1000.0] {
        let r = post(api("/demo/start"), json!({ "speed": bad }))
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "start at {bad}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], json!("bad_request"));
    }
    assert_eq!(state().await["phase"], json!("idle"));
    let r = post(api("/demo/speed"), json!({ "speed": "fast" }))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], json!("bad_request"), "{body}");

    let r = post(api("/demo/start"), json!({ "speed": 1.0 }))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Pause during the first beat (two seconds at 1×), right after the connections step.
    for _ in 0..200 {
        if statuses(&state().await)[0] == "done" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let paused: Value = post(api("/demo/pause"), json!({}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(paused["phase"], json!("paused"));
    let held = statuses(&paused);
    assert_eq!(held[0], "done");
    assert!(held[1..].iter().all(|s| s == "pending"), "{held:?}");
    // Longer than the beat at 1×: the next step still has not started.
    tokio::time::sleep(std::time::Duration::from_millis(3000)).await;
    let still = state().await;
    assert_eq!(still["phase"], json!("paused"));
    assert_eq!(statuses(&still), held, "nothing moved while paused");

    let r = post(api("/demo/speed"), json!({ "speed": 1000.0 }))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let sped: Value = post(api("/demo/speed"), json!({ "speed": 100.0 }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (sped["speed"].as_f64(), sped["phase"].as_str()),
        (Some(100.0), Some("paused"))
    );
    let resumed: Value = post(api("/demo/resume"), json!({}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(resumed["phase"], json!("running"));
    // At 100× the next beat is 20 ms: the story moves on within a second or two.
    let mut moved = false;
    for _ in 0..200 {
        let s = statuses(&state().await);
        if s.iter().filter(|x| *x == "done").count() >= 2 {
            moved = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(moved, "the story resumed");

    // Reset mid-story: the task stops and every demo row goes, even traffic still in flight.
    let r = post(api("/demo/reset"), json!({})).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let after = state().await;
    assert_eq!(after["phase"], json!("idle"));
    assert!(after["connection_ids"].as_array().unwrap().is_empty());
    let get = |p: String| http.get(p).bearer_auth(&server.admin_secret).send();
    let conns: Value = get(api("/connections"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(conns.as_array().unwrap().is_empty(), "{conns:#}");
    let log: Value = get(api("/log")).await.unwrap().json().await.unwrap();
    assert!(
        log["items"].as_array().unwrap().is_empty(),
        "no demo log rows left: {:#}",
        log["items"]
    );
    server.shutdown().await;
}
