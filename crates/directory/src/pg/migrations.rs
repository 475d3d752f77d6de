//! The PostgreSQL schema's versions, applied at start in one transaction under an advisory
//! lock, so instances starting together migrate once; a database that records a version this
//! build does not know was written by a newer Muster and is refused, as on SQLite.

use crate::error::{Error, Result};

/// Every migration, in order. The PostgreSQL schema starts from the SQLite store's schema
/// as of its version 22, ported (migrations/postgres/0001_baseline.sql).
pub const MIGRATIONS: &[(i64, &str)] = &[(
    1,
    include_str!("../../migrations/postgres/0001_baseline.sql"),
)];

/// The newest schema version this build writes.
pub const SUPPORTED_VERSION: i64 = 1;

/// The advisory lock migrations run under (any fixed number; distinct from lease keys,
/// which are hashed from job names into the negative half).
const MIGRATE_LOCK: i64 = 0x6d75_7374_6572; // "muster"

pub(super) async fn migrate(client: &mut deadpool_postgres::Client) -> Result<()> {
    apply(client, MIGRATIONS).await
}

/// Applies, in list order, every migration the database has not recorded (not only those
/// above the highest: a gap is filled), all in one transaction.
pub(crate) async fn apply(
    client: &mut deadpool_postgres::Client,
    migrations: &[(i64, &str)],
) -> Result<()> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])
        .await?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version bigint PRIMARY KEY)")
        .await?;
    let applied: Vec<i64> = tx
        .query("SELECT version FROM schema_version", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let known = |v: &i64| migrations.iter().any(|m| m.0 == *v);
    if let Some(unknown) = applied.iter().filter(|v| !known(v)).max() {
        return Err(Error::NewerDatabase {
            found: *unknown,
            supported: migrations.last().map(|m| m.0).unwrap_or(0),
        });
    }
    for (version, sql) in migrations.iter().filter(|m| !applied.contains(&m.0)) {
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[version],
        )
        .await?;
        tracing::info!(version, "PostgreSQL schema migrated");
    }
    tx.commit().await?;
    Ok(())
}
