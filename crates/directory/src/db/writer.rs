//! The single writer: queued commands committed in groups, fair across tenants, each undone
//! alone when it fails, and the WAL checkpointed beside it.

use super::*;

/// Most commands one group commit takes; bounded so one fsync never waits on too many.
pub(super) const MAX_GROUP: usize = 512;

/// A command queued for the writer, run inside a group's transaction.
pub(super) type Job = Box<dyn Command>;

/// What the writer runs: the command's statements, then, after the group's COMMIT (or the
/// failure that undid it), the answer to whoever queued it.
pub(super) trait Command: Send {
    fn kind(&self) -> Kind;
    /// Takes the command for running; false when its request abandoned it first, in which
    /// case it must not run (`WriteScope`).
    fn claim(&self) -> bool;
    /// Whose request queued it (`with_tenant`), for the writer's round-robin.
    fn tenant(&self) -> Arc<str>;
    /// Runs the statements and keeps the outcome for `answer`; whether they succeeded.
    /// A replayable command may run again after a rollback undid it.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Keeps `e` as the outcome without running (the writer could not give it a savepoint).
    fn refuse(&mut self, e: Error);
    fn answer(self: Box<Self>, commit: Result<()>);
}

/// How the writer may run a command.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Kind {
    /// Runs once (an `FnOnce`), in a savepoint of its own.
    Once,
    /// Runs again with the same effect (an `Fn`), so it runs without a savepoint: if it
    /// fails, the writer undoes the replayable commands run since the last mark and replays
    /// the others (`GroupTx`).
    Replayable,
    /// A replayable command that is exactly one statement: SQLite undoes it when it fails,
    /// so its failure undoes nothing else.
    Statement,
}

/// A scoped write's state: queued, taken by the writer (it will commit or fail and its
/// caller be told which), or abandoned by its request (it will never run).
pub(super) const QUEUED: u8 = 0;
pub(super) const TAKEN: u8 = 1;
pub(super) const ABANDONED: u8 = 2;

tokio::task_local! {
    static SCOPE: WriteScope;
    static TENANT: Arc<str>;
}

/// Runs `fut` with every write it queues (awaited or detached) counted as `tenant`'s: the
/// writer serves tenants round-robin, so one connection's flood of large writes cannot
/// hold another's create for more than `GROUP_BUDGET` (`FairQueue`).
pub async fn with_tenant<F: std::future::Future>(tenant: &str, fut: F) -> F::Output {
    TENANT.scope(Arc::from(tenant), fut).await
}

pub(super) fn current_tenant() -> Arc<str> {
    TENANT
        .try_with(Arc::clone)
        .unwrap_or_else(|_| Arc::from(""))
}

