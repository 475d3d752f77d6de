//! One holder per background job across the cluster (purge, retention pruning, health
//! sweeps): a session advisory lock on a connection of the holder's own. The database ends
//! the lease with the session, so an instance that dies (or loses its connection) frees the
//! job for another within the server's connection timeout, with no expiry to tune. The job
//! runs on the lease's own connection (`run_exclusively`), so a holder that lost its session
//! cannot commit anything more: the lease fences its work.

use super::PgStore;
use crate::error::Result;
use sha2::{Digest, Sha256};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tokio_postgres::Client;

/// A held lease. Dropping it closes its connection, which releases the lock.
pub struct Lease {
    client: Client,
    job: String,
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease").field("job", &self.job).finish()
    }
}

/// The lock key of a job: stable across builds and instances, in the negative half so it
/// never meets the fixed keys (migrations, feed numbering).
pub fn key(job: &str) -> i64 {
    let digest = Sha256::digest(format!("muster lease {job}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes) | i64::MIN
}

/// Takes the lease on `job` if no live session holds it; None when another does.
pub async fn try_acquire(store: &PgStore, job: &str) -> Result<Option<Lease>> {
    let client = store.dedicated().await?;
    let held: bool = client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&key(job)])
        .await?
        .get(0);
    Ok(held.then(|| Lease {
        client,
        job: job.to_string(),
    }))
}

impl Lease {
    pub fn job(&self) -> &str {
        &self.job
    }

    /// Whether the lease still stands: its session is alive and holds the lock. A job checks
    /// this before each run; false means another instance may have it now.
    pub async fn is_held(&self) -> bool {
        if self.client.is_closed() {
            return false;
        }
        self.client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'
                   AND pid = pg_backend_pid() AND granted
                   AND ((classid::bigint << 32) | objid::bigint) = $1)",
                &[&key(&self.job)],
            )
            .await
            .map(|r| r.get::<_, bool>(0))
            .unwrap_or(false)
    }

    /// The lease's own connection: a job's statements run here, so they fail rather than
    /// commit once the lease is lost.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The session holding the lease (tests end it to play a dying instance).
    pub async fn backend_pid(&self) -> Result<i32> {
        Ok(self
            .client
            .query_one("SELECT pg_backend_pid()", &[])
            .await?
            .get(0))
    }

    /// Gives the lease up now (dropping it does too, once the connection closes).
    pub async fn release(self) -> Result<()> {
        self.client
            .execute("SELECT pg_advisory_unlock($1)", &[&key(&self.job)])
            .await?;
        Ok(())
    }
}

/// A job run under a lease: given the lease's connection, one run.
pub type Job =
    Box<dyn Fn(&Client) -> Pin<Box<dyn Future<Output = Result<()>> + Send + '_>> + Send + Sync>;

/// Runs `job` every `every` on whichever instance holds the lease `name`; the others try
/// again every `every` and take over once the holder's session ends. Runs until the task is
/// aborted. A run that fails is logged and retried at the next tick.
pub fn run_exclusively(
    store: PgStore,
    name: &str,
    every: Duration,
    job: Job,
) -> tokio::task::JoinHandle<()> {
    let name = name.to_string();
    tokio::spawn(async move {
        loop {
            match try_acquire(&store, &name).await {
                Ok(Some(lease)) => {
                    tracing::info!(job = %name, "holding the lease");
                    while lease.is_held().await {
                        if let Err(e) = job(lease.client()).await {
                            tracing::warn!(job = %name, error = %e, "job run failed");
                        }
                        tokio::time::sleep(every).await;
                    }
                    tracing::warn!(job = %name, "lease lost; another instance may run the job");
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(job = %name, error = %e, "cannot reach the database for the lease")
                }
            }
            tokio::time::sleep(every).await;
        }
    })
}
