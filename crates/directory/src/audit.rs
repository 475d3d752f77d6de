//! The audit trail of admin actions (token issue/rotate/revoke, mapping edits, restores):
//! when, which connection, which token prefix, from where. Never a secret.

use crate::access::Role;
use crate::clock::fmt_time;
use crate::error::Result;
use crate::sql::{params, Connection};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub connection_id: Option<String>,
    pub actor: String,
    pub action: String,
    pub token_prefix: Option<String>,
    pub source: Option<String>,
    pub detail: Option<String>,
    /// The signed-in person, when a person did it (not the admin secret, CLI or Muster).
    pub actor_email: Option<String>,
    pub actor_subject: Option<String>,
    pub actor_role: Option<String>,
    pub user_agent: Option<String>,
}

/// Who did an admin action, from every entry point the same way: the console's admin API
/// (with the address it came from), the `muster` CLI on the server's host, the live demo, or
/// Muster itself. Stored as its name, with the address as the row's `source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The console or any caller of the admin API, from this address: the signed-in person,
    /// or, with none, whoever holds the admin secret (the desktop app's own user).
    Admin {
        source: String,
        person: Option<Person>,
        user_agent: Option<String>,
    },
    /// The `muster` CLI, run on the server's host against its database.
    Cli,
    /// The scripted live demo.
    Demo,
    /// Muster itself: scheduled work such as retention.
    System,
    /// The customer's IT admin on a connection's setup page, holding its link, from this address.
    SetupLink { source: String },
}

impl Actor {
    /// The name stored in the audit trail's `actor` column.
    pub fn name(&self) -> &'static str {
        match self {
            Actor::Admin { .. } => "admin",
            Actor::Cli => "cli",
            Actor::Demo => "demo",
            Actor::System => "system",
            Actor::SetupLink { .. } => "setup_link",
        }
    }

    /// Where the action came from, when a network address says it.
    pub fn source(&self) -> Option<&str> {
        match self {
            Actor::Admin { source, .. } | Actor::SetupLink { source } => Some(source),
            _ => None,
        }
    }
}

/// A signed-in admin as the audit trail names them: their account, email, the subject their
/// identity provider knows them by (when they signed in with it), and their role then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub admin_id: String,
    pub email: String,
    pub subject: Option<String>,
    pub role: Role,
}

impl Actor {
    /// An admin-API caller holding the admin secret (no person), as tests and the CLI's
    /// in-process callers name them.
    pub fn admin(source: &str) -> Actor {
        Actor::Admin {
            source: source.to_string(),
            person: None,
            user_agent: None,
        }
    }

    fn person(&self) -> Option<&Person> {
        match self {
            Actor::Admin { person, .. } => person.as_ref(),
            _ => None,
        }
    }

    fn user_agent(&self) -> Option<&str> {
        match self {
            Actor::Admin { user_agent, .. } => user_agent.as_deref(),
            _ => None,
        }
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Appends one row to the audit trail, inside the caller's transaction, so the row commits
/// with the change it records or not at all.
pub fn record(
    db: &Connection,
    connection_id: Option<&str>,
    actor: &Actor,
    action: &str,
    token_prefix: Option<&str>,
    detail: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    db.prepare_cached(
        "INSERT INTO audit (at, connection_id, actor, action, token_prefix, source, detail,
            actor_email, actor_subject, actor_role, user_agent)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        fmt_time(now),
        connection_id,
        actor.name(),
        action,
        token_prefix,
        actor.source(),
        detail,
        actor.person().map(|p| p.email.as_str()),
        actor.person().and_then(|p| p.subject.as_deref()),
        actor.person().map(|p| p.role.as_str()),
        actor.user_agent(),
    ])?;
    Ok(())
}

/// A connection's audit trail, newest first (the Tokens tab's; the Audit screen searches
/// every row with `audit_search`).
pub fn list(db: &Connection, connection_id: &str, limit: u32) -> Result<Vec<AuditEntry>> {
    let mut stmt = db.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM audit WHERE connection_id = ?1 ORDER BY id DESC LIMIT ?2"
    ))?;
    let rows = stmt
        .query_map(params![connection_id, limit.clamp(1, 1000)], entry)?
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The columns `entry` reads, in its order.
pub(crate) const COLUMNS: &str = "id, at, connection_id, actor, action, token_prefix, source, \
    detail, actor_email, actor_subject, actor_role, user_agent";

/// One row selected as `COLUMNS`.
pub(crate) fn entry(r: &crate::sql::Row<'_>) -> crate::Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.get(0)?,
        at: r.get(1)?,
        connection_id: r.get(2)?,
        actor: r.get(3)?,
        action: r.get(4)?,
        token_prefix: r.get(5)?,
        source: r.get(6)?,
        detail: r.get(7)?,
        actor_email: r.get(8)?,
        actor_subject: r.get(9)?,
        actor_role: r.get(10)?,
        user_agent: r.get(11)?,
    })
}
