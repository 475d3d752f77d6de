//! Triage by a fragment of an identifier (as the Users search matches it), with candidates
//! when several users match, refused sign-ins and group names as evidence; and the global
//! search across connections: bounded per kind, each result naming its connection, and
//! refusing queries too short to mean anything.

#[path = "support/store.rs"]
mod store;

use chrono::{TimeZone, Utc};
use directory::connections::{self, Idp};
use directory::jit::{self, Policy, SignIn};
use directory::lifecycle;
use directory::search::{self, SearchText};
use directory::triage::{self, Verdict};
use serde_json::json;

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 5, 12, 0, 0).unwrap()
}

struct World {
    db: store::TestStore,
    acme: String,
    globex: String,
    jane: String,
}

fn user(name: &str, ext: &str) -> serde_json::Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name,
           "externalId": ext, "emails": [{"value": name, "primary": true}]})
}

/// Acme: jane.doe, janet.smith, and the group Engineering with Jane in it; Globex: jane.roe
/// and 30 bulk users; Acme refuses sign-ins of anyone SCIM did not send.
fn world() -> World {
    let db = store::open();
    let (acme, globex, jane) = db
        .write_blocking(|c| {
            let acme = connections::create(c, "Acme", Idp::Okta, false, now())?.id;
            let globex = connections::create(c, "Globex", Idp::Entra, false, now())?.id;
            let jane = lifecycle::create_user(
                c,
                &acme,
                &scim::schema::UserResource::parse(&user("jane.doe@acme.test", "00uJANE7781"))
                    .unwrap(),
                "SCIM POST",
                now(),
            )?
            .id;
            lifecycle::create_user(
                c,
                &acme,
                &scim::schema::UserResource::parse(&user("janet.smith@acme.test", "00uJANET"))
                    .unwrap(),
                "SCIM POST",
                now(),
            )?;
            lifecycle::create_user(
                c,
                &globex,
                &scim::schema::UserResource::parse(&user("jane.roe@globex.test", "g-1")).unwrap(),
                "SCIM POST",
                now(),
            )?;
            for i in 0..30 {
                lifecycle::create_user(
                    c,
                    &globex,
                    &scim::schema::UserResource::parse(&user(
                        &format!("bulk{i}@globex.test"),
                        &format!("b-{i}"),
                    ))
                    .unwrap(),
                    "SCIM POST",
                    now(),
                )?;
            }
            lifecycle::create_group(
                c,
                &acme,
                &scim::schema::GroupResource::parse(
                    &json!({"displayName": "Engineering", "members": [{"value": &jane}]}),
                )
                .unwrap(),
                "SCIM POST",
                now(),
            )?;
            let mut s = jit::settings(c, &acme)?;
            s.policy = Policy::ScimAuthoritative;
            jit::save_settings(c, &acme, &s)?;
            Ok((acme, globex, jane))
        })
        .unwrap();
    World {
        db,
        acme,
        globex,
        jane,
    }
}

fn sign_in(w: &World, sub: &str, email: &str) {
    let (conn, s) = (
        w.acme.clone(),
        SignIn {
            subject: sub.into(),
            email: Some(email.into()),
            email_verified: true,
            ..Default::default()
        },
    );
    w.db.write_blocking(move |c| jit::sign_in(c, &conn, &s, chrono::Duration::hours(1), now()))
        .unwrap();
}

fn triage(w: &World, q: &str) -> triage::TriageReport {
    let q = q.to_string();
    w.db.read_blocking(move |c| triage::triage(c, &q, None, now()))
        .unwrap()
}

#[test]
fn a_unique_prefix_or_external_id_fragment_is_the_finding() {
    let w = world();
    for q in ["jane.do", "JANE.DOE@acme", "JANE7781", "uJANE77"] {
        let r = triage(&w, q);
        assert!(r.partial, "{q}: found by a fragment");
        assert!(r.candidates.is_empty(), "{q}: {:?}", r.candidates);
        assert_eq!(r.findings.len(), 1, "{q}: {r:?}");
        assert_eq!(
            r.findings[0].user_id.as_deref(),
            Some(w.jane.as_str()),
            "{q}"
        );
        assert_eq!(
            r.findings[0].diagnosis.verdict,
            Verdict::ActiveAndFine,
            "{q}"
        );
    }
    // The whole identifier is still an exact match, not a fragment.
    let r = triage(&w, "jane.doe@acme.test");
    assert!(!r.partial);
    assert_eq!(r.findings[0].user_id.as_deref(), Some(w.jane.as_str()));
}