std::thread_local! {
    /// Set while a detached write is built, so it stays out of the surrounding scope.
    static OUTSIDE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The writes one request queued, so that a request answered with an error never takes
/// effect later. A request that gives up (its deadline passed) calls `abandon`: writes
/// the writer has not taken yet are dropped unrun, and if one was already taken the
/// request must wait for its outcome and report it instead of an error.
#[derive(Clone, Default)]
pub struct WriteScope {
    jobs: Arc<Mutex<Vec<Arc<AtomicU8>>>>,
}

impl WriteScope {
    pub fn new() -> Self {
        WriteScope::default()
    }

    /// Runs `fut` with every `Db::write*` it awaits registered in this scope (detached
    /// writes are not: nobody waits for them).
    pub async fn run<F: std::future::Future>(&self, fut: F) -> F::Output {
        SCOPE.scope(self.clone(), fut).await
    }

    /// Abandons every write still queued. Returns true when none was taken by the writer,
    /// so the request has changed nothing and may answer with an error; false when a
    /// write was taken and its outcome must be awaited.
    pub fn abandon(&self) -> bool {
        let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let mut untouched = true;
        for state in jobs.iter() {
            if let Err(now) =
                state.compare_exchange(QUEUED, ABANDONED, Ordering::AcqRel, Ordering::Acquire)
            {
                untouched &= now == ABANDONED;
            }
        }
        untouched
    }

    /// A new job's state, registered in the current task's scope if there is one.
    pub(super) fn current_job() -> Option<Arc<AtomicU8>> {
        if OUTSIDE.with(|o| o.get()) {
            return None;
        }
        SCOPE
            .try_with(|scope| {
                let state = Arc::new(AtomicU8::new(QUEUED));
                scope
                    .jobs
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(state.clone());
                state
            })
            .ok()
    }

    pub(super) fn outside<T>(f: impl FnOnce() -> T) -> T {
        OUTSIDE.with(|o| o.set(true));
        let out = f();
        OUTSIDE.with(|o| o.set(false));
        out
    }
}

/// A command and what its caller is told.
pub(super) struct Queued<F, A, R> {
    pub(super) kind: Kind,
    pub(super) f: F,
    pub(super) outcome: Option<Result<R>>,
    pub(super) answer: A,
    /// Shared with the request's `WriteScope`, when it was queued inside one.
    pub(super) state: Option<Arc<AtomicU8>>,
    pub(super) tenant: Arc<str>,
}

impl<F, A, R> Command for Queued<F, A, R>
where
    F: FnMut(&crate::sql::Connection<'_>) -> Result<R> + Send,
    A: FnOnce(Result<R>) + Send,
    R: Send,
{
    fn kind(&self) -> Kind {
        self.kind
    }
    fn tenant(&self) -> Arc<str> {
        self.tenant.clone()
    }
    fn claim(&self) -> bool {
        self.state.as_ref().is_none_or(|s| {
            match s.compare_exchange(QUEUED, TAKEN, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => true,
                Err(now) => now == TAKEN,
            }
        })
    }
    fn run(&mut self, conn: &Connection) -> bool {
        let outcome = (self.f)(&crate::sql::Connection::Sqlite(conn));
        let ok = outcome.is_ok();
        self.outcome = Some(outcome);
        ok
    }
    fn refuse(&mut self, e: Error) {
        self.outcome = Some(Err(e));
    }
    fn answer(self: Box<Self>, commit: Result<()>) {
        let outcome = self.outcome.unwrap_or(Err(Error::Closed));
        (self.answer)(match (outcome, commit) {
            (Ok(v), Ok(())) => Ok(v),
            (Err(e), _) | (Ok(_), Err(e)) => Err(e),
        })
    }
}

/// A command that runs once, in its own savepoint.
pub(super) fn once_job<R, F, A>(f: F, answer: A) -> Job
where
    R: Send + 'static,
    F: FnOnce(&crate::sql::Connection<'_>) -> Result<R> + Send + 'static,
    A: FnOnce(Result<R>) + Send + 'static,
{
    // FnOnce behind FnMut: the writer runs a `Once` command once (`GroupTx::run`); a
    // second run would find nothing to call.
    let mut f = Some(f);
    let f = move |c: &crate::sql::Connection<'_>| match f.take() {
        Some(f) => f(c),
        None => Err(Error::Closed),
    };
    Box::new(Queued {
        kind: Kind::Once,
        f,
        outcome: None,
        answer,
        state: WriteScope::current_job(),
        tenant: current_tenant(),
    })
}

/// A command that may run again (`Replayable` or `Statement`).
pub(super) fn replayable_job<R, F, A>(kind: Kind, f: F, answer: A) -> Job
where
    R: Send + 'static,
    F: Fn(&crate::sql::Connection<'_>) -> Result<R> + Send + 'static,
    A: FnOnce(Result<R>) + Send + 'static,
{
    Box::new(Queued {
        kind,
        f,
        outcome: None,
        answer,
        state: WriteScope::current_job(),
        tenant: current_tenant(),
    })
}

/// Shortest time between two background checkpoints while writes keep coming.
pub(super) const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// WAL frames (4 KiB pages) past which the writer restarts the WAL: 8,192, 32 MiB.
pub(super) const WAL_RESTART_FRAMES: i32 = 8192;

/// Longest the writer waits, per attempt, for readers to leave the WAL so it can restart.
pub(super) const WAL_RESTART_WAIT: std::time::Duration = std::time::Duration::from_millis(20);

thread_local! {
    /// Frames in the WAL after the writer's last commit (set by `note_wal_frames`, which
    /// SQLite calls on the committing thread: the writer's).
    static WAL_FRAMES: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
}

pub(super) fn note_wal_frames(
    _: &rusqlite::hooks::Wal,
    frames: std::os::raw::c_int,
) -> rusqlite::Result<()> {
    WAL_FRAMES.with(|f| f.set(frames));
    Ok(())
}

/// Copies committed WAL frames back into the database file, off the writer's thread.
/// SQLite's automatic checkpoint runs inside the COMMIT that crosses 1,000 frames, so one
/// group in every few waited for a checkpoint and its two fsyncs (12 % of the writer's
/// time in a 20,000-user sync, and its worst latencies). PASSIVE never blocks the writer
/// or readers; synchronous=FULL keeps it crash-safe. Woken after commits, at most once per
/// `CHECKPOINT_EVERY`; ends when the writer does.
pub(super) fn checkpoint_loop(conn: Connection, kicked: mpsc::Receiver<()>) {
    while kicked.recv().is_ok() {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "WAL checkpoint failed; will retry");
        }
        std::thread::sleep(CHECKPOINT_EVERY);
    }
    // Writer gone: fold in what is left so the file is whole without its WAL.
    let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
}

/// After a commit: wakes the checkpoint thread, and once the WAL is past
/// `WAL_RESTART_FRAMES` restarts it. SQLite starts the WAL over only when a write
/// transaction begins with every frame already in the database and no reader still in the
/// WAL. Under a sync's stream of reads and writes that never happened, with SQLite's own
/// checkpoint in COMMIT as with the thread alone: a 20,000-user sync left a 0.8–1 GB WAL.
/// RESTART copies the frames the thread has not (its last interval's) and waits for the
/// readers still in the WAL, at most `WAL_RESTART_WAIT`; if they outlast that, or the
/// thread is mid-checkpoint, the next commit tries again.
pub(super) fn after_commit(conn: &Connection, kick: &mpsc::SyncSender<()>) {
    let _ = kick.try_send(());
    if WAL_FRAMES.with(|f| f.get()) < WAL_RESTART_FRAMES {
        return;
    }
    let _ = conn.busy_timeout(WAL_RESTART_WAIT);
    let restarted = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get::<_, i64>(0));
    let _ = conn.busy_timeout(BUSY_TIMEOUT);
    match restarted {
        // The next write starts the WAL over.
        Ok(0) => WAL_FRAMES.with(|f| f.set(0)),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "WAL restart on the writer failed"),
    }
}

