//! What each readiness check supports (RFC 7643/7644 sections, Okta's and Entra's requirements, IPSIE SCIM profile levels), what cannot be tested from outside, and the level verdict.
//!
//! Okta references name the steps of Okta's own "SCIM 2.0 SPEC Test" (the Runscope suite in
//! ../shared/conformance/okta) or its documented client behaviour; Entra references name the
//! requests Entra's provisioning service sends (the payloads in ../shared/conformance/
//! idp-payloads). IPSIE levels follow the draft IPSIE SCIM profile: AL1 deprovisioning
//! (deactivate and delete users), AL2 the users-and-groups lifecycle, AL3 roles and
//! entitlements. The draft may still change; the report says so.
//!
//! Where each group of references was verified (December 2026), one line each:
//! - RFC 7644 section numbers (§2, §3.2, §3.3, §3.4.1, §3.4.2, §3.4.2.2, §3.4.2.4, §3.4.2.5,
//!   §3.5.1, §3.5.2 and .1-.3, §3.6, §3.7, §3.8, §3.9, §3.10, §3.12, §4): RFC 7644's table of
//!   contents (as linked section by section in Spomky-Labs/scim-library's README) and a public
//!   conformance suite's requirement ledger keyed to rfc7644.txt lines (§2 WWW-Authenticate,
//!   §3.3 409 "uniqueness", §3.4.2.5 and §3.9 attributes/excludedAttributes, §3.12 errors).
//! - RFC 7644 §3.9 vs §3.4.2.5: §3.9 lets "any operation that returns a resource" take
//!   excludedAttributes (GET /Groups/{id}?excludedAttributes=members); §3.4.2.5 is the query form.
//! - RFC 7644 §3.10: the attribute notation, sub-attributes by dot (`urn:…:User:name.givenName`),
//!   as quoted from the RFC in public SCIM server docs and Oracle's OCI IAM "Attribute Notation".
//! - RFC 7643 (§2.2 and §7 returned, §3.1 common attributes, §4.1.1, §4.2, §4.3, §5, §6, §7,
//!   §8.7.1): the same table of contents; userName's `caseExact: false` is in the §8.7.1 schema
//!   representation, not in §4.1.1's prose.
//! - RFC 6585 §4: 429 Too Many Requests, which MAY carry Retry-After (MDN's 429 page cites
//!   "RFC 6585 #section-4"); RFC 7644 §3.12 has no 429.
//! - Okta SPEC test steps: the step names and assertions in ../shared/conformance/okta/
//!   Okta-SCIM-20-SPEC-Test.json ("Check status 401" sends `Authorization: non-token`, a wrong
//!   token; "Test invalid User by username" expects totalResults 0).
//! - Okta client behaviour: okta-developer-docs' SCIM 2.0 reference as transcribed in
//!   ../shared/conformance/idp-payloads/okta-*.json.
//! - Entra requests: MicrosoftDocs/entra-docs (use-scim-to-provision-users-and-groups.md and
//!   application-provisioning-config-problem-scim-compatibility.md) as transcribed in
//!   ../shared/conformance/idp-payloads/entra-*.json.
//! - Entra gallery requirements (25 requests per second per tenant; client credentials or another
//!   supported authentication validated with a non-gallery app): learn.microsoft.com
//!   entra/identity/enterprise-apps/app-gallery-user-provisioning-requirements.
//! - Not verified against a source: the token-lifetime wording, "does not use /Bulk" (none of the
//!   transcribed Entra requests does), Okta's integer-only Retry-After and 60-second timeout, and
//!   the IPSIE levels of the draft profile.

use crate::report::{Check, Outcome};
pub use crate::report::{IpsieLevel, LevelVerdict, Supports, Untested};

/// One check's references, as the map below lists them.
struct Entry {
    id: &'static str,
    rfc: &'static [&'static str],
    okta: &'static [&'static str],
    entra: &'static [&'static str],
    ipsie: Option<IpsieLevel>,
}

