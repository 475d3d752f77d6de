//! The provisioning log: one row per inbound SCIM request, accepted or not, with the
//! request body redacted. It feeds last-sync times, health, the log view and triage.

use crate::error::Result;
use rusqlite::{params, Connection, Row};
use serde::Serialize;
use serde_json::Value;

/// Outcome classes of a request, as the log and the console name them.
pub mod outcome {
    pub const CREATED: &str = "created";
    pub const UPDATED: &str = "updated";
    pub const UNCHANGED: &str = "unchanged";
    pub const DEACTIVATED: &str = "deactivated";
    pub const REACTIVATED: &str = "reactivated";
    pub const DELETED: &str = "deleted";
    pub const MEMBERSHIP_ADDED: &str = "membership_added";
    pub const MEMBERSHIP_REMOVED: &str = "membership_removed";
    pub const MEMBERSHIP_CHANGED: &str = "membership_changed";
    pub const READ: &str = "read";
    pub const AUTH_FAILED: &str = "auth_failed";
    pub const CONFLICT: &str = "conflict";
    pub const NOT_FOUND: &str = "not_found";
    pub const INVALID: &str = "invalid";
    pub const PRECONDITION_FAILED: &str = "precondition_failed";
    pub const RATE_LIMITED: &str = "rate_limited";
    pub const TOO_LARGE: &str = "too_large";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
    pub const ERROR: &str = "error";
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LogEntry {
    pub id: i64,
    pub at: String,
    pub connection_id: Option<String>,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub outcome: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub user_name: Option<String>,
    pub external_id: Option<String>,
    pub duration_ms: f64,
    pub dialect: Option<String>,
    pub user_agent: Option<String>,
    pub token_prefix: Option<String>,
    pub detail: Option<String>,
    pub request_body: Option<String>,
    /// Modified properties, old → new, of a user or group PUT/PATCH.
    pub changes: Option<crate::changes::ChangeSet>,
}

/// Attribute names whose values never reach the log.
const SECRET_KEYS: &[&str] = &[
    "password",
    "token",
    "secret",
    "authorization",
    "access_token",
    "client_secret",
];

/// True for attribute names whose values never reach the log.
pub fn is_secret_key(key: &str) -> bool {
    SECRET_KEYS.iter().any(|s| key.eq_ignore_ascii_case(s))
}

/// A copy of a request body with secrets replaced by "[redacted]" at any depth.
pub fn redact(body: &Value) -> Value {
    match body {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let secret = is_secret_key(k);
                    let path_is_secret = k.eq_ignore_ascii_case("value")
                        && map
                            .get("path")
                            .and_then(Value::as_str)
                            .is_some_and(|p| p.eq_ignore_ascii_case("password"));
                    if secret || path_is_secret {
                        (k.clone(), Value::String("[redacted]".into()))
                    } else {
                        (k.clone(), redact(v))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

pub fn append(db: &Connection, e: &LogEntry) -> Result<i64> {
    db.prepare_cached(
        "INSERT INTO provisioning_log (at, connection_id, method, path, status, outcome, resource_type,
            resource_id, user_name, external_id, duration_ms, dialect, user_agent, token_prefix, detail, request_body,
            changes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?
    .execute(params![
        e.at,
        e.connection_id,
        e.method,
        e.path,
        e.status,
        e.outcome,
        e.resource_type,
        e.resource_id,
        e.user_name,
        e.external_id,
        e.duration_ms,
        e.dialect,
        e.user_agent,
        e.token_prefix,
        e.detail,
        e.request_body,
        e.changes
            .as_ref()
            .filter(|c| !c.is_empty())
            .map(serde_json::to_string)
            .transpose()?,
    ])?;
    Ok(db.last_insert_rowid())
}

const COLUMNS: &str =
    "id, at, connection_id, method, path, status, outcome, resource_type, resource_id, \
    user_name, external_id, duration_ms, dialect, user_agent, token_prefix, detail, request_body, changes";

fn from_row(r: &Row) -> rusqlite::Result<LogEntry> {
    Ok(LogEntry {
        id: r.get(0)?,
        at: r.get(1)?,
        connection_id: r.get(2)?,
        method: r.get(3)?,
        path: r.get(4)?,
        status: r.get(5)?,
        outcome: r.get(6)?,
        resource_type: r.get(7)?,
        resource_id: r.get(8)?,
        user_name: r.get(9)?,
        external_id: r.get(10)?,
        duration_ms: r.get(11)?,
        dialect: r.get(12)?,
        user_agent: r.get(13)?,
        token_prefix: r.get(14)?,
        detail: r.get(15)?,
        request_body: r.get(16)?,
        changes: r
            .get::<_, Option<String>>(17)?
            .and_then(|j| serde_json::from_str(&j).ok()),
    })
}

/// Filters for the log view; every field optional.
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    pub connection_id: Option<String>,
    pub resource_id: Option<String>,
    pub outcome: Option<String>,
    /// "success" (2xx) or "failure" (anything else).
    pub status: Option<String>,
    pub text: Option<String>,
    pub before_id: Option<i64>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub limit: u32,
}

/// Newest first, keyset-paged by id so deep pages cost the same as the first.
pub fn list(db: &Connection, q: &LogQuery) -> Result<Vec<LogEntry>> {
    let mut sql = format!("SELECT {COLUMNS} FROM provisioning_log WHERE 1");
    let mut args: Vec<Box<dyn rusqlite::ToSql>> = vec![];
    if let Some(c) = &q.connection_id {
        sql.push_str(" AND connection_id = ?");
        args.push(Box::new(c.clone()));
    }
    if let Some(r) = &q.resource_id {
        sql.push_str(" AND resource_id = ?");
        args.push(Box::new(r.clone()));
    }
    if let Some(o) = &q.outcome {
        sql.push_str(" AND outcome = ?");
        args.push(Box::new(o.clone()));
    }
    match q.status.as_deref() {
        Some("success") => sql.push_str(" AND status < 400"),
        Some("failure") => sql.push_str(" AND status >= 400"),
        _ => {}
    }
    if let Some(t) = q.text.as_deref().filter(|t| !t.is_empty()) {
        sql.push_str(
            " AND (instr(lower(COALESCE(user_name,'')), ?) > 0 OR instr(lower(COALESCE(external_id,'')), ?) > 0
                 OR instr(lower(path), ?) > 0 OR instr(lower(COALESCE(detail,'')), ?) > 0 OR resource_id = ?)",
        );
        let lowered = t.to_lowercase();
        for _ in 0..4 {
            args.push(Box::new(lowered.clone()));
        }
        args.push(Box::new(t.to_string()));
    }
    if let Some(b) = q.before_id {
        sql.push_str(" AND id < ?");
        args.push(Box::new(b));
    }
    if let Some(s) = &q.since {
        sql.push_str(" AND at >= ?");
        args.push(Box::new(s.clone()));
    }
    if let Some(u) = &q.until {
        sql.push_str(" AND at <= ?");
        args.push(Box::new(u.clone()));
    }
    let limit = q.limit.clamp(1, 1000);
    sql.push_str(&format!(" ORDER BY id DESC LIMIT {limit}"));
    let mut stmt = db.prepare(&sql)?;
    let rows = stmt
        .query_map(
            rusqlite::params_from_iter(args.iter().map(|b| b.as_ref())),
            from_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Default days a provisioning-log row is kept.
pub const DEFAULT_RETENTION_DAYS: i64 = 30;
/// Rows kept at most, whatever their age, so the log's volume stays bounded.
pub const MAX_ROWS: i64 = 5_000_000;
/// Rows removed per pass, so one pass never holds the writer long.
const PRUNE_BATCH: i64 = 20_000;

pub fn retention_days(db: &Connection) -> Result<i64> {
    let v: Option<String> = db
        .prepare_cached("SELECT value FROM settings WHERE key = 'log_retention_days'")?
        .query_row([], |r| r.get(0))
        .ok();
    Ok(v.and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_RETENTION_DAYS))
}

pub fn set_retention_days(db: &Connection, days: i64) -> Result<()> {
    if !(1..=3650).contains(&days) {
        return Err(crate::Error::Invalid(
            "log retention is 1 to 3650 days".into(),
        ));
    }
    db.prepare_cached(
        "INSERT INTO settings (key, value) VALUES ('log_retention_days', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute([days.to_string()])?;
    Ok(())
}

/// Removes rows past the retention window, then the oldest beyond MAX_ROWS; purge
/// tombstones are kept. Bounded per pass; returns how many rows went.
pub fn prune(db: &Connection, now: chrono::DateTime<chrono::Utc>) -> Result<usize> {
    let cutoff = crate::clock::fmt_time(now - chrono::Duration::days(retention_days(db)?));
    let mut n = db.prepare_cached(
        "DELETE FROM provisioning_log WHERE id IN (
            SELECT id FROM provisioning_log WHERE at < ?1 AND outcome != 'purged' ORDER BY id LIMIT ?2)",
    )?
    .execute(
        params![cutoff, PRUNE_BATCH],
    )?;
    let count: i64 = db
        .prepare_cached("SELECT COUNT(*) FROM provisioning_log")?
        .query_row([], |r| r.get(0))?;
    if count > MAX_ROWS {
        n += db
            .prepare_cached(
                "DELETE FROM provisioning_log WHERE id IN (
                SELECT id FROM provisioning_log WHERE outcome != 'purged' ORDER BY id LIMIT ?1)",
            )?
            .execute([(count - MAX_ROWS).min(PRUNE_BATCH)])?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_keeps_recent_rows_and_tombstones() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::Db::open(&dir.path().join("m.db")).unwrap();
        let now = chrono::Utc::now();
        let n = db
            .write_blocking(move |c| {
                let at = |d: i64| crate::clock::fmt_time(now - chrono::Duration::days(d));
                for (days, outcome) in [
                    (40, "created"),
                    (40, "purged"),
                    (10, "created"),
                    (0, "read"),
                ] {
                    append(
                        c,
                        &LogEntry {
                            at: at(days),
                            method: "GET".into(),
                            path: "/Users".into(),
                            status: 200,
                            outcome: outcome.into(),
                            ..Default::default()
                        },
                    )?;
                }
                set_retention_days(c, 30)?;
                let n = prune(c, now)?;
                let left: Vec<String> = c
                    .prepare("SELECT outcome FROM provisioning_log ORDER BY id")?
                    .query_map([], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                assert_eq!(left, vec!["purged", "created", "read"]);
                assert!(set_retention_days(c, 0).is_err());
                Ok(n)
            })
            .unwrap();
        assert_eq!(n, 1);
    }
}
