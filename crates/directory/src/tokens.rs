//! SCIM bearer tokens: 256-bit random secrets shown once, stored only as SHA-256, with a
//! short non-secret prefix for recognition; expiry, revocation and last use per token. Issuing,
//! rotating and revoking are audited here, so every entry point records them the same way.
//! OAuth access tokens (`crate::oauth`) are rows here too, marked by `oauth_grant`: checked
//! and tracked the same way, but kept out of the token list, rotation and the expiry gauge.

use crate::audit::{self, Actor};
use crate::clock::fmt_time;
use crate::error::{Error, Result};
use crate::sql::{params, Connection, OptionalExtension};
use base64_lite::encode_url;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The SHA-256 of a token; the only form a token is ever stored in.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    pub fn of(secret: &str) -> TokenHash {
        TokenHash(Sha256::digest(secret.as_bytes()).into())
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenHash(..)")
    }
}

/// A freshly issued token: the plaintext exists only here, to be shown once.
pub struct IssuedToken {
    pub id: String,
    pub secret: String,
    pub prefix: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TokenRecord {
    pub id: String,
    pub connection_id: String,
    pub label: String,
    pub prefix: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
    pub last_used_addr: Option<String>,
    pub last_used_agent: Option<String>,
}

/// What a presented bearer token turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenCheck {
    Valid {
        connection_id: String,
        token_id: String,
        prefix: String,
    },
    /// Revoked: the token of `connection_id`, revoked at `at`.
    Revoked {
        connection_id: String,
        prefix: String,
        at: String,
    },
    /// Expired at `at`.
    Expired {
        connection_id: String,
        prefix: String,
        at: String,
    },
    Unknown,
}

/// A new secret: the prefix that says what it is, then 256 random bits, base64url.
pub fn new_secret(prefix: &str) -> String {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    format!("{prefix}{}", encode_url(&raw))
}

mod base64_lite {
    use base64::Engine;
    pub fn encode_url(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }
}

pub fn issue(
    db: &Connection,
    connection_id: &str,
    label: &str,
    now: DateTime<Utc>,
) -> Result<IssuedToken> {
    let secret = new_secret("mst_");
    let prefix = secret[..12].to_string();
    let id = uuid::Uuid::new_v4().to_string();
    db.prepare_cached(
        "INSERT INTO tokens (id, connection_id, label, prefix, hash, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        id,
        connection_id,
        label,
        prefix,
        TokenHash::of(&secret).as_bytes(),
        fmt_time(now)
    ])?;
    Ok(IssuedToken { id, secret, prefix })
}

/// What a temporary token is for: a short run of Muster's own against the connection. Each
/// use has its label in the token list and its row in the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemporaryUse {
    /// The console's connection test (a SCIM round trip); the token is removed after it.
    ConnectionTest,
    /// The readiness checks against the connection; the token is revoked after the run.
    ReadinessCheck,
}

impl TemporaryUse {
    fn label(self) -> &'static str {
        match self {
            TemporaryUse::ConnectionTest => "connection test",
            TemporaryUse::ReadinessCheck => "readiness check",
        }
    }
}