const AL1: Option<IpsieLevel> = Some(IpsieLevel::Al1);
const AL2: Option<IpsieLevel> = Some(IpsieLevel::Al2);

macro_rules! map {
    ($($id:literal => [$($rfc:literal),*], okta [$($okta:literal),*], entra [$($entra:literal),*], $lvl:expr;)*) => {
        &[$(Entry { id: $id, rfc: &[$($rfc),*], okta: &[$($okta),*], entra: &[$($entra),*], ipsie: $lvl }),*]
    };
}

/// Every check id `run_checks` can produce. A check missing here fails `every_check_is_mapped`.
const MAP: &[Entry] = map! {
    "target.url" => ["RFC 7644 §3.2"], okta [], entra [], None;
    "discovery.service_provider_config" => ["RFC 7643 §5", "RFC 7644 §4"], okta [], entra [], None;
    "discovery.schemas" => ["RFC 7643 §7", "RFC 7644 §4"], okta [], entra [], None;
    "discovery.resource_types" => ["RFC 7643 §6", "RFC 7644 §4"], okta [], entra [], None;
    "discovery.authentication_schemes" => ["RFC 7643 §5 (authenticationSchemes)", "RFC 7644 §2"], okta [], entra [], None;
    "discovery.bulk_truthful" => ["RFC 7643 §5 (bulk)", "RFC 7644 §3.7"], okta [], entra ["does not use /Bulk"], None;
    "discovery.filter_max_results" => ["RFC 7643 §5 (filter)", "RFC 7644 §3.4.2.2"], okta [], entra [], None;
    "discovery.patch_truthful" => ["RFC 7643 §5 (patch)", "RFC 7644 §3.5.2"], okta [], entra [], None;
    "auth.missing_token" => ["RFC 7644 §2", "RFC 7644 §3.12"], okta [], entra ["bearer token in the Authorization header"], AL1;
    "auth.wrong_token" => ["RFC 7644 §2", "RFC 7644 §3.12"], okta ["SPEC test: Check status 401"], entra ["bearer token in the Authorization header"], AL1;
    "users.create" => ["RFC 7644 §3.3", "RFC 7643 §4.1"], okta ["SPEC test: Create Okta user with realistic values"], entra [], AL2;
    "users.create.meta" => ["RFC 7643 §3.1 (meta)"], okta [], entra [], None;
    "users.create.location" => ["RFC 7644 §3.3 (Location)", "RFC 7643 §3.1 (meta.location)"], okta [], entra [], None;
    "users.create.content_type" => ["RFC 7644 §3.8"], okta [], entra [], None;
    "users.create.entra_shape" => ["RFC 7643 §4.1", "RFC 7643 §4.3"], okta [], entra ["create user request"], AL2;
    "users.get" => ["RFC 7644 §3.4.1"], okta ["SPEC test: Get Users/{id}", "SPEC test: Verify that user was created"], entra [], AL1;
    "users.password_never_returned" => ["RFC 7643 §4.1.1 (password)", "RFC 7643 §2.2 (returned)", "RFC 7643 §7 (returned)"], okta [], entra [], None;
    "users.put_replace" => ["RFC 7644 §3.5.1"], okta ["profile updates by PUT"], entra [], AL2;
    "users.duplicate_conflict" => ["RFC 7644 §3.3 (409)"], okta ["SPEC test: Expect failure when recreating user with same values"], entra [], AL2;
    "users.duplicate_scim_type" => ["RFC 7644 §3.3", "RFC 7644 §3.12 (uniqueness)"], okta [], entra [], AL2;
    "users.duplicate_case_insensitive" => ["RFC 7643 §8.7.1 (userName caseExact false)", "RFC 7644 §3.3"], okta [], entra [], AL2;
    "users.concurrent_create_once" => ["RFC 7644 §3.3"], okta [], entra [], AL2;
    "users.delete" => ["RFC 7644 §3.6"], okta [], entra ["delete user"], AL1;
    "filter.user_name" => ["RFC 7644 §3.4.2.2"], okta ["looks a user up by filter=userName eq before creating it"], entra ["get user by userName"], AL1;
    "filter.user_name_case_insensitive" => ["RFC 7644 §3.4.2.2", "RFC 7643 §8.7.1 (userName caseExact false)"], okta ["SPEC test: Username Case Sensitivity Check"], entra [], AL2;
    "filter.external_id" => ["RFC 7644 §3.4.2.2", "RFC 7643 §3.1 (externalId)"], okta [], entra ["filter externalId eq"], AL2;
    "filter.no_match" => ["RFC 7644 §3.4.2", "RFC 7644 §3.4.2.2"], okta ["SPEC test: Test invalid User by username", "SPEC test: Make sure random user doesn't exist"], entra [], AL2;
    "filter.invalid" => ["RFC 7644 §3.4.2.2", "RFC 7644 §3.12 (invalidFilter)"], okta [], entra [], None;
    "pagination.one_based" => ["RFC 7644 §3.4.2.4"], okta ["SPEC test: Test Users endpoint"], entra [], AL2;
    "pagination.pages_consistent" => ["RFC 7644 §3.4.2.4"], okta [], entra [], AL2;
    "pagination.items_per_page" => ["RFC 7644 §3.4.2.4"], okta ["SPEC test: Test Users endpoint"], entra [], AL2;
    "pagination.total_results" => ["RFC 7644 §3.4.2.4"], okta ["SPEC test: Test Users endpoint"], entra [], AL2;
    "pagination.cursor_walk" => ["RFC 9865 §2", "RFC 9865 §4"], okta [], entra [], None;
    "pagination.cursor_invalid" => ["RFC 9865 §2.1", "RFC 9865 §5.2"], okta [], entra [], None;
    "patch.okta_deactivate" => ["RFC 7644 §3.5.2.3", "RFC 7643 §4.1.1 (active)"], okta ["deactivation by PATCH active false"], entra [], AL1;
    "patch.entra_false_string" => ["RFC 7644 §3.5.2.3", "RFC 7643 §4.1.1 (active)"], okta [], entra ["disable user without aadOptscim062020"], AL1;
    "patch.compliant_replace" => ["RFC 7644 §3.5.2.3"], okta [], entra ["disable or enable user with aadOptscim062020"], AL2;
    "patch.dotted_keys" => ["RFC 7644 §3.5.2.3", "RFC 7644 §3.10"], okta [], entra [], AL2;
    "patch.enterprise_extension" => ["RFC 7644 §3.5.2", "RFC 7644 §3.10", "RFC 7643 §4.3"], okta [], entra ["enterprise extension attributes"], AL2;
    "patch.entra_multi_replace" => ["RFC 7644 §3.5.2.3"], okta [], entra ["patch user, several attributes"], AL2;
    "patch.entra_title_case_add" => ["RFC 7644 §3.5.2.1"], okta [], entra ["Title-Case Add without aadOptscim062020"], AL2;
    "patch.add_filtered_creates" => ["RFC 7644 §3.5.2.1", "RFC 7644 §3.5.2"], okta [], entra ["patch user, multi-valued attribute"], AL2;
    "errors.not_found" => ["RFC 7644 §3.4.1", "RFC 7644 §3.12 (404)"], okta ["SPEC test: Test invalid User by ID", "SPEC test: Check status 404"], entra [], AL1;
    "errors.patch_unknown_user" => ["RFC 7644 §3.12 (404)"], okta [], entra [], AL1;
    "errors.scim_error_shape" => ["RFC 7644 §3.12"], okta [], entra [], None;
    "errors.no_server_errors" => ["RFC 7644 §3.12"], okta [], entra [], None;
    "content_type.request_scim_json" => ["RFC 7644 §3.8"], okta ["sends application/scim+json"], entra [], None;
    "content_type.request_json" => ["RFC 7644 §3.8"], okta [], entra [], None;
    "content_type.request_other" => ["RFC 7644 §3.8"], okta [], entra [], None;
    "content_type.responses" => ["RFC 7644 §3.8"], okta [], entra [], None;
    "groups.create" => ["RFC 7644 §3.3", "RFC 7643 §4.2"], okta ["Group Push: create group"], entra [], AL2;
    "groups.create_entra" => ["RFC 7644 §3.3", "RFC 7643 §4.2"], okta [], entra ["create group"], AL2;
    "groups.filter_display_name" => ["RFC 7644 §3.4.2.2"], okta ["Group Push: get groups by displayName"], entra ["get group by displayName"], AL2;
    "groups.patch_add_members" => ["RFC 7644 §3.5.2.1"], okta ["Group Push: add members"], entra [], AL2;
    "groups.excluded_members" => ["RFC 7644 §3.9 (excludedAttributes)", "RFC 7644 §3.4.2.5"], okta [], entra ["get group excluding members"], AL2;
    "groups.patch_remove_filter" => ["RFC 7644 §3.5.2.2"], okta ["Group Push: remove a member"], entra [], AL2;
    "groups.rename_okta" => ["RFC 7644 §3.5.2.3"], okta ["Group Push: rename group"], entra [], AL2;
    "groups.patch_add_entra" => ["RFC 7644 §3.5.2.1"], okta [], entra ["add member to group"], AL2;
    "groups.patch_remove_value_array" => ["RFC 7644 §3.5.2.2"], okta [], entra ["remove member from group"], AL2;
    "groups.rename_entra" => ["RFC 7644 §3.5.2.3"], okta [], entra ["rename group"], AL2;
    "groups.delete" => ["RFC 7644 §3.6"], okta [], entra [], AL2;
    "lifecycle.deactivated_listed_inactive" => ["RFC 7643 §4.1.1 (active)", "RFC 7644 §3.4.2.2"], okta [], entra [], AL1;
    "lifecycle.sessions_revoked" => [], okta [], entra [], AL1;
    "limits.retry_after" => ["RFC 6585 §4 (429, Retry-After)"], okta ["reads only integer Retry-After seconds"], entra [], None;
    "oauth.token_endpoint" => ["RFC 6749 §4.4", "RFC 6749 §5.1"], okta [], entra ["OAuth 2.0 client credentials grant (gallery apps)"], None;
    "oauth.invalid_client" => ["RFC 6749 §2.3.1", "RFC 6749 §5.2"], okta [], entra [], None;
    "limits.under_60s" => [], okta ["60-second request timeout"], entra [], None;
};

