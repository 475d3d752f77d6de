//! The `muster` command line (DESIGN.md's CLI contract). JSON output is for scripts:
//! stable keys, one document per command.

mod admin;

use crate::{ServerConfig, StartError};
use clap::{Parser, Subcommand};
use directory::{connections, Actor, Clock, Directory, SystemClock};
use serde_json::json;
use std::net::SocketAddr;
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
    Serve {
        #[arg(long, env = "MUSTER_DB")]
        db: Option<PathBuf>,
        #[arg(long, env = "MUSTER_BIND", default_value = "127.0.0.1:8737")]
        bind: SocketAddr,
        /// Directory of the built console (ui/dist); defaults to ./ui/dist when present.
        #[arg(long, env = "MUSTER_CONSOLE")]
        console: Option<PathBuf>,
        /// Admin API secret (generated when absent).
        #[arg(long, env = "MUSTER_ADMIN_SECRET", hide_env_values = true)]
        admin_secret: Option<String>,
        /// Allow a non-loopback bind without TLS because a reverse proxy terminates TLS.
        #[arg(long, env = "MUSTER_BEHIND_TLS_PROXY")]
        behind_tls_proxy: bool,
        /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
        #[arg(long, env = "MUSTER_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// Private key (PEM) for --tls-cert.
        #[arg(long, env = "MUSTER_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Requests one connection may have in flight before it is answered 429.
        #[arg(long, default_value_t = crate::state::DEFAULT_MAX_IN_FLIGHT)]
        max_in_flight: usize,
        /// Seconds within which every SCIM request is answered; a write still queued then
        /// is abandoned (never applied) and the client told 503.
        #[arg(long, default_value_t = crate::scim::REQUEST_DEADLINE.as_secs_f64())]
        request_deadline: f64,
        /// A host name the admin API answers to besides loopback (repeatable; e.g. the
        /// name a reverse proxy forwards). Any other Host is refused (DNS rebinding).
        #[arg(long = "admin-host", env = "MUSTER_ADMIN_HOSTS", value_delimiter = ',')]
        admin_hosts: Vec<String>,
        /// Seconds between retention passes (purge deleted users and groups past their
        /// retention, prune the provisioning log and the change feed); one also runs at start.
        #[arg(long, env = "MUSTER_PRUNE_EVERY_SECS", default_value_t = crate::DEFAULT_PRUNE_EVERY.as_secs(),
              value_parser = clap::value_parser!(u64).range(1..=86_400))]
        prune_every_secs: u64,
        /// Seconds without a request from a connection's IdP after which its sync cycle has
        /// ended (the console's running sync and its history of cycles).
        #[arg(long, env = "MUSTER_SYNC_GAP_SECS", default_value_t = directory::sync_cycles::DEFAULT_GAP_SECS,
              value_parser = clap::value_parser!(u64).range(1..=86_400))]
        sync_gap_secs: u64,
        /// Bearer token that reads GET /metrics (Prometheus text format; at least 16
        /// characters). Without it /metrics answers 404.
        #[arg(long, env = "MUSTER_METRICS_TOKEN", hide_env_values = true)]
        metrics_token: Option<String>,
        /// The OpenID Connect issuer admins sign in with (its discovery document is at
        /// {issuer}/.well-known/openid-configuration). Needs --oidc-client-id.
        #[arg(long, env = "MUSTER_OIDC_ISSUER", requires = "oidc_client_id")]
        oidc_issuer: Option<String>,
        /// The client id registered at the identity provider for this server.
        #[arg(long, env = "MUSTER_OIDC_CLIENT_ID", requires = "oidc_issuer")]
        oidc_client_id: Option<String>,
        /// The client secret, when the provider registered a confidential client.
        #[arg(
            long,
            env = "MUSTER_OIDC_CLIENT_SECRET",
            hide_env_values = true,
            requires = "oidc_issuer"
        )]
        oidc_client_secret: Option<String>,
    },
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
        command: ConnectionCommand,
    },
    /// Manage a connection's SCIM tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
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
    Simulate {
        #[arg(long)]
        url: String,
        #[arg(long, env = "MUSTER_SCIM_TOKEN", hide_env_values = true)]
        token: String,
        /// okta, entra, entra-compliant (Entra with aadOptscim062020), google, generic
        #[arg(long, default_value = "okta")]
        idp: String,
        /// initial-sync, joiners-movers-leavers, group-rename, leaver, retry-create,
        /// group-before-user, leaver-delete-later (Entra only)
        #[arg(long, default_value = "initial-sync")]
        scenario: String,
        #[arg(long, default_value_t = 100)]
        users: usize,
        #[arg(long, default_value_t = 10)]
        groups: usize,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Simulated seconds between Entra provisioning cycles (Entra: about 40 minutes).
        #[arg(long, default_value_t = 2400)]
        cycle_interval: u64,
        /// Simulated seconds per real second between cycles (2400: a 40-minute gap takes one
        /// second). Without it cycles run back to back; only their simulated times are reported.
        #[arg(long)]
        time_scale: Option<f64>,
        /// leaver-delete-later: users disabled, then hard-deleted.
        #[arg(long, default_value_t = 3)]
        leavers: usize,
        /// leaver-delete-later: simulated days from the disable to the DELETE (Entra: 30;
        /// at most ten years, so simulated time never overflows).
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=3650))]
        delete_after_days: u64,
        /// leaver-delete-later: leavers removed from the target out of band before Entra's
        /// DELETE arrives (it then gets 404, which counts as already gone).
        #[arg(long, default_value_t = 1)]
        deleted_out_of_band: usize,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Readiness report: 60+ checks IdP validators and security reviewers care about.
    Check {
        #[arg(long)]
        url: String,
        #[arg(
            long,
            env = "MUSTER_SCIM_TOKEN",
            hide_env_values = true,
            required_unless_present = "oauth_token_endpoint"
        )]
        token: Option<String>,
        /// The target's OAuth token endpoint: the run starts with the `oauth.*` checks (a
        /// client credentials grant, a wrong secret refused) and uses the access token it gets.
        #[arg(long, requires_all = ["oauth_client_id", "oauth_client_secret"])]
        oauth_token_endpoint: Option<String>,
        #[arg(long)]
        oauth_client_id: Option<String>,
        #[arg(long, env = "MUSTER_OAUTH_CLIENT_SECRET", hide_env_values = true)]
        oauth_client_secret: Option<String>,
        #[arg(long)]
        json: bool,
        /// Also write a self-contained HTML report here.
        #[arg(long)]
        html: Option<PathBuf>,
        /// Also write the report as a PDF here (server, date, version, IPSIE level verdict,
        /// each check with its RFC, Okta and Entra references).
        #[arg(long)]
        pdf: Option<PathBuf>,
    },
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

