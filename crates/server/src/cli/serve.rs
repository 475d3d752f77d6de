//! `muster serve`: its options checked and turned into the server's configuration, the
//! server run until SIGTERM or Ctrl-C, then a graceful stop that drains the writer.

use super::{default_db_path, fail};
use crate::{ServerConfig, StartError};
use clap::Args;
use serde_json::json;
use std::net::SocketAddr;
use std::path::PathBuf;

// The options of `muster serve` (its help text is the `Command::Serve` variant's).
#[derive(Args)]
pub struct ServeArgs {
    #[arg(long, env = "MUSTER_DB")]
    db: Option<PathBuf>,
    /// PostgreSQL instead of the SQLite file, for several servers on one directory:
    /// postgres://USER@HOST[:PORT]/DATABASE (libpq's URL; TLS is required off this machine
    /// unless the URL sets sslmode). --db's folder then keeps only this server's own files.
    #[arg(long, env = "MUSTER_DATABASE_URL", hide_env_values = true)]
    database: Option<String>,
    /// Certificate authorities (PEM) to trust for PostgreSQL's certificate, besides the
    /// system's.
    #[arg(long, env = "MUSTER_DATABASE_CA", requires = "database")]
    database_ca: Option<PathBuf>,
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
}

/// The desktop app's webview origins (Linux/macOS, Windows), which `muster serve` answers
/// with CORS so the app can be pointed at a team server.
pub const DESKTOP_APP_ORIGINS: [&str; 2] = ["tauri://localhost", "http://tauri.localhost"];

/// Checks the options, then serves until told to stop.
pub fn run(args: ServeArgs) -> i32 {
    let ServeArgs {
        db,
        database,
        database_ca,
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
    } = args;
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
    let console = console
        .or_else(|| Some(PathBuf::from("ui/dist")).filter(|p| p.join("index.html").exists()));
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
    config.database = database.filter(|u| !u.is_empty()).map(|url| {
        (
            url,
            directory::pg::PgOptions {
                ca_file: database_ca,
            },
        )
    });
    config.oidc =
        oidc_issuer
            .zip(oidc_client_id)
            .map(|(issuer, client_id)| crate::oidc::OidcConfig {
                issuer,
                client_id,
                client_secret: oidc_client_secret.filter(|s| !s.is_empty()),
            });
    serve(config)
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
        // Where the directory lives, for the start line: never the URL's password.
        let database_url = config
            .database
            .as_ref()
            .and_then(|(url, _)| directory::pg::parse_url(url).ok())
            .map(|c| format!("postgres://{}", directory::pg::describe(&c)));
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
            "db": if database_url.is_some() { json!(database_url) } else { json!(db_path) },
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
