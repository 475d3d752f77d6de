//! Muster's transport layer: the SCIM and admin HTTP APIs on one axum server, with auth,
//! limits and back-pressure; `start` is shared by `muster serve` and the desktop shell.

pub mod api;
pub mod app;
pub mod bearer;
pub mod cli;
pub mod demo;
pub mod error_body;
pub mod evidence_files;
pub mod metrics;
pub mod oauth;
pub mod oidc;
pub mod ops;
pub mod pdf;
pub mod readiness_pdf;
pub mod scim;
pub mod setup;
pub mod state;
pub mod throttle;
pub mod webhooks;
pub mod wire;

use axum::Router;
use directory::{Clock, Directory, SystemClock};
use state::AppState;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::oneshot;

/// Caps glibc's malloc arenas at two. The blocking pool runs SQLite reads and JSON on
/// many threads; glibc gives each its own arena, and at 100,000 users the list pages left
/// ~150 MB resident where two arenas hold ~97 MB (BENCHMARKS.md, "Memory"). In `muster`
/// Rust's heap is mimalloc (src/main.rs) and this governs SQLite's; in the desktop shell
/// it governs both. Call it first in `main`, before any thread starts.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is called before other threads
    // exist, and M_ARENA_MAX is a documented parameter.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// What it takes to start the server, from `muster serve` or the desktop shell.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub db_path: PathBuf,
    pub bind: SocketAddr,
    /// Directory with the built console (ui/dist) to serve at `/`.
    pub console_dir: Option<PathBuf>,
    /// Admin API secret; generated when None.
    pub admin_secret: Option<String>,
    /// Extra origins allowed to call the admin API (the Tauri window's origin).
    pub allowed_origins: Vec<String>,
    /// Requests one connection may have in flight before it gets 429.
    pub max_in_flight_per_connection: usize,
    /// Certificate chain and private key (PEM files): serve HTTPS (TLS 1.2+, rustls).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Every SCIM request is answered within this; what is still queued is abandoned.
    pub request_deadline: std::time::Duration,
    /// Host names the admin API answers to besides loopback (DNS-rebinding defence).
    pub admin_hosts: Vec<String>,
    /// How often the background retention pass runs: purging deleted users and groups
    /// whose retention ended, and pruning the provisioning log and the change feed.
    pub prune_every: std::time::Duration,
    /// Bearer token that reads `/metrics`; without one `/metrics` answers 404.
    pub metrics_token: Option<String>,
    /// Silence after which an IdP's sync cycle has ended (the overview's running sync and
    /// its history of cycles; `directory::sync_cycles`).
    pub sync_gap: std::time::Duration,
    /// How long one webhook attempt may take before it counts as a timeout.
    pub webhook_timeout: std::time::Duration,
    /// How often the webhook deliverer looks for due retries (it also wakes on every change).
    pub webhook_tick: std::time::Duration,
    /// The identity provider admins sign in with, if any.
    pub oidc: Option<oidc::OidcConfig>,
    /// A PostgreSQL database (URL, and a CA file to trust) instead of the SQLite file at
    /// `db_path`, for several instances sharing one directory; `db_path` then only names this
    /// instance's files beside it (the sealing key, `<db_path>.key`).
    pub database: Option<(String, directory::pg::PgOptions)>,
}

/// The retention pass's default cadence.
pub const DEFAULT_PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

impl ServerConfig {
    pub fn new(db_path: PathBuf, bind: SocketAddr) -> Self {
        ServerConfig {
            db_path,
            bind,
            console_dir: None,
            admin_secret: None,
            allowed_origins: vec![],
            max_in_flight_per_connection: state::DEFAULT_MAX_IN_FLIGHT,
            tls: None,
            request_deadline: scim::REQUEST_DEADLINE,
            admin_hosts: vec![],
            prune_every: DEFAULT_PRUNE_EVERY,
            metrics_token: None,
            sync_gap: std::time::Duration::from_secs(directory::sync_cycles::DEFAULT_GAP_SECS),
            webhook_timeout: webhooks::DEFAULT_TIMEOUT,
            webhook_tick: webhooks::DEFAULT_TICK,
            oidc: None,
            database: None,
        }
    }
}