#[derive(Subcommand)]
enum ConnectionCommand {
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

#[derive(Subcommand)]
enum TokenCommand {
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

fn open(db: Option<PathBuf>) -> Result<Local, i32> {
    let path = db.unwrap_or_else(default_db_path);
    let dir = Directory::open(&path, std::sync::Arc::new(SystemClock))
        .map_err(|e| fail(format!("cannot open {}: {e}", path.display())))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(format!("cannot start: {e}")))?;
    Ok(Local { dir, rt })
}

/// The desktop app's webview origins (Linux/macOS, Windows), which `muster serve` answers
/// with CORS so the app can be pointed at a team server.
pub const DESKTOP_APP_ORIGINS: [&str; 2] = ["tauri://localhost", "http://tauri.localhost"];

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
        Command::Serve {
            db,
            bind,
            console,
            admin_secret,
            behind_tls_proxy,
            tls_cert,
            tls_key,
            max_in_flight,
            request_deadline,
            admin_hosts,
            prune_every_secs,
            sync_gap_secs,
            metrics_token,
            oidc_issuer,
            oidc_client_id,
            oidc_client_secret,
        } => {
            let metrics_token = metrics_token.filter(|t| !t.is_empty());
            if metrics_token.as_ref().is_some_and(|t| t.len() < 16) {
                return fail("--metrics-token must be at least 16 characters");
            }
            if !(request_deadline > 0.0 && request_deadline <= 300.0) {
                return fail("--request-deadline must be between 0 and 300 seconds".to_string());
            }
            if !bind.ip().is_loopback() && !behind_tls_proxy && tls_cert.is_none() {
                return fail(format!(
                    "refusing to serve SCIM without TLS on non-loopback {bind}: SCIM tokens would cross the network in clear. \
                     Give --tls-cert and --tls-key, or put a TLS-terminating reverse proxy in front and pass --behind-tls-proxy"
                ));
            }
            let console = console.or_else(|| {
                Some(PathBuf::from("ui/dist")).filter(|p| p.join("index.html").exists())
            });
            let mut config = ServerConfig::new(db.unwrap_or_else(default_db_path), bind);
            config.console_dir = console;
            config.admin_secret = admin_secret;
            config.max_in_flight_per_connection = max_in_flight;
            config.tls = tls_cert.zip(tls_key);
            config.request_deadline = std::time::Duration::from_secs_f64(request_deadline);
            config.admin_hosts = admin_hosts;
            // The desktop app's window may call this server's admin API (a team server the
            // app was pointed at). Allowing its origin grants nothing by itself: the console
            // authenticates with a bearer header, never a cookie, so a page on that origin
            // still needs a secret or session the admin typed or signed in for.
            config.allowed_origins = DESKTOP_APP_ORIGINS.iter().map(|o| o.to_string()).collect();
            config.prune_every = std::time::Duration::from_secs(prune_every_secs);
            config.sync_gap = std::time::Duration::from_secs(sync_gap_secs);
            config.metrics_token = metrics_token;
            config.oidc = oidc_issuer.zip(oidc_client_id).map(|(issuer, client_id)| {
                crate::oidc::OidcConfig {
                    issuer,
                    client_id,
                    client_secret: oidc_client_secret.filter(|s| !s.is_empty()),
                }
            });
            serve(config)
        }
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
        Command::Connection { command } => connection(command),
        Command::Token { command } => token(command),
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
        Command::Health { db, json } => health(db, json),
        Command::Triage {
            db,
            query,
            connection,
            json,
        } => triage(db, &query, connection.as_deref(), json),
        Command::Simulate {
            url,
            token,
            idp,
            scenario,
            users,
            groups,
            concurrency,
            seed,
            rounds,
            cycle_interval,
            time_scale,
            leavers,
            delete_after_days,
            deleted_out_of_band,
            json,
        } => {
            let (Ok(dialect), Ok(scenario)) = (
                idp.parse::<idp::Dialect>(),
                scenario.parse::<idp::scenario::Scenario>(),
            ) else {
                return fail("unknown --idp or --scenario (see --help)");
            };
            let mut opts = idp::SimulateOptions::new(&url, &token, dialect, scenario);
            opts.users = users;
            opts.groups = groups;
            opts.concurrency = concurrency.max(1);
            opts.seed = seed;
            opts.rounds = rounds;
            opts.cycle_interval = std::time::Duration::from_secs(cycle_interval);
            opts.time_scale = time_scale;
            opts.leavers = leavers;
            opts.delete_after =
                std::time::Duration::from_secs(delete_after_days.saturating_mul(86_400));
            opts.deleted_out_of_band = deleted_out_of_band;
            opts.progress = !json;
            block_on(async move {
                match idp::run(opts).await {
                    Ok(summary) => {
                        if json {
                            println!("{}", serde_json::to_string(&summary).unwrap_or_default());
                        } else {
                            println!("{}", summary.render_text());
                        }
                        0
                    }
                    Err(e) => fail(e),
                }
            })
        }
        Command::Check {
            url,
            token,
            oauth_token_endpoint,
            oauth_client_id,
            oauth_client_secret,
            json,
            html,
            pdf,
        } => block_on(async move {
            let oauth = match (oauth_token_endpoint, oauth_client_id, oauth_client_secret) {
                (Some(token_endpoint), Some(client_id), Some(client_secret)) => {
                    Some(idp::oauth_check::OAuthClient {
                        token_endpoint,
                        client_id,
                        client_secret,
                    })
                }
                _ => None,
            };
            let opts = idp::check::CheckOptions {
                oauth,
                ..Default::default()
            };
            let report = idp::check::run_checks(&url, token.as_deref().unwrap_or(""), opts).await;
            type Render = fn(&idp::check::Report) -> Vec<u8>;
            let files: [(Option<PathBuf>, Render); 2] = [
                (html, |r| r.render_html().into_bytes()),
                (pdf, crate::readiness_pdf::readiness_pdf),
            ];
            for (path, render) in files {
                if let Some(path) = path {
                    if let Err(e) = std::fs::write(&path, render(&report)) {
                        return fail(format!("cannot write {}: {e}", path.display()));
                    }
                }
            }
            if json {
                println!("{}", serde_json::to_string(&report).unwrap_or_default());
            } else {
                println!("{}", report.render_table());
            }
            if report.passed() {
                0
            } else {
                2
            }
        }),
        Command::Evidence {
            db,
            connection,
            from,
            to,
            pdf,
            csv,
            json,
        } => evidence(db, &connection, &from, &to, [pdf, csv, json]),
    }
}

