//! The provisioning log: one row per inbound SCIM request, accepted or not, with the
//! request body redacted and a write's modified properties (old → new). It feeds last-sync
//! times, health, the log view and its search, and triage.

use crate::clock::fmt_time;
use crate::db::fold;
use crate::error::{Error, Result};
use crate::sql::{params, Connection, OptionalExtension, Row};
use chrono::{DateTime, Utc};
use rusqlite::types::{Value as SqlValue, ValueRef};
use serde::Serialize;

/// What a logged request did, as the log stores it (`outcome` column) and the console shows
/// it: a write's effect, a read, or why it was refused.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LogOutcome {
    Created,
    Updated,
    Unchanged,
    Deactivated,
    Reactivated,
    Deleted,
    /// A deleted user or group brought back within its retention window.
    Restored,
    MembershipAdded,
    MembershipRemoved,
    MembershipChanged,
    /// A request that changed nothing (also what a log row is until its request's answer is known).
    #[default]
    Read,
    AuthFailed,
    Conflict,
    NotFound,
    Invalid,
    PreconditionFailed,
    RateLimited,
    TooLarge,
    UnsupportedMediaType,
    Error,
    /// A resource's retention window ended and it was purged (kept past log pruning).
    Purged,
}

impl LogOutcome {
    pub const ALL: [LogOutcome; 21] = [
        LogOutcome::Created,
        LogOutcome::Updated,
        LogOutcome::Unchanged,
        LogOutcome::Deactivated,
        LogOutcome::Reactivated,
        LogOutcome::Deleted,
        LogOutcome::Restored,
        LogOutcome::MembershipAdded,
        LogOutcome::MembershipRemoved,
        LogOutcome::MembershipChanged,
        LogOutcome::Read,
        LogOutcome::AuthFailed,
        LogOutcome::Conflict,
        LogOutcome::NotFound,
        LogOutcome::Invalid,
        LogOutcome::PreconditionFailed,
        LogOutcome::RateLimited,
        LogOutcome::TooLarge,
        LogOutcome::UnsupportedMediaType,
        LogOutcome::Error,
        LogOutcome::Purged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LogOutcome::Created => "created",
            LogOutcome::Updated => "updated",
            LogOutcome::Unchanged => "unchanged",
            LogOutcome::Deactivated => "deactivated",
            LogOutcome::Reactivated => "reactivated",
            LogOutcome::Deleted => "deleted",
            LogOutcome::Restored => "restored",
            LogOutcome::MembershipAdded => "membership_added",
            LogOutcome::MembershipRemoved => "membership_removed",
            LogOutcome::MembershipChanged => "membership_changed",
            LogOutcome::Read => "read",
            LogOutcome::AuthFailed => "auth_failed",
            LogOutcome::Conflict => "conflict",
            LogOutcome::NotFound => "not_found",
            LogOutcome::Invalid => "invalid",
            LogOutcome::PreconditionFailed => "precondition_failed",
            LogOutcome::RateLimited => "rate_limited",
            LogOutcome::TooLarge => "too_large",
            LogOutcome::UnsupportedMediaType => "unsupported_media_type",
            LogOutcome::Error => "error",
            LogOutcome::Purged => "purged",
        }
    }

    /// The outcome named `s`, as stored or as a filter names it.
    pub fn parse(s: &str) -> Option<LogOutcome> {
        LogOutcome::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

impl std::fmt::Display for LogOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl rusqlite::ToSql for LogOutcome {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

impl rusqlite::types::FromSql for LogOutcome {
    fn column_result(v: ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let s = v.as_str()?;
        LogOutcome::parse(s).ok_or_else(|| {
            rusqlite::types::FromSqlError::Other(format!("unknown log outcome {s:?}").into())
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LogEntry {
    pub id: i64,
    pub at: String,
    pub connection_id: Option<String>,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub outcome: LogOutcome,
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
    /// The `x-request-id` the request was answered with.
    pub request_id: Option<String>,
    /// Whose traffic this is: None for the IdP's, else `traffic::CHECK` or `traffic::STRAY`
    /// (health counts only the IdP's).
    pub traffic: Option<String>,
    /// The peer's address.
    pub remote_addr: Option<String>,
    /// The change-feed events (first and last seq) the request's write produced in the same
    /// transaction: a user's story links each event to this row (timeline.rs).
    #[serde(skip)]
    pub feed_events: Option<(i64, i64)>,
}

/// Values of `LogEntry::traffic` besides None (the IdP's sync).
pub mod traffic {
    /// A readiness run (`muster check` or the console's Readiness screen).
    pub const CHECK: &str = "check";
    /// Refused, with a token this connection never issued, not looking like its IdP.
    pub const STRAY: &str = "stray";
    /// Written by Muster itself, not a request (a purge tombstone).
    pub const SYSTEM: &str = "system";
    /// Refused because the admin paused the connection: not a failure of the IdP's.
    pub const PAUSED: &str = "paused";
    /// The SQL condition for rows that are the IdP's traffic.
    pub const IS_IDP: &str = "traffic IS NULL";
}

pub fn append(db: &Connection, e: &LogEntry) -> Result<i64> {
    db.prepare_cached(
        "INSERT INTO provisioning_log (at, connection_id, method, path, status, outcome, resource_type,
            resource_id, user_name, external_id, duration_ms, dialect, user_agent, token_prefix, detail, request_body,
            changes, user_name_key, request_id, traffic, remote_addr, feed_first, feed_last)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21,
            ?22, ?23) RETURNING id",
    )?
    .query_row(params![
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
        e.user_name.as_deref().map(identity_key),
        e.request_id,
        e.traffic,
        e.remote_addr,
        e.feed_events.map(|f| f.0),
        e.feed_events.map(|f| f.1),
    ], |r| r.get(0))
}

/// The form a userName is stored in `user_name_key` and searched by: trimmed and folded, so
/// " Jane.Doe@Acme.test" and "jane.doe@acme.test" are one identity.
pub fn identity_key(s: &str) -> String {
    fold(s.trim())
}

const COLUMNS: &str =
    "id, at, connection_id, method, path, status, outcome, resource_type, resource_id, \
    user_name, external_id, duration_ms, dialect, user_agent, token_prefix, detail, request_body, changes, \
    request_id, traffic, remote_addr";

fn from_row(r: &Row) -> crate::Result<LogEntry> {
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
        request_id: r.get(18)?,
        traffic: r.get(19)?,
        remote_addr: r.get(20)?,
        feed_events: None,
    })
}

/// Rows a free-text search examines per page: the newest this many rows that pass the other
/// filters (older than `before_id`). A text that matches nothing costs this, not the table.
pub const SEARCH_WINDOW: u32 = 200_000;
/// Distinct identities a prefix may name (per column) and still be searched through the
/// indexes; a broader prefix ("j") is searched as free text.
const IDENTITY_PREFIX_LIMIT: usize = 100;
/// Longest search text taken, in characters.
pub const MAX_TEXT_CHARS: usize = 256;

/// Filters for the log view; every field optional.
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    pub connection_id: Option<String>,
    pub resource_id: Option<String>,
    pub outcome: Option<LogOutcome>,
    /// "success" (2xx) or "failure" (anything else).
    pub status: Option<String>,
    /// An identity (userName or email, externalId, resource id; exact or a prefix) or free
    /// text (a substring of the path, reason, userName, externalId or resource id).
    pub text: Option<String>,
    pub before_id: Option<i64>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub limit: u32,
    /// Rows a free-text search examines; None is SEARCH_WINDOW (tests use small windows).
    pub search_window: Option<u32>,
}

/// How a page's search text was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TextSearch {
    /// The text named identities: rows whose userName (case-insensitively), externalId or
    /// resource id equals it or starts with it, across the whole log, from the indexes.
    Identity,
    /// Anything else: a case-insensitive substring, within the search window.
    Text,
}

