//! Moving a deployment between the SQLite and PostgreSQL stores (`muster migrate-store`):
//! every table copied as of one moment of the source, in one transaction of the target,
//! row counts checked table by table before it commits; an empty target only.
//!
//! Rows keep their values (both schemas store the same representation), and the ids that
//! other rows point at: users' and groups' rowids, log and feed ids. The change feed keeps
//! its numbers and its head, so application cursors stay valid across the move. On
//! PostgreSQL `provisioning_log.feed_first/feed_last` hold change_feed ids, which equal the
//! seqs of events copied from SQLite; going back they are turned into seqs again.

use super::{feed, PgOptions, PgStore};
use crate::db::Db;
use crate::error::{Error, Result};
use futures::StreamExt;
use rusqlite::types::ValueRef;
use rusqlite::{OpenFlags, OptionalExtension};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::IsolationLevel;

/// What a copy moved: each table and its rows (equal on both sides when it returns).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Copied {
    pub tables: Vec<TableRows>,
    /// The change feed's head the target continues from.
    pub feed_head: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableRows {
    pub table: String,
    pub rows: i64,
}

/// The tables the copy leaves alone: each store's own bookkeeping.
fn bookkeeping(table: &str) -> bool {
    // shared_keys: the cluster's own keys (the cursor key); a SQLite store keeps its own.
    table == "schema_version"
        || table == "feed_head"
        || table == "shared_keys"
        || table.starts_with("sqlite_")
}

/// One value on its way, typed by the column it goes to.
enum Cell {
    Int(Option<i64>),
    Float(Option<f64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

impl Cell {
    fn sql(&self) -> &(dyn ToSql + Sync) {
        match self {
            Cell::Int(v) => v,
            Cell::Float(v) => v,
            Cell::Text(v) => v,
            Cell::Bytes(v) => v,
        }
    }
}

impl rusqlite::ToSql for Cell {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Cell::Int(v) => rusqlite::ToSql::to_sql(v),
            Cell::Float(v) => rusqlite::ToSql::to_sql(v),
            Cell::Text(v) => rusqlite::ToSql::to_sql(v),
            Cell::Bytes(v) => rusqlite::ToSql::to_sql(v),
        }
    }
}

/// A SQLite value converted for a PostgreSQL column of `ty`.
fn from_sqlite(v: ValueRef<'_>, ty: &Type, at: &str) -> Result<Cell> {
    let wrong = || {
        Error::Corrupt(format!(
            "{at}: a {:?} value where {ty} belongs",
            v.data_type()
        ))
    };
    Ok(match (ty, v) {
        (t, ValueRef::Null) if *t == Type::INT8 => Cell::Int(None),
        (t, ValueRef::Null) if *t == Type::FLOAT8 => Cell::Float(None),
        (t, ValueRef::Null) if *t == Type::TEXT => Cell::Text(None),
        (t, ValueRef::Null) if *t == Type::BYTEA => Cell::Bytes(None),
        (t, ValueRef::Integer(i)) if *t == Type::INT8 => Cell::Int(Some(i)),
        (t, ValueRef::Integer(i)) if *t == Type::FLOAT8 => Cell::Float(Some(i as f64)),
        (t, ValueRef::Real(f)) if *t == Type::FLOAT8 => Cell::Float(Some(f)),
        (t, ValueRef::Text(s)) if *t == Type::TEXT => Cell::Text(Some(
            String::from_utf8(s.to_vec())
                .map_err(|_| Error::Corrupt(format!("{at}: not UTF-8")))?,
        )),
        (t, ValueRef::Blob(b) | ValueRef::Text(b)) if *t == Type::BYTEA => {
            Cell::Bytes(Some(b.to_vec()))
        }
        _ => return Err(wrong()),
    })
}

fn pg_type(data_type: &str, at: &str) -> Result<Type> {
    Ok(match data_type {
        "bigint" => Type::INT8,
        "double precision" => Type::FLOAT8,
        "text" => Type::TEXT,
        "bytea" => Type::BYTEA,
        other => {
            return Err(Error::Corrupt(format!(
                "{at}: the copy knows no column type {other}"
            )))
        }
    })
}