/// `muster evidence`: the report the admin API serves, from the database file.
fn evidence(
    db: Option<PathBuf>,
    connection: &str,
    from: &str,
    to: &str,
    [pdf, csv, json]: [Option<PathBuf>; 3],
) -> i32 {
    let period = match directory::evidence::Period::parse(from, to) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    // A report is read-only: never create an empty database where none is.
    let path = db.unwrap_or_else(default_db_path);
    if !path.exists() {
        return fail(format!("no database at {}", path.display()));
    }
    let l = match open(Some(path)) {
        Ok(d) => d,
        Err(c) => return c,
    };
    let connection = Some(connection.trim())
        .filter(|c| !c.is_empty() && *c != "all")
        .map(str::to_string);
    let by = crate::api::evidence::generated_by();
    let report = match l.block(l.dir.evidence(connection, period, by)) {
        Ok(r) => r,
        Err(directory::Error::NotFound(what)) => {
            return fail(format!("no {what} (muster connection list shows them)"))
        }
        Err(e) => return fail(e),
    };
    type Render = fn(&directory::evidence::EvidenceReport) -> Vec<u8>;
    let files: [(Option<PathBuf>, Render); 3] = [
        (pdf, crate::evidence_files::pdf),
        (csv, |r| crate::evidence_files::csv(r).into_bytes()),
        (json, |r| crate::evidence_files::json(r).into_bytes()),
    ];
    // All three from one report, so the CSV and PDF name the JSON's hash.
    for (path, render) in files {
        if let Some(path) = path {
            if let Err(e) = std::fs::write(&path, render(&report)) {
                return fail(format!("cannot write {}: {e}", path.display()));
            }
        }
    }
    println!("{}", crate::evidence_files::summary_text(&report));
    0
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

fn serve(config: ServerConfig) -> i32 {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(e),
    };
    rt.block_on(async move {
        let db_path = config.db_path.clone();
        let has_console = config.console_dir.is_some();
        // A secret the operator supplied (flag or MUSTER_ADMIN_SECRET) is theirs already:
        // it is not echoed, so a service manager's journal never holds it.
        let supplied_secret = config.admin_secret.is_some();
        let running = match crate::start(config).await {
            Ok(r) => r,
            Err(StartError::AddrInUse(a)) => {
                return fail(format!(
                    "{a} is already in use; pass --bind with another port"
                ))
            }
            Err(e) => return fail(e),
        };
        let origin = running.admin_base.trim_end_matches("/api").to_string();
        let line = json!({
            "scim_base": running.scim_base,
            "admin": running.admin_base,
            "admin_secret": (!supplied_secret).then_some(&running.admin_secret),
            "console_url": match (has_console, supplied_secret) {
                (false, _) => None,
                (true, true) => Some(format!("{origin}/")),
                (true, false) => Some(format!("{origin}/#secret={}", running.admin_secret)),
            },
            "db": db_path,
            "addr": running.addr.to_string(),
        });
        println!("{line}");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate() => {}
        }
        // Stop accepting; requests in flight get SHUTDOWN_GRACE to finish (one stuck on a
        // slow client does not hold the exit for its full request deadline).
        let dir = running.dir.clone();
        if tokio::time::timeout(SHUTDOWN_GRACE, running.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("requests still in flight after {SHUTDOWN_GRACE:?}; stopping anyway");
        }
        crate::ops::flush(&dir, SHUTDOWN_GRACE).await;
        0
    })
}

