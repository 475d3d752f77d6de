//! `muster token`: rotate a connection's SCIM token (the old ones valid for a grace
//! period), list its tokens without their secrets, revoke one.

use super::{fail, open, parse_duration};
use clap::Subcommand;
use directory::{Actor, Clock, SystemClock};
use serde_json::json;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Issue a new token; the others stay valid for the grace period.
    Rotate {
        #[arg(long, env = "MUSTER_DB")]
        db: Option<PathBuf>,
        #[arg(long)]
        connection: String,
        /// How long the old tokens stay valid: e.g. 24h, 30m, 0s.
        #[arg(long, default_value = "24h")]
        grace: String,
    },
    /// List a connection's tokens (never their secrets).
    List {
        #[arg(long, env = "MUSTER_DB")]
        db: Option<PathBuf>,
        #[arg(long)]
        connection: String,
    },
    /// Revoke a token at once, by id or prefix.
    Revoke {
        #[arg(long, env = "MUSTER_DB")]
        db: Option<PathBuf>,
        #[arg(long)]
        connection: String,
        #[arg(long)]
        token: String,
    },
}

pub fn run(cmd: TokenCommand) -> i32 {
    let now = SystemClock.now();
    match cmd {
        TokenCommand::Rotate {
            db,
            connection,
            grace,
        } => {
            let Some(grace) = parse_duration(&grace) else {
                return fail("--grace takes a duration like 24h, 30m or 0s");
            };
            let l = match open(db) {
                Ok(d) => d,
                Err(c) => return c,
            };
            match l.block(l.dir.rotate_token(&connection, grace, Actor::Cli)) {
                Ok((t, _)) => {
                    println!(
                        "{}",
                        json!({"connection": connection, "token": t.secret, "token_prefix": t.prefix, "old_tokens_valid_until": directory::clock::fmt_time(now + grace)})
                    );
                    0
                }
                Err(e) => fail(e),
            }
        }
        TokenCommand::List { db, connection } => {
            let l = match open(db) {
                Ok(d) => d,
                Err(c) => return c,
            };
            match l.block(l.dir.tokens(&connection)) {
                Ok(list) => {
                    println!("{}", serde_json::to_string(&list).unwrap_or_default());
                    0
                }
                Err(e) => fail(e),
            }
        }
        TokenCommand::Revoke {
            db,
            connection,
            token,
        } => {
            let l = match open(db) {
                Ok(d) => d,
                Err(c) => return c,
            };
            match l.block(l.dir.revoke_token(&connection, &token, Actor::Cli)) {
                Ok(t) => {
                    println!("{}", serde_json::to_string(&t).unwrap_or_default());
                    0
                }
                Err(e) => fail(e),
            }
        }
    }
}