/// One page of the log view.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogSlice {
    pub entries: Vec<LogEntry>,
    /// How the text was matched; None without a text.
    pub search: Option<TextSearch>,
    /// Set when a free-text search examined its whole window without filling the page and
    /// older rows exist: the oldest row id it examined. Rows below it were not searched; pass
    /// it as `before_id` to search the next window.
    pub searched_to_id: Option<i64>,
}

/// The log view's filters other than the text, as SQL conditions (each starting " AND ")
/// over provisioning_log's unqualified columns, with their arguments in order.
fn filter_sql(q: &LogQuery) -> Result<(String, Vec<SqlValue>)> {
    let mut sql = String::new();
    let mut args: Vec<SqlValue> = vec![];
    if let Some(c) = &q.connection_id {
        sql.push_str(" AND connection_id = ?");
        args.push(c.clone().into());
    }
    if let Some(r) = &q.resource_id {
        sql.push_str(" AND resource_id = ?");
        args.push(r.clone().into());
    }
    if let Some(o) = &q.outcome {
        sql.push_str(" AND outcome = ?");
        args.push(o.as_str().to_string().into());
    }
    match q.status.as_deref() {
        None => {}
        Some("success") => sql.push_str(" AND status < 400"),
        Some("failure") => sql.push_str(" AND status >= 400"),
        Some(other) => {
            return Err(Error::Invalid(format!(
                "status is \"success\" or \"failure\", not {other:?}"
            )))
        }
    }
    if let Some(b) = q.before_id {
        sql.push_str(" AND id < ?");
        args.push(b.into());
    }
    if let Some(s) = &q.since {
        sql.push_str(" AND at >= ?");
        args.push(s.clone().into());
    }
    if let Some(u) = &q.until {
        sql.push_str(" AND at <= ?");
        args.push(u.clone().into());
    }
    Ok((sql, args))
}