/// What check `id` supports; `None` for an id this map does not know.
pub fn supports(id: &str) -> Option<Supports> {
    MAP.iter().find(|e| e.id == id).map(|e| Supports {
        rfc: e.rfc.iter().map(|s| s.to_string()).collect(),
        okta: e.okta.iter().map(|s| s.to_string()).collect(),
        entra: e.entra.iter().map(|s| s.to_string()).collect(),
        ipsie: e.ipsie,
    })
}

/// The requirements buyers ask about that no request from outside can prove: never counted as
/// passed, listed with what the operator shows instead.
pub fn not_tested() -> Vec<Untested> {
    let u = |requirement: &str, source: &str, show_instead: &str| Untested {
        requirement: requirement.into(),
        source: source.into(),
        show_instead: show_instead.into(),
    };
    vec![
        u(
            "OAuth 2.0 client credentials grant for the SCIM endpoint (or another authentication method Entra supports), validated with a non-gallery app",
            "Microsoft Entra app gallery",
            "the token endpoint and client registration the gallery listing will use, and a successful token request",
        ),
        u(
            "Token lifetime (long-lived or automatically renewed credentials, so provisioning does not stop when a token expires)",
            "Microsoft Entra app gallery",
            "the documented lifetime and rotation of the tokens issued to Entra (Muster: tokens do not expire until rotated or revoked; rotation keeps the old token valid for a grace period)",
        ),
        u(
            "Sustains 25 requests per second per tenant",
            "Microsoft Entra app gallery",
            "a load test against the production deployment; this report's burst only checks that 429 answers carry Retry-After",
        ),
        u(
            "Roles and entitlements provisioned and enforced",
            "IPSIE SCIM profile AL3 (draft)",
            "the role mapping of each connection and a test that a role change reaches the application",
        ),
        u(
            "Deprovisioning takes effect in the application within the agreed time",
            "IPSIE SCIM profile AL1 (draft)",
            "Muster's deprovisioning evidence pack (muster evidence) for a real period",
        ),
    ]
}

