//! Application sessions of provisioned users, and application keys. A session is revoked
//! in the same transaction as the deactivation or deletion that ends its user's access.

use crate::clock::fmt_time;
use crate::error::{Error, Result};
use crate::sql::{params, Connection, OptionalExtension};
use crate::tokens::TokenHash;
use chrono::{DateTime, Utc};
use serde::Serialize;
use subtle::ConstantTimeEq;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Session {
    pub id: String,
    pub connection_id: String,
    pub user_id: String,
    pub created_at: String,
    pub expires_at: String,
    pub source: String,
    pub revoked_at: Option<String>,
    pub revoked_reason: Option<String>,
}

/// A new session: the token is shown to the application once, then only its hash is kept.
pub struct IssuedSession {
    pub session: Session,
    pub token: String,
}

/// What a session check says, right now.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionCheck {
    pub valid: bool,
    /// "revoked", "expired", "unknown", or None when valid.
    pub reason: Option<String>,
    pub session: Option<Session>,
}

const COLUMNS: &str =
    "id, connection_id, user_id, created_at, expires_at, source, revoked_at, revoked_reason";

fn from_row(r: &crate::sql::Row) -> crate::Result<Session> {
    Ok(Session {
        id: r.get(0)?,
        connection_id: r.get(1)?,
        user_id: r.get(2)?,
        created_at: r.get(3)?,
        expires_at: r.get(4)?,
        source: r.get(5)?,
        revoked_at: r.get(6)?,
        revoked_reason: r.get(7)?,
    })
}

/// Creates a session for an active, present user; deactivated or deleted users get none.
pub fn create(
    db: &Connection,
    connection_id: &str,
    user_id: &str,
    ttl: chrono::Duration,
    source: &str,
    now: DateTime<Utc>,
) -> Result<IssuedSession> {
    let state: Option<(bool, Option<String>)> = db
        .prepare_cached(
            "SELECT active, deleted_at FROM users WHERE connection_id = ?1 AND id = ?2",
        )?
        .query_row(params![connection_id, user_id], |r| {
            Ok((r.get::<_, i64>(0)? != 0, r.get(1)?))
        })
        .optional()?;
    match state {
        None | Some((_, Some(_))) => return Err(Error::NotFound(format!("user {user_id}"))),
        Some((false, None)) => {
            return Err(Error::Conflict(
                "the user is deactivated; no session can be created".into(),
            ))
        }
        Some((true, None)) => {}
    }
    let token = crate::tokens::new_secret("mss_");
    let id = uuid::Uuid::new_v4().to_string();
    let expires = fmt_time(now + ttl);
    db.prepare_cached("INSERT INTO sessions (id, connection_id, user_id, token_hash, created_at, expires_at, source)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?.execute(params![id, connection_id, user_id, TokenHash::of(&token).as_bytes(), fmt_time(now), expires, source])?;
    let session = get(db, &id)?.ok_or_else(|| Error::NotFound(id.clone()))?;
    Ok(IssuedSession { session, token })
}

pub fn get(db: &Connection, id: &str) -> Result<Option<Session>> {
    db.prepare_cached(&format!("SELECT {COLUMNS} FROM sessions WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()
}

pub fn check(db: &Connection, token: &str, now: DateTime<Utc>) -> Result<SessionCheck> {
    let hash = TokenHash::of(token);
    let found = db
        .prepare_cached(&format!(
            "SELECT {COLUMNS}, token_hash FROM sessions WHERE token_hash = ?1"
        ))?
        .query_row([hash.as_bytes()], |r| {
            Ok((from_row(r)?, r.get::<_, Vec<u8>>(8)?))
        })
        .optional()?;
    let Some((s, stored)) = found.filter(|(_, h)| bool::from(h.as_slice().ct_eq(hash.as_bytes())))
    else {
        return Ok(SessionCheck {
            valid: false,
            reason: Some("unknown".into()),
            session: None,
        });
    };
    let reason = if s.revoked_at.is_some() {
        Some("revoked")
    } else if s.expires_at <= fmt_time(now) {
        Some("expired")
    } else {
        None
    };
    let _ = stored;
    Ok(SessionCheck {
        valid: reason.is_none(),
        reason: reason.map(str::to_string),
        session: Some(s),
    })
}

pub fn list_for_user(db: &Connection, connection_id: &str, user_id: &str) -> Result<Vec<Session>> {
    let mut stmt = db.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM sessions WHERE connection_id = ?1 AND user_id = ?2 ORDER BY created_at DESC"
    ))?;
    let rows = stmt
        .query_map(params![connection_id, user_id], from_row)?
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Revokes every live session of a user; returns how many.
pub fn revoke_for_user(
    db: &Connection,
    connection_id: &str,
    user_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<usize> {
    db.prepare_cached(
        "UPDATE sessions SET revoked_at = ?3, revoked_reason = ?4
         WHERE connection_id = ?1 AND user_id = ?2 AND revoked_at IS NULL",
    )?
    .execute(params![connection_id, user_id, fmt_time(now), reason])
}

pub fn revoke(db: &Connection, session_id: &str, reason: &str, now: DateTime<Utc>) -> Result<bool> {
    Ok(db.prepare_cached(
        "UPDATE sessions SET revoked_at = ?2, revoked_reason = ?3 WHERE id = ?1 AND revoked_at IS NULL",
    )?
    .execute(params![session_id, fmt_time(now), reason])? == 1)
}

/// A new application key (credentials of the integrating application), shown once.
pub fn issue_app_key(db: &Connection, label: &str, now: DateTime<Utc>) -> Result<(String, String)> {
    let secret = crate::tokens::new_secret("mak_");
    let prefix = secret[..12].to_string();
    db.prepare_cached(
        "INSERT INTO app_keys (id, label, prefix, hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        uuid::Uuid::new_v4().to_string(),
        label,
        prefix,
        TokenHash::of(&secret).as_bytes(),
        fmt_time(now)
    ])?;
    Ok((secret, prefix))
}

/// True when the presented key is a live application key (hash lookup, constant-time confirm).
pub fn app_key_valid(db: &Connection, presented: &str) -> Result<bool> {
    Ok(app_key_id(db, presented)?.is_some())
}

/// The id of the live application key presented (hash lookup, constant-time confirm): the
/// identity of a feed consumer.
pub fn app_key_id(db: &Connection, presented: &str) -> Result<Option<String>> {
    let hash = TokenHash::of(presented);
    let stored: Option<(String, Vec<u8>)> = db
        .prepare_cached("SELECT id, hash FROM app_keys WHERE hash = ?1 AND revoked_at IS NULL")?
        .query_row([hash.as_bytes()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(stored
        .filter(|(_, s)| bool::from(s.as_slice().ct_eq(hash.as_bytes())))
        .map(|(id, _)| id))
}
