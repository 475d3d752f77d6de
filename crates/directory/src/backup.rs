//! Copies of the database file: a consistent backup taken while a server writes (SQLite's
//! online backup API), and the checks and the swap that put one back in place.

use crate::db::Db;
use crate::error::{Error, Result};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// Pages copied per backup step (4 KiB pages: 4 MiB a step).
const PAGES_PER_STEP: i32 = 1024;

/// What a backup or a restore copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    /// The schema version recorded in the copy.
    pub schema_version: i64,
    /// The copy's size in bytes.
    pub bytes: u64,
}

/// Copies the database at `src` into a new file `dest`, consistently while a server is
/// writing to it: the copy is the database as of one committed transaction. The copy is
/// written beside `dest` and renamed into place once it is whole and passes
/// `PRAGMA integrity_check`, so `dest` is never a partial file. Refuses an existing `dest`
/// unless `replace`.
pub fn backup(src: &Path, dest: &Path, replace: bool) -> Result<Copied> {
    if !src.exists() {
        return Err(Error::NotFound(format!("database {}", src.display())));
    }
    if dest.exists() && !replace {
        return Err(Error::Invalid(format!(
            "{} exists; pass --force to replace it",
            dest.display()
        )));
    }
    let source = Connection::open_with_flags(src, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    source.busy_timeout(std::time::Duration::from_secs(10))?;
    let schema_version = muster_schema(&source, src)?;
    // One read transaction for the whole copy: every step reads the same snapshot (WAL
    // readers never block the writer), so the server's commits meanwhile neither tear the
    // copy nor make SQLite restart it from the first page.
    source.execute_batch("BEGIN")?;
    source.query_row("SELECT COUNT(*) FROM schema_version", [], |_| Ok(()))?;
    let partial = partial_path(dest);
    let copied = copy_into(&source, &partial).and_then(|()| check_integrity(&partial));
    let _ = source.execute_batch("COMMIT");
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    let bytes = std::fs::metadata(&partial)?.len();
    std::fs::rename(&partial, dest)?;
    sync_dir(dest);
    Ok(Copied {
        schema_version,
        bytes,
    })
}

/// Checks a backup before it is restored: SQLite's `integrity_check` says ok, it is a
/// Muster database, and no newer Muster wrote it (this build could not open it). Returns
/// its schema version.
pub fn verify(file: &Path) -> Result<i64> {
    if !file.is_file() {
        return Err(Error::NotFound(format!("backup {}", file.display())));
    }
    let conn = open_immutable(file)?;
    integrity(&conn, file)?;
    let version = muster_schema(&conn, file)?;
    let supported = Db::newest_schema_version();
    if version > supported {
        return Err(Error::NewerDatabase {
            found: version,
            supported,
        });
    }
    Ok(version)
}

/// Whether a process has the database at `path` open: a connection to a WAL database holds
/// a shared lock for as long as it is open, so an exclusive lock is refused while a server
/// (or any other Muster command) uses it.
pub fn in_use(path: &Path) -> Result<bool> {
    if !path.exists() {
        return Ok(false);
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    conn.busy_timeout(std::time::Duration::ZERO)?;
    conn.query_row("PRAGMA locking_mode = EXCLUSIVE", [], |_| Ok(()))?;
    match conn.execute_batch("BEGIN EXCLUSIVE") {
        Ok(()) => {
            let _ = conn.execute_batch("ROLLBACK");
            Ok(false)
        }
        Err(rusqlite::Error::SqliteFailure(e, _))
            if matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) =>
        {
            Ok(true)
        }
        Err(e) => Err(e.into()),
    }
}

/// Puts the backup `from` in place as the database at `db`, after `verify`. Refuses while a
/// process has `db` open (`in_use`), and refuses an existing `db` unless `replace`. The copy
/// is written beside `db` and renamed over it; the old database's `-wal` and `-shm` are
/// removed first, so none of the old file's log is replayed into the restored one.
pub fn restore(from: &Path, db: &Path, replace: bool) -> Result<Copied> {
    let schema_version = verify(from)?;
    if in_use(db)? {
        return Err(Error::Invalid(format!(
            "{} is in use (is a server running on it?); stop it first",
            db.display()
        )));
    }
    if db.exists() && !replace {
        return Err(Error::Invalid(format!(
            "{} exists; pass --force to replace it",
            db.display()
        )));
    }
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let partial = partial_path(db);
    let source = open_immutable(from)?;
    let copied = copy_into(&source, &partial).and_then(|()| check_integrity(&partial));
    drop(source);
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    for suffix in ["-wal", "-shm"] {
        let mut side = db.as_os_str().to_owned();
        side.push(suffix);
        match std::fs::remove_file(PathBuf::from(side)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    let bytes = std::fs::metadata(&partial)?.len();
    std::fs::rename(&partial, db)?;
    sync_dir(db);
    Ok(Copied {
        schema_version,
        bytes,
    })
}

/// `dest`'s hidden sibling the copy is written to before the rename.
fn partial_path(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "muster.db".into());
    dest.with_file_name(format!(".{name}.partial"))
}

/// Copies `source` page by page into a new file at `dest` (readable by its owner only),
/// left as a rollback-journal database: one self-contained file, no `-wal` beside it.
fn copy_into(source: &Connection, dest: &Path) -> Result<()> {
    let _ = std::fs::remove_file(dest);
    create_owner_only(dest)?;
    let mut target = Connection::open(dest)?;
    {
        let backup = Backup::new(source, &mut target)?;
        loop {
            match backup.step(PAGES_PER_STEP)? {
                StepResult::Done => break,
                StepResult::More => {}
                // Another connection holds a lock the step needs for a moment.
                _ => std::thread::sleep(std::time::Duration::from_millis(20)),
            }
        }
    }
    target.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))?;
    Ok(())
}