/// Newest first, keyset-paged by id so deep pages cost the same as the first. For callers
/// that pass no text or need not know how far a text search looked; the log view uses `page`.
pub fn list(db: &Connection, q: &LogQuery) -> Result<Vec<LogEntry>> {
    Ok(page(db, q)?.entries)
}

/// One page of the log view, newest first, keyset-paged by id. A text that names identities
/// is answered from the indexes over the whole log; any other text is looked for in the
/// newest `SEARCH_WINDOW` rows that pass the other filters, and the page says when that
/// window ran out before the page filled.
pub fn page(db: &Connection, q: &LogQuery) -> Result<LogSlice> {
    let limit = q.limit.clamp(1, 1000);
    let (filters, mut args) = filter_sql(q)?;
    let text = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let Some(text) = text else {
        let sql =
            format!("SELECT {COLUMNS} FROM provisioning_log WHERE true{filters} ORDER BY id DESC LIMIT {limit}");
        return Ok(LogSlice {
            entries: query_entries(db, &sql, &args)?,
            ..Default::default()
        });
    };
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(Error::Invalid(format!(
            "the search text is at most {MAX_TEXT_CHARS} characters"
        )));
    }
    if let Some(names) = identities(db, text)? {
        let sql = identity_sql(&filters, limit);
        let mut all: Vec<SqlValue> = names
            .iter()
            .map(|v| serde_json::to_string(v).map(SqlValue::from))
            .collect::<std::result::Result<_, _>>()?;
        all.append(&mut args);
        return Ok(LogSlice {
            entries: query_entries(db, &sql, &all)?,
            search: Some(TextSearch::Identity),
            searched_to_id: None,
        });
    }
    // Free text: walk the window newest first, match in Rust (Unicode case folding, as
    // db::fold; SQLite's lower() folds ASCII only), fetch the full rows of the matches.
    let window = q.search_window.unwrap_or(SEARCH_WINDOW).max(1);
    let needle = fold(text);
    let sql = window_sql(&filters, window);
    let mut stmt = db.prepare(&sql)?;
    let mut rows = stmt.query(crate::sql::params_from_iter(args.iter()))?;
    let mut hits: Vec<i64> = vec![];
    let mut examined: u32 = 0;
    let mut oldest: Option<i64> = None;
    let mut more = false;
    while let Some(r) = rows.next()? {
        if examined == window {
            more = true;
            break;
        }
        examined += 1;
        let id: i64 = r.get(0)?;
        oldest = Some(id);
        let mut matched = false;
        for i in 1..=5 {
            if let ValueRef::Text(bytes) = r.get_ref(i)? {
                if std::str::from_utf8(bytes).is_ok_and(|hay| contains_folded(hay, &needle)) {
                    matched = true;
                    break;
                }
            }
        }
        if matched {
            hits.push(id);
            if hits.len() == limit as usize {
                break;
            }
        }
    }
    drop(rows);
    let entries = if hits.is_empty() {
        vec![]
    } else {
        let sql = format!(
            "SELECT {COLUMNS} FROM provisioning_log WHERE id IN (SELECT CAST(value AS BIGINT) FROM json_each(?)) ORDER BY id DESC"
        );
        query_entries(db, &sql, &[serde_json::to_string(&hits)?.into()])?
    };
    Ok(LogSlice {
        entries,
        search: Some(TextSearch::Text),
        searched_to_id: if more { oldest } else { None },
    })
}

