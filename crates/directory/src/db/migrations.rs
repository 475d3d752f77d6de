//! The schema: migrations embedded in the binary, applied in order, and the version checks.

use super::*;

/// Migrations embedded in the binary, applied in order, each in its own transaction.
pub(super) const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/0001_init.sql")),
    (2, include_str!("../../migrations/0002_lifecycle.sql")),
    (3, include_str!("../../migrations/0003_jit.sql")),
    (4, include_str!("../../migrations/0004_health_cadence.sql")),
    (5, include_str!("../../migrations/0005_role_attributes.sql")),
    (6, include_str!("../../migrations/0006_signin_flags.sql")),
    (7, include_str!("../../migrations/0007_list_indexes.sql")),
    (8, include_str!("../../migrations/0008_log_search.sql")),
    (9, include_str!("../../migrations/0009_user_search.sql")),
    (10, include_str!("../../migrations/0010_feed_retention.sql")),
    (11, include_str!("../../migrations/0011_request_id.sql")),
    (12, include_str!("../../migrations/0012_log_traffic.sql")),
    (
        13,
        include_str!("../../migrations/0013_connection_pause.sql"),
    ),
    (14, include_str!("../../migrations/0014_evidence.sql")),
    (15, include_str!("../../migrations/0015_user_timeline.sql")),
    (16, include_str!("../../migrations/0016_sync_cycles.sql")),
    (
        17,
        include_str!("../../migrations/0017_search_and_triage.sql"),
    ),
    (18, include_str!("../../migrations/0018_webhooks.sql")),
    (19, include_str!("../../migrations/0019_oauth.sql")),
    (20, include_str!("../../migrations/0020_setup_links.sql")),
    (21, include_str!("../../migrations/0021_team.sql")),
    (22, include_str!("../../migrations/0022_oidc_settings.sql")),
    (
        23,
        include_str!("../../migrations/0023_external_id_unique.sql"),
    ),
];

/// The migration that makes externalId unique per connection (`migration_plan`).
const EXTERNAL_ID_UNIQUE: i64 = 23;

impl Db {
    /// The newest schema version this build knows: its last migration.
    pub fn newest_schema_version() -> i64 {
        MIGRATIONS.last().map_or(0, |m| m.0)
    }

    /// The newest schema version this build knows for this store: each store has its own
    /// migrations (PostgreSQL's in pg/migrations.rs).
    pub fn supported_schema_version(&self) -> i64 {
        match self.postgres() {
            Some(_) => crate::pg::SUPPORTED_VERSION,
            None => Self::newest_schema_version(),
        }
    }

    /// The highest schema version the database behind `conn` records (0 when none).
    pub fn schema_version(conn: &crate::sql::Connection<'_>) -> Result<i64> {
        conn.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_version",
            (),
            |r| r.get(0),
        )
    }
}

pub(super) fn migrate(conn: &Connection) -> Result<()> {
    apply_migrations(conn, MIGRATIONS)
}

