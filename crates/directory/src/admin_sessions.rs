//! Console sign-in sessions, server-side: issued at sign-in, checked on every admin-API
//! request (so a disabled account or a revoked session stops at once), expiring after a
//! fixed lifetime and after idleness, listed and revoked. Only the secret's SHA-256 is kept.

use crate::admins::{self, AdminRecord};
use crate::audit::{self, Actor};
use crate::clock::fmt_time;
use crate::error::{Error, Result};
use crate::sql::{params, Connection, OptionalExtension, Row};
use crate::tokens::{new_secret, TokenHash};
use chrono::{DateTime, Duration, Utc};
use subtle::ConstantTimeEq;

/// A session ends this long after sign-in, however busy.
pub const LIFETIME_HOURS: i64 = 12;
/// A session unused for this long ends.
pub const IDLE_MINUTES: i64 = 120;
/// Last-seen is written at most this often per session.
pub const TOUCH_EVERY_SECS: i64 = 60;

#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub id: String,
    pub admin_id: String,
    pub email: String,
    pub method: String,
    pub created_at: String,
    pub expires_at: String,
    pub last_seen_at: String,
    pub revoked_at: Option<String>,
    pub source: Option<String>,
    pub user_agent: Option<String>,
}

/// A freshly issued session: the secret exists only here, handed to the console once.
pub struct IssuedSession {
    pub session: SessionRecord,
    pub secret: String,
    pub admin: AdminRecord,
}

/// Why a presented session secret does not sign anyone in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Unknown,
    Expired,
    Revoked,
    Disabled,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Unknown => "the session is unknown; sign in again",
            Refusal::Expired => "the session has expired; sign in again",
            Refusal::Revoked => "the session was signed out or revoked; sign in again",
            Refusal::Disabled => "this account is disabled",
        }
    }
}

const COLUMNS: &str = "s.id, s.admin_id, a.email, s.method, s.created_at, s.expires_at,
    s.last_seen_at, s.revoked_at, s.source, s.user_agent";

fn from_row(r: &Row) -> crate::Result<SessionRecord> {
    Ok(SessionRecord {
        id: r.get(0)?,
        admin_id: r.get(1)?,
        email: r.get(2)?,
        method: r.get(3)?,
        created_at: r.get(4)?,
        expires_at: r.get(5)?,
        last_seen_at: r.get(6)?,
        revoked_at: r.get(7)?,
        source: r.get(8)?,
        user_agent: r.get(9)?,
    })
}

/// Starts a session for an account that has just proved who it is, and audits the sign-in.
pub fn issue(
    db: &Connection,
    admin_id: &str,
    method: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<IssuedSession> {
    let admin = admins::get(db, admin_id)?;
    if admin.disabled_at.is_some() {
        return Err(Error::Conflict("this account is disabled".into()));
    }
    let secret = new_secret("mas_");
    let id = uuid::Uuid::new_v4().simple().to_string()[..16].to_string();
    let (source, user_agent) = match actor {
        Actor::Admin {
            source, user_agent, ..
        } => (Some(source.as_str()), user_agent.as_deref()),
        _ => (None, None),
    };
    db.prepare_cached(
        "INSERT INTO admin_sessions (id, admin_id, hash, method, created_at, expires_at, last_seen_at, source, user_agent)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?5, ?7, ?8)",
    )?
    .execute(params![
        id,
        admin_id,
        TokenHash::of(&secret).as_bytes(),
        method,
        fmt_time(now),
        fmt_time(now + Duration::hours(LIFETIME_HOURS)),
        source,
        user_agent,
    ])?;
    admins::signed_in(db, admin_id, now)?;
    audit::record(db, None, actor, "signin", None, Some(method), now)?;
    Ok(IssuedSession {
        session: get(db, &id)?,
        secret,
        admin,
    })
}

pub fn get(db: &Connection, id: &str) -> Result<SessionRecord> {
    db.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM admin_sessions s JOIN admins a ON a.id = s.admin_id WHERE s.id = ?1"
    ))?
    .query_row([id], from_row)
    .optional()?
    .ok_or_else(|| Error::NotFound(format!("no session {id}")))
}

