//! The store handle every command goes through (`Db`), and the SQLite store behind it by
//! default: opening and migrating the file, the single writer that commits queued commands
//! in groups (one fsync for many requests, each undone alone when it fails), and the pool of
//! read-only connections that never wait for the writer (WAL). On PostgreSQL the same
//! commands run through pg/commands.rs.

mod migrations;
mod writer;

use migrations::migrate;
use writer::*;
pub use writer::{with_tenant, WriteScope};

use crate::error::{Error, Result};
use rusqlite::config::DbConfig;
use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use tokio::sync::{oneshot, Semaphore};

/// The SQLite connection type commands receive inside the writer or a reader.
pub use rusqlite::Connection as RawConnection;

const READERS: usize = 4;

/// Case folding used for every case-insensitive comparison, in Rust and in SQL alike
/// (SQLite's lower() folds ASCII only; RFC 7643 caseExact=false means Unicode case).
pub fn fold(s: &str) -> String {
    s.to_lowercase()
}

fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "muster_fold",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let v: Option<String> = ctx.get(0).ok();
            Ok(v.map(|s| fold(&s)))
        },
    )
}

/// Prepared statements kept per connection: every fixed statement of the SCIM path fits,
/// with room for the filter shapes clients repeat.
const STATEMENT_CACHE: usize = 256;

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    register_functions(conn)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Hot statements are prepared once per connection (`prepare_cached`); parsing and
    // planning them per request was a third of the write path's CPU.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Query-planner stability: without it SQLite marks a statement expired whenever a
    // parameter that may shape the plan (LIMIT ? OFFSET ?) is re-bound, and re-parses it
    // on the next step, which undid the cache for every list page (seen in perf as
    // sqlite3Reprepare under query::page).
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.execute_batch(
        "PRAGMA foreign_keys = ON;
         PRAGMA synchronous = FULL;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -8000;",
    )?;
    Ok(())
}

/// The writer's usual wait on a lock.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Handle to the store: SQLite (the default) or PostgreSQL. Cheap to clone.
#[derive(Clone)]
pub struct Db(Store);

#[derive(Clone)]
enum Store {
    Sqlite(Lite),
    Postgres(Box<Remote>),
}

/// The SQLite store's writer queue, readers and file.
#[derive(Clone)]
struct Lite {
    jobs: mpsc::SyncSender<Job>,
    load: Arc<WriterLoad>,
    readers: Arc<ReadPool>,
    path: PathBuf,
}

/// The PostgreSQL store, the runtime its blocking callers reach it through, and where this
/// instance's own files live (`<files>.key`, the sealing key).
#[derive(Clone)]
struct Remote {
    store: crate::pg::PgStore,
    rt: tokio::runtime::Handle,
    files: PathBuf,
    detached: Arc<Detached>,
}

/// The detached writes this instance has started and not finished, so that a write awaited
/// later runs after them, as it would behind them in SQLite's one queue: a tenant's write
/// after that tenant's earlier detached writes (its log rows), a write outside any tenant
/// after all of them. The console reading the log after an action sees the action's row.
#[derive(Default)]
struct Detached {
    running: Mutex<(u64, std::collections::BTreeMap<u64, Arc<str>>)>,
    finished: tokio::sync::Notify,
}

impl Detached {
    fn start(&self, tenant: Arc<str>) -> u64 {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let id = running.0;
        running.0 += 1;
        running.1.insert(id, tenant);
        id
    }

    fn finish(&self, id: u64) {
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .remove(&id);
        self.finished.notify_waiters();
    }

    /// Waits until every detached write `tenant`'s write must follow has finished.
    async fn wait_for_earlier(&self, tenant: &str) {
        let upto = self.running.lock().unwrap_or_else(|e| e.into_inner()).0;
        loop {
            let finished = self.finished.notified();
            let pending = self
                .running
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .1
                .range(..upto)
                .any(|(_, t)| tenant.is_empty() || **t == *tenant);
            if !pending {
                return;
            }
            finished.await;
        }
    }
}

