//! The one door into the directory: a `Directory` (the store, the clock and the live-change
//! fan-out) whose typed commands each run their own transaction, write their audit row and
//! feed events, and announce what they committed. The server's routers, the CLI, the demo
//! and the desktop shell all go through it, so they behave the same.

mod admin;
mod app;
mod audit;
mod console;
mod oauth;
mod scim;
mod setup;
mod team;
mod webhooks;

pub use admin::{Overview, RolesOverview};
pub use console::{GroupDetail, UserDetail};
pub use scim::{ListPage, RootPage, ScimWrite, Update, WriteOutcome};
pub use setup::SetupView;
pub use team::{SignInRefused, TotpProof};

use crate::clock::Clock;
use crate::cursor::CursorKey;
use crate::db::Db;
use crate::live::Change;
use crate::sealed::Sealer;
use crate::Result;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Cheap to clone: every clone is the same directory.
#[derive(Clone)]
pub struct Directory {
    db: Db,
    clock: Arc<dyn Clock>,
    changes: broadcast::Sender<Change>,
    /// Signs RFC 9865 cursors (`crate::cursor`): this process's own key on SQLite, the
    /// cluster's on PostgreSQL.
    cursor_key: CursorKey,
    /// Seals the secrets Muster must read back (webhook signing secrets) under the key file
    /// beside the database (`crate::sealed`).
    sealer: Arc<Sealer>,
    /// On PostgreSQL, keeps the live-change listener (`pg::live`) running: it stops once
    /// the last clone of this directory is dropped.
    live: Option<Arc<tokio::sync::watch::Sender<()>>>,
    /// On PostgreSQL, the background jobs' leases this instance holds (`runs_job`).
    /// Each with when it was last seen held.
    leases: Arc<tokio::sync::Mutex<std::collections::HashMap<String, HeldLease>>>,
}

/// How long `runs_job` trusts a lease it saw held without asking the database again.
const LEASE_RECHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// A background job's lease this instance holds, and when it last saw it held.
struct HeldLease {
    lease: crate::pg::lease::Lease,
    seen: std::time::Instant,
}

impl Directory {
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Directory {
        let (changes, _) = broadcast::channel(1024);
        let sealer = Arc::new(Sealer::beside(db.path()));
        Directory {
            db,
            clock,
            changes,
            cursor_key: CursorKey::random(),
            sealer,
            live: None,
            leases: Arc::default(),
        }
    }

    /// A directory on the PostgreSQL database at `url` (connected and migrated), whose
    /// watchers also hear what other instances commit (`pg::live`). `files` stands where the
    /// SQLite file would: the sealing key is `<files>.key`.
    pub async fn connect_postgres(
        url: &str,
        options: &crate::pg::PgOptions,
        files: &std::path::Path,
        clock: Arc<dyn Clock>,
    ) -> Result<Directory> {
        let db = Db::connect_postgres(url, options, files).await?;
        let mut dir = Directory::new(db, clock);
        if let Some(store) = dir.db.postgres() {
            dir.cursor_key = CursorKey::from_bytes(store.shared_key("rfc9865-cursor").await?);
            let (alive, listening) = tokio::sync::watch::channel(());
            crate::pg::live::listen(store.clone(), dir.changes.clone(), listening).await?;
            dir.live = Some(Arc::new(alive));
        }
        Ok(dir)
    }

    /// Whether this instance should run the background job `name` (retention, webhook
    /// delivery) now. Always on SQLite, where one process owns the file. On PostgreSQL, while
    /// it holds the job's lease (`pg::lease`): one instance at a time does, and another takes
    /// the job over once the holder's session ends.
    pub async fn runs_job(&self, name: &str) -> bool {
        let Some(store) = self.db.postgres() else {
            return true;
        };
        let mut leases = self.leases.lock().await;
        if let Some(held) = leases.get_mut(name) {
            // Checked at most once a second: the webhook deliverer asks at every write's
            // wake-up. A lease lost in between is noticed within that second; its job's
            // work is at-least-once already (a webhook redelivered, a prune run twice).
            if held.seen.elapsed() < LEASE_RECHECK {
                return true;
            }
            if held.lease.is_held().await {
                held.seen = std::time::Instant::now();
                return true;
            }
            leases.remove(name);
            tracing::warn!(job = name, "lease lost; another instance may run the job");
        }
        match crate::pg::lease::try_acquire(store, name).await {
            Ok(Some(lease)) => {
                tracing::info!(job = name, "holding the lease");
                let seen = std::time::Instant::now();
                leases.insert(name.to_string(), HeldLease { lease, seen });
                true
            }
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(job = name, error = %e, "cannot reach the database for the lease");
                false
            }
        }
    }

    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &std::path::Path, clock: Arc<dyn Clock>) -> Result<Directory> {
        Ok(Directory::new(Db::open(path)?, clock))
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// Live changes from now on; a receiver that falls behind gets a lag error, to be read
    /// as `Change::resync()`.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// Announces committed changes to every watcher (nobody watching is fine). On PostgreSQL
    /// they go through the database (NOTIFY), which hands them to every instance's
    /// listener, this one's included, so all watchers hear them the same way.
    fn announce(&self, changes: impl IntoIterator<Item = Change>) {
        if let Some(store) = self.db.postgres() {
            let (store, changes): (_, Vec<Change>) = (store.clone(), changes.into_iter().collect());
            tokio::spawn(async move {
                let sent = async {
                    let client = store.client().await?;
                    for c in &changes {
                        crate::pg::live::notify(&client, c).await?;
                    }
                    Ok::<_, crate::Error>(())
                };
                if let Err(e) = sent.await {
                    tracing::warn!(error = %e, "live changes not announced to other instances");
                }
            });
            return;
        }
        for c in changes {
            let _ = self.changes.send(c);
        }
    }

    // ---- Operations: what probes and metrics ask of the store ----

    /// The schema version the database records and whether it is this build's newest.
    pub async fn schema_current(&self) -> Result<bool> {
        let v = self.db.read(Db::schema_version).await?;
        Ok(v == self.db.supported_schema_version())
    }

    /// A trivial write through the writer: it answers while the writer is alive.
    pub async fn probe_write(&self) -> Result<()> {
        self.db.write(|_| Ok(())).await
    }

    /// Commands queued for the writer and not yet answered.
    pub fn pending(&self) -> usize {
        self.db.pending()
    }

    /// How long a write queued now would wait; for `Retry-After`.
    pub fn estimated_wait(&self) -> std::time::Duration {
        self.db.estimated_wait()
    }

    pub fn path(&self) -> &std::path::Path {
        self.db.path()
    }

    /// What the store takes on disk, in bytes (`Db::size_bytes`).
    pub async fn database_bytes(&self) -> Result<u64> {
        self.db.size_bytes().await
    }

    /// Folds the write-ahead log into the database file (at shutdown).
    pub fn checkpoint(&self) -> Result<()> {
        self.db.checkpoint()
    }

    /// The store underneath, for backup and for tests that stage rows directly.
    pub fn db(&self) -> &Db {
        &self.db
    }
}
