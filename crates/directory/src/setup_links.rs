//! Setup links: one connection's expiring, revocable link for the customer's IT admin (no
//! console account): its status (sent, opened, configured, first sync), the one reveal of a
//! SCIM credential, and the progress the setup page shows. Secrets stored only as SHA-256.

use crate::audit::{self, Actor};
use crate::clock::fmt_time;
use crate::error::{Error, Result};
use crate::oauth::{self, IssuedSecret};
use crate::sql::{params, Connection, OptionalExtension, Row};
use crate::tokens::{self, IssuedToken, TokenHash};
use chrono::{DateTime, Utc};
use rand::RngCore;

/// What a link may be told to live for: an hour at least, thirty days at most.
pub const MIN_TTL_HOURS: i64 = 1;
pub const MAX_TTL_HOURS: i64 = 30 * 24;
/// The label of the SCIM token a setup page reveals, in the connection's token list.
pub const TOKEN_LABEL: &str = "setup link";

/// Which credential the IT admin chose for their IdP: a bearer token (every IdP), or OAuth
/// client credentials (Entra's recommended mode, any client-credentials client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    Bearer,
    OAuth,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Bearer => "bearer",
            CredentialKind::OAuth => "oauth",
        }
    }
}

/// The credential a reveal issued: the plaintext exists only here, to be shown once.
pub enum Revealed {
    Bearer(IssuedToken),
    /// A client secret of the connection's OAuth client (`oauth::client_id`).
    OAuth(IssuedSecret),
}

impl Revealed {
    fn id_and_prefix(&self) -> (&str, &str) {
        match self {
            Revealed::Bearer(t) => (&t.id, &t.prefix),
            Revealed::OAuth(s) => (&s.record.id, &s.record.prefix),
        }
    }
}

/// A freshly created link: the secret exists only here, to be sent once.
pub struct IssuedLink {
    pub link: SetupLink,
    pub secret: String,
}

/// Where a link stands, most advanced milestone first; an expired or revoked link is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LinkStatus {
    Sent,
    Opened,
    Configured,
    FirstSync,
    Expired,
    Revoked,
}

impl LinkStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkStatus::Sent => "sent",
            LinkStatus::Opened => "opened",
            LinkStatus::Configured => "configured",
            LinkStatus::FirstSync => "first_sync",
            LinkStatus::Expired => "expired",
            LinkStatus::Revoked => "revoked",
        }
    }
}

/// One link as stored, with its first sync: the first user or group created on its
/// connection after the credential was revealed.
#[derive(Debug, Clone, PartialEq)]
pub struct SetupLink {
    pub id: String,
    pub connection_id: String,
    pub prefix: String,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    pub opened_at: Option<String>,
    pub configured_at: Option<String>,
    /// `bearer` or `oauth`, once revealed.
    pub credential_kind: Option<String>,
    /// The token's or client secret's id, once revealed.
    pub credential_id: Option<String>,
    pub first_sync_at: Option<String>,
}

impl SetupLink {
    /// Revoked before expired: a link revoked and since expired was revoked.
    pub fn status(&self, now: DateTime<Utc>) -> LinkStatus {
        if self.revoked_at.is_some() {
            LinkStatus::Revoked
        } else if self.expires_at <= fmt_time(now) {
            LinkStatus::Expired
        } else if self.first_sync_at.is_some() {
            LinkStatus::FirstSync
        } else if self.configured_at.is_some() {
            LinkStatus::Configured
        } else if self.opened_at.is_some() {
            LinkStatus::Opened
        } else {
            LinkStatus::Sent
        }
    }
}

const COLUMNS: &str = "l.id, l.connection_id, l.prefix, l.created_at, l.expires_at, l.revoked_at,
    l.opened_at, l.configured_at, l.credential_kind, l.credential_id,
    CASE WHEN l.configured_at IS NULL THEN NULL ELSE (SELECT min(t) FROM (
        SELECT min(created_at) AS t FROM users WHERE connection_id = l.connection_id AND created_at >= l.configured_at
        UNION ALL
        SELECT min(created_at) FROM groups WHERE connection_id = l.connection_id AND created_at >= l.configured_at) AS firsts) END";

fn from_row(r: &Row) -> crate::Result<SetupLink> {
    Ok(SetupLink {
        id: r.get(0)?,
        connection_id: r.get(1)?,
        prefix: r.get(2)?,
        created_at: r.get(3)?,
        expires_at: r.get(4)?,
        revoked_at: r.get(5)?,
        opened_at: r.get(6)?,
        configured_at: r.get(7)?,
        credential_kind: r.get(8)?,
        credential_id: r.get(9)?,
        first_sync_at: r.get(10)?,
    })
}

