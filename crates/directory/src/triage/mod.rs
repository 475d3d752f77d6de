//! Missing-user triage: find a person across connections by email, userName, externalId
//! or name (tolerant of case, whitespace, plus-addressing and near misses), and say in
//! plain words why they can or cannot sign in, with the evidence.

mod diagnose;
mod evidence;

pub use diagnose::{
    diagnose_missing, diagnose_refused_signin, diagnose_user, Diagnosis, RefusedSignIn, UserFacts,
    Verdict,
};

use crate::connections::{self, ConnectionRecord};
use crate::console::{self, StatusFilter};
use crate::db::fold;
use crate::error::Result;
use crate::log::{self, LogQuery};
use crate::sql::{params, Connection};
use crate::timeline::StoryGroup;
use crate::users::{self, UserRecord, UserStatus};
use crate::{health, roles};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Shortest query (in characters, after trimming) matched as a fragment: one letter names
/// half the directory.
pub const MIN_PARTIAL_CHARS: usize = 2;
/// Users a partial identifier may match and be listed to pick from; more are cut.
pub const MAX_CANDIDATES: usize = 20;

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

/// Where a timeline item comes from: a SCIM request in the provisioning log, the directory's
/// change feed (account, membership, role, sessions), or a JIT sign-in.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimelineSource {
    Scim,
    Directory,
    SignIn,
}

impl TimelineSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TimelineSource::Scim => "scim",
            TimelineSource::Directory => "directory",
            TimelineSource::SignIn => "sign-in",
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineItem {
    pub at: String,
    pub source: TimelineSource,
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
    pub status: Option<UserStatus>,
    pub role: Option<String>,
    /// The groups the user is a direct member of, by display name.
    pub groups: Vec<StoryGroup>,
    pub diagnosis: Diagnosis,
    pub timeline: Vec<TimelineItem>,
}

/// A user a partial identifier matched, when it matched several: support picks one rather
/// than Muster guessing.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub connection_id: String,
    pub connection_name: String,
    pub user_id: String,
    pub user_name: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub external_id: Option<String>,
    pub status: UserStatus,
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
    /// How the findings' users were found: by the whole identifier, or (nothing matching
    /// it whole) by a fragment of one (a userName or email prefix, an externalId part).
    pub partial: bool,
    pub findings: Vec<Finding>,
    /// Several users matched a fragment: listed to pick from (at most MAX_CANDIDATES), with
    /// no findings.
    pub candidates: Vec<Candidate>,
    /// The fragment matched more users than listed.
    pub more_candidates: bool,
    pub near_matches: Vec<NearMatch>,
}

fn candidates(db: &Connection, q: &str, raw: &str) -> Result<Vec<UserRecord>> {
    let mut stmt = db.prepare(&format!(
        "SELECT {} FROM users u WHERE user_name_key = ?1 OR primary_email_key = ?1 OR external_id = ?2
           OR display_name_key = ?1 OR muster_fold(COALESCE(given_name,'') || ' ' || COALESCE(family_name,'')) = ?1
           OR EXISTS (SELECT 1 FROM user_emails e WHERE e.user_id = u.id AND e.value_key = ?1)
         ORDER BY connection_id, user_name_key LIMIT 50",
        users::COLUMNS
    ))?;
    let rows = stmt
        .query_map(params![q, raw], users::from_row)?
        .collect::<crate::Result<Vec<_>>>()?;
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
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(rows
        .into_iter()
        .filter(|u| {
            strip_plus(&fold(&u.user_name)) == normalized
                || u.primary_email.as_deref().map(|e| strip_plus(&fold(e)))
                    == Some(normalized.to_string())
        })
        .collect())
}

/// The refused sign-ins query, for query-plan tests.
#[cfg(test)]
pub(crate) fn refused_sql() -> &'static str {
    evidence::REFUSED_SQL
}

/// Users any connection's console search lists for `q`, at most `limit`.
fn partial_matches(
    db: &Connection,
    conns: &[ConnectionRecord],
    q: &str,
    limit: usize,
) -> Result<Vec<UserRecord>> {
    let mut out = Vec::new();
    for c in conns {
        let left = limit - out.len();
        if left == 0 {
            break;
        }
        out.extend(console::user_matches(
            db,
            &c.id,
            q,
            StatusFilter::All,
            left as i64,
        )?);
    }
    Ok(out)
}

