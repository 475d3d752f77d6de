//! The ordered change feed for the integrating application: each event once, in commit
//! order (the single writer assigns `seq` inside the committing transaction); its
//! consumers' acknowledged cursors, and pruning by retention (docs/retention.md).

use crate::clock::fmt_time;
use crate::error::Result;
use crate::sql::{params, Connection, Dialect, OptionalExtension};
use chrono::{DateTime, Utc};
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
/// A sign-in of an existing account, allowed or refused (jit.rs).
pub const USER_SIGNED_IN: &str = "user.signed_in";
/// SCIM created a user who had signed in first: merged into that account (lifecycle.rs).
pub const USER_MERGED: &str = "user.merged";
pub const GROUP_CREATED: &str = "group.created";
pub const GROUP_UPDATED: &str = "group.updated";
pub const GROUP_DELETED: &str = "group.deleted";
pub const GROUP_RESTORED: &str = "group.restored";
pub const GROUP_PURGED: &str = "group.purged";
/// The admin deleted the connection: after one `user.deleted` per live user, nothing more
/// comes from it.
pub const CONNECTION_DELETED: &str = "connection.deleted";

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    // SQLite numbers the event as it inserts it (the single writer commits in order); on
    // PostgreSQL it is numbered after commit (pg/feed.rs) and the log keeps its row id.
    let sql = match db.dialect() {
        Dialect::Sqlite => "INSERT INTO change_feed (at, connection_id, kind, user_id, group_id, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING seq",
        Dialect::Postgres => "INSERT INTO change_feed (at, connection_id, kind, user_id, group_id, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
    };
    let row = db.prepare_cached(sql)?.query_row(
        params![at, connection_id, kind, user_id, group_id, data],
        |r| r.get(0),
    )?;
    if let Connection::Postgres(pg) = db {
        pg.note_feed_row(row);
    }
    Ok(row)
}

/// Events after `cursor` (exclusive), oldest first; the last event's seq is the next cursor.
pub fn read(
    db: &Connection,
    after: i64,
    connection_id: Option<&str>,
    limit: u32,
) -> Result<Vec<FeedEvent>> {
    if let Connection::Postgres(pg) = db {
        pg.number_feed()?;
    }
    read_numbered(db, after, connection_id, limit)
}