fn by_id(db: &Connection, connection_id: &str, link_id: &str) -> Result<Option<SetupLink>> {
    db.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM setup_links l WHERE l.connection_id = ?1 AND l.id = ?2"
    ))?
    .query_row(params![connection_id, link_id], from_row)
    .optional()
}

/// A new link for a connection, living `ttl_hours` (1 hour to 30 days). Audited as
/// `setup_link_created` with the link's prefix.
pub fn create(
    db: &Connection,
    connection_id: &str,
    ttl_hours: i64,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<IssuedLink> {
    if !(MIN_TTL_HOURS..=MAX_TTL_HOURS).contains(&ttl_hours) {
        return Err(Error::Invalid(format!(
            "a setup link lives {MIN_TTL_HOURS} to {MAX_TTL_HOURS} hours, not {ttl_hours}"
        )));
    }
    if crate::connections::get(db, connection_id)?.is_none() {
        return Err(Error::NotFound(format!("connection {connection_id}")));
    }
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let secret = format!("msl_{}", hex::encode(raw));
    let prefix = secret[..12].to_string();
    let id = uuid::Uuid::new_v4().to_string();
    let expires_at = fmt_time(now + chrono::Duration::hours(ttl_hours));
    db.prepare_cached(
        "INSERT INTO setup_links (id, connection_id, prefix, hash, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        id,
        connection_id,
        prefix,
        TokenHash::of(&secret).as_bytes(),
        fmt_time(now),
        expires_at
    ])?;
    audit::record(
        db,
        Some(connection_id),
        actor,
        "setup_link_created",
        Some(&prefix),
        Some(&format!("expires {expires_at}")),
        now,
    )?;
    let link = by_id(db, connection_id, &id)?.ok_or_else(|| Error::NotFound(id.clone()))?;
    Ok(IssuedLink { link, secret })
}

/// A connection's links, newest first.
pub fn list(db: &Connection, connection_id: &str) -> Result<Vec<SetupLink>> {
    let mut stmt = db.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM setup_links l WHERE l.connection_id = ?1 ORDER BY l.created_at DESC, l.id"
    ))?;
    let rows = stmt.query_map([connection_id], from_row)?;
    rows.collect::<crate::Result<_>>()
}

/// Revokes one of the connection's links at once; revoking a revoked link changes nothing.
/// The token it revealed stays: the IdP may already use it (revoke that on the token list).
/// Audited as `setup_link_revoked`.
pub fn revoke(
    db: &Connection,
    connection_id: &str,
    link_id: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<SetupLink> {
    let link = by_id(db, connection_id, link_id)?
        .ok_or_else(|| Error::NotFound(format!("setup link {link_id}")))?;
    if link.revoked_at.is_some() {
        return Ok(link);
    }
    db.prepare_cached("UPDATE setup_links SET revoked_at = ?2 WHERE id = ?1")?
        .execute(params![link_id, fmt_time(now)])?;
    audit::record(
        db,
        Some(connection_id),
        actor,
        "setup_link_revoked",
        Some(&link.prefix),
        None,
        now,
    )?;
    by_id(db, connection_id, link_id)?.ok_or_else(|| Error::NotFound(link_id.to_string()))
}

/// The live link a presented secret belongs to. An unknown secret is `NotFound`; a revoked
/// or expired link is `Gone`, saying which and since when. The lookup is by the secret's
/// hash (an index seek), so timing says nothing about other links' secrets.
pub fn check(db: &Connection, presented: &str, now: DateTime<Utc>) -> Result<SetupLink> {
    let invalid = || Error::NotFound("this setup link is not valid".to_string());
    if !presented.starts_with("msl_") || presented.len() > 128 {
        return Err(invalid());
    }
    let link = db
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM setup_links l WHERE l.hash = ?1"
        ))?
        .query_row([TokenHash::of(presented).as_bytes()], from_row)
        .optional()?
        .ok_or_else(invalid)?;
    match link.status(now) {
        LinkStatus::Revoked => Err(Error::Gone(format!(
            "this setup link was revoked at {}; ask for a new one",
            link.revoked_at.as_deref().unwrap_or_default()
        ))),
        LinkStatus::Expired => Err(Error::Gone(format!(
            "this setup link expired at {}; ask for a new one",
            link.expires_at
        ))),
        _ => Ok(link),
    }
}