/// How long `muster serve` waits, on SIGTERM or Ctrl-C, for requests in flight, and then
/// for the writer's queue to drain.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

#[cfg(unix)]
async fn terminate() {
    if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        s.recv().await;
    }
}

#[cfg(not(unix))]
async fn terminate() {
    std::future::pending::<()>().await
}

fn connection(cmd: ConnectionCommand) -> i32 {
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

/// Runs `f` on the directory at `db`, or fails as `open` does.
fn with_local(db: Option<PathBuf>, f: impl FnOnce(&Local) -> i32) -> i32 {
    match open(db) {
        Ok(l) => f(&l),
        Err(c) => c,
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

fn token(cmd: TokenCommand) -> i32 {
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

fn health(db: Option<PathBuf>, as_json: bool) -> i32 {
    let l = match open(db) {
        Ok(d) => d,
        Err(c) => return c,
    };
    let rows = l.block(l.dir.overviews()).map(|all| {
        let mut out = Vec::new();
        for o in all {
            let (conn, stats, h) = (o.connection, o.stats, o.health);
            out.push(json!({
                "id": conn.id, "name": conn.name, "idp": conn.idp, "dialect": conn.dialect,
                "state": h.state, "reason": h.reason, "next_step": h.next_step, "notices": h.notices,
                "last_sync_at": stats.last_sync_at, "last_request_at": stats.last_request_at,
                "users": stats.users, "groups": stats.groups,
                "requests": {"1h": stats.requests_1h, "24h": stats.requests_24h, "7d": stats.requests_7d},
                "failures": {"1h": stats.failures_1h, "24h": stats.failures_24h, "7d": stats.failures_7d},
            }));
        }
        out
    });
    let rows = match rows {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    if as_json {
        println!("{}", json!({"connections": rows}));
    } else {
        for r in &rows {
            println!(
                "{:<24} {:<8} {:<16} last sync {:<26} {}",
                r["name"].as_str().unwrap_or(""),
                r["idp"].as_str().unwrap_or(""),
                r["state"].as_str().unwrap_or(""),
                r["last_sync_at"].as_str().unwrap_or("never"),
                r["reason"].as_str().unwrap_or("")
            );
        }
    }
    // Monitoring scripts: non-zero when any connection is failing.
    if rows.iter().any(|r| r["state"] == "failing") {
        3
    } else {
        0
    }
}

fn triage(db: Option<PathBuf>, query: &str, expected: Option<&str>, as_json: bool) -> i32 {
    let l = match open(db) {
        Ok(d) => d,
        Err(c) => return c,
    };
    let report = match l.block(l.dir.triage(query, expected)) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    if as_json {
        println!("{}", serde_json::to_string(&report).unwrap_or_default());
        return 0;
    }
    println!(
        "Triage for \"{}\" (searched as \"{}\")",
        report.query, report.normalized
    );
    for f in &report.findings {
        println!();
        println!(
            "[{}] {} {}",
            f.connection_name,
            f.user_name.as_deref().unwrap_or("-"),
            f.status
                .as_deref()
                .map(|s| format!("({s})"))
                .unwrap_or_default()
        );
        println!("  {:?}: {}", f.diagnosis.verdict, f.diagnosis.summary);
        if !f.groups.is_empty() {
            let names: Vec<&str> = f
                .groups
                .iter()
                .map(|g| g.display_name.as_deref().unwrap_or(&g.id))
                .collect();
            println!("  groups: {}", names.join(", "));
        }
        for step in &f.diagnosis.next_steps {
            println!("  - {step}");
        }
        for t in f.timeline.iter().rev().take(10) {
            println!("    {}  {:<9} {}", t.at, t.source, t.what);
        }
    }
    if !report.candidates.is_empty() {
        println!();
        println!(
            "No identifier is exactly \"{}\"; {} users have one containing it (triage one by its userName):",
            report.query,
            if report.more_candidates { "more than these" } else { "these" }
        );
        for c in &report.candidates {
            println!(
                "  {} [{}] {}{}",
                c.user_name,
                c.connection_name,
                c.status,
                c.external_id
                    .as_deref()
                    .map(|e| format!(", externalId {e}"))
                    .unwrap_or_default()
            );
        }
    }
    if !report.near_matches.is_empty() {
        println!();
        println!("Near matches:");
        for m in &report.near_matches {
            println!(
                "  {} (connection {}, distance {})",
                m.user_name, m.connection_id, m.distance
            );
        }
    }
    0
}
