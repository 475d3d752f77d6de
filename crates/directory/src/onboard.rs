//! A new connection, ready for its IdP: created with its first token (shown once) and audited
//! as `connection_created`, in one transaction — the one door the console, the CLI and the
//! demo go through.

use crate::audit::{self, Actor};
use crate::connections::{self, ConnectionRecord, Idp};
use crate::error::Result;
use crate::sql::Connection;
use crate::tokens::{self, IssuedToken};
use chrono::{DateTime, Utc};

/// Creates a connection and its first token. The demo's connections are marked as the demo's
/// (its reset removes them); everyone else's are not.
pub fn create_connection(
    db: &Connection,
    name: &str,
    idp: Idp,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(ConnectionRecord, IssuedToken)> {
    let c = connections::create(db, name, idp, *actor == Actor::Demo, now)?;
    let label = if *actor == Actor::Demo {
        "demo"
    } else {
        "initial"
    };
    let t = tokens::issue(db, &c.id, label, now)?;
    audit::record(
        db,
        Some(&c.id),
        actor,
        "connection_created",
        Some(&t.prefix),
        Some(&format!("'{}' for {}", c.name, idp.as_str())),
        now,
    )?;
    Ok((c, t))
}