/// The session and account behind a presented secret, as they stand now (the role read
/// fresh, so a downgrade applies to the very next request), or why not.
pub fn check(
    db: &Connection,
    presented: &str,
    now: DateTime<Utc>,
) -> Result<std::result::Result<(SessionRecord, AdminRecord), Refusal>> {
    let hash = TokenHash::of(presented);
    let found: Option<(SessionRecord, Vec<u8>)> = db
        .prepare_cached(&format!(
            "SELECT {COLUMNS}, s.hash FROM admin_sessions s JOIN admins a ON a.id = s.admin_id
             WHERE s.hash = ?1"
        ))?
        .query_row([hash.as_bytes()], |r| Ok((from_row(r)?, r.get(10)?)))
        .optional()?;
    let Some((session, stored)) = found else {
        return Ok(Err(Refusal::Unknown));
    };
    // The lookup was by hash; compare once more in constant time, as tokens do.
    if !bool::from(stored.as_slice().ct_eq(hash.as_bytes())) {
        return Ok(Err(Refusal::Unknown));
    }
    if session.revoked_at.is_some() {
        return Ok(Err(Refusal::Revoked));
    }
    let at = fmt_time(now);
    let idle_until = session
        .last_seen_at
        .parse::<DateTime<Utc>>()
        .map(|t| fmt_time(t + Duration::minutes(IDLE_MINUTES)))
        .unwrap_or_default();
    if session.expires_at <= at || idle_until <= at {
        return Ok(Err(Refusal::Expired));
    }
    let admin = admins::get(db, &session.admin_id)?;
    if admin.disabled_at.is_some() {
        return Ok(Err(Refusal::Disabled));
    }
    Ok(Ok((session, admin)))
}

/// Records use of a session, at most once a minute.
pub fn touch(db: &Connection, id: &str, now: DateTime<Utc>) -> Result<()> {
    let before = fmt_time(now - Duration::seconds(TOUCH_EVERY_SECS));
    db.prepare_cached(
        "UPDATE admin_sessions SET last_seen_at = ?2 WHERE id = ?1 AND last_seen_at <= ?3",
    )?
    .execute(params![id, fmt_time(now), before])?;
    Ok(())
}

/// Live sessions (not revoked, not expired), newest first: one person's, or everyone's.
pub fn list(
    db: &Connection,
    admin_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<SessionRecord>> {
    let idle_since = fmt_time(now - Duration::minutes(IDLE_MINUTES));
    let mut stmt = db.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM admin_sessions s JOIN admins a ON a.id = s.admin_id
         WHERE (CAST(?1 AS TEXT) IS NULL OR s.admin_id = ?1) AND s.revoked_at IS NULL
           AND s.expires_at > ?2 AND s.last_seen_at > ?3
         ORDER BY s.created_at DESC"
    ))?;
    let rows = stmt
        .query_map(params![admin_id, fmt_time(now), idle_since], from_row)?
        .collect::<crate::Result<_>>()?;
    Ok(rows)
}

/// Ends one session (signing out, or an owner revoking it). Revoking twice is harmless.
pub fn revoke(
    db: &Connection,
    id: &str,
    action: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<SessionRecord> {
    let s = get(db, id)?;
    if s.revoked_at.is_none() {
        db.prepare_cached("UPDATE admin_sessions SET revoked_at = ?2 WHERE id = ?1")?
            .execute(params![id, fmt_time(now)])?;
        audit::record(db, None, actor, action, None, Some(&s.email), now)?;
    }
    get(db, id)
}

/// Ends every session of an account (it was disabled).
pub fn revoke_all(db: &Connection, admin_id: &str, now: DateTime<Utc>) -> Result<usize> {
    db.prepare_cached(
        "UPDATE admin_sessions SET revoked_at = ?2 WHERE admin_id = ?1 AND revoked_at IS NULL",
    )?
    .execute(params![admin_id, fmt_time(now)])
}

/// The audit trail's name for a signed-in person at the time of a request.
pub fn person(admin: &AdminRecord) -> audit::Person {
    audit::Person {
        admin_id: admin.id.clone(),
        email: admin.email.clone(),
        subject: admin.oidc_subject.clone(),
        role: admin.role,
    }
}
