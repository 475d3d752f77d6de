//! `muster connection`: create (with the first token, shown once), list, rename, pause,
//! resume, set retention and delete a connection, each audited as the CLI's act.

use super::{fail, open, with_local};
use clap::Subcommand;
use directory::{connections, Actor};
use serde_json::json;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ConnectionCommand {
    /// Create a connection and its first token (shown once).
    Create {
        #[arg(long, env = "MUSTER_DB")]
        db: Option<PathBuf>,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "generic")]
        idp: String,
        /// The SCIM base the server is reachable at, for the printed scim_url.
        #[arg(
            long,
            env = "MUSTER_SCIM_BASE",
            default_value = "http://127.0.0.1:8737/scim/v2"
        )]
        scim_base: String,
    },
    /// List connections.
    List {
        #[arg(long, env = "MUSTER_DB")]
        db: Option<PathBuf>,
    },
    /// Days a connection's deleted users and groups stay restorable before they are purged
    /// (1 to 90; applies to deletions from now on). Audited.
    SetRetention {
        #[arg(long, env = "MUSTER_DB")]
        db: Option<PathBuf>,
        #[arg(long)]
        connection: String,
        #[arg(long, allow_negative_numbers = true)]
        days: i64,
    },
    /// Rename a connection (1 to 100 characters; the SCIM URL and tokens do not change).
    /// Audited.
    Rename {
        #[arg(long, env = "MUSTER_DB")]
        db: Option<PathBuf>,
        #[arg(long)]
        connection: String,
        #[arg(long)]
        name: String,
    },
    /// Pause a connection: every SCIM request on it is answered 503 with Retry-After (the
    /// IdP retries later, nothing is lost) until it is resumed. Audited.
    Pause {
        #[arg(long, env = "MUSTER_DB")]
        db: Option<PathBuf>,
        #[arg(long)]
        connection: String,
    },
    /// Resume a paused connection. Audited.
    Resume {
        #[arg(long, env = "MUSTER_DB")]
        db: Option<PathBuf>,
        #[arg(long)]
        connection: String,
    },
    /// Delete a connection for good: its live users are deprovisioned (sessions revoked,
    /// the change feed told), its users, groups and tokens removed. Needs --confirm with
    /// the connection's name. Audited.
    Delete {
        #[arg(long, env = "MUSTER_DB")]
        db: Option<PathBuf>,
        #[arg(long)]
        connection: String,
        /// The connection's name, exactly.
        #[arg(long)]
        confirm: String,
    },
}

pub fn run(cmd: ConnectionCommand) -> i32 {
    match cmd {
        ConnectionCommand::Create {
            db,
            name,
            idp,
            scim_base,
        } => {
            let idp: connections::Idp = match idp.parse() {
                Ok(i) => i,
                Err(e) => return fail(e),
            };
            let l = match open(db) {
                Ok(d) => d,
                Err(c) => return c,
            };
            match l.block(l.dir.create_connection(&name, idp, Actor::Cli)) {
                Ok((conn, t)) => {
                    let base = scim_base.trim_end_matches('/');
                    println!(
                        "{}",
                        json!({"id": conn.id, "name": conn.name, "idp": conn.idp, "scim_url": format!("{base}/{}", conn.id), "token": t.secret, "token_prefix": t.prefix})
                    );
                    0
                }
                Err(e) => fail(e),
            }
        }
        ConnectionCommand::List { db } => {
            let l = match open(db) {
                Ok(d) => d,
                Err(c) => return c,
            };
            match l.block(l.dir.connections()) {
                Ok(list) => {
                    println!("{}", serde_json::to_string(&list).unwrap_or_default());
                    0
                }
                Err(e) => fail(e),
            }
        }
        ConnectionCommand::SetRetention {
            db,
            connection,
            days,
        } => {
            let l = match open(db) {
                Ok(d) => d,
                Err(c) => return c,
            };
            match l.block(l.dir.set_retention(&connection, days, Actor::Cli)) {
                Ok(conn) => {
                    println!(
                        "{}",
                        json!({"id": conn.id, "name": conn.name, "retention_days": conn.retention_days})
                    );
                    0
                }
                Err(e) => fail(e),
            }
        }
        ConnectionCommand::Rename {
            db,
            connection,
            name,
        } => with_local(db, |l| {
            print_connection(l.block(l.dir.rename_connection(&connection, &name, Actor::Cli)))
        }),
        ConnectionCommand::Pause { db, connection } => with_local(db, |l| {
            print_connection(l.block(l.dir.set_paused(&connection, true, Actor::Cli)))
        }),
        ConnectionCommand::Resume { db, connection } => with_local(db, |l| {
            print_connection(l.block(l.dir.set_paused(&connection, false, Actor::Cli)))
        }),
        ConnectionCommand::Delete {
            db,
            connection,
            confirm,
        } => {
            let l = match open(db) {
                Ok(d) => d,
                Err(c) => return c,
            };
            match l.block(l.dir.delete_connection(&connection, &confirm, Actor::Cli)) {
                Ok(done) => {
                    println!(
                        "{}",
                        json!({"deleted": true, "id": done.id, "name": done.name, "users": done.users,
                               "deleted_users": done.deleted_users, "groups": done.groups,
                               "live_sessions": done.live_sessions, "live_tokens": done.live_tokens})
                    );
                    0
                }
                Err(e) => fail(e),
            }
        }
    }
}

/// Prints a connection after an audited change of it.
fn print_connection(changed: directory::Result<connections::ConnectionRecord>) -> i32 {
    match changed {
        Ok(conn) => {
            println!(
                "{}",
                json!({"id": conn.id, "name": conn.name, "paused": conn.paused_at.is_some(), "paused_at": conn.paused_at})
            );
            0
        }
        Err(e) => fail(e),
    }
}