/// A token for a short run of Muster's own against the connection (`TemporaryUse`), audited
/// with the actor who started the run: it stops working after `ttl` even if
/// `end_temporary` never runs.
pub fn issue_temporary(
    db: &Connection,
    connection_id: &str,
    use_: TemporaryUse,
    ttl: chrono::Duration,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<IssuedToken> {
    ensure_connection(db, connection_id)?;
    let t = issue(db, connection_id, use_.label(), now)?;
    db.prepare_cached("UPDATE tokens SET expires_at = ?2 WHERE id = ?1")?
        .execute(params![t.id, fmt_time(now + ttl)])?;
    let (action, detail) = match use_ {
        TemporaryUse::ConnectionTest => (
            "connection_tested",
            "SCIM round trip with a temporary token, removed after the test",
        ),
        TemporaryUse::ReadinessCheck => {
            ("readiness_check", "temporary token, revoked after the run")
        }
    };
    audit::record(
        db,
        Some(connection_id),
        actor,
        action,
        Some(&t.prefix),
        Some(detail),
        now,
    )?;
    Ok(t)
}

/// Ends a temporary token's run. A connection test's token is removed with its last-use
/// record, so the test leaves nothing in the token list or in what its IdP's traffic looks
/// like; a readiness check's stays listed as revoked, as the report it produced refers to it.
pub fn end_temporary(
    db: &Connection,
    connection_id: &str,
    token_id: &str,
    use_: TemporaryUse,
    now: DateTime<Utc>,
) -> Result<()> {
    match use_ {
        TemporaryUse::ConnectionTest => {
            db.prepare_cached("DELETE FROM tokens WHERE connection_id = ?1 AND id = ?2")?
                .execute(params![connection_id, token_id])?;
        }
        TemporaryUse::ReadinessCheck => {
            db.prepare_cached(
                "UPDATE tokens SET revoked_at = ?3 WHERE connection_id = ?1 AND id = ?2 AND revoked_at IS NULL",
            )?
            .execute(params![connection_id, token_id, fmt_time(now)])?;
        }
    }
    Ok(())
}

fn ensure_connection(db: &Connection, connection_id: &str) -> Result<()> {
    crate::connections::get(db, connection_id)?
        .map(|_| ())
        .ok_or_else(|| Error::NotFound(format!("connection {connection_id}")))
}

/// Looks a presented token up by its hash and confirms the match in constant time.
pub fn check(db: &Connection, presented: &str, now: DateTime<Utc>) -> Result<TokenCheck> {
    let hash = TokenHash::of(presented);
    let row = db
        .prepare_cached(
            "SELECT id, connection_id, prefix, hash, expires_at, revoked_at FROM tokens WHERE hash = ?1",
        )?
        .query_row([hash.as_bytes()],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            })
        .optional()?;
    let Some((token_id, connection_id, prefix, stored, expires_at, revoked_at)) = row else {
        return Ok(TokenCheck::Unknown);
    };
    if !bool::from(stored.as_slice().ct_eq(hash.as_bytes())) {
        return Ok(TokenCheck::Unknown);
    }
    if let Some(at) = revoked_at {
        return Ok(TokenCheck::Revoked {
            connection_id,
            prefix,
            at,
        });
    }
    if let Some(exp) = expires_at {
        if exp <= fmt_time(now) {
            return Ok(TokenCheck::Expired {
                connection_id,
                prefix,
                at: exp,
            });
        }
    }
    Ok(TokenCheck::Valid {
        connection_id,
        token_id,
        prefix,
    })
}

/// Records a token's last use (at most once a second per token, to keep writes cheap).
pub fn touch(
    db: &Connection,
    token_id: &str,
    now: DateTime<Utc>,
    addr: Option<&str>,
    agent: Option<&str>,
) -> Result<()> {
    let at = fmt_time(now);
    db.prepare_cached(
        "UPDATE tokens SET last_used_at = ?2, last_used_addr = ?3, last_used_agent = ?4
         WHERE id = ?1 AND (last_used_at IS NULL OR substr(last_used_at, 1, 19) != substr(?2, 1, 19)
                            OR last_used_addr IS DISTINCT FROM ?3 OR last_used_agent IS DISTINCT FROM ?4)",
    )?
    .execute(params![token_id, at, addr, agent])?;
    Ok(())
}