/// Searches every connection (or, with `expected`, notes when the person is elsewhere).
pub fn triage(
    db: &Connection,
    query: &str,
    expected: Option<&str>,
    now: DateTime<Utc>,
) -> Result<TriageReport> {
    if let Connection::Postgres(pg) = db {
        // Every committed event numbered before the first statement takes the snapshot
        // (pg/feed.rs), so the findings' timelines have them all.
        pg.number_feed()?;
    }
    let normalized = normalize(query);
    let conns: Vec<ConnectionRecord> = connections::list(db)?;
    let name_of = |id: &str| {
        conns
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.name.clone())
            .unwrap_or_default()
    };
    let mut found = candidates(db, &normalized, query.trim())?;
    if found.is_empty() {
        found = candidates_plus_tolerant(db, &normalized)?;
    }
    // Nothing by the whole identifier: a fragment, as the Users search matches it. One user
    // is the finding; several are listed to pick from, never guessed between.
    let mut partial = false;
    let mut picks = Vec::new();
    let mut more_candidates = false;
    let fragment = query.trim();
    if found.is_empty() && fragment.chars().count() >= MIN_PARTIAL_CHARS {
        let mut matched = partial_matches(db, &conns, fragment, MAX_CANDIDATES + 1)?;
        partial = !matched.is_empty();
        if matched.len() == 1 {
            found = matched;
        } else {
            more_candidates = matched.len() > MAX_CANDIDATES;
            matched.truncate(MAX_CANDIDATES);
            picks = matched
                .into_iter()
                .map(|u| Candidate {
                    connection_name: name_of(&u.connection_id),
                    status: UserStatus::of(&u),
                    connection_id: u.connection_id,
                    user_id: u.id,
                    user_name: u.user_name,
                    display_name: u.display_name,
                    email: u.primary_email,
                    external_id: u.external_id,
                })
                .collect();
        }
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
                outcome: Some(crate::log::LogOutcome::Deactivated),
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
            status: Some(UserStatus::of(u)),
            role: u.role.clone(),
            groups: evidence::groups_of(db, u)?,
            diagnosis: diagnose_user(&facts),
            timeline: evidence::timeline(db, u)?,
        });
    }
    let mut near_matches = Vec::new();
    if findings.is_empty() && picks.is_empty() {
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
                .collect::<crate::Result<Vec<_>>>()?;
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
                    groups: vec![],
                    diagnosis: diagnose_missing(&rejections, &[]),
                    timeline: rejections
                        .iter()
                        .map(|e| TimelineItem {
                            at: e.at.clone(),
                            source: TimelineSource::Scim,
                            what: format!("{} {} → {} {}", e.method, e.path, e.status, e.outcome),
                            detail: e.detail.clone(),
                        })
                        .collect(),
                });
            }
        }
        // Refused sign-ins of someone no IdP sent (by subject or email), per connection.
        for c in &conns {
            let refused = evidence::refused_signins(db, &c.id, fragment, fragment)?;
            if refused.is_empty() || findings.iter().any(|f| f.connection_id == c.id) {
                continue;
            }
            findings.push(Finding {
                connection_id: c.id.clone(),
                connection_name: c.name.clone(),
                user_id: None,
                user_name: refused[0]
                    .email
                    .clone()
                    .or(Some(refused[0].subject.clone())),
                display_name: None,
                email: refused[0].email.clone(),
                status: None,
                role: None,
                groups: vec![],
                diagnosis: diagnose_refused_signin(&c.name, &refused),
                timeline: refused.iter().rev().map(evidence::refused_item).collect(),
            });
        }
        let mut stmt = db.prepare("SELECT connection_id, id, user_name, user_name_key FROM users WHERE deleted_at IS NULL")?;
        let all = stmt.query_map((), |r| {
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
                groups: vec![],
                diagnosis: diagnose_missing(&[], &healthy),
                timeline: vec![],
            });
        }
    }
    Ok(TriageReport {
        query: query.to_string(),
        normalized,
        partial,
        findings,
        candidates: picks,
        more_candidates,
        near_matches,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