/// `read` without numbering first: for a caller that has just numbered (`head`, `read_from`).
pub(crate) fn read_numbered(
    db: &Connection,
    after: i64,
    connection_id: Option<&str>,
    limit: u32,
) -> Result<Vec<FeedEvent>> {
    let mut stmt = db.prepare_cached(
        "SELECT seq, at, connection_id, kind, user_id, group_id, data FROM change_feed
         WHERE seq > ?1 AND (CAST(?2 AS TEXT) IS NULL OR connection_id = ?2) ORDER BY seq LIMIT ?3",
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
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Days an event that a live consumer has not acknowledged is kept at most, however far
/// behind the consumer is (docs/retention.md).
pub const UNREAD_MAX_DAYS: i64 = 90;

/// What a read from a cursor found.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedRead {
    /// The events after the cursor, oldest first (none when the reader is up to date).
    Events(Vec<FeedEvent>),
    /// Events after the cursor were pruned: reading on would skip them, so the reader must
    /// resync (take `head`, reload its state, then read after `head`).
    Pruned { pruned_through: i64, head: i64 },
}

/// The last seq the feed assigned (0 before the first event), whether or not it was pruned.
/// Where the feed stands before a command runs, to learn afterwards which events it
/// appended (`appended_since`).
pub fn mark(db: &Connection) -> Result<i64> {
    match db {
        Connection::Sqlite(_) => head(db),
        // PostgreSQL numbers after commit; the transaction keeps its own rows' ids.
        Connection::Postgres(_) => Ok(0),
    }
}

/// The first and last event appended since `mark`, in this transaction: seqs on SQLite,
/// change_feed row ids on PostgreSQL (the provisioning log's `feed_first`/`feed_last`).
pub fn appended_since(db: &Connection, mark: i64) -> Result<Option<(i64, i64)>> {
    match db {
        Connection::Sqlite(_) => {
            let last = head(db)?;
            Ok((last > mark).then_some((mark + 1, last)))
        }
        Connection::Postgres(pg) => Ok(pg.feed_rows.get()),
    }
}

pub fn head(db: &Connection) -> Result<i64> {
    if let Connection::Postgres(pg) = db {
        return pg.number_feed();
    }
    Ok(db
        .prepare_cached("SELECT seq FROM sqlite_sequence WHERE name = 'change_feed'")?
        .query_row((), |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// The highest seq pruning removed among the events a reader of `connection_id` (None: the
/// whole feed) would get; 0 when none was.
pub fn pruned_through(db: &Connection, connection_id: Option<&str>) -> Result<i64> {
    db
        .prepare_cached(
            "SELECT COALESCE(max(through_seq), 0) FROM feed_pruned WHERE CAST(?1 AS TEXT) IS NULL OR connection_id = ?1",
        )?
        .query_row([connection_id], |r| r.get(0))
}

/// `read`, refused when events after `after` were pruned, so a reader never skips an event
/// without being told.
pub fn read_from(
    db: &Connection,
    after: i64,
    connection_id: Option<&str>,
    limit: u32,
) -> Result<FeedRead> {
    // On PostgreSQL, number first so this read's snapshot has every committed event.
    if let Connection::Postgres(pg) = db {
        pg.number_feed()?;
    }
    let through = pruned_through(db, connection_id)?;
    if after < through {
        return Ok(FeedRead::Pruned {
            pruned_through: through,
            head: head(db)?,
        });
    }
    Ok(FeedRead::Events(read_numbered(
        db,
        after,
        connection_id,
        limit,
    )?))
}

/// The cursor an application key acknowledged for one way of reading (a connection, or None
/// for the whole feed); None when it never read the feed that way.
pub fn acknowledged(
    db: &Connection,
    app_key_id: &str,
    connection_id: Option<&str>,
) -> Result<Option<i64>> {
    db.prepare_cached(
        "SELECT acked_seq FROM feed_cursors WHERE app_key_id = ?1 AND connection_id = ?2",
    )?
    .query_row(params![app_key_id, connection_id.unwrap_or("")], |r| {
        r.get(0)
    })
    .optional()
}

/// Records that an application key has every event up to `cursor` (reading with
/// `after=cursor` says so). The first acknowledgement registers the key as a consumer; a
/// cursor only moves forward and never past the head.
pub fn acknowledge(
    db: &Connection,
    app_key_id: &str,
    connection_id: Option<&str>,
    cursor: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let cursor = cursor.clamp(0, head(db)?);
    let args = params![
        app_key_id,
        connection_id.unwrap_or(""),
        cursor,
        fmt_time(now)
    ];
    let moved = db
        .prepare_cached(
            "INSERT INTO feed_cursors (app_key_id, connection_id, acked_seq, acked_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (app_key_id, connection_id) DO UPDATE
            SET acked_seq = excluded.acked_seq, acked_at = excluded.acked_at
            WHERE excluded.acked_seq > feed_cursors.acked_seq",
        )?
        .execute(args)?;
    // Each move is kept, so deprovisioning evidence can say when an event was acknowledged.
    if moved == 1 {
        db.prepare_cached(
            "INSERT INTO feed_acks (app_key_id, connection_id, acked_seq, acked_at)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
        )?
        .execute(args)?;
    }
    Ok(())
}

/// A registered consumer of the feed: an application key that read it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Consumer {
    pub app_key_id: String,
    pub label: String,
    pub prefix: String,
    pub revoked: bool,
    /// The connections it reads ("" for the whole feed).
    pub reads: Vec<String>,
}

/// Every application key that has read the feed, with the connection filters it read by.
pub fn consumers(db: &Connection) -> Result<Vec<Consumer>> {
    let mut stmt = db.prepare_cached(
        "SELECT k.app_key_id, a.label, a.prefix, a.revoked_at IS NOT NULL, k.connection_id
           FROM feed_cursors k JOIN app_keys a ON a.id = k.app_key_id
          ORDER BY a.created_at, k.app_key_id, k.connection_id",
    )?;
    let rows = stmt.query_map((), |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, bool>(3)?,
            r.get::<_, String>(4)?,
        ))
    })?;
    let mut out: Vec<Consumer> = vec![];
    for row in rows {
        let (id, label, prefix, revoked, reads) = row?;
        match out.last_mut() {
            Some(c) if c.app_key_id == id => c.reads.push(reads),
            _ => out.push(Consumer {
                app_key_id: id,
                label,
                prefix,
                revoked,
                reads: vec![reads],
            }),
        }
    }
    Ok(out)
}