pub fn list(db: &Connection, connection_id: &str) -> Result<Vec<TokenRecord>> {
    let mut stmt = db.prepare(
        "SELECT id, connection_id, label, prefix, created_at, expires_at, revoked_at,
                last_used_at, last_used_addr, last_used_agent
         FROM tokens WHERE connection_id = ?1 AND oauth_grant IS NULL ORDER BY created_at, id",
    )?;
    let rows = stmt
        .query_map([connection_id], |r| {
            Ok(TokenRecord {
                id: r.get(0)?,
                connection_id: r.get(1)?,
                label: r.get(2)?,
                prefix: r.get(3)?,
                created_at: r.get(4)?,
                expires_at: r.get(5)?,
                revoked_at: r.get(6)?,
                last_used_at: r.get(7)?,
                last_used_addr: r.get(8)?,
                last_used_agent: r.get(9)?,
            })
        })?
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Issues a new token and lets every other live token of the connection expire after
/// `grace` (zero: at once), so an IdP keeps working until the admin updates it. Audited as
/// `token_rotated` with the new token's prefix, whoever rotates (console, CLI, demo).
pub fn rotate(
    db: &Connection,
    connection_id: &str,
    grace: chrono::Duration,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<IssuedToken> {
    ensure_connection(db, connection_id)?;
    let until = fmt_time(now + grace);
    db.prepare_cached("UPDATE tokens SET expires_at = ?2
         WHERE connection_id = ?1 AND oauth_grant IS NULL AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?2)")?.execute(params![connection_id, until])?;
    let t = issue(db, connection_id, "rotated", now)?;
    audit::record(
        db,
        Some(connection_id),
        actor,
        "token_rotated",
        Some(&t.prefix),
        Some(&format!("old tokens valid for {} s", grace.num_seconds())),
        now,
    )?;
    Ok(t)
}

/// Revokes one live token (by id or prefix) at once. Audited as `token_revoked`.
pub fn revoke(
    db: &Connection,
    connection_id: &str,
    token: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<TokenRecord> {
    let changed = db.prepare_cached(
        "UPDATE tokens SET revoked_at = ?3 WHERE connection_id = ?1 AND (id = ?2 OR prefix = ?2) AND revoked_at IS NULL AND oauth_grant IS NULL",
    )?
    .execute(params![connection_id, token, fmt_time(now)])?;
    if changed == 0 {
        return Err(Error::NotFound(format!(
            "no live token {token} on this connection"
        )));
    }
    let t = list(db, connection_id)?
        .into_iter()
        .find(|t| t.id == token || t.prefix == token)
        .ok_or_else(|| Error::NotFound(token.to_string()))?;
    audit::record(
        db,
        Some(connection_id),
        actor,
        "token_revoked",
        Some(&t.prefix),
        None,
        now,
    )?;
    Ok(t)
}

/// Live tokens (not revoked, not yet expired) that expire by `now + within`, across every
/// connection: the `muster_tokens_expiring_7d` gauge, so an IdP is updated before its token
/// stops working. Stored times are `fmt_time` strings, which sort as they compare.
pub fn count_expiring(
    db: &Connection,
    now: DateTime<Utc>,
    within: chrono::Duration,
) -> Result<i64> {
    db
        .prepare_cached(
            "SELECT COUNT(*) FROM tokens
             WHERE revoked_at IS NULL AND oauth_grant IS NULL AND expires_at > ?1 AND expires_at <= ?2",
        )?
        .query_row(params![fmt_time(now), fmt_time(now + within)], |r| r.get(0))
}

/// Whether a request from `addr` with user agent `agent` looks like this connection's IdP:
/// one of the connection's tokens was last used from that address with that agent within
/// the last day. A refused request with an unknown token counts against health only then.
pub fn looks_like_idp(
    db: &Connection,
    connection_id: &str,
    addr: &str,
    agent: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool> {
    db.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM tokens WHERE connection_id = ?1 AND last_used_addr = ?2
                 AND last_used_agent IS NOT DISTINCT FROM ?3 AND last_used_at >= ?4)",
    )?
    .query_row(
        params![
            connection_id,
            addr,
            agent,
            fmt_time(now - chrono::Duration::days(1))
        ],
        |r| r.get(0),
    )
}
