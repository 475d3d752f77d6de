//! The store a directory suite runs on: a SQLite file by default, a fresh database on the test
//! cluster with MUSTER_TEST_STORE=postgres (scripts/test.sh runs the suites both ways).
//!
//! A suite includes it with `#[path = "support/store.rs"] mod store;`; it brings
//! tests/support/postgres.rs along.

#![allow(dead_code)] // not every suite that includes this file needs every helper

#[path = "postgres.rs"]
mod postgres;

use directory::Db;

/// Whether this run's stores are PostgreSQL databases (MUSTER_TEST_STORE=postgres).
pub fn on_postgres() -> bool {
    std::env::var("MUSTER_TEST_STORE").is_ok_and(|s| s == "postgres")
}

/// True, after saying so, when the test is about the SQLite store alone (its files, its
/// migrations, its query planner) and this run is on PostgreSQL: the caller returns.
pub fn sqlite_only(why: &str) -> bool {
    if on_postgres() {
        eprintln!("skipped on PostgreSQL: {why}");
    }
    on_postgres()
}

/// A test's store, kept alive with what it needs: the directory its files sit in and, on
/// PostgreSQL for a synchronous test, the runtime its connections run on. Dereferences to
/// the `Db`.
pub struct TestStore {
    // Fields drop in order: the store before the runtime its connections run on.
    pub db: Db,
    _dir: tempfile::TempDir,
    _rt: Option<tokio::runtime::Runtime>,
}

impl std::ops::Deref for TestStore {
    type Target = Db;
    fn deref(&self) -> &Db {
        &self.db
    }
}

/// A fresh store for a synchronous `#[test]`. On PostgreSQL it runs on a runtime of its own,
/// so `write_blocking` and `read_blocking` work from the test's thread.
pub fn open() -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.db");
    if !on_postgres() {
        return TestStore {
            db: Db::open(&file).unwrap(),
            _dir: dir,
            _rt: None,
        };
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let db = rt.block_on(connect(&file));
    TestStore {
        db,
        _dir: dir,
        _rt: Some(rt),
    }
}

/// A fresh store for a `#[tokio::test]`, on the test's runtime. On PostgreSQL the blocking
/// calls refuse to run inside it: use `Db::read` and `Db::write`.
pub async fn open_async() -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.db");
    let db = if on_postgres() {
        connect(&file).await
    } else {
        Db::open(&file).unwrap()
    };
    TestStore {
        db,
        _dir: dir,
        _rt: None,
    }
}

/// A fresh database on the test cluster, connected and migrated.
async fn connect(files: &std::path::Path) -> Db {
    let url = postgres::fresh_database().await;
    Db::connect_postgres(&url, &Default::default(), files)
        .await
        .unwrap()
}