/// When `app_key_id` first acknowledged event `seq` of `connection_id` (reading that
/// connection or the whole feed): the first recorded cursor move at or past it.
pub fn acknowledged_at(
    db: &Connection,
    app_key_id: &str,
    connection_id: &str,
    seq: i64,
) -> Result<Option<String>> {
    db.prepare_cached(
        "SELECT min(acked_at) FROM feed_acks
              WHERE app_key_id = ?1 AND connection_id IN ('', ?2) AND acked_seq >= ?3",
    )?
    .query_row(params![app_key_id, connection_id, seq], |r| r.get(0))
}

/// Removes at most `batch` events from the front of the feed, oldest first, and stops at the
/// first event that is kept, so the feed stays gap-free: every event after the first kept
/// one is still there. An event is kept while it is younger than `keep_days`, or younger
/// than UNREAD_MAX_DAYS and after the acknowledged cursor of a live application key that
/// reads its connection (or the whole feed). Records, per connection, the highest seq
/// removed (`read_from` refuses cursors below it). Returns how many events went.
pub fn prune(db: &Connection, now: DateTime<Utc>, keep_days: i64, batch: usize) -> Result<usize> {
    let old = fmt_time(now - chrono::Duration::days(keep_days));
    let unread_old = fmt_time(now - chrono::Duration::days(UNREAD_MAX_DAYS));
    let cursors: Vec<(String, i64)> = db
        .prepare_cached(
            "SELECT k.connection_id, k.acked_seq FROM feed_cursors k
             JOIN app_keys a ON a.id = k.app_key_id WHERE a.revoked_at IS NULL",
        )?
        .query_map((), |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<crate::Result<_>>()?;
    let unread = |seq: i64, connection_id: &str| {
        cursors
            .iter()
            .any(|(c, acked)| *acked < seq && (c.is_empty() || c == connection_id))
    };
    let mut end: Option<i64> = None;
    {
        let mut stmt = db.prepare_cached(
            // Unnumbered events (PostgreSQL, committed and not yet numbered) are the
            // newest: never pruned, and never in the way of those before them.
            "SELECT seq, at, connection_id FROM change_feed WHERE seq IS NOT NULL ORDER BY seq LIMIT ?1",
        )?;
        let mut rows = stmt.query([batch as i64])?;
        while let Some(r) = rows.next()? {
            let seq: i64 = r.get(0)?;
            let at: String = r.get(1)?;
            let connection_id: String = r.get(2)?;
            let prunable = at < unread_old || (at < old && !unread(seq, &connection_id));
            if !prunable {
                break;
            }
            end = Some(seq);
        }
    }
    let Some(end) = end else {
        return Ok(0);
    };
    db.prepare_cached(
        "INSERT INTO feed_pruned (connection_id, through_seq)
            SELECT connection_id, max(seq) FROM change_feed WHERE seq <= ?1 GROUP BY connection_id
         ON CONFLICT (connection_id) DO UPDATE
            SET through_seq = CASE WHEN excluded.through_seq > feed_pruned.through_seq
                THEN excluded.through_seq ELSE feed_pruned.through_seq END",
    )?
    .execute([end])?;
    // An acknowledgement that covers only removed events tells nothing any more.
    db.prepare_cached("DELETE FROM feed_acks WHERE acked_seq <= ?1")?
        .execute([end])?;
    db.prepare_cached("DELETE FROM change_feed WHERE seq <= ?1")?
        .execute([end])
}
