//! The readiness report as a PDF, read back by an independent tool (`pdftotext`, poppler):
//! `muster check --pdf` against a real `muster serve` names the server, the version, the IPSIE
//! level verdict and each check with its RFC reference, and never shows Rust debug text; the
//! admin API's `/api/check/pdf` answers the same document as `application/pdf`, dated by the
//! server's clock.

#[allow(dead_code)]
#[path = "scim/helpers.rs"]
mod helpers;

use directory::ManualClock;
use helpers::{spawn_app, spawn_app_on_clock};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

/// `pdftotext FILE -`: the PDF's text as a reader extracts it.
fn pdftotext(path: &std::path::Path) -> String {
    let out = std::process::Command::new("pdftotext")
        .args(["-layout".as_ref(), path.as_os_str(), "-".as_ref()])
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    assert!(out.status.success(), "pdftotext failed: {:?}", out);
    String::from_utf8(out.stdout).unwrap()
}

fn assert_readiness_text(text: &str, target: &str) {
    // pdftotext -layout keeps each line's words on one line; squash runs of spaces to match.
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for needle in [
        "SCIM readiness report".to_string(),
        format!("Server tested: {target}"),
        format!("Muster version: {}", env!("CARGO_PKG_VERSION")),
        "Date: ".to_string(),
        "IPSIE SCIM profile levels (draft)".to_string(),
        "Meets IPSIE SCIM profile (draft) level AL1 and AL2".to_string(),
        "Missing for AL3".to_string(),
        // A check title with its RFC reference.
        "PASS filter=userName eq finds exactly the user (Okta and Entra match on it)".to_string(),
        "Supports: RFC 7644 §3.4.2.2".to_string(),
        "PASS DELETE /Users/{id} is 204, then GET is 404".to_string(),
        "Supports: RFC 7644 §3.6".to_string(),
        "Not tested from outside".to_string(),
        "OAuth 2.0 client credentials".to_string(),
        "25 requests per second".to_string(),
        "N/A: not applicable".to_string(),
        // The footer fits on the page.
        "page 1 of".to_string(),
    ] {
        assert!(flat.contains(&needle), "{needle:?} not in the PDF:\n{text}");
    }
    for bad in ["Some(", "None", "{:?}"] {
        assert!(!flat.contains(bad), "the PDF shows {bad:?}:\n{text}");
    }
}

#[tokio::test]
async fn muster_check_writes_a_pdf_a_reader_can_read() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("readiness.pdf");
    let html = dir.path().join("readiness.html");
    let base = app.base.clone();
    let token = app.token.clone();
    let (pdf2, html2) = (pdf.clone(), html.clone());
    // The CLI blocks on its own runtime; run it off this test's runtime threads.
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_muster"))
            .args(["check", "--url", &base, "--token", &token, "--pdf"])
            .arg(&pdf2)
            .arg("--html")
            .arg(&html2)
            .env_remove("MUSTER_DB")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Meets IPSIE SCIM profile (draft) level AL1 and AL2"),
        "{stdout}"
    );
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    assert_readiness_text(&pdftotext(&pdf), &app.base);
    let html = std::fs::read_to_string(&html).unwrap();
    assert!(html.contains("Not tested from outside") && html.contains("RFC 7644 §3.4.2.2"));
}

#[tokio::test]
async fn admin_api_answers_the_pdf() {
    let app = spawn_app().await;
    let r = app
        .admin_req(Method::POST, "/check/pdf")
        .json(&json!({"connection_id": app.connection_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment; filename=\"muster-readiness-"),
        "{disposition}"
    );
    let bytes = r.bytes().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("api.pdf");
    std::fs::write(&pdf, &bytes).unwrap();
    assert_readiness_text(&pdftotext(&pdf), &app.base);

    // A bad request is refused as JSON, not as a broken PDF.
    let r = app
        .admin_req(Method::POST, "/check/pdf")
        .json(&json!({"url": "ftp://x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

/// A report run from the console is dated by the server's clock (the one its log rows carry),
/// not by the system time: on a server whose clock says 2031-02-03 the JSON, the PDF's date
/// line and the download's name all say 2031-02-03.
#[tokio::test]
async fn the_report_is_dated_by_the_servers_clock() {
    let at = chrono::DateTime::parse_from_rfc3339("2031-02-03T04:05:00Z")
        .unwrap()
        .to_utc();
    let app = spawn_app_on_clock(Arc::new(ManualClock::new(at)), |_| {}).await;
    let body = json!({"connection_id": app.connection_id});
    let r = app
        .admin_req(Method::POST, "/check")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let report: Value = r.json().await.unwrap();
    let dated = chrono::DateTime::parse_from_rfc3339(report["generated_at"].as_str().unwrap())
        .unwrap()
        .to_utc();
    assert_eq!(dated, at, "{}", report["generated_at"]);

    let r = app
        .admin_req(Method::POST, "/check/pdf")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"muster-readiness-2031-02-03.pdf\""
    );
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("dated.pdf");
    std::fs::write(&pdf, r.bytes().await.unwrap()).unwrap();
    let flat = pdftotext(&pdf)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(flat.contains("Date: 2031-02-03 04:05 UTC"), "{flat}");
}