/// A server that is listening. Dropping it does not stop it; call `shutdown`.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub scim_base: String,
    pub admin_base: String,
    pub admin_secret: String,
    /// The store it serves (the same handle its requests use).
    /// The directory this server serves.
    pub dir: Directory,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    purger: tokio::task::JoinHandle<()>,
    deliverer: tokio::task::JoinHandle<()>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("address {0} is already in use")]
    AddrInUse(SocketAddr),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error("cannot open database: {0}")]
    Database(String),
    #[error("cannot load the TLS certificate or key: {0}")]
    Tls(String),
}

/// A random 256-bit secret, hex-encoded.
pub fn random_secret() -> String {
    use rand::RngCore;
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    hex::encode(raw)
}

/// The whole HTTP surface for a state: SCIM, admin API, console, and the operations
/// endpoints; every response carries `x-request-id`.
pub fn router(state: AppState, console_dir: Option<PathBuf>) -> Router {
    let mut app = Router::new()
        .merge(ops::router(state.clone()))
        .merge(oauth::router(state.clone()))
        .route("/scim/v2", axum::routing::any(scim::not_found))
        .route("/scim/v2/", axum::routing::any(scim::not_found))
        .nest("/scim/v2", scim::router(state.clone()))
        .nest("/api", api::router(state.clone()))
        .nest("/app/v1", app::router(state.clone()))
        .nest("/setup/v1", setup::router(state.clone()));
    if let Some(dir) = console_dir {
        let index = dir.join("index.html");
        app = app.fallback_service(
            tower_http::services::ServeDir::new(dir)
                .fallback(tower_http::services::ServeFile::new(index)),
        );
    }
    ops::with_request_ids(app)
}

/// Opens the database, binds, and serves in a background task on the current runtime.
pub async fn start(config: ServerConfig) -> Result<RunningServer, StartError> {
    start_with_clock(config, Arc::new(SystemClock)).await
}

pub async fn start_with_clock(
    config: ServerConfig,
    clock: Arc<dyn Clock>,
) -> Result<RunningServer, StartError> {
    let listener = match tokio::net::TcpListener::bind(config.bind).await {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            return Err(StartError::AddrInUse(config.bind))
        }
        Err(e) => return Err(StartError::Bind(config.bind, e)),
    };
    let addr = listener
        .local_addr()
        .map_err(|e| StartError::Bind(config.bind, e))?;
    let db_path = config.db_path.clone();
    let dir = match &config.database {
        Some((url, options)) => {
            // No SQLite file: the path still names this instance's own files beside it
            // (the sealing key, `<db_path>.key`).
            let state_dir = db_path.parent().unwrap_or(std::path::Path::new("."));
            std::fs::create_dir_all(state_dir)
                .map_err(|e| StartError::Database(format!("{}: {e}", state_dir.display())))?;
            Directory::connect_postgres(url, options, &db_path, clock)
                .await
                .map_err(|e| StartError::Database(e.to_string()))?
        }
        None => tokio::task::spawn_blocking(move || Directory::open(&db_path, clock))
            .await
            .map_err(|e| StartError::Database(e.to_string()))?
            .map_err(|e| StartError::Database(e.to_string()))?,
    };
    let admin_secret = config.admin_secret.clone().unwrap_or_else(random_secret);
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let origin = format!("{scheme}://{addr}");
    let scim_base = format!("{origin}/scim/v2");
    let admin_base = format!("{origin}/api");
    let mut state = AppState::new(
        dir.clone(),
        scim_base.clone(),
        &admin_secret,
        origin,
        config.allowed_origins.clone(),
        config.max_in_flight_per_connection,
    );
    state.request_deadline = config.request_deadline;
    state.sync_gap = config.sync_gap;
    state.metrics = config
        .metrics_token
        .as_deref()
        .map(|t| Arc::new(metrics::Metrics::new(t)));
    state.admin_hosts = Arc::new(
        config
            .admin_hosts
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect(),
    );
    // The command line's provider wins; else the one an owner saved in the console.
    let saved = match &config.oidc {
        Some(o) => Some((o.clone(), oidc::OidcSource::CommandLine)),
        None => dir
            .oidc_settings()
            .await
            .map_err(|e| StartError::Database(e.to_string()))?
            .map(|s| {
                (
                    oidc::OidcConfig::public(s.issuer, s.client_id),
                    oidc::OidcSource::Console,
                )
            }),
    };
    if let Some((o, _)) = &saved {
        check_issuer(state.clone(), o.issuer.clone());
    }
    state.oidc.set(saved);
    let purger = spawn_purger(state.clone(), config.prune_every);
    let deliverer =
        webhooks::spawn_deliverer(dir.clone(), config.webhook_tick, config.webhook_timeout);
    let app = router(state, config.console_dir.clone());
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    if let Some((cert, key)) = &config.tls {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
            .await
            .map_err(|e| StartError::Tls(e.to_string()))?;
        let std_listener = listener.into_std().map_err(|e| StartError::Bind(addr, e))?;
        let handle = axum_server::Handle::new();
        let stopper = handle.clone();
        tokio::spawn(async move {
            let _ = stop_rx.await;
            stopper.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
        });
        let server = axum_server::from_tcp_rustls(std_listener, tls).handle(handle);
        let task = tokio::spawn(async move {
            if let Err(e) = server
                .serve(app.into_make_service_with_connect_info::<SocketAddr>())
                .await
            {
                tracing::error!(error = %e, "TLS server stopped");
            }
        });
        return Ok(RunningServer {
            addr,
            scim_base,
            admin_base,
            admin_secret,
            dir,
            stop: Some(stop_tx),
            task: Some(task),
            purger,
            deliverer,
        });
    }
    let task = tokio::spawn(async move {
        let serve = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = stop_rx.await;
        });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "server stopped");
        }
    });
    Ok(RunningServer {
        addr,
        scim_base,
        admin_base,
        admin_secret,
        dir,
        stop: Some(stop_tx),
        task: Some(task),
        purger,
        deliverer,
    })
}