/// The rows of the named identities (three JSON arrays: userName keys, externalIds, resource
/// ids), then the other filters: each identity's rows come from its index, and CROSS JOIN keeps
/// the planner from walking a connection's whole index instead.
fn identity_sql(filters: &str, limit: u32) -> String {
    format!(
        "WITH hits(hit) AS MATERIALIZED (
            SELECT id FROM provisioning_log WHERE user_name_key IN (SELECT value FROM json_each(?))
            UNION SELECT id FROM provisioning_log WHERE external_id IN (SELECT value FROM json_each(?))
            UNION SELECT id FROM provisioning_log WHERE resource_id IN (SELECT value FROM json_each(?)))
         SELECT {COLUMNS} FROM hits CROSS JOIN provisioning_log ON provisioning_log.id = hits.hit
         WHERE true{filters} ORDER BY hits.hit DESC LIMIT {limit}"
    )
}

/// A free-text search's window: the searched columns of the newest `window` rows that pass the
/// other filters, and one more row to tell whether older rows exist.
fn window_sql(filters: &str, window: u32) -> String {
    format!(
        "SELECT id, user_name, external_id, resource_id, path, detail FROM provisioning_log
         WHERE true{filters} ORDER BY id DESC LIMIT {}",
        u64::from(window) + 1
    )
}

fn query_entries(db: &Connection, sql: &str, args: &[SqlValue]) -> Result<Vec<LogEntry>> {
    let mut stmt = db.prepare(sql)?;
    let rows = stmt
        .query_map(crate::sql::params_from_iter(args.iter()), from_row)?
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The identities a search text names, as [userName keys, externalIds, resource ids], each
/// equal to the text or starting with it (the userName case-insensitively; externalId and id
/// are case-exact, RFC 7643 §3.1). None when the text is not one word, names no identity
/// anywhere in the log, or names more than IDENTITY_PREFIX_LIMIT in a column: then it is
/// free text. Independent of the other filters and of `before_id`, so every page of one
/// search is matched the same way.
fn identities(db: &Connection, text: &str) -> Result<Option<[Vec<String>; 3]>> {
    if text.chars().any(char::is_whitespace) {
        return Ok(None);
    }
    let key = identity_key(text);
    let mut found = [vec![], vec![], vec![]];
    for (slot, (column, prefix)) in found.iter_mut().zip([
        ("user_name_key", key.as_str()),
        ("external_id", text),
        ("resource_id", text),
    ]) {
        match starting_with(db, column, prefix)? {
            Some(values) => *slot = values,
            None => return Ok(None),
        }
    }
    Ok((!found.iter().all(Vec::is_empty)).then_some(found))
}

/// Distinct values of an indexed column that start with `prefix`, one index seek each
/// (so an identity with a million rows costs one seek, not a million); None past the limit.
fn starting_with(db: &Connection, column: &str, prefix: &str) -> Result<Option<Vec<String>>> {
    let Some(upper) = prefix_upper_bound(prefix) else {
        return Ok(Some(vec![]));
    };
    let first = format!(
        "SELECT {column} FROM provisioning_log WHERE {column} >= ?1 AND {column} < ?2 ORDER BY {column} LIMIT 1"
    );
    let next = format!(
        "SELECT {column} FROM provisioning_log WHERE {column} > ?1 AND {column} < ?2 ORDER BY {column} LIMIT 1"
    );
    let mut values: Vec<String> = vec![];
    loop {
        let (sql, from) = match values.last() {
            None => (&first, prefix),
            Some(last) => (&next, last.as_str()),
        };
        let value: Option<String> = db
            .prepare_cached(sql)?
            .query_row(params![from, upper], |r| r.get(0))
            .optional()?;
        match value {
            None => return Ok(Some(values)),
            Some(_) if values.len() == IDENTITY_PREFIX_LIMIT => return Ok(None),
            Some(v) => values.push(v),
        }
    }
}

/// The least string above every string that starts with `prefix`, in SQLite's BINARY order
/// (UTF-8 bytes, which is code point order): the prefix with its last character incremented.
/// None when no such string exists (the prefix is all U+10FFFF).
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            c => char::from_u32(c as u32 + 1),
        };
        if let Some(n) = next {
            chars.push(n);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Whether `fold(hay)` contains `needle` (already folded), without allocating for ASCII text
/// (almost every log field): folding ASCII gives ASCII, so a non-ASCII needle cannot match it.
fn contains_folded(hay: &str, needle: &str) -> bool {
    if hay.is_ascii() {
        let (h, n) = (hay.as_bytes(), needle.as_bytes());
        n.len() <= h.len()
            && h.windows(n.len())
                .any(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b))
    } else {
        fold(hay).contains(needle)
    }
}

