//! Pending identity-provider sign-ins (OpenID Connect authorization code flow with PKCE):
//! the state (kept only as its SHA-256), nonce and PKCE verifier of each started sign-in,
//! spent once when the provider sends the browser back, refused once expired.

use crate::clock::fmt_time;
use crate::error::Result;
use crate::sql::{params, Connection, OptionalExtension};
use crate::tokens::{new_secret, TokenHash};
use chrono::{DateTime, Duration, Utc};

/// A started sign-in must be finished within this.
pub const EXPIRES_MINUTES: i64 = 10;

/// A started sign-in: the state goes to the provider in the authorization URL; the nonce
/// and the verifier's S256 challenge too; the verifier only at the token endpoint.
#[derive(Debug, Clone)]
pub struct StartedLogin {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

/// What a finished sign-in needs back: the nonce the ID token must carry, the verifier for
/// the code exchange and the redirect URI the code was issued for.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingLogin {
    pub nonce: String,
    pub verifier: String,
    pub redirect_uri: String,
}

/// Why an identity-provider sign-in was refused before anyone was looked up: the returning
/// state, the provider, the code exchange or the ID token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OidcRefusal {
    StateUnknown,
    StateReplayed,
    StateExpired,
    /// The provider cannot be reached, or its discovery document or keys are unusable.
    Unavailable,
    /// The token endpoint refused the authorization code.
    Code,
    /// The ID token is not a JWT Muster accepts (shape, algorithm, claims).
    Token,
    Signature,
    Issuer,
    Audience,
    Nonce,
    Expired,
}

impl OidcRefusal {
    pub fn code(self) -> &'static str {
        match self {
            OidcRefusal::StateUnknown => "oidc_state_unknown",
            OidcRefusal::StateReplayed => "oidc_state_replayed",
            OidcRefusal::StateExpired => "oidc_state_expired",
            OidcRefusal::Unavailable => "oidc_unavailable",
            OidcRefusal::Code => "oidc_code",
            OidcRefusal::Token => "oidc_token",
            OidcRefusal::Signature => "oidc_signature",
            OidcRefusal::Issuer => "oidc_issuer",
            OidcRefusal::Audience => "oidc_audience",
            OidcRefusal::Nonce => "oidc_nonce",
            OidcRefusal::Expired => "oidc_expired",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            OidcRefusal::StateUnknown => "this sign-in was not started here; start again",
            OidcRefusal::StateReplayed => "this sign-in was already used; start again",
            OidcRefusal::StateExpired => "this sign-in took longer than 10 minutes; start again",
            OidcRefusal::Unavailable => {
                "the identity provider cannot be reached or is misconfigured"
            }
            OidcRefusal::Code => "the identity provider refused the sign-in code; start again",
            OidcRefusal::Token => "the identity provider's ID token is not acceptable",
            OidcRefusal::Signature => {
                "the ID token's signature does not verify with the identity provider's keys"
            }
            OidcRefusal::Issuer => "the ID token is from another issuer",
            OidcRefusal::Audience => "the ID token is for another client",
            OidcRefusal::Nonce => "the ID token does not belong to this sign-in (nonce)",
            OidcRefusal::Expired => "the ID token has expired or is not valid yet",
        }
    }
}

/// Records a new pending sign-in for `redirect_uri`, expiring in `EXPIRES_MINUTES`.
pub fn start(c: &Connection, redirect_uri: &str, now: DateTime<Utc>) -> Result<StartedLogin> {
    let started = StartedLogin {
        // 256 random bits each; the verifier is 43 characters of base64url (RFC 7636 §4.1).
        state: new_secret(""),
        nonce: new_secret(""),
        verifier: new_secret(""),
    };
    c.execute(
        "INSERT INTO oidc_logins (state_hash, nonce, verifier, redirect_uri, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            TokenHash::of(&started.state).as_bytes(),
            started.nonce,
            started.verifier,
            redirect_uri,
            fmt_time(now),
            fmt_time(now + Duration::minutes(EXPIRES_MINUTES)),
        ],
    )?;
    // Old rows are of no use to anyone: each start sweeps those expired a day ago.
    c.execute(
        "DELETE FROM oidc_logins WHERE expires_at < ?1",
        params![fmt_time(now - Duration::days(1))],
    )?;
    Ok(started)
}

/// Spends a returning state: the first use of a live one gets its pending sign-in; a second
/// use is a replay; an expired one is spent too and refused.
pub fn take(
    c: &Connection,
    state: &str,
    now: DateTime<Utc>,
) -> Result<std::result::Result<PendingLogin, OidcRefusal>> {
    let row = c
        .query_row(
            "SELECT nonce, verifier, redirect_uri, expires_at, used_at FROM oidc_logins
             WHERE state_hash = ?1",
            params![TokenHash::of(state).as_bytes()],
            |r| {
                Ok((
                    PendingLogin {
                        nonce: r.get(0)?,
                        verifier: r.get(1)?,
                        redirect_uri: r.get(2)?,
                    },
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            },
        )
        .optional()?;
    let Some((pending, expires_at, used_at)) = row else {
        return Ok(Err(OidcRefusal::StateUnknown));
    };
    if used_at.is_some() {
        return Ok(Err(OidcRefusal::StateReplayed));
    }
    c.execute(
        "UPDATE oidc_logins SET used_at = ?2 WHERE state_hash = ?1",
        params![TokenHash::of(state).as_bytes(), fmt_time(now)],
    )?;
    let expired = expires_at
        .parse::<DateTime<Utc>>()
        .map_or(true, |t| t <= now);
    if expired {
        return Ok(Err(OidcRefusal::StateExpired));
    }
    Ok(Ok(pending))
}
