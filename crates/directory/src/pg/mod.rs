//! The PostgreSQL store, for several Muster servers sharing one database: connecting and
//! migrating, and what must hold across instances — the change feed's commit-safe numbering
//! (feed.rs), one holder per background job (lease.rs) and live changes that reach every
//! instance (live.rs). The SQLite store (db/) stays the embedded default.

mod commands;
pub mod copy;
pub mod feed;
pub mod lease;
pub mod live;
mod migrations;
pub mod tls;

pub(crate) use commands::Access;

use crate::error::{Error, Result};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use std::path::PathBuf;
use std::time::Duration;
use tokio_postgres::error::SqlState;
use tokio_postgres::Config;

pub use migrations::{MIGRATIONS, SUPPORTED_VERSION};

/// Connections one instance keeps open at most.
const POOL_SIZE: usize = 16;
/// How long a connection attempt, or a wait for a free pooled connection, may take before the
/// caller is told the store is unavailable (503 with Retry-After on the SCIM path).
const WAIT: Duration = Duration::from_secs(5);

/// How to reach the database beyond its URL.
#[derive(Clone, Debug, Default)]
pub struct PgOptions {
    /// A PEM file of certificate authorities to trust for the server's certificate, besides
    /// the system's (a private CA, a cloud provider's bundle).
    pub ca_file: Option<PathBuf>,
}

/// Handle to a PostgreSQL store. Cheap to clone.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    config: Config,
    tls: tls::Tls,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("at", &describe(&self.config))
            .finish()
    }
}

/// Where a database URL points, for messages: hosts, port and database, never the password.
pub fn describe(config: &Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}:{}/{}",
        hosts.join(","),
        port,
        config.get_dbname().unwrap_or("(default database)")
    )
}

/// Reads a `postgres://` (or `postgresql://`) URL; a malformed one is `Invalid` with the
/// parser's reason, which never repeats the password. TLS is required for a server off this
/// machine unless the URL sets `sslmode` (tls.rs).
pub fn parse_url(url: &str) -> Result<Config> {
    let mut config: Config = url
        .parse()
        .map_err(|e| Error::Invalid(format!("database URL: {e}")))?;
    if config.get_hosts().is_empty() {
        return Err(Error::Invalid(
            "database URL: it names no host (postgres://USER@HOST[:PORT]/DATABASE)".into(),
        ));
    }
    tls::apply_default_mode(url, &mut config);
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(WAIT);
    }
    // Named so an operator sees Muster's sessions in pg_stat_activity; a URL may name each
    // instance instead (`?application_name=muster-a`).
    if config.get_application_name().is_none() {
        config.application_name("muster");
    }
    Ok(config)
}

impl PgStore {
    /// Connects to the database at `url` and applies the migrations this build knows,
    /// refusing a database written by a newer Muster. An unreachable server, a wrong
    /// password or a missing database is `Unavailable` with what went wrong and where.
    pub async fn connect(url: &str) -> Result<PgStore> {
        PgStore::connect_with(url, &PgOptions::default()).await
    }

    /// `connect`, with a CA file to trust.
    pub async fn connect_with(url: &str, options: &PgOptions) -> Result<PgStore> {
        let config = parse_url(url)?;
        let tls = tls::connector(options.ca_file.as_deref())?;
        let manager = Manager::from_config(
            config.clone(),
            tls.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(WAIT))
            .create_timeout(Some(WAIT))
            .recycle_timeout(Some(WAIT))
            .build()
            .map_err(|e| Error::Invalid(format!("database pool: {e}")))?;
        let store = PgStore { pool, config, tls };
        let mut client = store.client().await?;
        migrations::migrate(&mut client).await?;
        Ok(store)
    }

    /// The 32-byte key `name` every instance of the cluster shares (migrations/postgres/0004):
    /// the first instance to ask draws it, at random; a racing second keeps the first's.
    pub async fn shared_key(&self, name: &str) -> Result<[u8; 32]> {
        let client = self.client().await?;
        let mut drawn = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut drawn);
        client
            .execute(
                "INSERT INTO shared_keys (name, key) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                &[&name, &drawn.as_slice()],
            )
            .await?;
        let key: Vec<u8> = client
            .query_one("SELECT key FROM shared_keys WHERE name = $1", &[&name])
            .await?
            .get(0);
        key.try_into()
            .map_err(|_| Error::Corrupt(format!("the shared key {name} is not 32 bytes")))
    }

    /// A pooled connection; `Unavailable` when none can be had within `WAIT`.
    pub async fn client(&self) -> Result<deadpool_postgres::Client> {
        self.pool
            .get()
            .await
            .map_err(|e| unavailable(&self.config, &with_causes(&e)))
    }

    /// The connection settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Opens a connection of its own (not pooled), driving it on a task of its own: what
    /// leases and the live listener hold.
    pub(crate) async fn dedicated(&self) -> Result<tokio_postgres::Client> {
        let (client, connection) = self
            .config
            .connect(self.tls.clone())
            .await
            .map_err(|e| unavailable(&self.config, &with_causes(&e)))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "PostgreSQL connection ended");
            }
        });
        Ok(client)
    }
}

/// An error and the errors beneath it, so "TLS handshake failed" says which certificate
/// check failed, and "error connecting" says the address was refused.
fn with_causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = c.source();
    }
    text
}

fn unavailable(config: &Config, why: &str) -> Error {
    Error::Unavailable(format!("PostgreSQL at {}: {why}", describe(config)))
}

/// Whether the error is the database refusing a duplicate (a unique index), which the
/// SCIM path answers 409 uniqueness.
pub fn is_unique_violation(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

impl From<tokio_postgres::Error> for Error {
    fn from(e: tokio_postgres::Error) -> Self {
        // A lost or refused connection is the database being away, not a bug: retry later.
        let io = std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
        let away = e.is_closed()
            || io
            || e.code().is_some_and(|c| {
                c.code().starts_with("08")
                    || *c == SqlState::ADMIN_SHUTDOWN
                    || *c == SqlState::CRASH_SHUTDOWN
                    || *c == SqlState::CANNOT_CONNECT_NOW
            });
        if away {
            Error::Unavailable(format!("PostgreSQL: {e}"))
        } else {
            Error::Postgres(e)
        }
    }
}
