//! Running the directory's commands on PostgreSQL: each in a transaction of its own on a
//! pooled connection, driven from a blocking thread through the same `sql::Connection` the
//! SQLite writer hands out, and each connection's writes serialised across every instance.
//!
//! Why serialised: the commands were written for SQLite's single writer, where a command
//! reads (a version for If-Match, a group's members for a PATCH) and then writes, and nothing
//! commits in between. On PostgreSQL, READ COMMITTED lets another instance commit between
//! that read and that write. A transaction-scoped advisory lock on the command's tenant (the
//! SCIM connection it writes to) gives every command of one connection the single-writer
//! world it was written for, on whichever instance it runs; different connections' commands
//! run in parallel. Writes outside any connection take one cluster-wide key instead.
//! Reads take no lock: REPEATABLE READ gives each one a snapshot, as a SQLite reader has.

use super::PgStore;
use crate::error::{Error, Result};
use crate::sql::{Connection, Pg};

/// The advisory-lock class of the per-connection write locks (the two-int4 key space; the
/// feed's and the leases' locks use single bigint keys, which PostgreSQL keeps apart).
const WRITE_LOCK_CLASS: i32 = 0x6d75_7374; // "must"

/// Whether a command reads, writes in its connection's turn (taking its lock), adds beside
/// other adds (sharing the lock), or writes without a turn.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
    /// A command that only adds rows of its own (a user create): it reads the connection's
    /// settings (mappings, precedence) and nothing another add changes, so adds take the
    /// lock shared and run side by side, each still apart from every `Write` of its
    /// connection (which may change those settings). Two adds of one userName or one
    /// externalId are decided by the unique indexes: the second waits for the first's
    /// commit and fails with `uniqueness`. Serialising adds held a connection's creates to one at a time,
    /// each waiting out the other's statements and commit (BENCHMARKS.md).
    Add,
    /// A detached note that only adds a row or updates one in a single statement whose
    /// condition holds by itself (log rows, token last-use, feed acknowledgements), which
    /// every request of a connection writes and none reads back before writing.
    Note,
}

impl PgStore {
    /// Runs `f` in a transaction of its own and commits it; rolls back when `f` fails.
    /// `tenant` is the connection whose writes it joins in line (empty: none). `claim`
    /// decides, once the write's turn has come (its lock is held), whether it still runs:
    /// a request that gave up while it waited has abandoned it (`db::WriteScope`), as one
    /// abandons a write still in SQLite's queue.
    pub(crate) async fn run<R, F>(
        &self,
        access: Access,
        tenant: &str,
        claim: impl FnOnce() -> bool + Send + 'static,
        f: F,
    ) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection<'_>) -> Result<R> + Send + 'static,
    {
        let client = self.client().await?;
        let store = self.clone();
        let tenant = tenant.to_string();
        let rt = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            store.transaction(&client, &rt, access, |conn| {
                let lock = match access {
                    Access::Write => Some("SELECT pg_advisory_xact_lock(?1, hashtext(?2))"),
                    Access::Add => Some("SELECT pg_advisory_xact_lock_shared(?1, hashtext(?2))"),
                    Access::Read | Access::Note => None,
                };
                if let Some(lock) = lock {
                    conn.execute(lock, (WRITE_LOCK_CLASS, tenant.as_str()))?;
                }
                if !claim() {
                    return Err(Error::Abandoned);
                }
                f(conn)
            })
        })
        .await
        .map_err(|_| Error::Closed)?
    }

    /// Runs `f` as a read, as `run` does, from a thread outside the runtime (the CLI,
    /// tests), which drives the statements itself.
    pub(crate) fn read_blocking<R>(
        &self,
        rt: &tokio::runtime::Handle,
        f: impl FnOnce(&Connection<'_>) -> Result<R>,
    ) -> Result<R> {
        let client = rt.block_on(self.client())?;
        self.transaction(&client, rt, Access::Read, f)
    }

    /// Runs `f` in a transaction on `client`, from a blocking thread: commits what it
    /// did (a read's commit ends its snapshot), rolls back when it fails or panics.
    fn transaction<R>(
        &self,
        client: &deadpool_postgres::Object,
        rt: &tokio::runtime::Handle,
        access: Access,
        f: impl FnOnce(&Connection<'_>) -> Result<R>,
    ) -> Result<R> {
        let begin = match access {
            Access::Read => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            Access::Write | Access::Add | Access::Note => "BEGIN",
        };
        rt.block_on(client.batch_execute(begin))?;
        let feed_rows = std::cell::Cell::new(None);
        let numbering = || {
            rt.block_on(async {
                let mut other = self.client().await?;
                super::feed::number(&mut other).await
            })
        };
        let conn = Connection::Postgres(Pg {
            client,
            rt,
            feed_numbering: &numbering,
            feed_rows: &feed_rows,
        });
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&conn)));
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(panic) => {
                // Never hand the pool a connection inside a half-done transaction: the
                // next command's COMMIT would commit it.
                let _ = rt.block_on(client.batch_execute("ROLLBACK"));
                std::panic::resume_unwind(panic);
            }
        };
        match outcome {
            Ok(v) => match rt.block_on(client.batch_execute("COMMIT")) {
                Ok(()) => Ok(v),
                // Refused by the server (a constraint checked at commit): nothing stored.
                Err(e) if e.as_db_error().is_some() => Err(e.into()),
                // Lost on the way: the server may have committed before the line went.
                Err(e) => Err(Error::CommitInDoubt(e.to_string())),
            },
            Err(e) => {
                // A failed rollback leaves a broken connection, which the pool's
                // recycling check drops; the command's error is what the caller needs.
                let _ = rt.block_on(client.batch_execute("ROLLBACK"));
                Err(e)
            }
        }
    }
}
