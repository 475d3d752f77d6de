//! Connections: one per customer IdP, each with its own SCIM base path and tokens.

use crate::clock::fmt_time;
use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row};
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
}

const COLUMNS: &str =
    "id, name, idp, created_at, dialect, retention_days, demo, expected_sync_minutes";

fn from_row(r: &Row) -> rusqlite::Result<ConnectionRecord> {
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
    Ok(db
        .prepare_cached(&format!("SELECT {COLUMNS} FROM connections WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?)
}

pub fn list(db: &Connection) -> Result<Vec<ConnectionRecord>> {
    let mut stmt = db.prepare(&format!(
        "SELECT {COLUMNS} FROM connections ORDER BY created_at, id"
    ))?;
    let rows = stmt
        .query_map([], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
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
    actor: &str,
    source: Option<&str>,
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
        source,
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
