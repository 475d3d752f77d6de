//! A user's whole story for the console, newest first: every event the change feed holds for
//! them — SCIM writes with their old → new values, memberships with the group's name, role
//! changes with the mapping behind them, sign-ins (refused ones with their reason), session
//! revocations — each joined to the provisioning-log row of the request that caused it.
//!
//! The feed is the spine: it is the one ordered record of everything that happened to a user
//! (SCIM, sign-ins, admin restores), kept at least as long as the log (docs/retention.md). What
//! it does not hold is read from where it is stored: old → new values from the log row's
//! `changes`, group names from the groups table, the mapping from the precedence list.

use crate::error::{Error, Result};
use crate::sql::{params, Connection, OptionalExtension};
use crate::{feed, roles, users};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

/// Events per page at most.
pub const MAX_LIMIT: u32 = 200;

/// What happened to the account itself.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountChange {
    Created,
    Updated,
    Deactivated,
    Reactivated,
    Deleted,
    Restored,
    /// SCIM created a user that had signed in (JIT) first: merged into that account.
    Merged,
    /// The retention window ended: the account's data was removed.
    Purged,
}

/// One changed attribute: its SCIM path and the value before and after (null: absent).
/// Secrets are redacted and long values truncated, as in the log.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoryChange {
    pub path: String,
    pub old: Value,
    pub new: Value,
}

/// A group as the story names it: its current name (or the name it had, once purged).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoryGroup {
    pub id: String,
    /// None only when the group was purged and the event did not record its name.
    pub display_name: Option<String>,
    /// The group is deleted (restorable) or purged.
    pub deleted: bool,
}

/// Why a user has the role a role change gave them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum RoleGrant {
    /// A mapping of a group the user is in.
    Group {
        group: StoryGroup,
        /// The mapping's place in today's precedence list (1 is first); None when the list no
        /// longer maps this group to this role.
        #[cfg_attr(feature = "ts", ts(type = "number | null"))]
        position: Option<i64>,
    },
    /// A mapping of an attribute equal to a value.
    Attribute {
        path: String,
        value: String,
        #[cfg_attr(feature = "ts", ts(type = "number | null"))]
        position: Option<i64>,
    },
    /// No mapping matched: the connection's default role.
    Default,
}

/// One event of the story, by kind.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StoryEvent {
    /// The account changed. `changes` lists what a SCIM write changed, old → new; it is empty
    /// when the write left no log row (a sign-in's JIT update, an admin restore).
    Account {
        change: AccountChange,
        changes: Vec<StoryChange>,
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        changes_omitted: i64,
    },
    MembershipAdded {
        group: StoryGroup,
    },
    MembershipRemoved {
        group: StoryGroup,
    },
    RoleChanged {
        old: Option<String>,
        new: String,
        grant: RoleGrant,
    },
    /// A sign-in: created, updated, allowed or refused, and why it was refused.
    SignIn {
        decision: String,
        reason: Option<String>,
        warning: Option<String>,
    },
    SessionsRevoked {
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        count: i64,
        reason: Option<String>,
    },
    /// A feed event this build does not describe (written by a newer Muster).
    Other {
        feed_kind: String,
    },
}

/// One row of the story.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoryRow {
    /// The change feed's seq: the order, and the paging cursor.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub seq: i64,
    pub at: String,
    /// What caused it, as the directory recorded it ("SCIM PATCH", "JIT sign-in", …).
    pub cause: Option<String>,
    /// The provisioning-log row of the request that caused it; None for sign-ins, admin
    /// actions, and events recorded before Muster linked them (schema 15).
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub log_id: Option<i64>,
    pub event: StoryEvent,
}

/// One page of a user's story, newest first.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoryPage {
    pub items: Vec<StoryRow>,
    /// Pass as `before` for the next (older) page; None on the last page.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub next_before: Option<i64>,
    /// On the last page: older events of this connection were removed by retention, so the
    /// story may begin after the account did.
    pub pruned_before: bool,
}

struct FeedRow {
    seq: i64,
    /// What the provisioning log's feed_first/feed_last point at: the seq on SQLite, the
    /// change_feed row id on PostgreSQL (pg/feed.rs numbers rows after they commit).
    link: i64,
    at: String,
    kind: String,
    group_id: Option<String>,
    data: Value,
}