/// Fetches the identity provider's discovery document once at start and logs the outcome:
/// a provider that is down or misconfigured does not stop the server (sign-in then answers
/// 503 `oidc_unavailable`), but the operator sees why at once.
fn check_issuer(state: AppState, issuer: String) {
    tokio::spawn(async move {
        match state.jwks.discovery(&issuer).await {
            Ok(d) if d.authorization_endpoint.is_some() && d.token_endpoint.is_some() => {
                tracing::info!(issuer = %issuer, "identity provider sign-in is ready")
            }
            Ok(_) => tracing::error!(
                issuer = %issuer,
                "the identity provider's discovery document has no authorization or token endpoint; sign-in with it will fail"
            ),
            Err(e) => tracing::error!(
                issuer = %issuer,
                error = %e,
                "cannot use the identity provider; sign-in with it answers 503 until it can be reached"
            ),
        }
    });
}

/// The retention pass, every `every` (a minute by default) and once at start: purges users
/// and groups whose retention window ended, then prunes the provisioning log and the change
/// feed in small batches, each its own write (`directory::retention`), and finished webhook
/// deliveries past their keep.
fn spawn_purger(state: AppState, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every.max(std::time::Duration::from_millis(10)));
        // A pass longer than the interval (a first prune of millions of rows) is followed by
        // a full interval, not by a burst of catch-up passes.
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            // On PostgreSQL one instance of the cluster runs it (the others skip the tick).
            if !state.dir.runs_job("retention").await {
                continue;
            }
            if let Err(e) = state.dir.purge_due().await {
                tracing::warn!(error = %e, "purge failed");
            }
            let started = std::time::Instant::now();
            match state.dir.prune_by_retention().await {
                Ok(p) if p.log_rows + p.feed_events > 0 => tracing::info!(
                    log_rows = p.log_rows,
                    feed_events = p.feed_events,
                    writes = p.writes,
                    took_ms = started.elapsed().as_millis() as u64,
                    "pruned by retention"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "retention pruning failed"),
            }
            if let Err(e) = state
                .dir
                .prune_webhook_deliveries(directory::webhooks::KEEP_FINISHED_DAYS)
                .await
            {
                tracing::warn!(error = %e, "pruning webhook deliveries failed");
            }
        }
    })
}

impl RunningServer {
    /// Stops accepting, lets in-flight requests finish, and waits.
    pub async fn shutdown(mut self) {
        self.purger.abort();
        self.deliverer.abort();
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }

    /// Waits until the server stops by itself.
    pub async fn wait(mut self) {
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}
