//! Every check a real run records is mapped to what it supports, and the IPSIE level verdict
//! follows what the server breaks: a broken 409 costs AL2, a broken 404 costs AL1.

use idp::check::{run_checks, CheckOptions, Report};
use idp::standards::IpsieLevel;

use crate::broken_server::{spawn, Breaks, TOKEN};

async fn report(breaks: Breaks) -> Report {
    let (url, _app) = spawn(breaks).await;
    run_checks(&url, TOKEN, CheckOptions::default()).await
}

#[tokio::test]
async fn every_check_in_a_run_is_mapped() {
    let r = report(Breaks::default()).await;
    let unmapped: Vec<&str> = r
        .checks
        .iter()
        .filter(|c| idp::standards::supports(&c.id).is_none())
        .map(|c| c.id.as_str())
        .collect();
    assert!(
        unmapped.is_empty(),
        "checks without a standards entry: {unmapped:?}"
    );
    // The report carries the map: RFC sections on the checks, Okta and Entra where they apply.
    let refs = |id: &str| r.check(id).unwrap().supports.clone();
    assert!(refs("filter.user_name")
        .rfc
        .contains(&"RFC 7644 §3.4.2.2".to_string()));
    assert!(refs("discovery.service_provider_config")
        .rfc
        .contains(&"RFC 7643 §5".to_string()));
    assert_eq!(refs("users.delete").ipsie, Some(IpsieLevel::Al1));
    // Okta's "Check status 401" sends `Authorization: non-token`: a wrong token, not a missing one.
    assert_eq!(
        refs("auth.wrong_token").okta,
        ["SPEC test: Check status 401"]
    );
    assert!(refs("auth.missing_token").okta.is_empty());
    // excludedAttributes on GET /Groups/{id}: RFC 7644 §3.9 (§3.4.2.5 is the query form).
    assert_eq!(
        refs("groups.excluded_members").rfc[0],
        "RFC 7644 §3.9 (excludedAttributes)"
    );
    assert!(!refs("groups.patch_add_entra").entra.is_empty());
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["levels"]["met"], serde_json::json!(["AL1", "AL2"]));
    assert_eq!(json["levels"]["next"], serde_json::json!("AL3"));
    assert!(json["not_tested"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["requirement"]
            .as_str()
            .unwrap()
            .contains("25 requests per second")));
    let html = r.render_html();
    assert!(
        html.contains("IPSIE SCIM profile (draft) level AL1 and AL2"),
        "{html}"
    );
    assert!(html.contains("Not tested from outside") && html.contains("RFC 7644 §3.6"));
}

#[tokio::test]
async fn a_broken_conflict_costs_al2() {
    let r = report(Breaks {
        no_409: true,
        ..Breaks::default()
    })
    .await;
    assert_eq!(r.levels.met, [IpsieLevel::Al1], "{}", r.levels.summary);
    assert_eq!(r.levels.next, Some(IpsieLevel::Al2));
    assert!(
        r.levels
            .missing
            .contains(&"Creating an existing userName returns 409".to_string()),
        "{:?}",
        r.levels.missing
    );
}

#[tokio::test]
async fn a_broken_not_found_costs_al1() {
    let r = report(Breaks {
        server_error_not_found: true,
        ..Breaks::default()
    })
    .await;
    assert!(r.levels.met.is_empty(), "{}", r.levels.summary);
    assert_eq!(r.levels.next, Some(IpsieLevel::Al1));
    assert!(r
        .levels
        .missing
        .contains(&"GET of an unknown user is 404".to_string()));
    assert!(r.levels.summary.starts_with("Meets no level"));
}
