//! `muster serve` answers the desktop app's window (its webview origins) with CORS, so the
//! app can be pointed at a team server, and still refuses every other foreign origin.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use reqwest::StatusCode;
use serde_json::Value;

struct Serve(std::process::Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn muster_serve_allows_the_desktop_apps_origins_and_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .arg("--db")
        .arg(dir.path().join("muster.db"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _serve = Serve(child);
    let info: Value = serde_json::from_str(&line).unwrap();
    let admin = info["admin"].as_str().unwrap();
    let secret = info["admin_secret"].as_str().unwrap();
    let http = reqwest::Client::new();

    for origin in ["tauri://localhost", "http://tauri.localhost"] {
        // The preflight a webview sends before a request with an Authorization header.
        let preflight = http
            .request(reqwest::Method::OPTIONS, format!("{admin}/info"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
            .await
            .unwrap();
        assert_eq!(preflight.status(), StatusCode::NO_CONTENT, "{origin}");
        assert_eq!(
            preflight.headers()["access-control-allow-origin"],
            origin,
            "{origin}"
        );
        let res = http
            .get(format!("{admin}/info"))
            .header("origin", origin)
            .bearer_auth(secret)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{origin}");
        assert_eq!(res.headers()["access-control-allow-origin"], origin);
        // The origin alone grants nothing: without the credential it is still 401.
        let res = http
            .get(format!("{admin}/info"))
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{origin}");
    }

    let res = http
        .get(format!("{admin}/info"))
        .header("origin", "https://evil.example")
        .bearer_auth(secret)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.headers().get("access-control-allow-origin").is_none());
}
