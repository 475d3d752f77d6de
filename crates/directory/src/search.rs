//! One search across every connection for the console's Ctrl+K dialog: users and groups as
//! the console's own search boxes match them, and provisioning-log rows as the log view's
//! search does, each kind bounded and each result naming its connection.

use crate::connections::{self, ConnectionRecord};
use crate::console::{self, StatusFilter};
use crate::error::{Error, Result};
use crate::log::{self, LogQuery};
use crate::sql::Connection;
use crate::users::UserStatus;
use serde::Serialize;

/// Shortest query taken, in characters after trimming: one letter matches everyone.
pub const MIN_QUERY_CHARS: usize = 2;
/// Longest query taken (the log search's own limit).
pub const MAX_QUERY_CHARS: usize = log::MAX_TEXT_CHARS;
/// Results per kind when the caller does not say.
pub const DEFAULT_LIMIT: u32 = 5;
/// Most results per kind a caller may ask for.
pub const MAX_LIMIT: u32 = 20;
/// Log rows a free-text (not identity) search of the log examines: a search box answers as
/// you type, so it looks at the newest rows only; the log view searches further.
pub const LOG_WINDOW: u32 = 5_000;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserHit {
    pub connection_id: String,
    pub connection_name: String,
    pub id: String,
    pub user_name: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub external_id: Option<String>,
    pub status: UserStatus,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupHit {
    pub connection_id: String,
    pub connection_name: String,
    pub id: String,
    pub display_name: String,
    pub external_id: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogHit {
    pub connection_id: Option<String>,
    pub connection_name: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub id: i64,
    pub at: String,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub outcome: crate::log::LogOutcome,
    pub user_name: Option<String>,
}

/// What one search found, at most `limit` of each kind; `*_more` says a kind had more.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResults {
    pub query: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub limit: u32,
    pub users: Vec<UserHit>,
    pub users_more: bool,
    pub groups: Vec<GroupHit>,
    pub groups_more: bool,
    pub log: Vec<LogHit>,
    pub log_more: bool,
}

/// A query the search accepts: trimmed, MIN_QUERY_CHARS to MAX_QUERY_CHARS long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText(String);

impl SearchText {
    pub fn parse(q: &str) -> Result<SearchText> {
        let t = q.trim();
        let n = t.chars().count();
        if n < MIN_QUERY_CHARS {
            return Err(Error::Invalid(format!(
                "type at least {MIN_QUERY_CHARS} characters to search"
            )));
        }
        if n > MAX_QUERY_CHARS {
            return Err(Error::Invalid(format!(
                "a search is at most {MAX_QUERY_CHARS} characters"
            )));
        }
        Ok(SearchText(t.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Results per kind: absent is DEFAULT_LIMIT; 1 to MAX_LIMIT, anything else refused.
pub fn parse_limit(limit: Option<&str>) -> Result<u32> {
    let Some(raw) = limit.map(str::trim).filter(|l| !l.is_empty()) else {
        return Ok(DEFAULT_LIMIT);
    };
    match raw.parse::<u32>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(Error::Invalid(format!(
            "limit must be a whole number from 1 to {MAX_LIMIT}; got {raw:?}"
        ))),
    }
}

/// Fills `out` from each connection in turn until it holds `limit` + 1 (the one past the
/// bound only says there are more).
fn across<T>(
    conns: &[ConnectionRecord],
    limit: u32,
    mut one: impl FnMut(&ConnectionRecord, i64) -> Result<Vec<T>>,
) -> Result<(Vec<T>, bool)> {
    let want = limit as usize + 1;
    let mut out = Vec::new();
    for c in conns {
        if out.len() >= want {
            break;
        }
        out.extend(one(c, (want - out.len()) as i64)?);
    }
    let more = out.len() > limit as usize;
    out.truncate(limit as usize);
    Ok((out, more))
}

/// Users, groups and log rows matching `q` across every connection, at most `limit` each.
pub fn search(db: &Connection, q: &SearchText, limit: u32) -> Result<SearchResults> {
    let limit = limit.clamp(1, MAX_LIMIT);
    let conns = connections::list(db)?;
    let text = q.as_str();
    let (users, users_more): (Vec<UserHit>, bool) = across(&conns, limit, |c, n| {
        Ok(
            console::user_matches(db, &c.id, text, StatusFilter::All, n)?
                .into_iter()
                .map(|u| UserHit {
                    connection_id: c.id.clone(),
                    connection_name: c.name.clone(),
                    status: UserStatus::of(&u),
                    id: u.id,
                    user_name: u.user_name,
                    display_name: u.display_name,
                    email: u.primary_email,
                    external_id: u.external_id,
                })
                .collect(),
        )
    })?;
    let (groups, groups_more): (Vec<GroupHit>, bool) = across(&conns, limit, |c, n| {
        Ok(console::group_matches(db, &c.id, text, n)?
            .into_iter()
            .map(|(id, display_name, external_id)| GroupHit {
                connection_id: c.id.clone(),
                connection_name: c.name.clone(),
                id,
                display_name,
                external_id,
            })
            .collect())
    })?;
    let mut rows = log::page(
        db,
        &LogQuery {
            text: Some(text.to_string()),
            limit: limit + 1,
            search_window: Some(LOG_WINDOW),
            ..Default::default()
        },
    )?
    .entries;
    let log_more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let log: Vec<LogHit> = rows
        .into_iter()
        .map(|e| LogHit {
            connection_name: e
                .connection_id
                .as_ref()
                .and_then(|id| conns.iter().find(|c| &c.id == id))
                .map(|c| c.name.clone()),
            connection_id: e.connection_id,
            id: e.id,
            at: e.at,
            method: e.method,
            path: e.path,
            status: e.status,
            outcome: e.outcome,
            user_name: e.user_name,
        })
        .collect();
    Ok(SearchResults {
        query: text.to_string(),
        limit,
        users,
        users_more,
        groups,
        groups_more,
        log,
        log_more,
    })
}

#[cfg(test)]
mod tests {
    /// Every step of the search's user and group queries, and of triage's refused sign-ins,
    /// reads one connection's range of an index: no step walks a whole table.
    #[test]
    fn the_search_and_refused_sign_ins_are_served_by_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::Db::open(&dir.path().join("t.db")).unwrap();
        db.read_blocking(|c| {
            let (users, groups) = crate::console::match_sql();
            let refused = crate::triage::refused_sql();
            for (what, sql, indexes) in [
                (
                    "users",
                    users.as_str(),
                    &["users_search", "user_emails_value"][..],
                ),
                ("groups", groups.as_str(), &["groups_live"][..]),
                (
                    "refused sign-ins",
                    refused,
                    &["signins_subject", "signins_email"][..],
                ),
            ] {
                let steps = crate::db::query_plan(c, sql, 1i64);
                for s in &steps {
                    assert!(
                        !s.starts_with("SCAN "),
                        "{what}: a table or index scan: {steps:#?}"
                    );
                }
                for i in indexes {
                    assert!(
                        steps.iter().any(|s| s.contains(&format!("INDEX {i} "))),
                        "{what} uses {i}: {steps:#?}"
                    );
                }
            }
            Ok(())
        })
        .unwrap();
    }
}