fn check_integrity(file: &Path) -> Result<()> {
    let conn = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    integrity(&conn, file)
}

/// `PRAGMA integrity_check`: one row "ok", or the problems it found.
fn integrity(conn: &Connection, file: &Path) -> Result<()> {
    let found: Vec<String> = conn
        .prepare("PRAGMA integrity_check")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if found == ["ok"] {
        return Ok(());
    }
    Err(Error::Corrupt(format!(
        "{} fails integrity_check: {}",
        file.display(),
        found.join("; ")
    )))
}

/// The schema version of a Muster database; an error for any other SQLite file.
fn muster_schema(conn: &Connection, file: &Path) -> Result<i64> {
    let has_table: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version')",
        [],
        |r| r.get(0),
    )?;
    if !has_table {
        return Err(Error::Invalid(format!(
            "{} is not a Muster database",
            file.display()
        )));
    }
    Db::schema_version(&crate::sql::Connection::Sqlite(conn))
}

/// A backup file, opened read-only without locks or a `-wal`/`-shm` beside it: nothing
/// writes to a backup.
fn open_immutable(file: &Path) -> Result<Connection> {
    let path = std::fs::canonicalize(file)?;
    let uri = format!("file:{}?immutable=1", uri_escape(&path.to_string_lossy()));
    Ok(Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
    )?)
}

/// Percent-escapes what a SQLite URI filename cannot hold as is (RFC 3986 path characters).
fn uri_escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(unix)]
fn create_owner_only(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(0o600)
        .open(path)?;
    Ok(())
}

/// Elsewhere the file inherits its directory's permissions (NTFS ACLs on Windows).
#[cfg(not(unix))]
fn create_owner_only(path: &Path) -> Result<()> {
    std::fs::OpenOptions::new()
        .create_new(true)
        .write(true)
        .open(path)?;
    Ok(())
}

/// Makes a rename in `file`'s directory durable (best effort; not every platform can).
fn sync_dir(file: &Path) {
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database with a user table and `n` rows, migrated like a server's.
    fn seeded(dir: &Path, n: i64) -> PathBuf {
        let path = dir.join("src.db");
        let db = Db::open(&path).unwrap();
        db.write_blocking(move |c| {
            c.execute_batch("CREATE TABLE scratch (x INTEGER)")?;
            for i in 0..n {
                c.execute("INSERT INTO scratch VALUES (?1)", [i])?;
            }
            Ok(())
        })
        .unwrap();
        path
    }

    fn rows(path: &Path) -> i64 {
        Connection::open(path)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM scratch", [], |r| r.get(0))
            .unwrap()
    }

    /// A backup is one self-contained file with the source's rows and schema version; it
    /// passes `verify`; an existing destination is kept unless replacing is asked for.
    #[test]
    fn a_backup_is_whole_and_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let src = seeded(dir.path(), 100);
        let dest = dir.path().join("copy.db");
        let copied = backup(&src, &dest, false).unwrap();
        assert_eq!(copied.schema_version, Db::newest_schema_version());
        assert_eq!(verify(&dest).unwrap(), Db::newest_schema_version());
        assert!(!dir.path().join("copy.db-wal").exists());
        assert!(!dir.path().join(".copy.db.partial").exists());
        assert_eq!(rows(&dest), 100);
        assert!(matches!(backup(&src, &dest, false), Err(Error::Invalid(_))));
        backup(&src, &dest, true).unwrap();
    }

    /// A restore refuses a database a process has open and one written by a newer Muster;
    /// otherwise it replaces the file, leaving no stale `-wal` of the old one.
    #[test]
    fn restore_refuses_a_database_in_use_and_a_newer_backup() {
        let dir = tempfile::tempdir().unwrap();
        let src = seeded(dir.path(), 3);
        let file = dir.path().join("backup.db");
        backup(&src, &file, false).unwrap();

        let target = dir.path().join("target.db");
        let live = Db::open(&target).unwrap();
        assert!(in_use(&target).unwrap());
        let err = restore(&file, &target, true).unwrap_err();
        assert!(err.to_string().contains("in use"), "{err}");
        drop(live);
        // The writer and checkpoint threads close their connections once the handle is gone.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while in_use(&target).unwrap() {
            assert!(std::time::Instant::now() < deadline, "still in use");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(matches!(
            restore(&file, &target, false),
            Err(Error::Invalid(_))
        ));
        restore(&file, &target, true).unwrap();
        assert_eq!(rows(&target), 3);
        assert!(!dir.path().join("target.db-wal").exists());

        let newer = dir.path().join("newer.db");
        std::fs::copy(&file, &newer).unwrap();
        Connection::open(&newer)
            .unwrap()
            .execute(
                "INSERT INTO schema_version VALUES (?1)",
                [Db::newest_schema_version() + 1],
            )
            .unwrap();
        assert!(matches!(verify(&newer), Err(Error::NewerDatabase { .. })));
        assert!(restore(&newer, &dir.path().join("fresh.db"), false).is_err());
    }
}
