//! The `muster` command line (DESIGN.md's CLI contract). JSON output is for scripts:
//! stable keys, one document per command.

mod admin;
mod check;
mod connection;
mod reports;
mod serve;
mod simulate;
mod store;
mod token;

pub use serve::DESKTOP_APP_ORIGINS;

use clap::{Parser, Subcommand};
use directory::Directory;
use directory::SystemClock;
use serde_json::json;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "muster",
    version,
    about = "Self-hosted SCIM 2.0 directory sync"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The team's accounts: add the first owner, list, change roles, disable.
    Admin {
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// Serve SCIM, the admin API and the console.
    Serve(serve::ServeArgs),
    /// Copy the database while a server may be writing to it (SQLite's online backup): the
    /// copy is the database as of one commit, checked with integrity_check.
    Backup {
        #[arg(long, env = "MUSTER_DB")]
        db: Option<PathBuf>,
        /// The backup file to write (refused if it exists, unless --force).
        #[arg(long)]
        to: PathBuf,
        #[arg(long)]
        force: bool,
    },
    /// Move a deployment between the SQLite file and PostgreSQL (either way): every table,
    /// as of one moment of the source, into an empty target, counts checked table by table.
    /// Stop the servers first: what they write after the copy began stays behind.
    MigrateStore {
        /// sqlite:PATH or postgres://USER@HOST[:PORT]/DATABASE
        #[arg(long)]
        from: String,
        /// sqlite:PATH (a new file) or postgres://… (an empty database)
        #[arg(long)]
        to: String,
        /// Certificate authorities (PEM) to trust for PostgreSQL's certificate, besides the
        /// system's. TLS is required for a server off this machine unless the URL sets sslmode.
        #[arg(long, env = "MUSTER_DATABASE_CA")]
        database_ca: Option<PathBuf>,
    },
    /// Put a backup in place as the database, after checking it (integrity_check, not from
    /// a newer Muster). Refused while a server uses the database, and over an existing
    /// database unless --force.
    Restore {
        #[arg(long)]
        from: PathBuf,
        #[arg(long, env = "MUSTER_DB")]
        db: Option<PathBuf>,
        #[arg(long)]
        force: bool,
    },
    /// Manage connections.
    Connection {
        #[command(subcommand)]
        command: connection::ConnectionCommand,
    },
    /// Manage a connection's SCIM tokens.
    Token {
        #[command(subcommand)]
        command: token::TokenCommand,
    },
    /// Issue an application key for the app API (/app/v1), shown once.
    AppKey {
        #[arg(long, env = "MUSTER_DB")]
        db: Option<PathBuf>,
        #[arg(long, default_value = "app")]
        label: String,
    },
    /// Each connection's health state, reason and last sync.
    Health {
        #[arg(long, env = "MUSTER_DB")]
        db: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Find a person across connections and say why they can or cannot get in.
    Triage {
        #[arg(long, env = "MUSTER_DB")]
        db: Option<PathBuf>,
        /// Email, userName, externalId or name.
        query: String,
        /// The connection the person is expected in (flags "present elsewhere").
        #[arg(long)]
        connection: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Act as an IdP (Okta, Entra, Google) against any SCIM endpoint.
    Simulate(simulate::SimulateArgs),
    /// Readiness report: 60+ checks IdP validators and security reviewers care about.
    Check(check::CheckArgs),
    /// Deprovisioning evidence for a period (docs/evidence.md): prints a summary and the
    /// report's SHA-256; writes the report as PDF, CSV or JSON files.
    Evidence {
        #[arg(long, env = "MUSTER_DB")]
        db: Option<PathBuf>,
        /// A connection id, or "all" for every connection.
        #[arg(long, default_value = "all")]
        connection: String,
        /// YYYY-MM-DD (UTC, from its start) or an RFC 3339 time.
        #[arg(long)]
        from: String,
        /// YYYY-MM-DD (UTC, to its end) or an RFC 3339 time (exclusive).
        #[arg(long)]
        to: String,
        #[arg(long)]
        pdf: Option<PathBuf>,
        #[arg(long)]
        csv: Option<PathBuf>,
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

/// The OS data directory's database, unless MUSTER_DB or --db says otherwise.
pub fn default_db_path() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("muster").join("muster.db")
}

/// Parses durations like "24h", "30m", "90s", "2d".
pub fn parse_duration(s: &str) -> Option<chrono::Duration> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = num.parse().ok()?;
    match unit {
        "s" => Some(chrono::Duration::seconds(n)),
        "m" => Some(chrono::Duration::minutes(n)),
        "h" => Some(chrono::Duration::hours(n)),
        "d" => Some(chrono::Duration::days(n)),
        _ => None,
    }
}

fn fail(msg: impl std::fmt::Display) -> i32 {
    eprintln!("muster: {msg}");
    1
}

/// The directory a command works on, with a small runtime to run its commands: the CLI
/// goes through the same door as the server, so it audits and behaves the same.
struct Local {
    dir: Directory,
    rt: tokio::runtime::Runtime,
}

impl Local {
    fn block<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }
}

/// The SQLite file at `db` (or the default), or, when MUSTER_DATABASE_URL names one as it
/// does for `muster serve`, the PostgreSQL database: `db` then names where this machine's
/// own files sit (the sealing key), as for the server.
fn open(db: Option<PathBuf>) -> Result<Local, i32> {
    let path = db.unwrap_or_else(default_db_path);
    let url = std::env::var("MUSTER_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    // A thread of its own for PostgreSQL's connections, which run beside the command.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| fail(format!("cannot start: {e}")))?;
    let clock = std::sync::Arc::new(SystemClock);
    let dir = match url {
        None => Directory::open(&path, clock)
            .map_err(|e| fail(format!("cannot open {}: {e}", path.display())))?,
        Some(url) => {
            let options = directory::pg::PgOptions {
                ca_file: std::env::var_os("MUSTER_DATABASE_CA").map(PathBuf::from),
            };
            rt.block_on(Directory::connect_postgres(&url, &options, &path, clock))
                .map_err(|e| fail(format!("cannot open the PostgreSQL database: {e}")))?
        }
    };
    Ok(Local { dir, rt })
}

pub fn main() -> i32 {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MUSTER_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Backup { db, to, force } => {
            let db = db.unwrap_or_else(default_db_path);
            match directory::backup::backup(&db, &to, force) {
                Ok(c) => {
                    println!(
                        "{}",
                        json!({"db": db, "backup": to, "schema_version": c.schema_version, "bytes": c.bytes})
                    );
                    0
                }
                Err(e) => fail(e),
            }
        }
        Command::MigrateStore {
            from,
            to,
            database_ca,
        } => store::migrate_store(&from, &to, database_ca),
        Command::Restore { from, db, force } => {
            let db = db.unwrap_or_else(default_db_path);
            match directory::backup::restore(&from, &db, force) {
                Ok(c) => {
                    println!(
                        "{}",
                        json!({"db": db, "restored_from": from, "schema_version": c.schema_version, "bytes": c.bytes})
                    );
                    0
                }
                Err(e) => fail(e),
            }
        }
        Command::Connection { command } => connection::run(command),
        Command::Token { command } => token::run(command),
        Command::Admin { command } => admin::run(command),
        Command::AppKey { db, label } => {
            let l = match open(db) {
                Ok(d) => d,
                Err(c) => return c,
            };
            match l.block(l.dir.issue_app_key(&label)) {
                Ok((key, prefix)) => {
                    println!("{}", json!({"key": key, "prefix": prefix}));
                    0
                }
                Err(e) => fail(e),
            }
        }
        Command::Health { db, json } => reports::health(db, json),
        Command::Triage {
            db,
            query,
            connection,
            json,
        } => reports::triage(db, &query, connection.as_deref(), json),
        Command::Simulate(args) => simulate::run(args),
        Command::Check(args) => check::run(args),
        Command::Evidence {
            db,
            connection,
            from,
            to,
            pdf,
            csv,
            json,
        } => reports::evidence(db, &connection, &from, &to, [pdf, csv, json]),
    }
}

fn block_on(f: impl std::future::Future<Output = i32>) -> i32 {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(f),
        Err(e) => fail(e),
    }
}

/// Runs `f` on the directory at `db`, or fails as `open` does.
fn with_local(db: Option<PathBuf>, f: impl FnOnce(&Local) -> i32) -> i32 {
    match open(db) {
        Ok(l) => f(&l),
        Err(c) => c,
    }
}