/// Which levels are met: a level counts only if every check mapped to it and to the levels
/// below passed or did not apply, and at least one of its checks passed. AL3 has no check this
/// report can run from outside, so it is never met here.
pub fn verdict(checks: &[Check]) -> LevelVerdict {
    let mut met = Vec::new();
    for level in IpsieLevel::ALL {
        let mine: Vec<&Check> = checks
            .iter()
            .filter(|c| supports(&c.id).and_then(|s| s.ipsie) == Some(level))
            .collect();
        let failing: Vec<String> = mine
            .iter()
            .filter(|c| c.outcome == Outcome::Fail)
            .map(|c| c.title.clone())
            .collect();
        let passed = mine.iter().any(|c| c.outcome == Outcome::Pass);
        // A check of this level that never ran (the run stopped early) is missing evidence.
        let not_run = MAP
            .iter()
            .filter(|e| e.ipsie == Some(level) && !checks.iter().any(|c| c.id == e.id))
            .count();
        if failing.is_empty() && passed && not_run == 0 {
            met.push(level);
            continue;
        }
        let mut failing = failing;
        if not_run > 0 && (passed || !failing.is_empty()) {
            failing.push(format!(
                "{not_run} further {} check(s) did not run because an earlier step failed",
                level.label()
            ));
        }
        let missing = if !failing.is_empty() {
            failing
        } else if level == IpsieLevel::Al3 {
            vec!["Roles and entitlements cannot be tested by this report; see \"Not tested from outside\"".into()]
        } else {
            vec![format!("No {} check could run", level.label())]
        };
        let summary = format!(
            "{} Next: IPSIE SCIM {} ({}); {} missing, listed below.",
            met_sentence(&met),
            level.label(),
            level.scope(),
            if missing.len() == 1 {
                "1 item".to_string()
            } else {
                format!("{} items", missing.len())
            }
        );
        return LevelVerdict {
            met,
            next: Some(level),
            missing,
            summary,
        };
    }
    LevelVerdict {
        summary: met_sentence(&met),
        met,
        next: None,
        missing: vec![],
    }
}