/// Tables in an order where each comes after the tables it references.
fn referenced_first(tables: &[String], refs: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut done: Vec<String> = vec![];
    let mut left: Vec<&String> = tables.iter().collect();
    while !left.is_empty() {
        let before = left.len();
        left.retain(|t| {
            let ready = refs.get(*t).is_none_or(|r| {
                r.iter()
                    .all(|d| d == *t || done.contains(d) || !tables.contains(d))
            });
            if ready {
                done.push((*t).clone());
            }
            !ready
        });
        if left.len() == before {
            // A cycle: no order satisfies it; the database says which reference failed.
            done.extend(left.drain(..).cloned());
        }
    }
    done
}

fn open_source(path: &Path) -> Result<rusqlite::Connection> {
    if !path.exists() {
        return Err(Error::NotFound(format!("database {}", path.display())));
    }
    let lite = rusqlite::Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let version = Db::schema_version(&crate::sql::Connection::Sqlite(&lite))?;
    if version != Db::newest_schema_version() {
        return Err(Error::Invalid(format!(
            "{} has schema {version}, this Muster writes {}: open it once with this Muster \
             (for example `muster health --db …`) so it is migrated, then copy it",
            path.display(),
            Db::newest_schema_version()
        )));
    }
    Ok(lite)
}