/// Default days a provisioning-log row is kept.
pub const DEFAULT_RETENTION_DAYS: i64 = 30;
/// Rows kept at most, whatever their age, so the log's volume stays bounded: the newest
/// MAX_ROWS ids are kept (purge tombstones on top of them).
pub const MAX_ROWS: i64 = 5_000_000;

pub fn retention_days(db: &Connection) -> Result<i64> {
    let v: Option<String> = db
        .prepare_cached("SELECT value FROM settings WHERE key = 'log_retention_days'")?
        .query_row((), |r| r.get(0))
        .ok();
    Ok(v.and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_RETENTION_DAYS))
}

pub fn set_retention_days(db: &Connection, days: i64) -> Result<()> {
    if !(1..=3650).contains(&days) {
        return Err(Error::Invalid("log retention is 1 to 3650 days".into()));
    }
    db.prepare_cached(
        "INSERT INTO settings (key, value) VALUES ('log_retention_days', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute([days.to_string()])?;
    Ok(())
}

/// Removes at most `batch` rows: those older than the retention window, oldest first, then
/// (when the window removed fewer) the oldest beyond the newest MAX_ROWS. Purge tombstones
/// (outcome `purged`) are kept. One call is one bounded piece of work for the writer;
/// `retention::prune` calls it, each call its own write, until it removes fewer than `batch`.
pub fn prune(db: &Connection, now: chrono::DateTime<chrono::Utc>, batch: usize) -> Result<usize> {
    let cutoff = crate::clock::fmt_time(now - chrono::Duration::days(retention_days(db)?));
    // By `at` through log_at, so a pass with nothing to remove reads the index up to the
    // cutoff (past the few tombstones there) and stops, instead of walking the table.
    let (mut n, mut newest) =
        delete_returning_newest(db, PRUNE_AGED_SQL, params![cutoff, batch as i64])?;
    if n < batch {
        // The cap, by id: every row above max(id) - MAX_ROWS is kept, so no count of the
        // whole table is needed (a COUNT(*) of millions of rows would hold the writer).
        let max_id: Option<i64> = db
            .prepare_cached("SELECT max(id) FROM provisioning_log")?
            .query_row((), |r| r.get(0))?;
        if let Some(max_id) = max_id.filter(|m| *m > MAX_ROWS) {
            let (m, capped) = delete_returning_newest(
                db,
                PRUNE_CAPPED_SQL,
                params![max_id - MAX_ROWS, (batch - n) as i64],
            )?;
            n += m;
            newest = newest.max(capped);
        }
    }
    // Deprovisioning evidence must say which part of a period the log no longer covers
    // (evidence.rs): the log is complete only after the newest row removed.
    if let Some(after) = newest
        .as_deref()
        .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
    {
        let from = crate::clock::fmt_time(
            after.with_timezone(&chrono::Utc) + chrono::Duration::milliseconds(1),
        );
        db.prepare_cached(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = CASE WHEN excluded.value > settings.value
                THEN excluded.value ELSE settings.value END",
        )?
        .execute(params![COMPLETE_FROM_KEY, from])?;
    }
    Ok(n)
}

/// Runs a prune DELETE that returns the removed rows' `at`: how many, and the newest.
fn delete_returning_newest(
    db: &Connection,
    sql: &str,
    args: impl crate::sql::Params,
) -> Result<(usize, Option<String>)> {
    let mut stmt = db.prepare_cached(sql)?;
    let mut rows = stmt.query(args)?;
    let (mut n, mut newest): (usize, Option<String>) = (0, None);
    while let Some(r) = rows.next()? {
        n += 1;
        let at: String = r.get(0)?;
        if newest.as_ref().is_none_or(|m| at > *m) {
            newest = Some(at);
        }
    }
    Ok((n, newest))
}

/// The settings key of the time from which the log holds every row (rows before it may
/// have been pruned); absent while nothing was ever pruned.
const COMPLETE_FROM_KEY: &str = "log_complete_from";

/// From when on the log holds every row it was given: None when nothing was ever pruned
/// (migration 0014 seeds it for logs that existed before pruning was recorded).
pub fn complete_from(db: &Connection) -> Result<Option<String>> {
    db.prepare_cached("SELECT value FROM settings WHERE key = ?1")?
        .query_row([COMPLETE_FROM_KEY], |r| r.get(0))
        .optional()
}

const PRUNE_AGED_SQL: &str = "DELETE FROM provisioning_log WHERE id IN (
    SELECT id FROM provisioning_log WHERE at < ?1 AND outcome != 'purged' ORDER BY at LIMIT ?2)
    RETURNING at";