struct ReadPool {
    conns: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

impl Db {
    /// Opens (creating if needed, readable by its owner only) and migrates the database.
    pub fn open(path: &Path) -> Result<Db> {
        let writer = Db::open_plain(path)?;

        let mut conns = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let c = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            configure(&c)?;
            conns.push(c);
        }
        // No checkpoint inside COMMIT: a thread of its own copies the WAL back into the
        // database (`checkpoint_loop`), and the writer restarts it past 32 MiB
        // (`after_commit`).
        writer.pragma_update(None, "wal_autocheckpoint", 0)?;
        // Page caches: 8 MB per reader, 16 MB for the writer, whose random index inserts at
        // 100,000 users miss more. Readers at 16 MB held 163 MB peak under the read mix
        // with a console search, 108 MB at 8 MB, at the same read rates (BENCHMARKS.md).
        writer.pragma_update(None, "cache_size", -16000)?;
        let checkpointer = Connection::open(path)?;
        configure(&checkpointer)?;
        // A checkpoint copies frames file to file; it needs no page cache of its own.
        checkpointer.pragma_update(None, "cache_size", -256)?;
        writer.wal_hook(Some(note_wal_frames));
        let (kick, kicked) = mpsc::sync_channel::<()>(1);
        std::thread::Builder::new()
            .name("muster-checkpoint".into())
            .spawn(move || checkpoint_loop(checkpointer, kicked))?;
        let (tx, rx) = mpsc::sync_channel::<Job>(8192);
        let load = Arc::new(WriterLoad::default());
        std::thread::Builder::new()
            .name("muster-writer".into())
            .spawn({
                let load = load.clone();
                move || writer_loop(writer, rx, kick, &load)
            })?;
        Ok(Db(Store::Sqlite(Lite {
            jobs: tx,
            load,
            readers: Arc::new(ReadPool {
                conns: Mutex::new(conns),
                permits: Semaphore::new(READERS),
            }),
            path: path.to_path_buf(),
        })))
    }

    /// A store on the PostgreSQL database at `url`, connected and migrated (`PgStore`).
    /// `files` stands where the SQLite file would: this instance's own files live beside it,
    /// such as the key that seals webhook secrets (`<files>.key`; every instance must be
    /// given the same key).
    pub async fn connect_postgres(
        url: &str,
        options: &crate::pg::PgOptions,
        files: &Path,
    ) -> Result<Db> {
        let store = crate::pg::PgStore::connect_with(url, options).await?;
        Ok(Db::on_postgres(store, files))
    }

    /// A store on an already connected PostgreSQL database. Must be called inside a Tokio
    /// runtime, which the blocking variants (`write_blocking`, `read_blocking`) use.
    pub fn on_postgres(store: crate::pg::PgStore, files: &Path) -> Db {
        Db(Store::Postgres(Box::new(Remote {
            store,
            rt: tokio::runtime::Handle::current(),
            files: files.to_path_buf(),
            detached: Arc::default(),
        })))
    }

    /// The PostgreSQL store underneath, if this is one (for leases and the live listener).
    pub fn postgres(&self) -> Option<&crate::pg::PgStore> {
        match &self.0 {
            Store::Postgres(r) => Some(&r.store),
            Store::Sqlite(_) => None,
        }
    }