/// The writer's backlog and pace, for `Db::estimated_wait`.
#[derive(Default)]
pub(super) struct WriterLoad {
    /// Commands queued and not yet answered.
    pub(super) pending: std::sync::atomic::AtomicUsize,
    /// Moving average of one command's share of its group's time, in microseconds.
    pub(super) micros_per_job: std::sync::atomic::AtomicU64,
    /// When the running group started (microseconds after `epoch`); 0 when idle.
    pub(super) group_started: std::sync::atomic::AtomicU64,
    pub(super) epoch: std::sync::OnceLock<std::time::Instant>,
}

impl WriterLoad {
    pub(super) fn now_micros(&self) -> u64 {
        let epoch = self.epoch.get_or_init(std::time::Instant::now);
        epoch.elapsed().as_micros() as u64 + 1
    }

    pub(super) fn group_begins(&self) {
        let now = self.now_micros();
        self.group_started.store(now, Ordering::Relaxed);
    }

    pub(super) fn running_for(&self) -> std::time::Duration {
        match self.group_started.load(Ordering::Relaxed) {
            0 => std::time::Duration::ZERO,
            at => std::time::Duration::from_micros(self.now_micros().saturating_sub(at)),
        }
    }

    pub(super) fn note_group(&self, jobs: usize, took: std::time::Duration) {
        self.group_started.store(0, Ordering::Relaxed);
        let _ = self
            .pending
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |p| {
                Some(p.saturating_sub(jobs))
            });
        let each = took.as_micros() as u64 / jobs.max(1) as u64;
        let old = self.micros_per_job.load(Ordering::Relaxed);
        let new = if old == 0 { each } else { (old * 7 + each) / 8 };
        self.micros_per_job.store(new, Ordering::Relaxed);
    }
}