/// Stamps the link's first opening (later openings change nothing). Audited once, as
/// `setup_link_opened` with where it was opened from.
pub fn mark_opened(
    db: &Connection,
    link: &SetupLink,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<()> {
    let changed = db
        .prepare_cached(
            "UPDATE setup_links SET opened_at = ?2 WHERE id = ?1 AND opened_at IS NULL",
        )?
        .execute(params![link.id, fmt_time(now)])?;
    if changed == 1 {
        audit::record(
            db,
            Some(&link.connection_id),
            actor,
            "setup_link_opened",
            Some(&link.prefix),
            None,
            now,
        )?;
    }
    Ok(())
}

/// Issues the connection's SCIM credential for the IT admin, once per link: a bearer token
/// (labelled `setup link`) or a client secret of its OAuth client. A second reveal is a
/// `Conflict` (it was shown; a new link or the console gives another). Audited as
/// `setup_link_revealed` with the credential's prefix.
pub fn reveal(
    db: &Connection,
    presented: &str,
    kind: CredentialKind,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(SetupLink, Revealed)> {
    let link = check(db, presented, now)?;
    if let Some(at) = &link.configured_at {
        return Err(Error::Conflict(format!(
            "the credential was shown at {at} and cannot be shown again; ask for a new setup link"
        )));
    }
    let revealed = match kind {
        CredentialKind::Bearer => {
            Revealed::Bearer(tokens::issue(db, &link.connection_id, TOKEN_LABEL, now)?)
        }
        CredentialKind::OAuth => Revealed::OAuth(oauth::issue_secret(
            db,
            &link.connection_id,
            oauth::DEFAULT_SECRET_DAYS,
            actor,
            now,
        )?),
    };
    let (credential_id, prefix) = revealed.id_and_prefix();
    db.prepare_cached(
        "UPDATE setup_links SET configured_at = ?2, credential_kind = ?3, credential_id = ?4 WHERE id = ?1",
    )?
    .execute(params![link.id, fmt_time(now), kind.as_str(), credential_id])?;
    audit::record(
        db,
        Some(&link.connection_id),
        actor,
        "setup_link_revealed",
        Some(prefix),
        Some(&format!("{} by setup link {}", kind.as_str(), link.prefix)),
        now,
    )?;
    let link = by_id(db, &link.connection_id, &link.id)?
        .ok_or_else(|| Error::NotFound(link.id.clone()))?;
    Ok((link, revealed))
}

/// One request the connection received, as the setup page shows it: no body, no token.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestSeen {
    pub at: String,
    pub method: String,
    pub path: String,
    pub status: i64,
    pub outcome: crate::log::LogOutcome,
}

/// What the setup page shows live: the IdP's requests since the link was created (its
/// test call first), and the users and groups that arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub requests: i64,
    pub refused: i64,
    pub recent: Vec<RequestSeen>,
    pub users: i64,
    pub groups: i64,
    pub last_received_at: Option<String>,
}