/// Applies what `migration_plan::pending` says the database needs, each migration in its own transaction.
pub(super) fn apply_migrations(conn: &Connection, migrations: &[(i64, &str)]) -> Result<()> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
    let applied: Vec<i64> = conn
        .prepare("SELECT version FROM schema_version")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for (version, sql) in crate::migration_plan::pending(migrations, &applied)? {
        if *version == EXTERNAL_ID_UNIQUE {
            let shared = conn
                .prepare(crate::migration_plan::EXTERNAL_ID_DUPLICATES)?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            crate::migration_plan::external_id_duplicates(*version, shared)?;
        }
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let done = conn.execute_batch(sql).and_then(|_| {
            conn.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                [version],
            )
        });
        match done {
            Ok(_) => conn.execute_batch("COMMIT")?,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(e.into());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// A database file as a build whose newest migration was `version` left it.
    fn database_at(path: &std::path::Path, version: i64) -> super::Connection {
        let c = super::Connection::open(path).unwrap();
        super::register_functions(&c).unwrap();
        c.execute_batch("CREATE TABLE schema_version (version INTEGER NOT NULL)")
            .unwrap();
        for (v, sql) in super::MIGRATIONS.iter().filter(|m| m.0 <= version) {
            c.execute_batch(sql).unwrap();
            c.execute("INSERT INTO schema_version (version) VALUES (?1)", [v])
                .unwrap();
        }
        c
    }

    /// Version 8 fills the log's user_name_key for rows written before it, as log::append
    /// writes it for new rows, so old rows are found by an identity search too.
    #[test]
    fn migration_8_backfills_the_log_user_name_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        {
            let c = database_at(&path, 7);
            c.execute_batch(
                "INSERT INTO provisioning_log (at, method, path, status, outcome, duration_ms, user_name)
                 VALUES ('2026-01-01T00:00:00.000Z', 'GET', '/Users', 200, 'read', 1, ' Jane.DOE@Acme.test\t'),
                        ('2026-01-01T00:00:00.000Z', 'GET', '/Users', 200, 'read', 1, 'ÅSA@acme.test'),
                        ('2026-01-01T00:00:00.000Z', 'GET', '/Users', 200, 'read', 1, NULL)",
            )
            .unwrap();
        }
        let db = super::Db::open(&path).unwrap();
        let keys: Vec<Option<String>> = db
            .read_blocking(|c| {
                c.prepare("SELECT user_name_key FROM provisioning_log ORDER BY id")?
                    .query_map((), |r| r.get(0))?
                    .collect::<crate::Result<_>>()
            })
            .unwrap();
        assert_eq!(
            keys,
            vec![
                Some(crate::log::identity_key(" Jane.DOE@Acme.test\t")),
                Some("åsa@acme.test".to_string()),
                None
            ]
        );
        assert_eq!(keys[0].as_deref(), Some("jane.doe@acme.test"));
    }

    /// Version 23 makes externalId unique per connection; a database where live users
    /// share one is refused at start, untouched, with their names and what to do; a
    /// deleted user in its retention window does not count.
    #[test]
    fn migration_23_is_refused_while_live_users_share_an_external_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let now = chrono::Utc::now();
        {
            let c = database_at(&path, 22);
            let conn = crate::sql::Connection::Sqlite(&c);
            let cid = crate::connections::create(
                &conn,
                "Acme",
                crate::connections::Idp::Okta,
                false,
                now,
            )
            .unwrap()
            .id;
            for name in ["a@acme.example", "b@acme.example"] {
                let body = serde_json::json!({"userName": name, "externalId": name});
                let body = scim::schema::UserResource::parse(&body).unwrap();
                crate::users::create(&conn, &cid, &body, now).unwrap();
            }
            c.execute_batch("UPDATE users SET external_id = '00u-shared'")
                .unwrap();
        }
        let refused = match super::Db::open(&path) {
            Ok(_) => panic!("opened a database where two live users share an externalId"),
            Err(e) => e.to_string(),
        };
        assert!(
            refused.contains("externalId '00u-shared' (2 users)"),
            "{refused}"
        );
        assert!(refused.contains("nothing was changed"), "{refused}");
        let c = super::Connection::open(&path).unwrap();
        let version: i64 = c
            .query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, 22, "refused before anything ran");
        c.execute_batch(
            "UPDATE users SET deleted_at = '2026-01-01T00:00:00.000Z' WHERE user_name = 'b@acme.example'",
        )
        .unwrap();
        drop(c);
        let db = super::Db::open(&path).unwrap();
        let version = db.read_blocking(super::Db::schema_version).unwrap();
        assert_eq!(version, 23);
    }

    /// Versions run 1, 2, 3, ... with no gap or repeat: a gap is how a build once recorded
    /// a later version before an earlier one existed.
    #[test]
    fn migrations_are_numbered_one_to_n() {
        let versions: Vec<i64> = super::MIGRATIONS.iter().map(|m| m.0).collect();
        let expected: Vec<i64> = (1..=versions.len() as i64).collect();
        assert_eq!(versions, expected);
    }

    /// A database that recorded 1 and 3 but not 2 gets 2 (and nothing twice); one that
    /// records a version the build does not know is refused, untouched.
    #[test]
    fn a_skipped_version_is_applied_and_an_unknown_one_refused() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        let list: &[(i64, &str)] = &[
            (1, "CREATE TABLE a (x);"),
            (2, "CREATE TABLE b (x);"),
            (3, "CREATE TABLE c (x);"),
        ];
        super::apply_migrations(&c, &list[..1]).unwrap();
        c.execute_batch("CREATE TABLE c (x); INSERT INTO schema_version VALUES (3);")
            .unwrap();
        super::apply_migrations(&c, list).unwrap();
        let tables: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('a','b','c')",
                (),
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 3);
        let versions: Vec<i64> = c
            .prepare("SELECT version FROM schema_version ORDER BY version")
            .unwrap()
            .query_map((), |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(versions, [1, 2, 3]);

        c.execute_batch("INSERT INTO schema_version VALUES (9);")
            .unwrap();
        let err = super::apply_migrations(&c, list).unwrap_err();
        assert!(
            matches!(
                err,
                crate::error::Error::NewerDatabase {
                    found: 9,
                    supported: 3
                }
            ),
            "{err:?}"
        );
    }
}
