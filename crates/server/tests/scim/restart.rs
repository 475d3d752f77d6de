//! Durability across a clean restart: users, groups, memberships, versions and the log
//! written before `shutdown` read back identical from a new server on the same file.

use crate::helpers::*;
use serde_json::{json, Value};

/// A dump with the server's origin taken out, since the port changes on restart.
fn portable(v: &Value, base: &str) -> Value {
    serde_json::from_str(&v.to_string().replace(base, "{base}")).unwrap()
}

#[tokio::test]
async fn everything_survives_a_restart() {
    let mut app = spawn_app().await;
    let mut ids = vec![];
    for i in 0..10 {
        let u = app
            .create_user(json!({
                "schemas": [USER_URN, ENTERPRISE_URN],
                "userName": format!("user{i}@example.com"),
                "name": {"givenName": format!("G{i}"), "familyName": "F"},
                "emails": [{"value": format!("user{i}@example.com"), "type": "work", "primary": true}],
                ENTERPRISE_URN: {"department": format!("D{}", i % 3)}
            }))
            .await;
        ids.push(u["id"].as_str().unwrap().to_string());
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let g = app.create_group("everyone", &refs).await;
    let gid = g["id"].as_str().unwrap().to_string();
    app.create_group("half", &refs[..5]).await;
    let r = app
        .patch(
            &format!("/Users/{}", ids[0]),
            &patch_op(json!([{"op": "replace", "path": "active", "value": false}])),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        app.delete(&format!("/Users/{}", ids[9])).await.status(),
        204
    );
    let r = app
        .patch(
            &format!("/Groups/{gid}"),
            &patch_op(
                json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", ids[1])}]),
            ),
        )
        .await;
    assert!(r.status().is_success());

    let before = portable(&app.dump().await, &app.base);
    let log_before = app.log().await;
    app.restart().await;
    let after = portable(&app.dump().await, &app.base);
    assert_eq!(after, before);
    assert_eq!(after["users"].as_array().unwrap().len(), 9);
    assert_eq!(after["groups"].as_array().unwrap().len(), 2);
    // The log is intact; the restart's own reads are appended after it.
    let log_after = app.log().await;
    assert!(log_after.ends_with(&log_before));
    // The same token still works and the deleted user stays deleted.
    assert_eq!(app.get(&format!("/Users/{}", ids[9])).await.status(), 404);
    let q = format!(
        "/Users?filter={}",
        enc(&format!("{ENTERPRISE_URN}:department eq \"d1\""))
    );
    assert_eq!(app.get_json(&q).await["totalResults"], 3);
    app.shutdown().await;
}