/// Longest a group keeps taking commands while more than one tenant is waiting: a
/// tenant's command then waits for at most this much of others' work (plus one command)
/// before its COMMIT. With one tenant alone a group takes up to `MAX_GROUP` commands.
pub(super) const GROUP_BUDGET: std::time::Duration = std::time::Duration::from_millis(2);

/// The budget, overridable for benchmarks (MUSTER_GROUP_BUDGET_MS).
pub(super) fn group_budget() -> std::time::Duration {
    static BUDGET: std::sync::OnceLock<std::time::Duration> = std::sync::OnceLock::new();
    *BUDGET.get_or_init(|| {
        std::env::var("MUSTER_GROUP_BUDGET_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map(std::time::Duration::from_millis)
            .unwrap_or(GROUP_BUDGET)
    })
}

/// Commands waiting for the writer: a FIFO per tenant, served round-robin.
#[derive(Default)]
pub(super) struct FairQueue {
    pub(super) queues: std::collections::HashMap<Arc<str>, std::collections::VecDeque<Job>>,
    /// Tenants with queued commands, in turn order.
    pub(super) turn: std::collections::VecDeque<Arc<str>>,
}

impl FairQueue {
    pub(super) fn push(&mut self, job: Job) {
        let tenant = job.tenant();
        let q = self.queues.entry(tenant.clone()).or_default();
        if q.is_empty() {
            self.turn.push_back(tenant);
        }
        q.push_back(job);
    }

    pub(super) fn pop(&mut self) -> Option<Job> {
        let tenant = self.turn.pop_front()?;
        let q = self.queues.get_mut(&tenant)?;
        let job = q.pop_front();
        if q.is_empty() {
            self.queues.remove(&tenant);
        } else {
            self.turn.push_back(tenant);
        }
        job
    }

    pub(super) fn is_empty(&self) -> bool {
        self.turn.is_empty()
    }

    pub(super) fn tenants(&self) -> usize {
        self.turn.len()
    }
}

pub(super) fn writer_loop(
    conn: Connection,
    rx: mpsc::Receiver<Job>,
    kick: mpsc::SyncSender<()>,
    load: &WriterLoad,
) {
    let mut queue = FairQueue::default();
    loop {
        if queue.is_empty() {
            match rx.recv() {
                Ok(j) => queue.push(j),
                Err(_) => return,
            }
        }
        while let Ok(j) = rx.try_recv() {
            queue.push(j);
        }
        let started = std::time::Instant::now();
        load.group_begins();
        let (jobs, committed) = run_group(&conn, &mut queue, started);
        load.note_group(jobs, started.elapsed());
        // After answering: the group's callers never wait for a checkpoint.
        if committed {
            after_commit(&conn, &kick);
        }
    }
}

/// Runs one group in one transaction, every caller answered after the COMMIT with its own
/// outcome (`GroupTx` says how a failed command is undone alone). Commands are taken from
/// `queue` round-robin by tenant, at most `MAX_GROUP`, and, while several tenants wait,
/// only until the group has run `GROUP_BUDGET`. SQLite may roll a whole transaction back
/// by itself (a full disk, an I/O error, out of memory); then the commands already run are
/// answered with that failure and the rest run in a new transaction, so no caller is told
/// that a rolled-back write was stored and no command runs outside a transaction. Returns
/// how many commands it answered and whether anything committed.
pub(super) fn run_group(
    conn: &Connection,
    queue: &mut FairQueue,
    started: std::time::Instant,
) -> (usize, bool) {
    let mut taken = 0usize;
    // The group's first tenant, and whether another's command has joined it (whose caller
    // then waits on this group's COMMIT too).
    let mut first_tenant: Option<Arc<str>> = None;
    let mut mixed = false;
    let mut next = |queue: &mut FairQueue| {
        let others_wait = mixed || queue.tenants() > 1;
        if taken >= MAX_GROUP || (taken > 0 && others_wait && started.elapsed() >= group_budget()) {
            return None;
        }
        let job = queue.pop()?;
        let tenant = job.tenant();
        match &first_tenant {
            None => first_tenant = Some(tenant),
            Some(t) if *t != tenant => mixed = true,
            Some(_) => {}
        }
        taken += 1;
        Some(job)
    };
    let mut committed_any = false;
    let mut pending = next(queue);
    while let Some(first) = pending.take() {
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            // Never run a command outside a transaction: refuse this one (its caller sees
            // the writer gone); the rest stay queued for the next group.
            tracing::error!(error = %e, "writer could not begin a transaction");
            drop(first);
            return (taken, committed_any);
        }
        let mut tx = GroupTx {
            ran: Vec::new(),
            bare: Vec::new(),
            mark: Mark::Begin,
        };
        let mut lost = false;
        let mut job = Some(first);
        while let Some(j) = job.take() {
            tx.run(conn, j);
            if conn.is_autocommit() {
                lost = true;
                break;
            }
            job = next(queue);
        }
        let outcome = if lost {
            Err("SQLite rolled the transaction back; the write was not stored".to_string())
        } else {
            conn.execute_batch("COMMIT").map_err(|e| {
                let _ = conn.execute_batch("ROLLBACK");
                e.to_string()
            })
        };
        committed_any |= outcome.is_ok();
        for job in tx.ran {
            job.answer(outcome.clone().map_err(Error::Commit));
        }
        if lost {
            pending = next(queue);
        }
    }
    (taken, committed_any)
}

