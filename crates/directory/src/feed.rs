//! The ordered change feed for the integrating application: each event once, in commit
//! order (the single writer assigns `seq` inside the committing transaction).

use crate::clock::fmt_time;
use crate::error::Result;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use serde::Serialize;
use serde_json::Value;

pub const USER_CREATED: &str = "user.created";
pub const USER_UPDATED: &str = "user.updated";
pub const USER_DEACTIVATED: &str = "user.deactivated";
pub const USER_REACTIVATED: &str = "user.reactivated";
pub const USER_DELETED: &str = "user.deleted";
pub const USER_RESTORED: &str = "user.restored";
pub const USER_PURGED: &str = "user.purged";
pub const MEMBERSHIP_ADDED: &str = "membership.added";
pub const MEMBERSHIP_REMOVED: &str = "membership.removed";
pub const ROLE_CHANGED: &str = "role.changed";
pub const SESSIONS_REVOKED: &str = "sessions.revoked";
pub const GROUP_CREATED: &str = "group.created";
pub const GROUP_UPDATED: &str = "group.updated";
pub const GROUP_DELETED: &str = "group.deleted";
pub const GROUP_RESTORED: &str = "group.restored";
pub const GROUP_PURGED: &str = "group.purged";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedEvent {
    pub seq: i64,
    pub at: String,
    pub connection_id: String,
    pub kind: String,
    pub user_id: Option<String>,
    pub group_id: Option<String>,
    pub data: Value,
}

pub fn append(
    db: &Connection,
    connection_id: &str,
    kind: &str,
    user_id: Option<&str>,
    group_id: Option<&str>,
    data: Value,
    now: DateTime<Utc>,
) -> Result<i64> {
    append_rendered(
        db,
        connection_id,
        kind,
        user_id,
        group_id,
        &data.to_string(),
        &fmt_time(now),
    )
}

/// `append` with the data and time already rendered, for many events that share them (one
/// per member of a group PATCH).
pub fn append_rendered(
    db: &Connection,
    connection_id: &str,
    kind: &str,
    user_id: Option<&str>,
    group_id: Option<&str>,
    data: &str,
    at: &str,
) -> Result<i64> {
    db.prepare_cached(
        "INSERT INTO change_feed (at, connection_id, kind, user_id, group_id, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![at, connection_id, kind, user_id, group_id, data])?;
    Ok(db.last_insert_rowid())
}

/// Events after `cursor` (exclusive), oldest first; the last event's seq is the next cursor.
pub fn read(
    db: &Connection,
    after: i64,
    connection_id: Option<&str>,
    limit: u32,
) -> Result<Vec<FeedEvent>> {
    let mut stmt = db.prepare_cached(
        "SELECT seq, at, connection_id, kind, user_id, group_id, data FROM change_feed
         WHERE seq > ?1 AND (?2 IS NULL OR connection_id = ?2) ORDER BY seq LIMIT ?3",
    )?;
    let rows = stmt
        .query_map(params![after, connection_id, limit.clamp(1, 1000)], |r| {
            let data: String = r.get(6)?;
            Ok(FeedEvent {
                seq: r.get(0)?,
                at: r.get(1)?,
                connection_id: r.get(2)?,
                kind: r.get(3)?,
                user_id: r.get(4)?,
                group_id: r.get(5)?,
                data: serde_json::from_str(&data).unwrap_or(Value::Null),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