/// The story of user `user_id` of `connection_id`, newest first: the events with a seq below
/// `before` (None: from the newest), at most `limit`. NotFound when the connection has no such
/// user (a purged user's events stay in the feed, but the story is read from the user).
pub fn user_story(
    db: &Connection,
    connection_id: &str,
    user_id: &str,
    before: Option<i64>,
    limit: u32,
) -> Result<StoryPage> {
    let sql = match db {
        Connection::Sqlite(_) => PAGE_SQL,
        Connection::Postgres(pg) => {
            // Every committed event numbered before this read's first statement takes its
            // snapshot, so the page has them all.
            pg.number_feed()?;
            PAGE_SQL_POSTGRES
        }
    };
    if users::get(db, connection_id, user_id)?.is_none() {
        return Err(Error::NotFound(format!("user {user_id}")));
    }
    let limit = limit.clamp(1, MAX_LIMIT);
    let mut rows = db
        .prepare_cached(sql)?
        .query_map(
            params![
                connection_id,
                user_id,
                before.unwrap_or(i64::MAX),
                limit + 1
            ],
            |r| {
                let data: String = r.get(4)?;
                Ok(FeedRow {
                    seq: r.get(0)?,
                    link: r.get(5)?,
                    at: r.get(1)?,
                    kind: r.get(2)?,
                    group_id: r.get(3)?,
                    data: serde_json::from_str(&data).unwrap_or(Value::Null),
                })
            },
        )?
        .collect::<crate::Result<Vec<_>>>()?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);

    let names = group_names(db, connection_id, &rows)?;
    let group = |id: &str, recorded: Option<&str>| match names.get(id) {
        Some((name, deleted)) => StoryGroup {
            id: id.to_string(),
            display_name: Some(name.clone()),
            deleted: *deleted,
        },
        None => StoryGroup {
            id: id.to_string(),
            display_name: recorded.map(str::to_string),
            deleted: true,
        },
    };
    let mappings = roles::mappings(db, connection_id)?;
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        let log = log_row_of(db, connection_id, row.link)?;
        let text = |k: &str| row.data.get(k).and_then(Value::as_str).map(str::to_string);
        let event = match row.kind.as_str() {
            feed::MEMBERSHIP_ADDED | feed::MEMBERSHIP_REMOVED => {
                let g = group(
                    row.group_id.as_deref().unwrap_or_default(),
                    row.data.get("group").and_then(Value::as_str),
                );
                if row.kind == feed::MEMBERSHIP_ADDED {
                    StoryEvent::MembershipAdded { group: g }
                } else {
                    StoryEvent::MembershipRemoved { group: g }
                }
            }
            feed::ROLE_CHANGED => {
                let new = text("new").unwrap_or_default();
                let position = |found: &dyn Fn(&roles::RoleMapping) -> bool| {
                    mappings
                        .iter()
                        .position(|m| m.role == new && found(m))
                        .map(|p| p as i64 + 1)
                };
                let grant = if let Some(gid) = text("via_group") {
                    RoleGrant::Group {
                        position: position(&|m| m.group_id() == Some(gid.as_str())),
                        group: group(&gid, None),
                    }
                } else if let Some(a) = row.data.get("via_attribute").filter(|a| !a.is_null()) {
                    let path = a["path"].as_str().unwrap_or_default().to_string();
                    let value = a["value"].as_str().unwrap_or_default().to_string();
                    RoleGrant::Attribute {
                        position: position(
                            &|m| matches!(&m.matcher, roles::Matcher::Attribute(x) if x.path == path && x.value == value),
                        ),
                        path,
                        value,
                    }
                } else {
                    RoleGrant::Default
                };
                StoryEvent::RoleChanged {
                    old: text("old"),
                    new,
                    grant,
                }
            }
            feed::USER_SIGNED_IN => StoryEvent::SignIn {
                decision: text("decision").unwrap_or_default(),
                reason: text("reason"),
                warning: text("warning"),
            },
            feed::SESSIONS_REVOKED => StoryEvent::SessionsRevoked {
                count: row.data.get("count").and_then(Value::as_i64).unwrap_or(0),
                reason: text("reason"),
            },
            kind => match account_change(kind) {
                Some(change) => {
                    // The log row's changes are this user's only when the request wrote them.
                    let set = log
                        .as_ref()
                        .filter(|l| l.resource_id.as_deref() == Some(user_id))
                        .and_then(|l| l.changes.clone())
                        .unwrap_or_default();
                    StoryEvent::Account {
                        change,
                        changes: set
                            .items
                            .into_iter()
                            .map(|c| StoryChange {
                                path: c.path,
                                old: c.old,
                                new: c.new,
                            })
                            .collect(),
                        changes_omitted: set.omitted as i64,
                    }
                }
                None => StoryEvent::Other {
                    feed_kind: kind.to_string(),
                },
            },
        };
        items.push(StoryRow {
            seq: row.seq,
            at: row.at.clone(),
            cause: text("cause"),
            log_id: log.map(|l| l.id),
            event,
        });
    }
    let next_before = if more {
        items.last().map(|r| r.seq)
    } else {
        None
    };
    Ok(StoryPage {
        pruned_before: !more && feed::pruned_through(db, Some(connection_id))? > 0,
        items,
        next_before,
    })
}