/// Where the replayable commands run without a savepoint (`bare`) can be undone to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Mark {
    /// The transaction's start: nothing run so far needs keeping if they fail.
    Begin,
    /// The savepoint `bare`, opened after a command that cannot run again.
    Savepoint,
    /// None open: the next replayable command opens `bare`.
    None,
}

/// One group's transaction. Each command must fail alone: one 409 cannot undo its
/// neighbours. A savepoint per command did that, at the price of copying every page each
/// command touched; now only `Once` commands get one. Replayable commands run bare after
/// the last mark; when one fails having perhaps written something, the writer rolls back
/// to the mark (undoing it and the bare commands before it) and runs those again, each in
/// a savepoint of its own. In a sync nothing fails and nothing is copied.
pub(super) struct GroupTx {
    /// Every command run in this transaction, in order, to be answered after COMMIT.
    pub(super) ran: Vec<Job>,
    /// Indexes into `ran` of the replayable commands that succeeded since `mark`.
    pub(super) bare: Vec<usize>,
    pub(super) mark: Mark,
}

impl GroupTx {
    pub(super) fn run(&mut self, conn: &Connection, mut job: Job) {
        if !job.claim() {
            job.refuse(Error::Abandoned);
            self.ran.push(job);
            return;
        }
        match job.kind() {
            Kind::Once => {
                // What ran bare so far stays: a later failure must not roll back this one.
                self.close_mark(conn);
                run_in_own_savepoint(conn, &mut job);
            }
            kind @ (Kind::Replayable | Kind::Statement) => {
                if self.mark == Mark::None {
                    if let Err(e) = conn.execute_batch("SAVEPOINT bare") {
                        job.refuse(e.into());
                        self.ran.push(job);
                        return;
                    }
                    self.mark = Mark::Savepoint;
                }
                if job.run(conn) {
                    self.bare.push(self.ran.len());
                } else if kind == Kind::Replayable && !conn.is_autocommit() {
                    // It may have written part of itself before failing.
                    self.undo_to_mark(conn);
                }
            }
        }
        self.ran.push(job);
    }

    pub(super) fn close_mark(&mut self, conn: &Connection) {
        if self.mark == Mark::Savepoint {
            let _ = conn.execute_batch("RELEASE bare");
        }
        self.mark = Mark::None;
        self.bare.clear();
    }

