//! The readiness report fails exactly the checks a broken server breaks, and passes the rest.

use std::collections::BTreeSet;

use idp::check::{run_checks, CheckOptions, Outcome, Report};

use crate::broken_server::{spawn, Breaks, TOKEN};

async fn report(breaks: Breaks) -> Report {
    let (url, app) = spawn(breaks).await;
    let r = run_checks(
        &url,
        TOKEN,
        CheckOptions {
            version: "test".into(),
            ..CheckOptions::default()
        },
    )
    .await;
    // Everything the run created is gone again.
    let store = app.store.lock().unwrap();
    assert!(
        store.users.is_empty() && store.groups.is_empty(),
        "left behind: {:?} {:?}",
        store.users.keys(),
        store.groups.keys()
    );
    assert!(r.leftovers.is_empty(), "{:?}", r.leftovers);
    r
}

fn failed(r: &Report) -> BTreeSet<String> {
    r.checks
        .iter()
        .filter(|c| c.outcome == Outcome::Fail)
        .map(|c| c.id.clone())
        .collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn correct_server_passes_everything() {
    let r = report(Breaks::default()).await;
    assert!(r.checks.len() >= 40, "only {} checks", r.checks.len());
    assert_eq!(failed(&r), BTreeSet::new(), "{}", r.render_table());
    let na: Vec<&str> = r
        .checks
        .iter()
        .filter(|c| c.outcome == Outcome::NotApplicable)
        .map(|c| c.id.as_str())
        .collect();
    // This server advertises no cursor pagination (RFC 9865), so its cursor checks do not
    // apply; a Muster run passes them (tests/simulate.rs in the server crate).
    assert_eq!(
        na,
        [
            "pagination.cursor_walk",
            "pagination.cursor_invalid",
            "lifecycle.sessions_revoked"
        ]
    );
    assert_eq!(
        r.check("limits.retry_after").unwrap().outcome,
        Outcome::Pass
    );
    // Ids are unique, evidence never leaks the token, renderings work.
    let ids: BTreeSet<&str> = r.checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), r.checks.len());
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains(TOKEN));
    let html = r.render_html();
    assert!(
        html.contains("SCIM readiness report") && !html.contains(TOKEN) && html.contains("<style>")
    );
}

#[tokio::test]
async fn no_conflict_on_duplicates() {
    let r = report(Breaks {
        no_409: true,
        ..Breaks::default()
    })
    .await;
    assert_eq!(
        failed(&r),
        set(&[
            "users.duplicate_conflict",
            "users.duplicate_scim_type",
            "users.duplicate_case_insensitive",
            "users.concurrent_create_once"
        ]),
        "{}",
        r.render_table()
    );
}

#[tokio::test]
async fn zero_based_pagination() {
    let r = report(Breaks {
        zero_based: true,
        ..Breaks::default()
    })
    .await;
    assert_eq!(
        failed(&r),
        set(&["pagination.one_based", "pagination.pages_consistent"]),
        "{}",
        r.render_table()
    );
}

#[tokio::test]
async fn server_error_instead_of_not_found() {
    let r = report(Breaks {
        server_error_not_found: true,
        ..Breaks::default()
    })
    .await;
    assert_eq!(
        failed(&r),
        set(&[
            "errors.not_found",
            "errors.scim_error_shape",
            "errors.patch_unknown_user",
            "errors.no_server_errors",
            "groups.delete",
            "users.delete",
        ]),
        "{}",
        r.render_table()
    );
}

#[tokio::test]
async fn rate_limit_without_retry_after() {
    let r = report(Breaks {
        no_retry_after: true,
        ..Breaks::default()
    })
    .await;
    assert_eq!(
        failed(&r),
        set(&["limits.retry_after"]),
        "{}",
        r.render_table()
    );
    let c = r.check("limits.retry_after").unwrap();
    let ev = c.evidence.as_ref().unwrap();
    assert_eq!(ev.response.status, Some(429));
    assert!(!ev.response.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn wrong_content_type() {
    let r = report(Breaks {
        wrong_content_type: true,
        ..Breaks::default()
    })
    .await;
    assert_eq!(
        failed(&r),
        set(&["users.create.content_type", "content_type.responses"]),
        "{}",
        r.render_table()
    );
}

#[tokio::test]
async fn unreachable_target_fails_without_panicking() {
    let r = run_checks("http://127.0.0.1:9/scim/v2", TOKEN, CheckOptions::default()).await;
    assert!(!r.passed());
    let r = run_checks("not a url", TOKEN, CheckOptions::default()).await;
    assert_eq!(r.checks[0].id, "target.url");
}

/// The report is dated by the caller's clock when it gives one (a server's injected clock),
/// not by the system clock.
#[tokio::test]
async fn the_report_is_dated_by_the_callers_clock() {
    let at = chrono::DateTime::parse_from_rfc3339("2031-02-03T04:05:06Z")
        .unwrap()
        .to_utc();
    let opts = CheckOptions {
        started_at: Some(at),
        ..CheckOptions::default()
    };
    let r = run_checks("http://127.0.0.1:9/scim/v2", TOKEN, opts).await;
    assert_eq!(r.generated_at, at);
    let r = run_checks(
        "not a url",
        TOKEN,
        CheckOptions {
            started_at: Some(at),
            ..CheckOptions::default()
        },
    )
    .await;
    assert_eq!(r.generated_at, at);
}

#[tokio::test]
#[ignore = "prints the report for eyeballing"]
async fn print_report() {
    let r = report(Breaks::default()).await;
    println!("{}", r.render_table());
}

/// Check text an admin reads (reasons, the table) never shows Rust's Debug form of an optional
/// value (`Some("2026-…")`, `Some(true)`, `None`), for a good server, a broken one and no server.
#[tokio::test]
async fn no_check_text_reads_like_rust_debug() {
    let unreachable =
        run_checks("http://127.0.0.1:9/scim/v2", TOKEN, CheckOptions::default()).await;
    for r in [
        report(Breaks::default()).await,
        report(Breaks {
            server_error_not_found: true,
            zero_based: true,
            ..Breaks::default()
        })
        .await,
        unreachable,
    ] {
        for c in &r.checks {
            for bad in ["Some(", "None", "Bool(", "String(", "Number("] {
                assert!(
                    !c.reason.contains(bad),
                    "{} reason shows {bad:?}: {}",
                    c.id,
                    c.reason
                );
            }
        }
        let table = r.render_table();
        assert!(
            !table.contains("Some(") && !table.contains("None"),
            "{table}"
        );
        // The whole HTML page as text (tags dropped): verdict, references, the untested list.
        let html = r.render_html();
        let text: String = html
            .split('<')
            .map(|part| part.split_once('>').map_or(part, |(_, t)| t))
            .collect();
        for bad in ["Some(", "None", "{:?}"] {
            assert!(!text.contains(bad), "HTML text shows {bad:?}:\n{text}");
        }
    }
}
