//! The verdict of a triage: why a stored user can or cannot get in, or why nobody is stored.
//! Pure functions over facts, covered by a table of cases.

use crate::log::LogEntry;
use serde::Serialize;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    ActiveAndFine,
    OnlyDefaultRole,
    Deactivated,
    Deleted,
    Rejected,
    /// Nothing stored, but the person tried to sign in and was refused.
    SignInRefused,
    OtherConnection,
    NeverReceived,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnosis {
    pub verdict: Verdict,
    /// One or two sentences a support engineer can paste to the customer.
    pub summary: String,
    /// What to check or do next.
    pub next_steps: Vec<String>,
}

/// Facts about one stored user that decide the verdict (pure input to `diagnose_user`).
#[derive(Debug, Clone, PartialEq)]
pub struct UserFacts {
    pub active: bool,
    pub deleted_at: Option<String>,
    pub purge_at: Option<String>,
    pub role: Option<String>,
    pub role_via_group: Option<String>,
    pub role_via_group_name: Option<String>,
    /// The attribute mapping that gave the role, for people (`department = Finance`).
    pub role_via_attribute: Option<String>,
    pub has_mappings: bool,
    pub deactivated_by: Option<LogEntry>,
    pub connection_name: String,
    pub expected_connection: Option<String>,
    pub connection_id: String,
}

/// Why a stored user can or cannot get in. Pure: table-driven tests cover every verdict.
pub fn diagnose_user(f: &UserFacts) -> Diagnosis {
    if let Some(expected) = &f.expected_connection {
        if expected != &f.connection_id {
            return Diagnosis {
                verdict: Verdict::OtherConnection,
                summary: format!("This person is provisioned, but in the connection \"{}\", not the one expected.", f.connection_name),
                next_steps: vec!["Check which customer's IdP assigns this person; they may sign in through the other organisation.".into()],
            };
        }
    }
    if let Some(deleted) = &f.deleted_at {
        return Diagnosis {
            verdict: Verdict::Deleted,
            summary: format!(
                "Deleted by the IdP at {deleted}; the data is kept until {} and can be restored until then.",
                f.purge_at.as_deref().unwrap_or("the purge date")
            ),
            next_steps: vec![
                "If the deletion was a mistake, restore the user in the console (Users → Deleted → Restore).".into(),
                "Otherwise the customer must re-assign the person to the app in their IdP.".into(),
            ],
        };
    }
    if !f.active {
        let by = f
            .deactivated_by
            .as_ref()
            .map(|e| {
                format!(
                    " at {} by {} {} ({})",
                    e.at,
                    e.method,
                    e.path,
                    e.dialect
                        .clone()
                        .or_else(|| e.user_agent.clone())
                        .unwrap_or_else(|| "the IdP".into())
                )
            })
            .unwrap_or_default();
        return Diagnosis {
            verdict: Verdict::Deactivated,
            summary: format!("Deactivated by the IdP{by}. Deactivated users cannot sign in, and their sessions were revoked."),
            next_steps: vec!["Ask the customer's IT admin whether the person was unassigned or disabled in the IdP on purpose.".into()],
        };
    }
    let role = f.role.clone().unwrap_or_else(|| "(none)".into());
    if f.role_via_group.is_none() && f.role_via_attribute.is_none() && f.has_mappings {
        return Diagnosis {
            verdict: Verdict::OnlyDefaultRole,
            summary: format!("Active, but in no mapped group, so only the default role \"{role}\" applies."),
            next_steps: vec![
                "If they should have more access, the customer must add them to a mapped group in the IdP (and push the group).".into(),
                "Nested groups arrive flattened — or not at all — from IdPs: check direct membership.".into(),
            ],
        };
    }
    let why = match (&f.role_via_group_name, &f.role_via_attribute) {
        (Some(g), _) => format!("from the group \"{g}\""),
        (None, Some(a)) => format!("from the attribute mapping {a}"),
        (None, None) => "the connection's default role".into(),
    };
    Diagnosis {
        verdict: Verdict::ActiveAndFine,
        summary: format!("Active, role \"{role}\" ({why}). Muster would let this person in."),
        next_steps: vec!["If they still cannot sign in, look at the SSO side (SAML/OIDC) rather than provisioning.".into()],
    }
}