const PRUNE_CAPPED_SQL: &str = "DELETE FROM provisioning_log WHERE id IN (
    SELECT id FROM provisioning_log WHERE id <= ?1 AND outcome != 'purged' ORDER BY id LIMIT ?2)
    RETURNING at";

/// One bucket of the activity chart: the IdP's own requests (Muster's tests excluded) that
/// arrived in `[start, start + bucket)`, and how many of them failed (status 400 or more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityCount {
    pub start: String,
    pub requests: i64,
    pub failures: i64,
}

/// The connection's activity from `start` to `end` in buckets of `bucket`, oldest first.
pub fn activity(
    db: &Connection,
    connection_id: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    bucket: chrono::Duration,
) -> Result<Vec<ActivityCount>> {
    let mut stmt = db.prepare_cached(
        "SELECT COUNT(*), count(*) FILTER (WHERE status >= 400) FROM provisioning_log
          WHERE connection_id = ?1 AND at >= ?2 AND at < ?3 AND traffic IS NULL",
    )?;
    let mut out = Vec::new();
    let mut t = start;
    while t < end && bucket > chrono::Duration::zero() {
        let next = t + bucket;
        let (a, b) = (fmt_time(t), fmt_time(next));
        let (requests, failures) =
            stmt.query_row(params![connection_id, a, b], |r| Ok((r.get(0)?, r.get(1)?)))?;
        out.push(ActivityCount {
            start: a,
            requests,
            failures,
        });
        t = next;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan SQLite picks for `sql`, one line per step.
    fn plan(c: &Connection, sql: &str, args: &[SqlValue]) -> Vec<String> {
        c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map(crate::sql::params_from_iter(args.iter()), |r| {
                r.get::<_, String>(3)
            })
            .unwrap()
            .collect::<crate::Result<_>>()
            .unwrap()
    }

    fn no_scan_of_the_log(steps: &[String]) {
        assert!(
            !steps.iter().any(|s| s.starts_with("SCAN provisioning_log")),
            "{steps:#?}"
        );
    }

    #[test]
    fn identity_searches_are_served_by_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::Db::open(&dir.path().join("m.db")).unwrap();
        db.read_blocking(|c| {
            for q in [
                LogQuery::default(),
                LogQuery {
                    connection_id: Some("c1".into()),
                    before_id: Some(1000),
                    status: Some("failure".into()),
                    outcome: Some(crate::log::LogOutcome::Conflict),
                    since: Some("2026-01-01".into()),
                    ..Default::default()
                },
            ] {
                let (filters, mut args) = filter_sql(&q)?;
                let mut all: Vec<SqlValue> = vec![
                    r#"["jane@acme.test"]"#.to_string().into(),
                    r#"["00u1"]"#.to_string().into(),
                    r#"["u-1"]"#.to_string().into(),
                ];
                all.append(&mut args);
                let steps = plan(c, &identity_sql(&filters, 100), &all);
                no_scan_of_the_log(&steps);
                for index in ["log_user_name_key", "log_external_id", "log_resource"] {
                    assert!(
                        steps.iter().any(|s| s.starts_with("SEARCH provisioning_log USING")
                            && s.contains(&format!("INDEX {index} ("))),
                        "{index} not used: {steps:#?}"
                    );
                }
                // The other filters are checked on each hit by rowid, not by walking an index.
                assert!(
                    steps
                        .iter()
                        .any(|s| s.starts_with("SEARCH provisioning_log USING INTEGER PRIMARY KEY (rowid=?)")),
                    "{steps:#?}"
                );
            }
            // Naming the identities: one index seek per distinct value.
            for column in ["user_name_key", "external_id", "resource_id"] {
                for cmp in [">=", ">"] {
                    let sql = format!(
                        "SELECT {column} FROM provisioning_log WHERE {column} {cmp} ?1 AND {column} < ?2 ORDER BY {column} LIMIT 1"
                    );
                    let steps = plan(c, &sql, &["a".to_string().into(), "b".to_string().into()]);
                    assert_eq!(steps.len(), 1, "{steps:#?}");
                    assert!(
                        steps[0].starts_with("SEARCH provisioning_log USING COVERING INDEX")
                            && steps[0].contains(&format!("({column}>? AND {column}<?)")),
                        "{steps:#?}"
                    );
                }
            }
            // A connection's free-text window walks its index newest first, with no sort.
            let (filters, args) = filter_sql(&LogQuery {
                connection_id: Some("c1".into()),
                before_id: Some(1000),
                ..Default::default()
            })?;
            let steps = plan(c, &window_sql(&filters, SEARCH_WINDOW), &args);
            assert_eq!(
                steps,
                vec!["SEARCH provisioning_log USING INDEX log_connection (connection_id=? AND id<?)"]
            );
            Ok(())
        })
        .unwrap();
    }

    /// Pruning reads the log through its indexes: by `at` for the window (so a pass with
    /// nothing to remove stops at the cutoff) and by id for the cap; never a scan or a sort.
    #[test]
    fn prune_is_served_by_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::Db::open(&dir.path().join("m.db")).unwrap();
        db.read_blocking(|c| {
            let aged = plan(
                c,
                PRUNE_AGED_SQL,
                &["2026-01-01".to_string().into(), 1000i64.into()],
            );
            no_scan_of_the_log(&aged);
            assert!(
                aged.iter().any(|s| s.contains("USING INDEX log_at (at<?)")),
                "{aged:#?}"
            );
            let capped = plan(c, PRUNE_CAPPED_SQL, &[10i64.into(), 1000i64.into()]);
            no_scan_of_the_log(&capped);
            for steps in [&aged, &capped] {
                assert!(
                    !steps.iter().any(|s| s.contains("TEMP B-TREE")),
                    "{steps:#?}"
                );
            }
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn prefix_bounds_and_folded_matching() {
        assert_eq!(prefix_upper_bound("jane").as_deref(), Some("janf"));
        assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(
            prefix_upper_bound("x\u{D7FF}").as_deref(),
            Some("x\u{E000}")
        );
        assert_eq!(prefix_upper_bound("\u{10FFFF}"), None);
        // Every string starting with the prefix sorts below the bound, bytewise as SQLite does.
        for (prefix, s) in [
            ("jane", "jane\u{10FFFF}x"),
            ("é", "éz"),
            ("a\u{10FFFF}", "a\u{10FFFF}\u{10FFFF}"),
        ] {
            let upper = prefix_upper_bound(prefix).unwrap();
            assert!(
                s.as_bytes() < upper.as_bytes() && s.as_bytes() >= prefix.as_bytes(),
                "{prefix} {s}"
            );
        }

        assert!(contains_folded("Jane.Doe@Acme.test", "doe@acme"));
        assert!(contains_folded("x", "x"));
        assert!(!contains_folded("Jane", "janet"));
        assert!(!contains_folded("Jane", "jäne"));
        assert!(contains_folded("ÜBERSICHT", "übersicht"));
        assert!(contains_folded("Grüße an ALLE", "alle"));
        assert!(!contains_folded("Grüße", "grüsse"));
    }

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
                            outcome: crate::log::LogOutcome::parse(outcome).unwrap(),
                            ..Default::default()
                        },
                    )?;
                }
                set_retention_days(c, 30)?;
                assert_eq!(complete_from(c)?, None);
                let n = prune(c, now, 1000)?;
                // The newest row removed was 40 days old: complete from a millisecond after.
                let after = crate::clock::fmt_time(
                    chrono::DateTime::parse_from_rfc3339(&at(40))
                        .unwrap()
                        .with_timezone(&chrono::Utc)
                        + chrono::Duration::milliseconds(1),
                );
                assert_eq!(complete_from(c)?, Some(after.clone()));
                // A pass that removes nothing leaves it where it was.
                prune(c, now, 1000)?;
                assert_eq!(complete_from(c)?, Some(after));
                let left: Vec<String> = c
                    .prepare("SELECT outcome FROM provisioning_log ORDER BY id")?
                    .query_map((), |r| r.get(0))?
                    .collect::<crate::Result<_>>()?;
                assert_eq!(left, vec!["purged", "created", "read"]);
                assert!(set_retention_days(c, 0).is_err());
                Ok(n)
            })
            .unwrap();
        assert_eq!(n, 1);
    }
}