/// Copies the SQLite database at `src` into the empty PostgreSQL database at `url`.
pub async fn sqlite_to_postgres(src: &Path, url: &str, options: &PgOptions) -> Result<Copied> {
    let lite = open_source(src)?;
    let store = PgStore::connect_with(url, options).await?;
    let mut client = store.client().await?;
    let tx = client.transaction().await?;

    let mut columns: BTreeMap<String, Vec<(String, Type)>> = BTreeMap::new();
    for row in tx
        .query(
            "SELECT table_name::text, column_name::text, data_type::text
               FROM information_schema.columns WHERE table_schema = current_schema()
              ORDER BY table_name, ordinal_position",
            &[],
        )
        .await?
    {
        let (table, column): (String, String) = (row.get(0), row.get(1));
        if bookkeeping(&table) {
            continue;
        }
        let ty = pg_type(row.get(2), &format!("{table}.{column}"))?;
        columns.entry(table).or_default().push((column, ty));
    }
    let mut refs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in tx
        .query(
            "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c
              WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace",
            &[],
        )
        .await?
    {
        refs.entry(row.get(0)).or_default().insert(row.get(1));
    }
    let tables: Vec<String> = columns.keys().cloned().collect();
    for table in &tables {
        let any: bool = tx
            .query_one(&format!("SELECT EXISTS (SELECT 1 FROM {table})"), &[])
            .await?
            .get(0);
        if any {
            return Err(Error::Conflict(format!(
                "the target database already holds data (table {table}): copy into an empty one"
            )));
        }
    }

    // One read transaction: the source as of one commit, even while a server writes to it.
    lite.execute_batch("BEGIN")?;
    let lite_tables = sqlite_tables(&lite)?;
    same_tables(&lite_tables, &tables)?;
    let mut copied = vec![];
    for table in referenced_first(&tables, &refs) {
        let cols = &columns[&table];
        let lite_cols: Vec<String> = lite
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if lite_cols.is_empty() {
            return Err(Error::Corrupt(format!(
                "table {table} is missing from the source"
            )));
        }
        let select: Vec<String> = cols
            .iter()
            .map(|(c, _)| {
                if lite_cols.contains(c) {
                    Ok(format!("\"{c}\""))
                } else if c == "rowid" {
                    Ok("rowid".to_string())
                } else if table == "change_feed" && c == "id" {
                    Ok("seq".to_string())
                } else {
                    Err(Error::Corrupt(format!("{table}.{c} has no source column")))
                }
            })
            .collect::<Result<_>>()?;
        let names: Vec<String> = cols.iter().map(|(c, _)| format!("\"{c}\"")).collect();
        let types: Vec<Type> = cols.iter().map(|(_, t)| t.clone()).collect();
        let sink = tx
            .copy_in(&format!(
                "COPY {table} ({}) FROM STDIN BINARY",
                names.join(", ")
            ))
            .await?;
        let mut writer = std::pin::pin!(BinaryCopyInWriter::new(sink, &types));
        let mut stmt = lite.prepare(&format!("SELECT {} FROM {table}", select.join(", ")))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let cells = cols
                .iter()
                .enumerate()
                .map(|(i, (c, ty))| from_sqlite(r.get_ref(i)?, ty, &format!("{table}.{c}")))
                .collect::<Result<Vec<_>>>()?;
            let refs: Vec<&(dyn ToSql + Sync)> = cells.iter().map(Cell::sql).collect();
            writer.as_mut().write(&refs).await?;
        }
        writer.as_mut().finish().await?;
        let source: i64 =
            lite.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
        let target: i64 = tx
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await?
            .get(0);
        copied.push(counted(table, source, target)?);
    }

    // Identities continue after the copied ids, and the feed after its head (pruned events
    // included, so no number is handed out twice).
    for row in tx
        .query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
              WHERE table_schema = current_schema() AND is_identity = 'YES'",
            &[],
        )
        .await?
    {
        let (table, column): (String, String) = (row.get(0), row.get(1));
        tx.execute(
            &format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'),
                               GREATEST((SELECT max(\"{column}\") FROM {table}), 1),
                               (SELECT max(\"{column}\") FROM {table}) IS NOT NULL)"
            ),
            &[],
        )
        .await?;
    }
    let head: i64 = lite
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'change_feed'",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    tx.execute("UPDATE feed_head SET seq = $1", &[&head])
        .await?;
    lite.execute_batch("COMMIT")?;
    tx.commit().await?;
    Ok(Copied {
        tables: copied,
        feed_head: head,
    })
}

/// Copies the PostgreSQL database at `url` into a new SQLite database at `dst`.
pub async fn postgres_to_sqlite(url: &str, options: &PgOptions, dst: &Path) -> Result<Copied> {
    if dst.exists() {
        return Err(Error::Conflict(format!(
            "{} exists: copy into a new file",
            dst.display()
        )));
    }
    let store = PgStore::connect_with(url, options).await?;
    let mut client = store.client().await?;
    // Every committed event gets its number first; the copy then reads one snapshot.
    feed::number(&mut client).await?;
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;

    // Created owner-only and migrated as a server would, on one plain connection: nothing
    // else has the new file open while it fills.
    let mut lite = Db::open_plain(dst)?;
    lite.execute_batch("PRAGMA foreign_keys = OFF")?;
    let out = lite.transaction()?;
    let tables = sqlite_tables(&out)?;
    let pg_tables: Vec<String> = tx
        .query(
            "SELECT table_name::text FROM information_schema.tables
              WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get::<_, String>(0))
        .filter(|t| !bookkeeping(t))
        .collect();
    same_tables(&pg_tables, &tables)?;
    let head: i64 = tx.query_one("SELECT seq FROM feed_head", &[]).await?.get(0);
    let mut copied = vec![];
    for table in tables {
        let lite_cols: Vec<(String, String)> = out
            .prepare(&format!(
                "SELECT name, upper(type) FROM pragma_table_info('{table}')"
            ))?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let pg_has_rowid: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM information_schema.columns
                  WHERE table_schema = current_schema() AND table_name = $1 AND column_name = 'rowid')",
                &[&table],
            )
            .await?
            .get(0);
        let mut targets: Vec<(String, String)> = lite_cols.clone();
        if pg_has_rowid && !lite_cols.iter().any(|c| c.0 == "rowid") {
            targets.push(("rowid".into(), "INTEGER".into()));
        }
        let select: Vec<String> = targets
            .iter()
            .map(|(c, _)| match (table.as_str(), c.as_str()) {
                // Committed after the numbering above: numbered here, after the head.
                ("change_feed", "seq") => "COALESCE(seq, (SELECT seq FROM feed_head)
                     + row_number() OVER (PARTITION BY seq IS NULL ORDER BY id))"
                    .to_string(),
                ("provisioning_log", "feed_first" | "feed_last") => {
                    format!("COALESCE((SELECT f.seq FROM change_feed f WHERE f.id = t.{c}), t.{c})")
                }
                _ => format!("t.\"{c}\""),
            })
            .collect();
        let names: Vec<String> = targets.iter().map(|(c, _)| format!("\"{c}\"")).collect();
        let marks: Vec<String> = (1..=targets.len()).map(|i| format!("?{i}")).collect();
        let mut insert = out.prepare(&format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            names.join(", "),
            marks.join(", ")
        ))?;
        // Streamed: a table of any size passes through without being held whole.
        let rows = tx
            .query_raw(
                &format!("SELECT {} FROM {table} t", select.join(", ")),
                std::iter::empty::<i64>(),
            )
            .await?;
        let mut rows = std::pin::pin!(rows);
        while let Some(r) = rows.next().await {
            let r = r?;
            let cells = targets
                .iter()
                .enumerate()
                .map(|(i, (c, ty))| {
                    let at = || format!("{table}.{c}");
                    Ok(match ty.as_str() {
                        "INTEGER" => Cell::Int(r.try_get(i).map_err(|e| corrupt(at(), e))?),
                        "REAL" => Cell::Float(r.try_get(i).map_err(|e| corrupt(at(), e))?),
                        "BLOB" => Cell::Bytes(r.try_get(i).map_err(|e| corrupt(at(), e))?),
                        _ => Cell::Text(r.try_get(i).map_err(|e| corrupt(at(), e))?),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            insert.execute(rusqlite::params_from_iter(cells.iter()))?;
        }
        let source: i64 = tx
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await?
            .get(0);
        let target: i64 =
            out.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
        copied.push(counted(table, source, target)?);
    }
    // The feed continues after the head, pruned events included.
    let copied_max: i64 =
        out.query_row("SELECT COALESCE(max(seq), 0) FROM change_feed", [], |r| {
            r.get(0)
        })?;
    let feed_head = head.max(copied_max);
    out.execute("DELETE FROM sqlite_sequence WHERE name = 'change_feed'", [])?;
    out.execute(
        "INSERT INTO sqlite_sequence (name, seq) VALUES ('change_feed', ?1)",
        [feed_head],
    )?;
    let broken: Option<String> = out
        .query_row(
            "SELECT \"table\" FROM pragma_foreign_key_check LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(table) = broken {
        return Err(Error::Corrupt(format!(
            "{table}: a row points at a row that was not copied"
        )));
    }
    out.commit()?;
    tx.commit().await?;
    // Everything into the database file itself, so the file alone is the whole copy.
    lite.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(Copied {
        tables: copied,
        feed_head,
    })
}

/// The SQLite database's tables, its bookkeeping left out.
fn sqlite_tables(db: &rusqlite::Connection) -> Result<Vec<String>> {
    Ok(db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?
        .into_iter()
        .filter(|t| !bookkeeping(t))
        .collect())
}

/// Refuses a copy that would leave a source table behind: the two schemas must hold the same
/// tables (a build whose PostgreSQL schema lags its SQLite one).
fn same_tables(source: &[String], target: &[String]) -> Result<()> {
    let left: Vec<&String> = source.iter().filter(|t| !target.contains(t)).collect();
    if !left.is_empty() {
        return Err(Error::Corrupt(format!(
            "the target's schema has no table for {left:?}: nothing was copied"
        )));
    }
    Ok(())
}

/// A table's rows, once the target holds as many as the source.
fn counted(table: String, source: i64, target: i64) -> Result<TableRows> {
    if source != target {
        return Err(Error::Corrupt(format!(
            "{table}: {source} rows in the source, {target} in the target after the copy"
        )));
    }
    Ok(TableRows {
        table,
        rows: target,
    })
}

fn corrupt(at: String, e: tokio_postgres::Error) -> Error {
    Error::Corrupt(format!("{at}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_the_target_lacks_refuses_the_copy() {
        let s = |v: &[&str]| v.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        assert!(same_tables(&s(&["users", "groups"]), &s(&["groups", "users", "extra"])).is_ok());
        let err = same_tables(&s(&["users", "groups"]), &s(&["users"])).unwrap_err();
        assert!(err.to_string().contains("groups"), "{err}");
    }

    #[test]
    fn tables_come_after_the_tables_they_reference() {
        let s = |v: &[&str]| v.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        let mut refs = BTreeMap::new();
        refs.insert(
            "tokens".to_string(),
            BTreeSet::from(["connections".to_string()]),
        );
        refs.insert(
            "group_members".to_string(),
            BTreeSet::from(["groups".to_string(), "users".to_string()]),
        );
        refs.insert(
            "users".to_string(),
            BTreeSet::from(["connections".to_string()]),
        );
        refs.insert(
            "groups".to_string(),
            BTreeSet::from(["connections".to_string()]),
        );
        let order = referenced_first(
            &s(&["group_members", "groups", "tokens", "users", "connections"]),
            &refs,
        );
        let at = |t: &str| order.iter().position(|o| o == t).unwrap();
        assert_eq!(order.len(), 5);
        assert!(at("connections") < at("users") && at("connections") < at("tokens"));
        assert!(at("users") < at("group_members") && at("groups") < at("group_members"));
    }
}
