//! Missing-user triage: find a person across connections by email, userName, externalId
//! or name (tolerant of case, whitespace, plus-addressing and near misses), and say in
//! plain words why they can or cannot sign in, with the evidence.

use crate::clock::fmt_time;
use crate::connections::{self, ConnectionRecord};
use crate::db::fold;
use crate::error::Result;
use crate::log::{self, LogEntry, LogQuery};
use crate::users::{self, UserRecord};
use crate::{feed, health, roles};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use serde::Serialize;

/// The comparable form of what support typed: trimmed, case-folded, whitespace collapsed,
/// and `jane+tag@acme.com` read as `jane@acme.com`.
pub fn normalize(q: &str) -> String {
    let q = fold(q.trim());
    let q = q.split_whitespace().collect::<Vec<_>>().join(" ");
    strip_plus(&q)
}

fn strip_plus(s: &str) -> String {
    match s.split_once('@') {
        Some((local, domain)) => match local.split_once('+') {
            Some((base, _)) => format!("{base}@{domain}"),
            None => s.to_string(),
        },
        None => s.to_string(),
    }
}

/// Levenshtein distance, bounded: returns None past `max`.
pub fn distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        if cur.iter().min().copied().unwrap_or(0) > max {
            return None;
        }
        prev = cur;
    }
    let d = prev[b.len()];
    (d <= max).then_some(d)
}

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

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineItem {
    pub at: String,
    pub source: String,
    pub what: String,
    pub detail: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub connection_id: String,
    pub connection_name: String,
    pub user_id: Option<String>,
    pub user_name: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub status: Option<String>,
    pub role: Option<String>,
    pub diagnosis: Diagnosis,
    pub timeline: Vec<TimelineItem>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NearMatch {
    pub connection_id: String,
    pub user_id: String,
    pub user_name: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub distance: usize,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriageReport {
    pub query: String,
    pub normalized: String,
    pub findings: Vec<Finding>,
    pub near_matches: Vec<NearMatch>,
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

fn candidates(db: &Connection, q: &str) -> Result<Vec<UserRecord>> {
    let mut stmt = db.prepare(&format!(
        "SELECT {} FROM users u WHERE user_name_key = ?1 OR primary_email_key = ?1 OR external_id = ?2
           OR display_name_key = ?1 OR muster_fold(COALESCE(given_name,'') || ' ' || COALESCE(family_name,'')) = ?1
           OR EXISTS (SELECT 1 FROM user_emails e WHERE e.user_id = u.id AND e.value_key = ?1)
         ORDER BY connection_id, user_name_key LIMIT 50",
        users::COLUMNS
    ))?;
    let rows = stmt
        .query_map(params![q, q], users::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn candidates_plus_tolerant(db: &Connection, normalized: &str) -> Result<Vec<UserRecord>> {
    // Stored values may carry plus-addressing the query does not (or the other way round).
    let Some((local, domain)) = normalized.split_once('@') else {
        return Ok(vec![]);
    };
    let mut stmt = db.prepare(&format!(
        "SELECT {} FROM users WHERE user_name_key LIKE ?1 ESCAPE '\\' OR primary_email_key LIKE ?1 ESCAPE '\\' LIMIT 200",
        users::COLUMNS
    ))?;
    let esc = |s: &str| {
        s.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    };
    let pattern = format!("{}+%@{}", esc(local), esc(domain));
    let rows = stmt
        .query_map([pattern], users::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows
        .into_iter()
        .filter(|u| {
            strip_plus(&fold(&u.user_name)) == normalized
                || u.primary_email.as_deref().map(|e| strip_plus(&fold(e)))
                    == Some(normalized.to_string())
        })
        .collect())
}

fn timeline(db: &Connection, u: &UserRecord) -> Result<Vec<TimelineItem>> {
    let mut items = Vec::new();
    for e in log::list(
        db,
        &LogQuery {
            connection_id: Some(u.connection_id.clone()),
            resource_id: Some(u.id.clone()),
            limit: 200,
            ..Default::default()
        },
    )? {
        items.push(TimelineItem {
            at: e.at.clone(),
            source: "scim".into(),
            what: format!("{} {} → {} {}", e.method, e.path, e.status, e.outcome),
            detail: e.detail.clone().or(e.dialect.clone()),
        });
    }
    let mut stmt =
        db.prepare_cached("SELECT seq FROM change_feed WHERE user_id = ?1 ORDER BY seq LIMIT 1")?;
    let first: Option<i64> = stmt.query_row([&u.id], |r| r.get(0)).ok();
    if let Some(first) = first {
        for ev in feed::read(db, first - 1, Some(&u.connection_id), 1000)?
            .into_iter()
            .filter(|e| e.user_id.as_deref() == Some(u.id.as_str()))
        {
            items.push(TimelineItem {
                at: ev.at,
                source: "directory".into(),
                what: ev.kind,
                detail: Some(ev.data.to_string()),
            });
        }
    }
    let mut stmt = db.prepare_cached(
        "SELECT at, decision, reason, warning FROM signins WHERE user_id = ?1 ORDER BY id",
    )?;
    let signins = stmt.query_map([&u.id], |r| {
        Ok(TimelineItem {
            at: r.get(0)?,
            source: "sign-in".into(),
            what: format!("JIT sign-in {}", r.get::<_, String>(1)?),
            detail: r
                .get::<_, Option<String>>(2)?
                .or(r.get::<_, Option<String>>(3)?),
        })
    })?;
    for s in signins {
        items.push(s?);
    }
    items.sort_by(|a, b| a.at.cmp(&b.at));
    Ok(items)
}

/// Searches every connection (or, with `expected`, notes when the person is elsewhere).
pub fn triage(
    db: &Connection,
    query: &str,
    expected: Option<&str>,
    now: DateTime<Utc>,
) -> Result<TriageReport> {
    let normalized = normalize(query);
    let conns: Vec<ConnectionRecord> = connections::list(db)?;
    let name_of = |id: &str| {
        conns
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.name.clone())
            .unwrap_or_default()
    };
    let mut found = candidates(db, &normalized)?;
    if found.is_empty() {
        found = candidates_plus_tolerant(db, &normalized)?;
    }
    let mut findings = Vec::new();
    for u in &found {
        let maps = roles::mappings(db, &u.connection_id)?;
        let via_name = match &u.role_via {
            Some(g) => crate::groups::get(db, &u.connection_id, g)?.map(|g| g.display_name),
            None => None,
        };
        let deactivated_by = log::list(
            db,
            &LogQuery {
                connection_id: Some(u.connection_id.clone()),
                resource_id: Some(u.id.clone()),
                outcome: Some("deactivated".into()),
                limit: 1,
                ..Default::default()
            },
        )?
        .into_iter()
        .next();
        let facts = UserFacts {
            active: u.active,
            deleted_at: u.deleted_at.clone(),
            purge_at: u.purge_at.clone(),
            role: u.role.clone(),
            role_via_group: u.role_via.clone(),
            role_via_group_name: via_name,
            role_via_attribute: u.role_via_attribute.as_ref().map(|a| a.label()),
            has_mappings: !maps.is_empty(),
            deactivated_by,
            connection_name: name_of(&u.connection_id),
            expected_connection: expected.map(str::to_string),
            connection_id: u.connection_id.clone(),
        };
        findings.push(Finding {
            connection_id: u.connection_id.clone(),
            connection_name: name_of(&u.connection_id),
            user_id: Some(u.id.clone()),
            user_name: Some(u.user_name.clone()),
            display_name: u.display_name.clone(),
            email: u.primary_email.clone(),
            status: Some(
                if u.deleted_at.is_some() {
                    "deleted"
                } else if u.active {
                    "active"
                } else {
                    "deactivated"
                }
                .into(),
            ),
            role: u.role.clone(),
            diagnosis: diagnose_user(&facts),
            timeline: timeline(db, u)?,
        });
    }
    let mut near_matches = Vec::new();
    if findings.is_empty() {
        // Rejected requests that named this person, per connection.
        for c in &conns {
            let mut stmt = db.prepare_cached(
                "SELECT id FROM provisioning_log WHERE connection_id = ?1 AND status >= 400 AND status != 401
                   AND (lower(user_name) = ?2 OR external_id = ?3 OR instr(lower(COALESCE(request_body,'')), ?2) > 0)
                 ORDER BY id DESC LIMIT 5",
            )?;
            let ids = stmt
                .query_map(params![c.id, normalized, query.trim()], |r| {
                    r.get::<_, i64>(0)
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut rejections = Vec::new();
            for id in ids {
                rejections.extend(log::list(
                    db,
                    &LogQuery {
                        connection_id: Some(c.id.clone()),
                        before_id: Some(id + 1),
                        limit: 1,
                        ..Default::default()
                    },
                )?);
            }
            if !rejections.is_empty() {
                findings.push(Finding {
                    connection_id: c.id.clone(),
                    connection_name: c.name.clone(),
                    user_id: None,
                    user_name: rejections[0].user_name.clone(),
                    display_name: None,
                    email: None,
                    status: None,
                    role: None,
                    diagnosis: diagnose_missing(&rejections, &[]),
                    timeline: rejections
                        .iter()
                        .map(|e| TimelineItem {
                            at: e.at.clone(),
                            source: "scim".into(),
                            what: format!("{} {} → {} {}", e.method, e.path, e.status, e.outcome),
                            detail: e.detail.clone(),
                        })
                        .collect(),
                });
            }
        }
        let mut stmt = db.prepare("SELECT connection_id, id, user_name, user_name_key FROM users WHERE deleted_at IS NULL")?;
        let all = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        for row in all {
            let (c, id, name, key) = row?;
            if let Some(d) = distance(&strip_plus(&key), &normalized, 2) {
                near_matches.push(NearMatch {
                    connection_id: c,
                    user_id: id,
                    user_name: name,
                    distance: d,
                });
            }
        }
        near_matches.sort_by_key(|m| m.distance);
        near_matches.truncate(10);
        if findings.is_empty() {
            let mut healthy = Vec::new();
            for c in &conns {
                let (stats, _) = health::gather(db, c, now)?;
                healthy.push((c.name.clone(), stats.last_sync_at));
            }
            findings.push(Finding {
                connection_id: expected.unwrap_or("*").to_string(),
                connection_name: expected
                    .map(name_of)
                    .unwrap_or_else(|| "all connections".into()),
                user_id: None,
                user_name: None,
                display_name: None,
                email: None,
                status: None,
                role: None,
                diagnosis: diagnose_missing(&[], &healthy),
                timeline: vec![],
            });
        }
    }
    let _ = fmt_time(now);
    Ok(TriageReport {
        query: query.to_string(),
        normalized,
        findings,
        near_matches,
    })
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
            outcome: "invalid".into(),
            detail: Some("userName is required".into()),
            ..Default::default()
        };
        let d = diagnose_missing(&[rejected], &[]);
        assert_eq!(d.verdict, Verdict::Rejected);
        assert!(d.summary.contains("userName is required"));
        let d = diagnose_missing(
            &[],
            &[("Acme".into(), Some("2026-11-01T00:00:00.000Z".into()))],
        );
        assert_eq!(d.verdict, Verdict::NeverReceived);
        assert!(d.summary.contains("Acme: last successful sync 2026-11-01"));
        assert!(d.next_steps.iter().any(|s| s.contains("40 minutes")));
    }

    #[test]
    fn queries_are_normalised_and_near_misses_bounded() {
        assert_eq!(normalize("  Jane.Doe+okta@Acme.COM "), "jane.doe@acme.com");
        assert_eq!(normalize("Jane   Doe"), "jane doe");
        assert_eq!(
            distance("jane.doe@acme.com", "jane.deo@acme.com", 2),
            Some(2)
        );
        assert_eq!(distance("jane@acme.com", "jane@acme.com", 2), Some(0));
        assert_eq!(distance("jane@acme.com", "bob@other.org", 2), None);
    }
}