    /// Rolls back to the mark and runs the bare commands that had succeeded again, each in
    /// its own savepoint.
    pub(super) fn undo_to_mark(&mut self, conn: &Connection) {
        let undone = match self.mark {
            Mark::Begin => conn
                .execute_batch("ROLLBACK")
                .and_then(|_| conn.execute_batch("BEGIN IMMEDIATE")),
            Mark::Savepoint => conn.execute_batch("ROLLBACK TO bare; RELEASE bare"),
            Mark::None => Ok(()),
        };
        self.mark = Mark::None;
        let bare = std::mem::take(&mut self.bare);
        if let Err(e) = undone {
            // Not in a transaction any more (BEGIN failed): `run_group` sees autocommit and
            // answers every command of this transaction as failed.
            tracing::error!(error = %e, "writer could not undo a failed command");
            return;
        }
        for i in bare {
            run_in_own_savepoint(conn, &mut self.ran[i]);
        }
    }
}

/// Runs `job` in a savepoint of its own, rolled back if it fails: how a `Once` command
/// always runs, and how a replayable one runs again after an undo.
pub(super) fn run_in_own_savepoint(conn: &Connection, job: &mut Job) {
    if let Err(e) = conn
        .prepare_cached("SAVEPOINT cmd")
        .and_then(|mut s| s.execute([]))
    {
        job.refuse(e.into());
        return;
    }
    if job.run(conn) {
        if let Err(e) = conn
            .prepare_cached("RELEASE cmd")
            .and_then(|mut s| s.execute([]))
        {
            job.refuse(e.into());
        }
    } else {
        let _ = conn.execute_batch("ROLLBACK TO cmd; RELEASE cmd");
    }
}

