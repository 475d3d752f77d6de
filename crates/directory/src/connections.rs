//! Connections: one per customer IdP, each with its own SCIM base path and tokens.

use crate::audit::Actor;
use crate::clock::fmt_time;
use crate::error::{Error, Result};
use crate::sql::{params, Connection, OptionalExtension, Row};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Idp {
    Okta,
    Entra,
    Google,
    Generic,
}

impl Idp {
    pub fn as_str(self) -> &'static str {
        match self {
            Idp::Okta => "okta",
            Idp::Entra => "entra",
            Idp::Google => "google",
            Idp::Generic => "generic",
        }
    }
}

impl std::str::FromStr for Idp {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "okta" => Ok(Idp::Okta),
            "entra" | "azure" | "azuread" => Ok(Idp::Entra),
            "google" | "google-workspace" => Ok(Idp::Google),
            "generic" => Ok(Idp::Generic),
            other => Err(Error::Invalid(format!(
                "unknown IdP '{other}' (okta, entra, google or generic)"
            ))),
        }
    }
}

/// A connection id: a UUID, validated once at the edge.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConnectionId(String);

impl ConnectionId {
    pub fn parse(s: &str) -> Option<ConnectionId> {
        uuid::Uuid::parse_str(s)
            .ok()
            .map(|u| ConnectionId(u.hyphenated().to_string()))
    }
    pub fn new() -> ConnectionId {
        ConnectionId(uuid::Uuid::new_v4().hyphenated().to_string())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for ConnectionId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ConnectionRecord {
    pub id: String,
    pub name: String,
    pub idp: Idp,
    pub created_at: String,
    pub dialect: Option<String>,
    pub retention_days: i64,
    pub demo: bool,
    /// Minutes the admin expects between the IdP's requests; None: the IdP's habit.
    pub expected_sync_minutes: Option<i64>,
    /// Set while the admin has paused the connection: SCIM answers 503 until resumed.
    pub paused_at: Option<String>,
}

const COLUMNS: &str =
    "id, name, idp, created_at, dialect, retention_days, demo, expected_sync_minutes, paused_at";

fn from_row(r: &Row) -> crate::Result<ConnectionRecord> {
    let idp: String = r.get(2)?;
    Ok(ConnectionRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        idp: idp.parse().unwrap_or(Idp::Generic),
        created_at: r.get(3)?,
        dialect: r.get(4)?,
        retention_days: r.get(5)?,
        demo: r.get::<_, i64>(6)? != 0,
        expected_sync_minutes: r.get(7)?,
        paused_at: r.get(8)?,
    })
}

pub fn create(
    db: &Connection,
    name: &str,
    idp: Idp,
    demo: bool,
    now: DateTime<Utc>,
) -> Result<ConnectionRecord> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(Error::Invalid(
            "a connection needs a name of 1 to 200 characters".into(),
        ));
    }
    let id = ConnectionId::new();
    db.prepare_cached(
        "INSERT INTO connections (id, name, idp, created_at, demo) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        id.as_str(),
        name,
        idp.as_str(),
        fmt_time(now),
        demo as i64
    ])?;
    // Every connection starts with the two roles most products have; admins add more.
    db.prepare_cached(
        "INSERT INTO roles (connection_id, name, description) VALUES (?1, 'admin', 'Full access'), (?1, 'member', 'Standard access')",
    )?
    .execute(
        [id.as_str()],
    )?;
    get(db, id.as_str())?.ok_or_else(|| Error::NotFound(id.to_string()))
}

