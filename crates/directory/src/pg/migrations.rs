//! The PostgreSQL schema's versions, applied at start in one transaction under an advisory
//! lock, so instances starting together migrate once; a database that records a version this
//! build does not know was written by a newer Muster and is refused, as on SQLite.

use crate::error::Result;

/// Every migration, in order. The PostgreSQL schema starts from the SQLite store's schema
/// as of its version 22, ported (migrations/postgres/0001_baseline.sql).
pub const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        include_str!("../../migrations/postgres/0001_baseline.sql"),
    ),
    (
        2,
        include_str!("../../migrations/postgres/0002_sqlite_functions.sql"),
    ),
    (
        3,
        include_str!("../../migrations/postgres/0003_external_id_unique.sql"),
    ),
    (
        4,
        include_str!("../../migrations/postgres/0004_shared_keys.sql"),
    ),
];

/// The migration that makes externalId unique per connection (`migration_plan`).
const EXTERNAL_ID_UNIQUE: i64 = 3;

/// The newest schema version this build writes.
pub const SUPPORTED_VERSION: i64 = 4;

/// The advisory lock migrations run under (any fixed number; distinct from lease keys,
/// which are hashed from job names into the negative half).
const MIGRATE_LOCK: i64 = 0x6d75_7374_6572; // "muster"

pub(super) async fn migrate(client: &mut deadpool_postgres::Client) -> Result<()> {
    apply(client, MIGRATIONS).await
}

/// Applies, in list order, every migration the database has not recorded (the rule is the
/// SQLite store's, `migration_plan::pending`), all in one transaction.
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
    for (version, sql) in crate::migration_plan::pending(migrations, &applied)? {
        if *version == EXTERNAL_ID_UNIQUE {
            let shared = tx
                .query(crate::migration_plan::EXTERNAL_ID_DUPLICATES, &[])
                .await?
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect();
            crate::migration_plan::external_id_duplicates(*version, shared)?;
        }
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
