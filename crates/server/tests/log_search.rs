//! The log view's `q=` search over HTTP against a real server and SQLite file holding more
//! rows than one free-text window: an identity is found anywhere in the log; other text
//! says when its window ran out, and the next window starts where it stopped; export stops
//! at the same place and says so; bad search input is a 400 that changes nothing.

use directory::log::{self, LogEntry};
use directory::{connections, tokens, Db};
use muster_server::{start, ServerConfig};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

async fn get(
    http: &Client,
    url: &str,
    auth: &str,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let resp = http
        .get(url)
        .header("Authorization", auth)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

async fn page(http: &Client, url: &str, auth: &str) -> Value {
    let (s, _, body) = get(http, url, auth).await;
    assert_eq!(s, StatusCode::OK, "{url}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn ids(p: &Value) -> Vec<i64> {
    p["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn identity_and_windowed_text_search_over_http() {
    let window = log::SEARCH_WINDOW as usize;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("muster.db");
    let (c1, c2, token) = {
        let db = Db::open(&path).unwrap();
        db.write_blocking(move |c| {
            let now = chrono::Utc::now();
            let c1 = connections::create(c, "Acme Okta", connections::Idp::Okta, false, now)?;
            let c2 = connections::create(c, "Other", connections::Idp::Okta, false, now)?;
            let t = tokens::issue(c, &c1.id, "initial", now)?;
            // More than one window of older traffic; the oldest row says "needle".
            for i in 0..window + 50 {
                log::append(
                    c,
                    &LogEntry {
                        // Older than the real traffic, inside the log's retention
                        // (the background pruner removes rows past it).
                        at: directory::clock::fmt_time(now - chrono::Duration::days(1)),
                        connection_id: Some(c1.id.clone()),
                        method: "GET".into(),
                        path: format!("/Users/filler-{i}"),
                        status: 200,
                        outcome: directory::log::LogOutcome::Read,
                        user_name: Some(format!("filler{i}@acme.test")),
                        detail: (i == 0).then(|| "the needle in the oldest row".to_string()),
                        duration_ms: 1.0,
                        ..Default::default()
                    },
                )?;
            }
            Ok((c1.id, c2.id, t.secret))
        })
        .unwrap()
    };
    let server = start(ServerConfig::new(path, "127.0.0.1:0".parse().unwrap()))
        .await
        .unwrap();
    let http = Client::new();
    let admin = |p: &str| format!("{}{p}", server.admin_base);
    let secret = format!("Bearer {}", server.admin_secret);

    // Real SCIM traffic for one person, on top of the filler.
    let scim = format!("{}/{}", server.scim_base, c1);
    let created: Value = http
        .post(format!("{scim}/Users"))
        .header("Authorization", format!("Bearer {token}"))
        .header("Content-Type", "application/scim+json")
        .body(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "Jane.Doe@Acme.test", "externalId": "00uJANE", "emails": [{"value": "jane.doe@acme.test", "primary": true}]}).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jane = created["id"].as_str().unwrap().to_string();
    let resp = http
        .get(format!("{scim}/Users/{jane}"))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // A read's log row is written detached: wait until it is there.
    let mut jane_rows = vec![];
    for _ in 0..50 {
        let p = page(
            &http,
            &admin(&format!("/connections/{c1}/log?q=jane.doe%40acme.test")),
            &secret,
        )
        .await;
        jane_rows = ids(&p);
        if jane_rows.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(jane_rows.len(), 2, "the POST and the GET of Jane");

    // An identity: userName in any case, externalId, resource id; the whole log, no window.
    for q in [
        "JANE.DOE%40ACME.TEST",
        "%20jane.doe%20",
        "00uJANE",
        jane.as_str(),
    ] {
        let p = page(
            &http,
            &admin(&format!("/connections/{c1}/log?q={q}")),
            &secret,
        )
        .await;
        assert_eq!(p["search"], json!("identity"), "{q}: {p}");
        assert_eq!(ids(&p), jane_rows, "{q}");
        assert_eq!(p["window_exhausted"], json!(false));
        assert_eq!(p["searched_to_id"], Value::Null);
    }
    // The oldest filler row is an identity too, found beyond any window.
    let p = page(&http, &admin("/log?q=filler0%40acme.test"), &secret).await;
    assert_eq!(p["search"], json!("identity"));
    assert_eq!(
        p["items"][0]["detail"],
        json!("the needle in the oldest row")
    );
    // Scoped to its connection: the other connection has no Jane.
    let p = page(
        &http,
        &admin(&format!("/connections/{c2}/log?q=jane.doe%40acme.test")),
        &secret,
    )
    .await;
    assert!(ids(&p).is_empty(), "{p}");

    // Free text that only the oldest row has: the newest window is searched, and says so.
    let p = page(
        &http,
        &admin(&format!("/connections/{c1}/log?q=THE%20NEEDLE&limit=100")),
        &secret,
    )
    .await;
    assert_eq!(p["search"], json!("text"));
    assert!(ids(&p).is_empty(), "{p}");
    assert_eq!(p["window_exhausted"], json!(true));
    assert_eq!(p["search_window"], json!(window));
    let to = p["searched_to_id"].as_i64().unwrap();
    // The next window starts where this one stopped and reaches the start of the log.
    let p = page(
        &http,
        &admin(&format!(
            "/connections/{c1}/log?q=THE%20NEEDLE&before_id={to}"
        )),
        &secret,
    )
    .await;
    assert_eq!(p["items"].as_array().unwrap().len(), 1, "{p}");
    assert_eq!(p["items"][0]["user_name"], json!("filler0@acme.test"));
    assert_eq!(p["window_exhausted"], json!(false));
    assert_eq!(p["searched_to_id"], Value::Null);
    // The all-connections log says the same.
    let p = page(
        &http,
        &admin(&format!("/log?connection={c1}&q=the%20needle")),
        &secret,
    )
    .await;
    assert_eq!(p["searched_to_id"].as_i64(), Some(to));

    // Export: the rows the view lists, stopping where its search stopped, and saying where.
    let (s, h, csv) = get(
        &http,
        &admin(&format!("/log/export?connection={c1}&q=the%20needle")),
        &secret,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(csv.lines().count(), 1, "header only:\n{csv}");
    assert_eq!(
        h.get("x-muster-searched-to-id").unwrap().to_str().unwrap(),
        to.to_string()
    );
    let (s, h, js) = get(
        &http,
        &admin(&format!(
            "/log/export?connection={c1}&format=json&q=00uJANE"
        )),
        &secret,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(h.get("x-muster-searched-to-id").is_none());
    let rows: Vec<Value> = serde_json::from_str(&js).unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        jane_rows
    );

    // Bad input: a clear 400, for the view and the export alike.
    let long = "x".repeat(log::MAX_TEXT_CHARS + 1);
    for url in [
        admin(&format!("/connections/{c1}/log?q={long}")),
        admin(&format!("/log?q={long}")),
        admin(&format!("/log/export?q={long}")),
        admin(&format!("/connections/{c1}/log?status=sometimes")),
        admin("/log?status=sometimes"),
        // An outcome the log never records is refused, not answered with an empty page.
        admin(&format!("/connections/{c1}/log?outcome=made_up")),
        admin("/log?outcome=made_up"),
        admin("/log/export?outcome=made_up"),
    ] {
        let (s, _, body) = get(&http, &url, &secret).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{url}: {body}");
        let e: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(e["code"], json!("bad_request"), "{body}");
    }
    // A known outcome filters; an empty one is no filter.
    let url = admin(&format!("/connections/{c1}/log?outcome=created"));
    let created = page(&http, &url, &secret).await["items"].clone();
    let created = created.as_array().unwrap();
    assert!(!created.is_empty());
    assert!(
        created.iter().all(|r| r["outcome"] == "created"),
        "{created:?}"
    );
    let url = admin(&format!("/connections/{c1}/log?outcome=&limit=5"));
    let all = page(&http, &url, &secret).await["items"].clone();
    assert_eq!(all.as_array().unwrap().len(), 5, "{all}");
    server.shutdown().await;
}
