//! OAuth 2.0 for IdPs: per connection, its client id, client secrets (several live at once,
//! stored only as SHA-256), the access-token lifetime and the workload identity federation
//! settings; and the grant itself, which checks a client secret in constant time and issues
//! a short-lived access token as a `tokens` row, so SCIM accepts it like a bearer token.

use crate::audit::{self, Actor};
use crate::clock::fmt_time;
use crate::error::{Error, Result};
use crate::sql::{params, Connection, OptionalExtension};
use crate::tokens::TokenHash;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

/// A connection's client id is `mc_` and its id without hyphens: stable, and not a secret.
pub const CLIENT_ID_PREFIX: &str = "mc_";
/// Client secrets start with this, access tokens with `ACCESS_TOKEN_PREFIX`.
pub const SECRET_PREFIX: &str = "mcs_";
pub const ACCESS_TOKEN_PREFIX: &str = "mat_";
/// Access-token lifetimes Microsoft accepts: one to six hours.
pub const MIN_LIFETIME_SECS: i64 = 3600;
pub const MAX_LIFETIME_SECS: i64 = 21600;
pub const DEFAULT_LIFETIME_SECS: i64 = 3600;
/// Client secrets live one to three years, two by default.
pub const MIN_SECRET_DAYS: i64 = 365;
pub const MAX_SECRET_DAYS: i64 = 1095;
pub const DEFAULT_SECRET_DAYS: i64 = 730;

/// The client id of a connection.
pub fn client_id(connection_id: &str) -> String {
    format!("{CLIENT_ID_PREFIX}{}", connection_id.replace('-', ""))
}

/// The connection a client id names, if it is well formed (whether it exists is the caller's).
pub fn connection_of(client_id: &str) -> Option<String> {
    let rest = client_id.strip_prefix(CLIENT_ID_PREFIX)?;
    if rest.len() != 32 || !rest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    uuid::Uuid::parse_str(rest)
        .ok()
        .map(|u| u.hyphenated().to_string())
}

/// A connection's OAuth settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OAuthSettings {
    /// Lifetime of the access tokens the token endpoint issues, 3600 to 21600 seconds.
    pub token_lifetime_secs: i64,
    /// Workload identity federation: the issuer whose signed assertions are accepted
    /// (its `/.well-known/openid-configuration` names the JWKS). None: federation is off.
    pub federation_issuer: Option<String>,
    /// The `sub` the assertion must carry.
    pub federation_subject: Option<String>,
    /// The `aud` the assertion must carry; None: the token endpoint's URL.
    pub federation_audience: Option<String>,
}

impl Default for OAuthSettings {
    fn default() -> Self {
        OAuthSettings {
            token_lifetime_secs: DEFAULT_LIFETIME_SECS,
            federation_issuer: None,
            federation_subject: None,
            federation_audience: None,
        }
    }
}

/// A client secret as listed: never the secret itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClientSecretRecord {
    pub id: String,
    pub prefix: String,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

/// A freshly issued client secret: the plaintext exists only here, to be shown once.
pub struct IssuedSecret {
    pub secret: String,
    pub record: ClientSecretRecord,
}

/// An issued access token: the plaintext exists only here, to be sent once.
pub struct AccessToken {
    pub token: String,
    pub expires_in: i64,
}

/// How the client proved who it is.
pub enum ClientProof {
    Secret(String),
    /// A federation assertion the caller already verified against the connection's settings.
    VerifiedAssertion,
}

/// Why a grant was refused: RFC 6749 §5.2's `invalid_client`, with a description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidClient(pub String);

fn ensure_connection(db: &Connection, connection_id: &str) -> Result<()> {
    crate::connections::get(db, connection_id)?
        .map(|_| ())
        .ok_or_else(|| Error::NotFound(format!("connection {connection_id}")))
}

pub fn settings(db: &Connection, connection_id: &str) -> Result<OAuthSettings> {
    ensure_connection(db, connection_id)?;
    Ok(db
        .prepare_cached(
            "SELECT token_lifetime_secs, federation_issuer, federation_subject, federation_audience
             FROM oauth_settings WHERE connection_id = ?1",
        )?
        .query_row([connection_id], |r| {
            Ok(OAuthSettings {
                token_lifetime_secs: r.get(0)?,
                federation_issuer: r.get(1)?,
                federation_subject: r.get(2)?,
                federation_audience: r.get(3)?,
            })
        })
        .optional()?
        .unwrap_or_default())
}