    /// Opens the database as `open` does (created owner-only, configured, WAL, migrated) but
    /// as one plain connection: no writer, readers or checkpoint thread. For a tool that fills
    /// a new database in one go (migrate-store); `open` starts from it.
    pub fn open_plain(path: &Path) -> Result<RawConnection> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)?;
            }
        }
        create_owner_only(path)?;
        let conn = Connection::open(path)?;
        configure(&conn)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        migrate(&conn)?;
        for suffix in ["-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            restrict_permissions(Path::new(&p));
        }
        Ok(conn)
    }

    /// The SQLite file; on PostgreSQL, the path this instance's own files sit beside.
    pub fn path(&self) -> &Path {
        match &self.0 {
            Store::Sqlite(l) => &l.path,
            Store::Postgres(r) => &r.files,
        }
    }

    /// What the store takes on disk, in bytes: the SQLite file and its write-ahead log, or
    /// the PostgreSQL database as its server counts it (`pg_database_size`).
    pub async fn size_bytes(&self) -> Result<u64> {
        match &self.0 {
            Store::Sqlite(l) => {
                let mut wal = l.path.as_os_str().to_owned();
                wal.push("-wal");
                Ok([l.path.as_os_str().to_owned(), wal]
                    .iter()
                    .filter_map(|p| std::fs::metadata(p).ok())
                    .map(|m| m.len())
                    .sum())
            }
            Store::Postgres(r) => {
                let client = r.store.client().await?;
                let row = client
                    .query_one("SELECT pg_database_size(current_database())", &[])
                    .await?;
                Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
            }
        }
    }

    /// How long a write queued now would wait before the writer takes it: the commands
    /// ahead of it times the recent cost of one. For `Retry-After`.
    pub fn estimated_wait(&self) -> std::time::Duration {
        // PostgreSQL has no queue of ours: a command waits for a pooled connection (at most
        // `pg::WAIT`) and its connection's lock, which nothing here can see ahead of time.
        let Store::Sqlite(l) = &self.0 else {
            return std::time::Duration::ZERO;
        };
        let pending = l.load.pending.load(Ordering::Relaxed) as u64;
        let each = l.load.micros_per_job.load(Ordering::Relaxed);
        // A group still running has taken at least this long and is not done yet.
        let running = l.load.running_for();
        std::time::Duration::from_micros(pending.saturating_mul(each)) + running
    }

    /// Commands queued for the writer and not yet answered (the `muster_writer_pending`
    /// gauge).
    pub fn pending(&self) -> usize {
        match &self.0 {
            Store::Sqlite(l) => l.load.pending.load(Ordering::Relaxed),
            Store::Postgres(_) => 0,
        }
    }

    fn lite(&self) -> Option<&Lite> {
        match &self.0 {
            Store::Sqlite(l) => Some(l),
            Store::Postgres(_) => None,
        }
    }

    /// Queues a job, counted in `pending` before the writer can see it (the writer
    /// subtracts what it answered).
    fn send(&self, job: Job) -> Result<()> {
        let Some(l) = self.lite() else {
            return Err(Error::Closed);
        };
        l.load.pending.fetch_add(1, Ordering::Relaxed);
        l.jobs.send(job).map_err(|_| {
            l.load.pending.fetch_sub(1, Ordering::Relaxed);
            Error::Closed
        })
    }

    /// Runs a write on PostgreSQL as one request's write: registered in its `WriteScope` (so
    /// a request that gave up before the write's turn came never runs it) and in its
    /// tenant's line (`pg/commands.rs`).
    async fn write_remote<R, F>(r: &Remote, access: crate::pg::Access, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&crate::sql::Connection<'_>) -> Result<R> + Send + 'static,
    {
        let tenant = current_tenant();
        r.detached.wait_for_earlier(&tenant).await;
        let state = WriteScope::current_job();
        let claim = move || {
            state.is_none_or(|s| {
                s.compare_exchange(QUEUED, TAKEN, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
            })
        };
        r.store.run(access, &tenant, claim, f).await
    }

    /// Runs `f` inside the next group commit, in its own savepoint; resolves after the
    /// group's COMMIT (or with the error that rolled the savepoint back).
    pub async fn write<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&crate::sql::Connection<'_>) -> Result<R> + Send + 'static,
    {
        if let Store::Postgres(r) = &self.0 {
            return Db::write_remote(r, crate::pg::Access::Write, f).await;
        }
        self.queue(|answer| once_job(f, answer)).await
    }

    /// Like `write`, for a command that can run again with the same effect: it runs
    /// without a savepoint of its own (whose page copies were a sixth of the writer's time
    /// in a sync), and if it or a neighbour fails it is undone and run again
    /// (`GroupTx`). `f` must do nothing but its statements.
    pub async fn write_replayable<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: Fn(&crate::sql::Connection<'_>) -> Result<R> + Send + 'static,
    {
        if let Store::Postgres(r) = &self.0 {
            return Db::write_remote(r, crate::pg::Access::Write, f).await;
        }
        self.queue(|answer| replayable_job(Kind::Replayable, f, answer))
            .await
    }

    /// `write_replayable` for a command that only adds rows of its own (a user create):
    /// on PostgreSQL it runs beside the other adds of its connection instead of waiting
    /// for each (`pg::Access::Add`), still apart from every other write of it. What it
    /// may race with, another add, only the database's unique indexes decide.
    pub async fn add_replayable<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: Fn(&crate::sql::Connection<'_>) -> Result<R> + Send + 'static,
    {
        if let Store::Postgres(r) = &self.0 {
            return Db::write_remote(r, crate::pg::Access::Add, f).await;
        }
        self.write_replayable(f).await
    }

    async fn queue<R: Send + 'static>(
        &self,
        job: impl FnOnce(Box<dyn FnOnce(Result<R>) + Send>) -> Job,
    ) -> Result<R> {
        let (tx, rx) = oneshot::channel::<Result<R>>();
        let job = job(Box::new(move |result| {
            let _ = tx.send(result);
        }));
        self.send(job)?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// Blocking variant for the CLI and tests outside a runtime.
    pub fn write_blocking<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&crate::sql::Connection<'_>) -> Result<R> + Send + 'static,
    {
        if let Store::Postgres(r) = &self.0 {
            if tokio::runtime::Handle::try_current().is_ok() {
                return Err(Error::Unsupported(
                    "a blocking write inside the runtime on PostgreSQL: use Db::write",
                ));
            }
            return r
                .rt
                .block_on(Db::write_remote(r, crate::pg::Access::Write, f));
        }
        let (tx, rx) = mpsc::channel::<Result<R>>();
        let job = once_job(f, move |result| {
            let _ = tx.send(result);
        });
        self.send(job)?;
        rx.recv().map_err(|_| Error::Closed)?
    }

    /// Queues a write nobody waits for. It is replayable (see `write_replayable`).
    pub fn write_detached<F>(&self, f: F)
    where
        F: Fn(&crate::sql::Connection<'_>) -> Result<()> + Send + 'static,
    {
        self.write_detached_then(f, |_| {});
    }

    /// Like `write_detached`, and once the group holding it has committed, runs `then` with
    /// the write's result (on the writer thread: keep it short) — so whoever is told about
    /// the write can already read it. Not run if the write or its commit failed.
    pub fn write_detached_then<R, F, T>(&self, f: F, then: T)
    where
        R: Send + 'static,
        F: Fn(&crate::sql::Connection<'_>) -> Result<R> + Send + 'static,
        T: FnOnce(R) + Send + 'static,
    {
        self.detached(Kind::Replayable, f, then);
    }

    /// Like `write_detached_then`, for a write that is exactly one SQL statement, such as a
    /// provisioning-log row: SQLite undoes a failed statement by itself, so its failure
    /// undoes nothing else (the log rows of an Okta sync's GETs are half the writer's
    /// commands).
    pub fn write_statement_detached_then<R, F, T>(&self, f: F, then: T)
    where
        R: Send + 'static,
        F: Fn(&crate::sql::Connection<'_>) -> Result<R> + Send + 'static,
        T: FnOnce(R) + Send + 'static,
    {
        self.detached(Kind::Statement, f, then);
    }

    fn detached<R, F, T>(&self, kind: Kind, f: F, then: T)
    where
        R: Send + 'static,
        F: Fn(&crate::sql::Connection<'_>) -> Result<R> + Send + 'static,
        T: FnOnce(R) + Send + 'static,
    {
        if let Store::Postgres(r) = &self.0 {
            let r2 = r.clone();
            let tenant = current_tenant();
            let id = r.detached.start(tenant.clone());
            r.rt.spawn(async move {
                // Detached writes are notes (pg/commands.rs): they need no turn in the
                // connection's line, which every request would otherwise queue in.
                let run = r2
                    .store
                    .run(crate::pg::Access::Note, &tenant, || true, move |c| f(c));
                match run.await {
                    Ok(v) => then(v),
                    Err(e) => tracing::warn!(error = %e, "detached write failed"),
                }
                r2.detached.finish(id);
            });
            return;
        }
        let Some(l) = self.lite() else { return };
        // Outside any request's scope: nobody's answer depends on it, so it is never
        // abandoned.
        let job = WriteScope::outside(|| {
            replayable_job(kind, f, move |result: Result<R>| match result {
                Ok(v) => then(v),
                Err(e) => tracing::warn!(error = %e, "detached write failed"),
            })
        });
        l.load.pending.fetch_add(1, Ordering::Relaxed);
        if l.jobs.try_send(job).is_err() {
            l.load.pending.fetch_sub(1, Ordering::Relaxed);
            tracing::warn!("writer queue full; dropping a detached write");
        }
    }

    /// Runs `f` on a read-only connection on the blocking pool.
    pub async fn read<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&crate::sql::Connection<'_>) -> Result<R> + Send + 'static,
    {
        let l = match &self.0 {
            Store::Sqlite(l) => l,
            Store::Postgres(r) => {
                return r.store.run(crate::pg::Access::Read, "", || true, f).await
            }
        };
        let readers = l.readers.clone();
        let permit = readers.permits.acquire().await.map_err(|_| Error::Closed)?;
        // The blocking task, not this future, returns the permit: when a request is dropped
        // mid-read (client gone), its connection is still out of the pool, and a permit freed
        // early let the next reader find the pool empty and answer 500 "shutting down".
        permit.forget();
        let pool = l.readers.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.conns.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let Some(conn) = conn else {
                pool.permits.add_permits(1);
                return Err(Error::Closed);
            };
            let result = f(&crate::sql::Connection::Sqlite(&conn));
            pool.conns
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(conn);
            pool.permits.add_permits(1);
            result
        })
        .await
        .map_err(|_| Error::Closed)?
    }

    /// Blocking read for the CLI, outside a runtime: opens a fresh read connection.
    pub fn read_blocking<R>(
        &self,
        f: impl FnOnce(&crate::sql::Connection<'_>) -> Result<R>,
    ) -> Result<R> {
        let l = match &self.0 {
            Store::Sqlite(l) => l,
            Store::Postgres(r) => {
                // Outside a runtime (the CLI, tests): this thread drives the statements.
                // Inside one it would block the thread the connections run on.
                if tokio::runtime::Handle::try_current().is_ok() {
                    return Err(Error::Unsupported(
                        "a blocking read inside the runtime on PostgreSQL: use Db::read",
                    ));
                }
                return r.store.read_blocking(&r.rt, f);
            }
        };
        let c = Connection::open_with_flags(&l.path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        configure(&c)?;
        f(&crate::sql::Connection::Sqlite(&c))
    }

    /// Copies the WAL into the database file and truncates it, so the file is whole on its
    /// own: `muster serve` calls it on shutdown, once the writer's queue has drained.
    pub fn checkpoint(&self) -> Result<()> {
        let Some(l) = self.lite() else {
            return Ok(());
        };
        let c = Connection::open(&l.path)?;
        c.busy_timeout(BUSY_TIMEOUT)?;
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

#[cfg(unix)]
fn create_owner_only(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if !path.exists() {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
    }
    restrict_permissions(path);
    Ok(())
}

#[cfg(not(unix))]
fn create_owner_only(_path: &Path) -> Result<()> {
    Ok(())
}

fn restrict_permissions(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if path.exists() {
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
    }
    let _ = path;
}

/// The query plan SQLite chooses for `sql`, one step per line, with every parameter bound to
/// `arg`: for the tests that show a query is served by an index.
#[cfg(test)]
pub(crate) fn query_plan<T: rusqlite::ToSql + Clone>(
    c: &crate::sql::Connection<'_>,
    sql: &str,
    arg: T,
) -> Vec<String> {
    let c = c.sqlite().unwrap();
    let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let args = vec![arg; stmt.parameter_count()];
    stmt.query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}