/// One user's events, newest first, from the index change_feed_user (migration 15).
const PAGE_SQL: &str = "SELECT seq, at, kind, group_id, data, seq FROM change_feed
    WHERE connection_id = ?1 AND user_id = ?2 AND seq < ?3 ORDER BY seq DESC LIMIT ?4";
const PAGE_SQL_POSTGRES: &str = "SELECT seq, at, kind, group_id, data, id FROM change_feed
    WHERE connection_id = ?1 AND user_id = ?2 AND seq < ?3 ORDER BY seq DESC LIMIT ?4";

/// The log row whose write produced feed event `seq` (its `FeedRow::link`: it is the first
/// row whose range ends at or after it, through the partial index log_feed), when that row's
/// range holds it.
const LOG_ROW_SQL: &str =
    "SELECT id, feed_first, connection_id, resource_id, changes FROM provisioning_log
    WHERE feed_last >= ?1 AND feed_last IS NOT NULL ORDER BY feed_last LIMIT 1";

struct LinkedLog {
    id: i64,
    resource_id: Option<String>,
    changes: Option<crate::changes::ChangeSet>,
}

fn log_row_of(db: &Connection, connection_id: &str, seq: i64) -> Result<Option<LinkedLog>> {
    let found = db
        .prepare_cached(LOG_ROW_SQL)?
        .query_row([seq], |r| {
            Ok((
                r.get::<_, i64>(1)?,
                r.get::<_, Option<String>>(2)?,
                LinkedLog {
                    id: r.get(0)?,
                    resource_id: r.get(3)?,
                    changes: r
                        .get::<_, Option<String>>(4)?
                        .and_then(|j| serde_json::from_str(&j).ok()),
                },
            ))
        })
        .optional()?;
    Ok(found
        .filter(|(first, conn, _)| *first <= seq && conn.as_deref() == Some(connection_id))
        .map(|(_, _, l)| l))
}

fn account_change(kind: &str) -> Option<AccountChange> {
    Some(match kind {
        feed::USER_CREATED => AccountChange::Created,
        feed::USER_UPDATED => AccountChange::Updated,
        feed::USER_DEACTIVATED => AccountChange::Deactivated,
        feed::USER_REACTIVATED => AccountChange::Reactivated,
        feed::USER_DELETED => AccountChange::Deleted,
        feed::USER_RESTORED => AccountChange::Restored,
        feed::USER_MERGED => AccountChange::Merged,
        feed::USER_PURGED => AccountChange::Purged,
        _ => return None,
    })
}

/// (display name, deleted) of the groups a page names: its memberships' groups and the groups
/// its role changes came through.
fn group_names(
    db: &Connection,
    connection_id: &str,
    rows: &[FeedRow],
) -> Result<HashMap<String, (String, bool)>> {
    let mut ids: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            r.group_id.clone().or_else(|| {
                r.data
                    .get("via_group")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
        })
        .collect();
    ids.sort();
    ids.dedup();
    let mut out = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let mut stmt = db.prepare_cached(
        "SELECT id, display_name, deleted_at IS NOT NULL FROM groups
          WHERE connection_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
    )?;
    let found = stmt.query_map(params![connection_id, serde_json::to_string(&ids)?], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, bool>(2)?,
        ))
    })?;
    for f in found {
        let (id, name, deleted) = f?;
        out.insert(id, (name, deleted));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page of a story reads one user's index range, newest first without a sort, and each
    /// event's log row through the partial index: never the connection's feed or the log.
    #[test]
    fn a_story_page_is_served_by_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::Db::open(&dir.path().join("t.db")).unwrap();
        db.read_blocking(|c| {
            assert_eq!(
                crate::db::query_plan(c, PAGE_SQL, 1i64),
                vec!["SEARCH change_feed USING INDEX change_feed_user (connection_id=? AND user_id=? AND seq<?)"]
            );
            assert_eq!(
                crate::db::query_plan(c, LOG_ROW_SQL, 1i64),
                vec!["SEARCH provisioning_log USING INDEX log_feed (feed_last>?)"]
            );
            Ok(())
        })
        .unwrap();
    }
}