/// Muster's own readiness runs are not the IdP's: their rows are left out.
pub fn progress(db: &Connection, link: &SetupLink) -> Result<Progress> {
    let (requests, refused): (i64, i64) = db
        .prepare_cached(
            "SELECT count(*), count(*) FILTER (WHERE status IN (401, 403))
             FROM provisioning_log
             WHERE connection_id = ?1 AND at >= ?2 AND (traffic IS NULL OR traffic = 'stray')",
        )?
        .query_row(params![link.connection_id, link.created_at], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let recent = db
        .prepare_cached(
            "SELECT at, method, path, status, outcome FROM provisioning_log
             WHERE connection_id = ?1 AND at >= ?2 AND (traffic IS NULL OR traffic = 'stray')
             ORDER BY id DESC LIMIT 8",
        )?
        .query_map(params![link.connection_id, link.created_at], |r| {
            let path: String = r.get(2)?;
            Ok(RequestSeen {
                at: r.get(0)?,
                method: r.get(1)?,
                // As the IdP names it: relative to the SCIM URL it was given.
                path: path
                    .strip_prefix(&format!("/{}", link.connection_id))
                    .map(str::to_string)
                    .unwrap_or(path),
                status: r.get(3)?,
                outcome: r.get(4)?,
            })
        })?
        .collect::<crate::Result<Vec<_>>>()?;
    let count = |table: &str| -> Result<(i64, Option<String>)> {
        db.prepare_cached(&format!(
            "SELECT count(*), max(last_synced_at) FROM {table}
                 WHERE connection_id = ?1 AND deleted_at IS NULL"
        ))?
        .query_row([&link.connection_id], |r| Ok((r.get(0)?, r.get(1)?)))
    };
    let (users, users_at) = count("users")?;
    let (groups, groups_at) = count("groups")?;
    Ok(Progress {
        requests,
        refused,
        recent,
        users,
        groups,
        last_received_at: users_at.max(groups_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `f` in a write transaction on a fresh store holding connections c1 and c2.
    fn with_store(f: impl FnOnce(&Connection, DateTime<Utc>) + Send + 'static) {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Db::open(&dir.path().join("t.db")).unwrap();
        let now: DateTime<Utc> = "2026-03-01T10:00:00Z".parse().unwrap();
        store
            .write_blocking(move |db| {
                db.execute(
                    "INSERT INTO connections (id, name, idp, created_at) VALUES ('c1', 'Acme', 'okta', ?1), ('c2', 'Other', 'entra', ?1)",
                    [fmt_time(now)],
                )?;
                f(db, now);
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn a_link_walks_from_sent_to_configured_and_reveals_once() {
        with_store(walk);
    }

    fn walk(db: &Connection, now: DateTime<Utc>) {
        let admin = Actor::Cli;
        let issued = create(db, "c1", 72, &admin, now).unwrap();
        assert!(issued.secret.starts_with("msl_") && issued.secret.len() == 68);
        assert_eq!(issued.link.status(now), LinkStatus::Sent);
        let stored: Vec<u8> = db
            .query_row("SELECT hash FROM setup_links", (), |r| r.get(0))
            .unwrap();
        assert_eq!(stored, TokenHash::of(&issued.secret).as_bytes());

        let link = check(db, &issued.secret, now).unwrap();
        let it = Actor::SetupLink {
            source: "203.0.113.9".into(),
        };
        mark_opened(db, &link, &it, now).unwrap();
        mark_opened(db, &link, &it, now + chrono::Duration::minutes(5)).unwrap();
        let link = check(db, &issued.secret, now).unwrap();
        assert_eq!(link.opened_at.as_deref(), Some(fmt_time(now).as_str()));
        assert_eq!(link.status(now), LinkStatus::Opened);

        let (link, revealed) =
            reveal(db, &issued.secret, CredentialKind::Bearer, &it, now).unwrap();
        let Revealed::Bearer(token) = revealed else {
            panic!("a bearer reveal issues a token")
        };
        assert_eq!(link.status(now), LinkStatus::Configured);
        assert_eq!(link.credential_kind.as_deref(), Some("bearer"));
        assert_eq!(link.credential_id.as_deref(), Some(token.id.as_str()));
        match tokens::check(db, &token.secret, now).unwrap() {
            tokens::TokenCheck::Valid { connection_id, .. } => assert_eq!(connection_id, "c1"),
            other => panic!("the revealed token must work: {other:?}"),
        }
        assert!(matches!(
            reveal(db, &issued.secret, CredentialKind::OAuth, &it, now),
            Err(Error::Conflict(m)) if m.contains("cannot be shown again")
        ));
        let actions: Vec<String> = db
            .prepare("SELECT action || ':' || actor FROM audit ORDER BY id")
            .unwrap()
            .query_map((), |r| r.get(0))
            .unwrap()
            .collect::<crate::Result<_>>()
            .unwrap();
        assert_eq!(
            actions,
            [
                "setup_link_created:cli",
                "setup_link_opened:setup_link",
                "setup_link_revealed:setup_link"
            ]
        );
    }

    #[test]
    fn expired_revoked_unknown_and_foreign_links_are_refused() {
        with_store(refusals);
    }

    fn refusals(db: &Connection, now: DateTime<Utc>) {
        let a = create(db, "c1", 1, &Actor::Cli, now).unwrap();
        let later = now + chrono::Duration::hours(1);
        assert!(
            matches!(check(db, &a.secret, later), Err(Error::Gone(m)) if m.contains("expired"))
        );
        assert!(check(db, &a.secret, later - chrono::Duration::seconds(1)).is_ok());

        let b = create(db, "c1", 24, &Actor::Cli, now).unwrap();
        revoke(db, "c1", &b.link.id, &Actor::Cli, now).unwrap();
        assert!(matches!(check(db, &b.secret, now), Err(Error::Gone(m)) if m.contains("revoked")));
        assert!(matches!(
            reveal(db, &b.secret, CredentialKind::Bearer, &Actor::Cli, now),
            Err(Error::Gone(_))
        ));

        assert!(matches!(check(db, "msl_00", now), Err(Error::NotFound(_))));
        assert!(matches!(
            check(db, "mst_whatever", now),
            Err(Error::NotFound(_))
        ));
        let c = create(db, "c2", 24, &Actor::Cli, now).unwrap();
        assert!(matches!(
            revoke(db, "c1", &c.link.id, &Actor::Cli, now),
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            create(db, "c1", 0, &Actor::Cli, now),
            Err(Error::Invalid(_))
        ));
        assert!(matches!(
            create(db, "c1", 721, &Actor::Cli, now),
            Err(Error::Invalid(_))
        ));
        assert!(matches!(
            create(db, "nope", 24, &Actor::Cli, now),
            Err(Error::NotFound(_))
        ));
    }
}