pub fn get(db: &Connection, id: &str) -> Result<Option<ConnectionRecord>> {
    db.prepare_cached(&format!("SELECT {COLUMNS} FROM connections WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()
}

pub fn list(db: &Connection) -> Result<Vec<ConnectionRecord>> {
    let mut stmt = db.prepare(&format!(
        "SELECT {COLUMNS} FROM connections ORDER BY created_at, id"
    ))?;
    let rows = stmt
        .query_map((), from_row)?
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Records the IdP dialect last seen on this connection (only writes when it changes).
pub fn record_dialect(db: &Connection, id: &str, dialect: &str) -> Result<()> {
    db.prepare_cached(
        "UPDATE connections SET dialect = ?2 WHERE id = ?1 AND (dialect IS NULL OR dialect != ?2)",
    )?
    .execute(params![id, dialect])?;
    Ok(())
}

/// Records a dialect only when the connection has none yet (a request that does not reveal
/// the dialect on its own, such as a GET, never overwrites one a PATCH revealed).
pub fn record_dialect_if_unknown(db: &Connection, id: &str, dialect: &str) -> Result<()> {
    db.prepare_cached("UPDATE connections SET dialect = ?2 WHERE id = ?1 AND dialect IS NULL")?
        .execute(params![id, dialect])?;
    Ok(())
}

/// Days a deleted user or group stays restorable before it is purged: the bounds the
/// schema holds (`connections.retention_days`, 0001_init.sql).
pub const MIN_RETENTION_DAYS: i64 = 1;
pub const MAX_RETENTION_DAYS: i64 = 90;

/// Sets how many days this connection's deleted users and groups are kept (restorable)
/// before they are purged, and records who did it in the audit trail. It applies to
/// deletions from now on; users and groups already deleted keep the purge date they were
/// given. Out of range is refused and nothing changes.
pub fn set_retention(
    db: &Connection,
    id: &str,
    days: i64,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<ConnectionRecord> {
    if !(MIN_RETENTION_DAYS..=MAX_RETENTION_DAYS).contains(&days) {
        return Err(Error::Invalid(format!(
            "retention_days must be a whole number of days from {MIN_RETENTION_DAYS} to {MAX_RETENTION_DAYS}; got {days}"
        )));
    }
    let before = get(db, id)?.ok_or_else(|| Error::NotFound(format!("connection {id}")))?;
    db.prepare_cached("UPDATE connections SET retention_days = ?2 WHERE id = ?1")?
        .execute(params![id, days])?;
    crate::audit::record(
        db,
        Some(id),
        actor,
        "retention_set",
        None,
        Some(&format!(
            "deleted users and groups kept {days} days before purge (was {})",
            before.retention_days
        )),
        now,
    )?;
    get(db, id)?.ok_or_else(|| Error::NotFound(format!("connection {id}")))
}

/// Longest expected cadence an admin may set: one week, in minutes.
pub const MAX_EXPECTED_SYNC_MINUTES: i64 = 7 * 24 * 60;

/// Sets (or with None clears, back to the IdP's habit) the cadence health's idle rule
/// expects. Out of range is refused and nothing changes.
pub fn set_expected_sync_minutes(db: &Connection, id: &str, minutes: Option<i64>) -> Result<()> {
    if let Some(m) = minutes {
        if !(1..=MAX_EXPECTED_SYNC_MINUTES).contains(&m) {
            return Err(Error::Invalid(format!(
                "expected_sync_minutes must be between 1 and {MAX_EXPECTED_SYNC_MINUTES} (one week), or null for the IdP's default; got {m}"
            )));
        }
    }
    let n = db
        .prepare_cached("UPDATE connections SET expected_sync_minutes = ?2 WHERE id = ?1")?
        .execute(params![id, minutes])?;
    if n == 0 {
        return Err(Error::NotFound(format!("connection {id}")));
    }
    Ok(())
}

/// Longest name a rename accepts, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// Renames a connection (trimmed, 1 to `MAX_NAME_CHARS` characters, no control
/// characters) and audits it as `connection_renamed`. The SCIM URL and tokens follow the
/// id, so the IdP notices nothing. The same name again changes nothing and is not audited.
pub fn rename(
    db: &Connection,
    id: &str,
    name: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<ConnectionRecord> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(Error::Invalid(format!(
            "a connection's name is 1 to {MAX_NAME_CHARS} characters on one line (spaces around it are trimmed); got {chars}"
        )));
    }
    let before = get(db, id)?.ok_or_else(|| Error::NotFound(format!("connection {id}")))?;
    if before.name == name {
        return Ok(before);
    }
    db.prepare_cached("UPDATE connections SET name = ?2 WHERE id = ?1")?
        .execute(params![id, name])?;
    crate::audit::record(
        db,
        Some(id),
        actor,
        "connection_renamed",
        None,
        Some(&format!("'{}' → '{name}'", before.name)),
        now,
    )?;
    get(db, id)?.ok_or_else(|| Error::NotFound(format!("connection {id}")))
}

/// Pauses a connection: from now on every SCIM request on it is answered 503 with
/// `Retry-After`, which Okta and Entra retry later, so nothing the IdP sends is lost. Audited
/// as `connection_paused`; pausing a paused connection changes nothing.
pub fn pause(
    db: &Connection,
    id: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<ConnectionRecord> {
    set_paused(db, id, Some(now), actor, now)
}

/// Resumes a paused connection: SCIM answers again at once. Audited as `connection_resumed`;
/// resuming a running connection changes nothing.
pub fn resume(
    db: &Connection,
    id: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<ConnectionRecord> {
    set_paused(db, id, None, actor, now)
}

fn set_paused(
    db: &Connection,
    id: &str,
    paused: Option<DateTime<Utc>>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<ConnectionRecord> {
    let before = get(db, id)?.ok_or_else(|| Error::NotFound(format!("connection {id}")))?;
    if before.paused_at.is_some() == paused.is_some() {
        return Ok(before);
    }
    db.prepare_cached("UPDATE connections SET paused_at = ?2 WHERE id = ?1")?
        .execute(params![id, paused.map(fmt_time)])?;
    let (action, detail) = match &before.paused_at {
        None => (
            "connection_paused",
            "SCIM requests answered 503 with Retry-After until resumed".to_string(),
        ),
        Some(since) => ("connection_resumed", format!("paused since {since}")),
    };
    crate::audit::record(db, Some(id), actor, action, None, Some(&detail), now)?;
    get(db, id)?.ok_or_else(|| Error::NotFound(format!("connection {id}")))
}

/// What deleting a connection does, counted before it is done (and reported after).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeletionImpact {
    pub id: String,
    pub name: String,
    /// Live users: each is deprovisioned (`user.deleted` in the change feed) and removed.
    pub users: i64,
    /// Users already deleted and waiting in retention: removed for good.
    pub deleted_users: i64,
    /// Groups, live or deleted: removed with their memberships and role mappings.
    pub groups: i64,
    /// Sessions of its users that are live now: revoked (`sessions.revoked` in the feed).
    pub live_sessions: i64,
    /// Tokens that still authenticate: gone, so the IdP is refused from then on.
    pub live_tokens: i64,
}

pub fn deletion_impact(db: &Connection, id: &str, now: DateTime<Utc>) -> Result<DeletionImpact> {
    let c = get(db, id)?.ok_or_else(|| Error::NotFound(format!("connection {id}")))?;
    let now = fmt_time(now);
    let count = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<i64> {
        db.prepare_cached(sql)?.query_row(p, |r| r.get(0))
    };
    Ok(DeletionImpact {
        users: count(
            "SELECT COUNT(*) FROM users WHERE connection_id = ?1 AND deleted_at IS NULL",
            &[&id],
        )?,
        deleted_users: count(
            "SELECT COUNT(*) FROM users WHERE connection_id = ?1 AND deleted_at IS NOT NULL",
            &[&id],
        )?,
        groups: count("SELECT COUNT(*) FROM groups WHERE connection_id = ?1", &[&id])?,
        live_sessions: count(
            "SELECT COUNT(*) FROM sessions WHERE connection_id = ?1 AND revoked_at IS NULL AND expires_at > ?2",
            &[&id, &now],
        )?,
        live_tokens: count(
            "SELECT COUNT(*) FROM tokens WHERE connection_id = ?1 AND revoked_at IS NULL
               AND (expires_at IS NULL OR expires_at > ?2)",
            &[&id, &now],
        )?,
        id: c.id,
        name: c.name,
    })
}

/// Deletes a connection for good, in one transaction, once `confirm` is its name:
///
/// - every live user is deprovisioned: its live sessions revoked and the change feed told
///   (`user.deleted`, then `sessions.revoked` with the count), so the application cuts
///   access before anything else; then one `connection.deleted` event;
/// - users (live or in retention), groups, memberships, role and attribute mappings,
///   sessions, tokens and sign-ins go with the connection row (ON DELETE CASCADE), so its
///   tokens stop authenticating and the IdP is refused with 401 from then on;
/// - what is not the connection's own data stays: the audit trail (with a
///   `connection_deleted` row saying what went), the change feed's events until the
///   application has read them, and the provisioning log until its retention prunes it.
///
/// A wrong `confirm` is refused and deletes nothing.
pub fn delete(
    db: &Connection,
    id: &str,
    confirm: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<DeletionImpact> {
    let c = get(db, id)?.ok_or_else(|| Error::NotFound(format!("connection {id}")))?;
    if confirm.trim() != c.name {
        return Err(Error::Invalid(format!(
            "to delete this connection, confirm with its name exactly ('{}'); nothing was deleted",
            c.name
        )));
    }
    let impact = deletion_impact(db, id, now)?;
    let cause = format!("connection deleted by {actor}");
    let at = fmt_time(now);
    let live_sessions: std::collections::HashMap<String, i64> = db
        .prepare_cached(
            "SELECT user_id, COUNT(*) FROM sessions
              WHERE connection_id = ?1 AND revoked_at IS NULL AND expires_at > ?2 GROUP BY user_id",
        )?
        .query_map(params![id, at], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<crate::Result<_>>()?;
    // Revoked first, like any deprovisioning, although the rows then go with the connection:
    // a session check answers "unknown" (not valid) from the commit on.
    db.prepare_cached(
        "UPDATE sessions SET revoked_at = ?2, revoked_reason = ?3 WHERE connection_id = ?1 AND revoked_at IS NULL",
    )?
    .execute(params![id, at, cause])?;
    {
        let mut users = db.prepare_cached(
            "SELECT id, user_name, external_id FROM users WHERE connection_id = ?1 AND deleted_at IS NULL
              ORDER BY user_name_key",
        )?;
        let rows = users.query_map([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        for row in rows {
            let (uid, user_name, external_id) = row?;
            let data = serde_json::json!({"userName": user_name, "externalId": external_id, "cause": cause});
            crate::feed::append_rendered(
                db,
                id,
                crate::feed::USER_DELETED,
                Some(&uid),
                None,
                &data.to_string(),
                &at,
            )?;
            if let Some(n) = live_sessions.get(&uid) {
                let data = serde_json::json!({"count": n, "reason": "connection deleted"});
                crate::feed::append_rendered(
                    db,
                    id,
                    crate::feed::SESSIONS_REVOKED,
                    Some(&uid),
                    None,
                    &data.to_string(),
                    &at,
                )?;
            }
        }
    }
    crate::feed::append(
        db,
        id,
        crate::feed::CONNECTION_DELETED,
        None,
        None,
        serde_json::json!({"name": c.name, "users": impact.users, "cause": cause}),
        now,
    )?;
    db.prepare_cached("DELETE FROM connections WHERE id = ?1")?
        .execute([id])?;
    crate::audit::record(
        db,
        Some(id),
        actor,
        "connection_deleted",
        None,
        Some(&format!(
            "'{}' deleted: {} users deprovisioned, {} deleted users and {} groups removed, {} live sessions revoked, {} live tokens revoked",
            c.name,
            impact.users,
            impact.deleted_users,
            impact.groups,
            impact.live_sessions,
            impact.live_tokens
        )),
        now)?;
    Ok(impact)
}

/// Removes every connection the live demo created, with all their data; rows without a
/// foreign key to the connection (log, feed, audit) go explicitly. Returns how many
/// connections went.
pub fn remove_demo(db: &Connection) -> Result<usize> {
    for table in [
        "provisioning_log",
        "change_feed",
        "audit",
        "user_emails",
        "group_members",
    ] {
        db.execute(
            &format!("DELETE FROM {table} WHERE connection_id IN (SELECT id FROM connections WHERE demo = 1)"),
            (),
        )?;
    }
    db.execute("DELETE FROM connections WHERE demo = 1", ())
}