/// Diagnosis when nothing is stored: rejected (with the failed request) or never received.
pub fn diagnose_missing(
    rejections: &[LogEntry],
    last_healthy: &[(String, Option<String>)],
) -> Diagnosis {
    if let Some(r) = rejections.first() {
        return Diagnosis {
            verdict: Verdict::Rejected,
            summary: format!(
                "The IdP tried to provision this person at {} and Muster refused it ({} {}): {}",
                r.at,
                r.status,
                r.outcome,
                r.detail.clone().unwrap_or_else(|| "no detail".into())
            ),
            next_steps: vec![
                "Fix the attribute in the IdP (e.g. a missing email or a userName another user already has) and retry provisioning for this user.".into(),
            ],
        };
    }
    let healthy = last_healthy
        .iter()
        .map(|(name, at)| {
            format!(
                "{name}: last successful sync {}",
                at.as_deref().unwrap_or("never")
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    Diagnosis {
        verdict: Verdict::NeverReceived,
        summary: format!("No IdP ever sent this person to Muster. {healthy}."),
        next_steps: vec![
            "Is the person assigned to the app in the IdP (directly or through an assigned group)?".into(),
            "Do scoping filters or attribute mappings in the IdP exclude them?".into(),
            "Entra runs a provisioning cycle about every 40 minutes: has one run since the assignment? Use \"Provision on demand\" to push now.".into(),
            "Is provisioning paused, or the connection in quarantine (failing health)?".into(),
        ],
    }
}

/// A refused sign-in of someone no IdP sent, as triage shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct RefusedSignIn {
    pub at: String,
    pub subject: String,
    pub email: Option<String>,
    pub reason: Option<String>,
    pub warning: Option<String>,
}

/// Diagnosis when nothing is stored but the person's sign-ins were refused: the most recent
/// refusal (`refused` is newest first, not empty) says why.
pub fn diagnose_refused_signin(connection_name: &str, refused: &[RefusedSignIn]) -> Diagnosis {
    let last = refused.first();
    let why = last
        .and_then(|r| r.reason.clone().or(r.warning.clone()))
        .unwrap_or_else(|| "no reason recorded".into());
    let count = refused.len();
    Diagnosis {
        verdict: Verdict::SignInRefused,
        summary: format!(
            "No IdP has provisioned this person to \"{connection_name}\", and {} refused: {why}",
            if count == 1 {
                "their sign-in was".to_string()
            } else {
                format!("{count} sign-ins were")
            }
        ),
        next_steps: vec![
            "Ask the customer to assign the person to the app in their IdP so SCIM provisions them, then sign in again.".into(),
            "If the account exists under another subject, check the connection's JIT policy and link-by-email setting (Sign-in tab).".into(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> UserFacts {
        UserFacts {
            active: true,
            deleted_at: None,
            purge_at: None,
            role: Some("member".into()),
            role_via_group: Some("g1".into()),
            role_via_group_name: Some("Engineering".into()),
            role_via_attribute: None,
            has_mappings: true,
            deactivated_by: None,
            connection_name: "Acme".into(),
            expected_connection: None,
            connection_id: "c1".into(),
        }
    }

    #[test]
    fn every_verdict_from_its_facts() {
        let deact = LogEntry {
            at: "2026-11-01T10:00:00.000Z".into(),
            method: "PATCH".into(),
            path: "/Users/u1".into(),
            dialect: Some("okta".into()),
            ..Default::default()
        };
        let cases: Vec<(&str, UserFacts, Verdict, &str)> = vec![
            ("fine", facts(), Verdict::ActiveAndFine, "Engineering"),
            (
                "default only",
                UserFacts {
                    role_via_group: None,
                    role_via_group_name: None,
                    ..facts()
                },
                Verdict::OnlyDefaultRole,
                "default role",
            ),
            (
                "role from an attribute mapping is not the default",
                UserFacts {
                    role_via_group: None,
                    role_via_group_name: None,
                    role_via_attribute: Some("department = Finance".into()),
                    ..facts()
                },
                Verdict::ActiveAndFine,
                "attribute mapping department = Finance",
            ),
            (
                "default with no mappings is fine",
                UserFacts {
                    role_via_group: None,
                    role_via_group_name: None,
                    has_mappings: false,
                    ..facts()
                },
                Verdict::ActiveAndFine,
                "default role",
            ),
            (
                "deactivated",
                UserFacts {
                    active: false,
                    deactivated_by: Some(deact),
                    ..facts()
                },
                Verdict::Deactivated,
                "PATCH /Users/u1 (okta)",
            ),
            (
                "deleted",
                UserFacts {
                    deleted_at: Some("2026-11-01".into()),
                    purge_at: Some("2026-12-01".into()),
                    ..facts()
                },
                Verdict::Deleted,
                "2026-12-01",
            ),
            (
                "elsewhere",
                UserFacts {
                    expected_connection: Some("c2".into()),
                    ..facts()
                },
                Verdict::OtherConnection,
                "Acme",
            ),
        ];
        for (name, f, want, mentions) in cases {
            let d = diagnose_user(&f);
            assert_eq!(d.verdict, want, "{name}");
            assert!(d.summary.contains(mentions), "{name}: {}", d.summary);
            assert!(!d.next_steps.is_empty(), "{name}");
        }
        let rejected = LogEntry {
            at: "t".into(),
            status: 400,
            outcome: crate::log::LogOutcome::Invalid,
            detail: Some("userName is required".into()),
            ..Default::default()
        };
        let d = diagnose_missing(&[rejected], &[]);
        assert_eq!(d.verdict, Verdict::Rejected);
        assert!(d.summary.contains("userName is required"));
        let refused = RefusedSignIn {
            at: "2026-11-02T00:00:00.000Z".into(),
            subject: "00u9".into(),
            email: Some("new.hire@acme.test".into()),
            reason: Some("unprovisioned users are refused".into()),
            warning: None,
        };
        let d = diagnose_refused_signin("Acme", &[refused]);
        assert_eq!(d.verdict, Verdict::SignInRefused);
        assert!(
            d.summary.contains("unprovisioned users are refused"),
            "{}",
            d.summary
        );
        assert!(d.summary.contains("\"Acme\""), "{}", d.summary);
        let d = diagnose_missing(
            &[],
            &[("Acme".into(), Some("2026-11-01T00:00:00.000Z".into()))],
        );
        assert_eq!(d.verdict, Verdict::NeverReceived);
        assert!(d.summary.contains("Acme: last successful sync 2026-11-01"));
        assert!(d.next_steps.iter().any(|s| s.contains("40 minutes")));
    }
}