#[test]
fn several_matches_are_candidates_across_connections_never_a_guess() {
    let w = world();
    let r = triage(&w, "jane");
    assert!(r.partial);
    assert!(
        r.findings.is_empty(),
        "no guessed finding: {:?}",
        r.findings
    );
    let mut names: Vec<_> = r
        .candidates
        .iter()
        .map(|c| (c.connection_name.as_str(), c.user_name.as_str()))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ("Acme", "jane.doe@acme.test"),
            ("Acme", "janet.smith@acme.test"),
            ("Globex", "jane.roe@globex.test")
        ]
    );
    assert!(!r.more_candidates);
    // Bounded: 30 bulk users match "bulk", MAX_CANDIDATES are listed.
    let r = triage(&w, "bulk");
    assert_eq!(r.candidates.len(), triage::MAX_CANDIDATES);
    assert!(r.more_candidates);
    assert!(r.candidates.iter().all(|c| c.connection_id == w.globex));
    // One character is not a fragment: never received, no candidates.
    let r = triage(&w, "j");
    assert!(!r.partial && r.candidates.is_empty());
}

#[test]
fn the_finding_names_groups_and_its_timeline_says_so_in_words() {
    let w = world();
    let r = triage(&w, "jane.doe@acme.test");
    let f = &r.findings[0];
    let groups: Vec<_> = f.groups.iter().map(|g| g.display_name.as_deref()).collect();
    assert_eq!(groups, [Some("Engineering")]);
    let whats: Vec<&str> = f.timeline.iter().map(|t| t.what.as_str()).collect();
    assert!(whats.contains(&"Added to group “Engineering”"), "{whats:?}");
    assert!(whats.contains(&"Account created"), "{whats:?}");
    assert!(
        !f.timeline.iter().any(|t| t.what.contains(&f.groups[0].id)
            || t.detail
                .as_deref()
                .is_some_and(|d| d.contains(&f.groups[0].id))),
        "no group id in the timeline: {:?}",
        f.timeline
    );
}

#[test]
fn refused_sign_ins_are_evidence_with_or_without_an_account() {
    let w = world();
    // Nobody sent this person; they tried to sign in twice and were refused.
    sign_in(&w, "00uNEW", "new.hire@acme.test");
    sign_in(&w, "00uNEW", "new.hire@acme.test");
    for q in ["new.hire@acme.test", "00uNEW"] {
        let r = triage(&w, q);
        assert_eq!(r.findings.len(), 1, "{q}: {r:?}");
        let f = &r.findings[0];
        assert_eq!(f.diagnosis.verdict, Verdict::SignInRefused, "{q}");
        assert_eq!(f.connection_id, w.acme);
        assert!(
            f.diagnosis.summary.contains("2 sign-ins were"),
            "{}",
            f.diagnosis.summary
        );
        assert_eq!(f.timeline.len(), 2);
        assert!(f.timeline[0].what.starts_with("JIT sign-in refused"));
    }
    // Jane, stored under subject 00uJANE7781, signs in under another subject: refused and not
    // linked to her account, yet her finding shows it.
    sign_in(&w, "other-subject", "jane.doe@acme.test");
    let r = triage(&w, "jane.doe@acme.test");
    let refused: Vec<_> = r.findings[0]
        .timeline
        .iter()
        .filter(|t| t.what.starts_with("JIT sign-in refused"))
        .collect();
    assert_eq!(refused.len(), 1, "{:?}", r.findings[0].timeline);
}

#[test]
fn the_search_spans_connections_bounded_per_kind() {
    let w = world();
    let q = SearchText::parse("jane").unwrap();
    let r =
        w.db.read_blocking(move |c| search::search(c, &q, 5))
            .unwrap();
    let mut users: Vec<_> = r
        .users
        .iter()
        .map(|u| (u.connection_name.as_str(), u.user_name.as_str()))
        .collect();
    users.sort();
    assert_eq!(
        users,
        [
            ("Acme", "jane.doe@acme.test"),
            ("Acme", "janet.smith@acme.test"),
            ("Globex", "jane.roe@globex.test")
        ]
    );
    assert!(!r.users_more);
    let q = SearchText::parse("engin").unwrap();
    let r =
        w.db.read_blocking(move |c| search::search(c, &q, 5))
            .unwrap();
    assert_eq!(r.groups.len(), 1);
    assert_eq!(
        (
            r.groups[0].connection_id.as_str(),
            r.groups[0].display_name.as_str()
        ),
        (w.acme.as_str(), "Engineering")
    );
    // 30 bulk users, 3 asked for: 3 listed, and more said.
    let q = SearchText::parse("bulk").unwrap();
    let r =
        w.db.read_blocking(move |c| search::search(c, &q, 3))
            .unwrap();
    assert_eq!(r.users.len(), 3);
    assert!(r.users_more);
    // Bad input is refused with words, not guessed at.
    for bad in ["", " ", "j", " a "] {
        let e = SearchText::parse(bad).unwrap_err().to_string();
        assert!(e.contains("at least 2 characters"), "{bad:?}: {e}");
    }
    assert!(SearchText::parse(&"x".repeat(257)).is_err());
    assert_eq!(search::parse_limit(None).unwrap(), search::DEFAULT_LIMIT);
    assert_eq!(search::parse_limit(Some("20")).unwrap(), 20);
    for bad in ["0", "21", "-1", "abc", "1.5"] {
        let e = search::parse_limit(Some(bad)).unwrap_err().to_string();
        assert!(
            e.contains("limit must be a whole number from 1 to 20"),
            "{bad}: {e}"
        );
    }
}