fn blank_to_none(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Saves the settings after checking them (lifetime in range; a federation issuer is an
/// http(s) URL and comes with a subject). Audited as `oauth_settings_changed`.
pub fn save_settings(
    db: &Connection,
    connection_id: &str,
    s: &OAuthSettings,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<OAuthSettings> {
    ensure_connection(db, connection_id)?;
    if !(MIN_LIFETIME_SECS..=MAX_LIFETIME_SECS).contains(&s.token_lifetime_secs) {
        return Err(Error::Invalid(format!(
            "token_lifetime_secs must be between {MIN_LIFETIME_SECS} and {MAX_LIFETIME_SECS}"
        )));
    }
    let clean = OAuthSettings {
        token_lifetime_secs: s.token_lifetime_secs,
        federation_issuer: blank_to_none(&s.federation_issuer),
        federation_subject: blank_to_none(&s.federation_subject),
        federation_audience: blank_to_none(&s.federation_audience),
    };
    if let Some(iss) = &clean.federation_issuer {
        let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
            .iter()
            .any(|p| {
                iss.strip_prefix(p)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/']))
            });
        if !(iss.starts_with("https://") || loopback) {
            return Err(Error::Invalid(
                "federation_issuer must be an https:// URL (http:// only on loopback)".into(),
            ));
        }
        if clean.federation_subject.is_none() {
            return Err(Error::Invalid(
                "federation_subject is required with a federation issuer".into(),
            ));
        }
    }
    db.prepare_cached(
        "INSERT INTO oauth_settings (connection_id, token_lifetime_secs, federation_issuer, federation_subject, federation_audience)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (connection_id) DO UPDATE SET token_lifetime_secs = ?2, federation_issuer = ?3,
             federation_subject = ?4, federation_audience = ?5",
    )?
    .execute(params![
        connection_id,
        clean.token_lifetime_secs,
        clean.federation_issuer,
        clean.federation_subject,
        clean.federation_audience
    ])?;
    let detail = format!(
        "access tokens live {} s; federation {}",
        clean.token_lifetime_secs,
        match &clean.federation_issuer {
            Some(i) => format!("from {i}"),
            None => "off".into(),
        }
    );
    audit::record(
        db,
        Some(connection_id),
        actor,
        "oauth_settings_changed",
        None,
        Some(&detail),
        now,
    )?;
    Ok(clean)
}

pub fn list_secrets(db: &Connection, connection_id: &str) -> Result<Vec<ClientSecretRecord>> {
    let mut stmt = db.prepare_cached(
        "SELECT id, prefix, created_at, expires_at, revoked_at, last_used_at
         FROM oauth_client_secrets WHERE connection_id = ?1 ORDER BY created_at, id",
    )?;
    let rows = stmt
        .query_map([connection_id], |r| {
            Ok(ClientSecretRecord {
                id: r.get(0)?,
                prefix: r.get(1)?,
                created_at: r.get(2)?,
                expires_at: r.get(3)?,
                revoked_at: r.get(4)?,
                last_used_at: r.get(5)?,
            })
        })?
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Issues a client secret valid for `days` (one to three years); the others stay live.
/// Audited as `oauth_secret_issued` with its prefix.
pub fn issue_secret(
    db: &Connection,
    connection_id: &str,
    days: i64,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<IssuedSecret> {
    ensure_connection(db, connection_id)?;
    if !(MIN_SECRET_DAYS..=MAX_SECRET_DAYS).contains(&days) {
        return Err(Error::Invalid(format!(
            "a client secret lives between {MIN_SECRET_DAYS} and {MAX_SECRET_DAYS} days"
        )));
    }
    let secret = crate::tokens::new_secret(SECRET_PREFIX);
    let record = ClientSecretRecord {
        id: uuid::Uuid::new_v4().to_string(),
        prefix: secret[..12].to_string(),
        created_at: fmt_time(now),
        expires_at: fmt_time(now + chrono::Duration::days(days)),
        revoked_at: None,
        last_used_at: None,
    };
    db.prepare_cached(
        "INSERT INTO oauth_client_secrets (id, connection_id, prefix, hash, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        record.id,
        connection_id,
        record.prefix,
        TokenHash::of(&secret).as_bytes(),
        record.created_at,
        record.expires_at
    ])?;
    audit::record(
        db,
        Some(connection_id),
        actor,
        "oauth_secret_issued",
        Some(&record.prefix),
        Some(&format!("expires {}", record.expires_at)),
        now,
    )?;
    Ok(IssuedSecret { secret, record })
}

/// Revokes one live client secret (by id or prefix) and the access tokens it obtained.
/// Audited as `oauth_secret_revoked`.
pub fn revoke_secret(
    db: &Connection,
    connection_id: &str,
    secret: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<ClientSecretRecord> {
    ensure_connection(db, connection_id)?;
    let found = list_secrets(db, connection_id)?
        .into_iter()
        .find(|s| (s.id == secret || s.prefix == secret) && s.revoked_at.is_none())
        .ok_or_else(|| {
            Error::NotFound(format!("no live client secret {secret} on this connection"))
        })?;
    let at = fmt_time(now);
    db.prepare_cached(
        "UPDATE oauth_client_secrets SET revoked_at = ?3 WHERE connection_id = ?1 AND id = ?2",
    )?
    .execute(params![connection_id, found.id, at])?;
    let revoked_tokens = db
        .prepare_cached(
            "UPDATE tokens SET revoked_at = ?3
             WHERE connection_id = ?1 AND oauth_grant = ?2 AND revoked_at IS NULL AND expires_at > ?3",
        )?
        .execute(params![connection_id, format!("secret:{}", found.id), at])?;
    audit::record(
        db,
        Some(connection_id),
        actor,
        "oauth_secret_revoked",
        Some(&found.prefix),
        Some(&format!(
            "{revoked_tokens} live access token(s) revoked with it"
        )),
        now,
    )?;
    Ok(ClientSecretRecord {
        revoked_at: Some(at),
        ..found
    })
}

/// Checks a presented client secret against the connection's, in constant time. Returns
/// the secret's id, or why it is refused.
fn check_secret(
    db: &Connection,
    connection_id: &str,
    presented: &str,
    now: DateTime<Utc>,
) -> Result<std::result::Result<String, InvalidClient>> {
    let hash = TokenHash::of(presented);
    let row = db
        .prepare_cached(
            "SELECT id, connection_id, hash, expires_at, revoked_at
             FROM oauth_client_secrets WHERE hash = ?1",
        )?
        .query_row([hash.as_bytes()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })
        .optional()?;
    let bad = || Ok(Err(InvalidClient("client authentication failed".into())));
    let Some((id, owner, stored, expires_at, revoked_at)) = row else {
        return bad();
    };
    if !bool::from(stored.as_slice().ct_eq(hash.as_bytes())) || owner != connection_id {
        return bad();
    }
    if let Some(at) = revoked_at {
        return Ok(Err(InvalidClient(format!(
            "this client secret was revoked at {at}"
        ))));
    }
    if expires_at <= fmt_time(now) {
        return Ok(Err(InvalidClient(format!(
            "this client secret expired at {expires_at}"
        ))));
    }
    Ok(Ok(id))
}

/// The client credentials grant: authenticates the client of `connection_id` and issues an
/// access token for that connection that lives the configured lifetime. Expired access
/// tokens of the connection older than a day are removed on the way.
pub fn grant(
    db: &Connection,
    connection_id: &str,
    proof: &ClientProof,
    now: DateTime<Utc>,
) -> Result<std::result::Result<AccessToken, InvalidClient>> {
    if crate::connections::get(db, connection_id)?.is_none() {
        return Ok(Err(InvalidClient("unknown client".into())));
    }
    let via = match proof {
        ClientProof::Secret(s) => match check_secret(db, connection_id, s, now)? {
            Ok(id) => {
                db.prepare_cached(
                    "UPDATE oauth_client_secrets SET last_used_at = ?2 WHERE id = ?1",
                )?
                .execute(params![id, fmt_time(now)])?;
                format!("secret:{id}")
            }
            Err(e) => return Ok(Err(e)),
        },
        ClientProof::VerifiedAssertion => "federation".to_string(),
    };
    let lifetime = settings(db, connection_id)?.token_lifetime_secs;
    let token = crate::tokens::new_secret(ACCESS_TOKEN_PREFIX);
    db.prepare_cached(
        "DELETE FROM tokens WHERE connection_id = ?1 AND oauth_grant IS NOT NULL AND expires_at < ?2",
    )?
    .execute(params![
        connection_id,
        fmt_time(now - chrono::Duration::days(1))
    ])?;
    db.prepare_cached(
        "INSERT INTO tokens (id, connection_id, label, prefix, hash, created_at, expires_at, oauth_grant)
         VALUES (?1, ?2, 'oauth access token', ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        uuid::Uuid::new_v4().to_string(),
        connection_id,
        &token[..12],
        TokenHash::of(&token).as_bytes(),
        fmt_time(now),
        fmt_time(now + chrono::Duration::seconds(lifetime)),
        via
    ])?;
    Ok(Ok(AccessToken {
        token,
        expires_in: lifetime,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_round_trip_and_refuse_anything_else() {
        let id = "0b6e3f8e-3c1a-4f57-9a43-8f1f0c2b9d11";
        let cid = client_id(id);
        assert_eq!(cid, "mc_0b6e3f8e3c1a4f579a438f1f0c2b9d11");
        assert_eq!(connection_of(&cid).as_deref(), Some(id));
        assert_eq!(connection_of(id), None);
        assert_eq!(connection_of("mc_0b6e3f8e-3c1a-4f57-9a43-8f1f0c2b"), None);
        assert_eq!(connection_of("mc_"), None);
    }
}