#[cfg(test)]
mod tests {
    /// The WAL starts over under continuous writes and reads: SQLite alone never restarted
    /// it (a 20,000-user sync left 0.8–1 GB), so the writer finishes a checkpoint past
    /// 32 MiB. 200 MB written in 800 commits, a reader busy meanwhile.
    #[test]
    fn the_wal_stays_bounded_under_continuous_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let db = super::Db::open(&path).unwrap();
        db.write_blocking(|c| c.execute_batch("CREATE TABLE scratch (b BLOB)"))
            .unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let reader = {
            let (db, stop) = (db.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut reads = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    db.read_blocking(|c| {
                        c.query_row("SELECT COUNT(*) FROM scratch", (), |r| r.get::<_, i64>(0))
                    })
                    .unwrap();
                    reads += 1;
                }
                reads
            })
        };
        for i in 0..800 {
            db.write_blocking(move |c| {
                c.execute("INSERT INTO scratch (b) VALUES (zeroblob(262144))", ())?;
                // Keep the table small so the database file is not what grows.
                if i % 8 == 7 {
                    c.execute("DELETE FROM scratch", ())?;
                }
                Ok(())
            })
            .unwrap();
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(reader.join().unwrap() > 0);
        let wal = std::fs::metadata(dir.path().join("w.db-wal"))
            .unwrap()
            .len();
        assert!(
            wal < 96 * 1024 * 1024,
            "WAL grew to {} MB over 200 MB of writes",
            wal / (1024 * 1024)
        );
    }

    /// Runs `jobs` (one tenant's) as the writer would: one group, as they all fit.
    fn run_all(conn: &super::Connection, jobs: Vec<super::Job>) -> bool {
        let mut queue = super::FairQueue::default();
        for j in jobs {
            queue.push(j);
        }
        let (_, committed) = super::run_group(conn, &mut queue, std::time::Instant::now());
        assert!(queue.is_empty(), "one tenant's commands fit in one group");
        committed
    }

    /// One tenant's flood of slow commands cannot hold another tenant's command past the
    /// group budget: the writer takes tenants in turn and, while several wait, closes the
    /// group after GROUP_BUDGET. Alone, a tenant's commands share one group.
    #[test]
    fn tenants_take_turns_and_a_busy_group_closes_at_its_budget() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x TEXT)").unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let job = |tenant: &str, name: String, slow: bool| -> super::Job {
            let tx = tx.clone();
            let tenant: std::sync::Arc<str> = std::sync::Arc::from(tenant);
            let f = move |c: &crate::sql::Connection<'_>| {
                if slow {
                    std::thread::sleep(std::time::Duration::from_millis(8));
                }
                c.execute("INSERT INTO t VALUES (?1)", [&name])?;
                Ok(name.clone())
            };
            Box::new(super::Queued {
                kind: super::Kind::Replayable,
                f,
                outcome: None,
                answer: move |r: crate::error::Result<String>| {
                    let _ = tx.send(r.unwrap());
                },
                state: None,
                tenant,
            })
        };
        let mut queue = super::FairQueue::default();
        for i in 0..20 {
            queue.push(job("x", format!("x{i}"), true));
        }
        queue.push(job("y", "y0".into(), false));
        // Groups until y's command is answered: x's first (8 ms, past the budget, so the
        // group closes), then y's turn.
        let mut answered = Vec::new();
        let mut groups = 0;
        while !answered.contains(&"y0".to_string()) {
            let (taken, committed) = super::run_group(&conn, &mut queue, std::time::Instant::now());
            assert!(committed && taken > 0);
            answered.extend(rx.try_iter());
            groups += 1;
        }
        assert_eq!(
            groups, 2,
            "y waited behind more than one group: {answered:?}"
        );
        assert!(
            answered.iter().filter(|n| n.starts_with('x')).count() <= 2,
            "y waited behind x's flood: {answered:?}"
        );
        // x alone: the rest share one group.
        let (taken, _) = super::run_group(&conn, &mut queue, std::time::Instant::now());
        assert_eq!(taken + answered.len(), 21);
        assert!(queue.is_empty());
    }

    /// SQLite may roll a group's whole transaction back by itself (simulated here by a
    /// command that runs ROLLBACK): the command before it is answered as failed and not
    /// stored; the one after runs in a new transaction, is stored and answered as such.
    #[test]
    fn a_group_sqlite_rolled_back_fails_what_it_undid_and_runs_the_rest_anew() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<(&'static str, bool)>();
        let job = |name: &'static str, sql: &'static str| {
            let tx = tx.clone();
            super::once_job(
                move |c: &crate::sql::Connection<'_>| c.execute_batch(sql),
                move |r: crate::error::Result<()>| tx.send((name, r.is_ok())).unwrap(),
            )
        };
        let committed = run_all(
            &conn,
            vec![
                job("before", "INSERT INTO t VALUES (1)"),
                job("rollback", "ROLLBACK"),
                job("after", "INSERT INTO t VALUES (3)"),
            ],
        );
        drop(tx);
        assert!(committed);
        let answers: std::collections::BTreeMap<_, _> = rx.iter().collect();
        assert_eq!(
            answers,
            [("after", true), ("before", false), ("rollback", false)]
                .into_iter()
                .collect()
        );
        let rows: Vec<i64> = conn
            .prepare("SELECT x FROM t")
            .unwrap()
            .query_map((), |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(rows, vec![3]);
    }

    /// A scripted command for one group: `sql` run as a batch, then failing if `fail`;
    /// counts its runs in `runs[name]` and sends (name, answered ok) to `answers`.
    struct Script {
        answers: std::sync::mpsc::Sender<(&'static str, bool)>,
        runs: std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<&'static str, usize>>>,
    }

    impl Script {
        fn job(
            &self,
            kind: super::Kind,
            name: &'static str,
            sql: &'static str,
            fail: bool,
        ) -> super::Job {
            let answers = self.answers.clone();
            let runs = self.runs.clone();
            let f = move |c: &crate::sql::Connection<'_>| {
                *runs.lock().unwrap().entry(name).or_default() += 1;
                c.execute_batch(sql)?;
                if fail {
                    return Err(crate::error::Error::Closed);
                }
                Ok(())
            };
            let answer =
                move |r: crate::error::Result<()>| answers.send((name, r.is_ok())).unwrap();
            match kind {
                super::Kind::Once => super::once_job(f, answer),
                k => super::replayable_job(k, f, answer),
            }
        }
    }

    /// Runs one group of scripted commands on a fresh table; returns the rows stored, each
    /// command's answer and how many times each ran.
    fn run_script(
        commands: &[(super::Kind, &'static str, &'static str, bool)],
    ) -> (
        Vec<i64>,
        std::collections::BTreeMap<&'static str, bool>,
        std::collections::BTreeMap<&'static str, usize>,
    ) {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER PRIMARY KEY)")
            .unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let script = Script {
            answers: tx,
            runs: Default::default(),
        };
        let jobs = commands
            .iter()
            .map(|(kind, name, sql, fail)| script.job(*kind, name, sql, *fail))
            .collect();
        assert!(run_all(&conn, jobs));
        let runs = script.runs.lock().unwrap().clone();
        drop(script);
        let rows = conn
            .prepare("SELECT x FROM t ORDER BY x")
            .unwrap()
            .query_map((), |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        (rows, rx.iter().collect(), runs)
    }

    /// A replayable command that fails after writing is undone alone: the bare commands
    /// before it are rolled back and run again, the one after runs bare, and each caller
    /// is told its own outcome.
    #[test]
    fn a_replayable_command_that_fails_after_writing_is_undone_alone() {
        use super::Kind::Replayable;
        let (rows, answers, runs) = run_script(&[
            (Replayable, "a", "INSERT INTO t VALUES (1)", false),
            (Replayable, "b", "INSERT INTO t VALUES (2)", false),
            (Replayable, "bad", "INSERT INTO t VALUES (3)", true),
            (Replayable, "c", "INSERT INTO t VALUES (4)", false),
        ]);
        assert_eq!(rows, vec![1, 2, 4]);
        assert_eq!(
            answers,
            [("a", true), ("b", true), ("bad", false), ("c", true)]
                .into_iter()
                .collect()
        );
        assert_eq!(
            runs,
            [("a", 2), ("b", 2), ("bad", 1), ("c", 1)]
                .into_iter()
                .collect()
        );
    }

    /// A command that cannot run again is never rolled back by a later failure: the bare
    /// span restarts after it, in a savepoint, and only what ran since is replayed.
    #[test]
    fn a_failure_after_a_once_command_keeps_it_and_replays_only_what_followed() {
        use super::Kind::{Once, Replayable};
        let (rows, answers, runs) = run_script(&[
            (Replayable, "a", "INSERT INTO t VALUES (1)", false),
            (Once, "once", "INSERT INTO t VALUES (2)", false),
            (Replayable, "b", "INSERT INTO t VALUES (3)", false),
            (Replayable, "bad", "INSERT INTO t VALUES (4)", true),
            (Once, "once-bad", "INSERT INTO t VALUES (5)", true),
            (Replayable, "c", "INSERT INTO t VALUES (6)", false),
        ]);
        assert_eq!(rows, vec![1, 2, 3, 6]);
        assert_eq!(
            answers,
            [
                ("a", true),
                ("once", true),
                ("b", true),
                ("bad", false),
                ("once-bad", false),
                ("c", true)
            ]
            .into_iter()
            .collect()
        );
        assert_eq!(
            runs,
            [
                ("a", 1),
                ("once", 1),
                ("b", 2),
                ("bad", 1),
                ("once-bad", 1),
                ("c", 1)
            ]
            .into_iter()
            .collect()
        );
    }

    /// A failed one-statement command was undone by SQLite: nothing is rolled back or run
    /// again for it.
    #[test]
    fn a_failed_statement_replays_nothing() {
        use super::Kind::{Replayable, Statement};
        let (rows, answers, runs) = run_script(&[
            (Replayable, "a", "INSERT INTO t VALUES (1)", false),
            (Statement, "dup", "INSERT INTO t VALUES (1)", false),
            (Statement, "log", "INSERT INTO t VALUES (2)", false),
        ]);
        assert_eq!(rows, vec![1, 2]);
        assert_eq!(
            answers,
            [("a", true), ("dup", false), ("log", true)]
                .into_iter()
                .collect()
        );
        assert_eq!(
            runs,
            [("a", 1), ("dup", 1), ("log", 1)].into_iter().collect()
        );
    }
}