fn met_sentence(met: &[IpsieLevel]) -> String {
    match met.last() {
        None => "Meets no level of the IPSIE SCIM profile (draft).".into(),
        Some(top) => format!(
            "Meets IPSIE SCIM profile (draft) level {}: {}.",
            met.iter()
                .map(|l| l.label())
                .collect::<Vec<_>>()
                .join(" and "),
            top.scope()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn check(id: &str, outcome: Outcome) -> Check {
        Check {
            id: id.into(),
            title: format!("title of {id}"),
            category: "c".into(),
            outcome,
            reason: String::new(),
            evidence: None,
            supports: Supports::default(),
        }
    }

    /// Every id the run can record (string literals in check/*.rs shaped like check ids) is mapped,
    /// so a new check cannot ship without its references. The integration test
    /// `every_check_in_a_run_is_mapped` asserts the same of a real run's output.
    #[test]
    fn every_check_is_mapped() {
        let src = [
            include_str!("check/mod.rs"),
            include_str!("check/discovery.rs"),
            include_str!("check/finish.rs"),
            include_str!("check/groups.rs"),
            include_str!("check/lists.rs"),
            include_str!("check/patches.rs"),
            include_str!("check/protocol.rs"),
            include_str!("check/users.rs"),
        ]
        .concat();
        let prefixes = [
            "target.",
            "discovery.",
            "auth.",
            "users.",
            "filter.",
            "pagination.",
            "patch.",
            "errors.",
            "content_type.",
            "groups.",
            "lifecycle.",
            "limits.",
        ];
        // Paths into a ServiceProviderConfig, not check ids.
        let not_ids = ["filter.supported", "patch.supported", "pagination.cursor"];
        let ids: BTreeSet<&str> = src
            .split('"')
            .skip(1)
            .step_by(2)
            .filter(|s| prefixes.iter().any(|p| s.starts_with(p)))
            .filter(|s| {
                s.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_' || c.is_ascii_digit())
            })
            .filter(|s| !not_ids.contains(s))
            .collect();
        assert!(ids.len() >= 60, "found only {} ids", ids.len());
        let unmapped: Vec<&&str> = ids.iter().filter(|id| supports(id).is_none()).collect();
        assert!(
            unmapped.is_empty(),
            "checks without a standards entry: {unmapped:?}"
        );
        let known: BTreeSet<&str> = MAP.iter().map(|e| e.id).collect();
        assert_eq!(known.len(), MAP.len(), "an id is mapped twice");
    }

    #[test]
    fn verdict_climbs_levels_and_names_what_is_missing() {
        // Every AL1 and AL2 check passes (sessions do not apply); a check of no level fails.
        let mut all_pass: Vec<Check> = MAP
            .iter()
            .filter(|e| e.ipsie.is_some())
            .map(|e| check(e.id, Outcome::Pass))
            .collect();
        let at = |v: &[Check], id: &str| v.iter().position(|c| c.id == id).unwrap();
        let i = at(&all_pass, "lifecycle.sessions_revoked");
        all_pass[i].outcome = Outcome::NotApplicable;
        all_pass.push(check("discovery.schemas", Outcome::Fail));
        let v = verdict(&all_pass);
        assert_eq!(v.met, [IpsieLevel::Al1, IpsieLevel::Al2]);
        assert_eq!(v.next, Some(IpsieLevel::Al3));
        assert!(
            v.summary
                .starts_with("Meets IPSIE SCIM profile (draft) level AL1 and AL2"),
            "{}",
            v.summary
        );

        let mut no_groups = all_pass.clone();
        let i = at(&no_groups, "groups.create");
        no_groups[i].outcome = Outcome::Fail;
        let v = verdict(&no_groups);
        assert_eq!(v.met, [IpsieLevel::Al1]);
        assert_eq!(v.next, Some(IpsieLevel::Al2));
        assert_eq!(v.missing, ["title of groups.create"]);

        let mut no_delete = all_pass.clone();
        let i = at(&no_delete, "users.delete");
        no_delete[i].outcome = Outcome::Fail;
        let v = verdict(&no_delete);
        assert!(v.met.is_empty(), "a failing AL1 check blocks every level");
        assert_eq!(v.next, Some(IpsieLevel::Al1));
        assert_eq!(v.missing, ["title of users.delete"]);
        assert!(v.summary.starts_with("Meets no level"), "{}", v.summary);

        // A run that stopped early: AL1 checks that never ran keep AL1 from being met.
        let stopped: Vec<Check> = all_pass
            .iter()
            .filter(|c| c.id.starts_with("auth."))
            .cloned()
            .collect();
        let v = verdict(&stopped);
        assert!(v.met.is_empty(), "{}", v.summary);
        assert!(
            v.missing[0].ends_with("AL1 check(s) did not run because an earlier step failed"),
            "{:?}",
            v.missing
        );

        let v = verdict(&[]);
        assert!(v.met.is_empty() && v.missing == ["No AL1 check could run"]);
    }

    #[test]
    fn outside_requirements_are_never_passed() {
        let u = not_tested();
        for needle in [
            "client credentials",
            "Token lifetime",
            "25 requests per second",
        ] {
            assert!(u.iter().any(|x| x.requirement.contains(needle)), "{needle}");
        }
        assert!(u.iter().all(|x| !x.show_instead.is_empty()));
    }
}
