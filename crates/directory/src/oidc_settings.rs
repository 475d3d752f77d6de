//! The identity provider the console signs admins in with, as an owner saved it: issuer and
//! client id (a confidential client's secret is never stored here; it stays in the server's
//! environment). Saved and cleared with an audit row.

use crate::audit::{self, Actor};
use crate::clock::fmt_time;
use crate::error::{Error, Result};
use crate::sql::{params, Connection, OptionalExtension};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What an owner saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedOidc {
    pub issuer: String,
    pub client_id: String,
    pub updated_at: String,
}

/// The longest issuer URL or client id accepted.
const MAX_LEN: usize = 1024;

/// The saved settings, if any.
pub fn get(c: &Connection) -> Result<Option<SavedOidc>> {
    c.query_row(
        "SELECT issuer, client_id, updated_at FROM oidc_settings WHERE id = 1",
        (),
        |r| {
            Ok(SavedOidc {
                issuer: r.get(0)?,
                client_id: r.get(1)?,
                updated_at: r.get(2)?,
            })
        },
    )
    .optional()
}

/// Checks the shape of an issuer and client id: the issuer an `https://` URL (plain `http://`
/// only on loopback) with no query or fragment (OpenID Connect Discovery §3), the client id
/// non-empty. Whether the issuer answers is the caller's check.
pub fn check(issuer: &str, client_id: &str) -> Result<()> {
    let bad = |m: &str| Err(Error::Invalid(m.to_string()));
    if issuer.len() > MAX_LEN || client_id.len() > MAX_LEN {
        return bad("the issuer and client id are at most 1024 characters");
    }
    if client_id.trim().is_empty() || client_id.trim() != client_id {
        return bad("the client id is empty or has spaces around it");
    }
    let Some((scheme, rest)) = issuer.split_once("://") else {
        return bad("the issuer must be a URL such as https://login.example.com");
    };
    let host = rest.split(['/', ':']).next().unwrap_or("");
    let loopback = matches!(host, "127.0.0.1" | "localhost") || rest.starts_with("[::1]");
    if !(scheme == "https" || (scheme == "http" && loopback)) || host.is_empty() {
        return bad("the issuer must be an https:// URL (plain http:// only on loopback)");
    }
    if issuer.contains(['?', '#', ' ']) {
        return bad("the issuer has no query, fragment or spaces");
    }
    Ok(())
}

/// Saves the settings, replacing any earlier ones, with an `oidc.settings` audit row.
pub fn save(
    c: &Connection,
    issuer: &str,
    client_id: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<SavedOidc> {
    check(issuer, client_id)?;
    let at = fmt_time(now);
    c.execute(
        "INSERT INTO oidc_settings (id, issuer, client_id, updated_at) VALUES (1, ?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET issuer = ?1, client_id = ?2, updated_at = ?3",
        params![issuer, client_id, at],
    )?;
    let detail = format!("issuer {issuer}, client {client_id}");
    audit::record(c, None, actor, "oidc.settings", None, Some(&detail), now)?;
    Ok(SavedOidc {
        issuer: issuer.to_string(),
        client_id: client_id.to_string(),
        updated_at: at,
    })
}

/// Turns identity-provider sign-in off (local accounts only), with an audit row.
pub fn clear(c: &Connection, actor: &Actor, now: DateTime<Utc>) -> Result<()> {
    let removed = c.execute("DELETE FROM oidc_settings WHERE id = 1", ())?;
    if removed > 0 {
        audit::record(c, None, actor, "oidc.settings", None, Some("off"), now)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_must_be_https_or_loopback_urls() {
        assert!(check("https://login.example.com", "muster").is_ok());
        assert!(check("https://login.example.com/tenant/v2.0", "muster").is_ok());
        assert!(check("http://127.0.0.1:9000", "muster").is_ok());
        assert!(check("http://[::1]:9000", "muster").is_ok());
        for bad in [
            "http://login.example.com",
            "login.example.com",
            "https://",
            "https://login.example.com?x=1",
            "https://login.example.com#f",
            "ftp://login.example.com",
        ] {
            assert!(check(bad, "muster").is_err(), "{bad}");
        }
        assert!(check("https://login.example.com", "").is_err());
        assert!(check("https://login.example.com", " muster").is_err());
    }
}
