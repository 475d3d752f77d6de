//! The PostgreSQL store against a real PostgreSQL: clear errors for a bad or unreachable
//! database, migrations once across instances starting together, and the invariants that
//! must hold across instances — the change feed never skips or repeats a late commit, one
//! lease holder per job that dies with its session, live changes that cross instances only
//! when committed.

#[path = "support/postgres.rs"]
mod postgres;

use directory::live::{Change, ChangeKind};
use directory::pg::{feed, lease, live, PgStore};
use directory::{Code, Error};
use std::collections::HashSet;
use std::time::Duration;
use tokio::sync::broadcast;

#[tokio::test]
async fn a_bad_or_unreachable_database_is_a_clear_error_without_the_password() {
    let err = PgStore::connect("postgres://muster@127.0.0.1:notaport/x")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Invalid, "{err}");
    assert!(err.to_string().contains("database URL"), "{err}");

    let err = PgStore::connect("postgres:///muster").await.unwrap_err();
    assert_eq!(err.code(), Code::Invalid, "{err}");

    // A closed loopback port: refused at once, named, and the password never echoed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = PgStore::connect(&format!("postgres://muster:s3cret@127.0.0.1:{port}/muster"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err}");
    let text = err.to_string();
    assert!(text.contains(&format!("127.0.0.1:{port}/muster")), "{text}");
    assert!(!text.contains("s3cret"), "{text}");

    // A server that is there, but not the database.
    let url = postgres::fresh_database().await;
    let (prefix, _) = url.rsplit_once('/').unwrap();
    let err = PgStore::connect(&format!("{prefix}/no_such_database"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err}");
    assert!(err.to_string().contains("no_such_database"), "{err}");
}

#[tokio::test]
async fn instances_starting_together_migrate_once_and_a_newer_schema_is_refused() {
    let url = postgres::fresh_database().await;
    let (a, b) = tokio::join!(PgStore::connect(&url), PgStore::connect(&url));
    a.unwrap();
    b.unwrap();
    let raw = postgres::raw(&url).await;
    let versions: Vec<i64> = raw
        .query("SELECT version FROM schema_version ORDER BY version", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        versions,
        directory::pg::MIGRATIONS
            .iter()
            .map(|m| m.0)
            .collect::<Vec<_>>()
    );
    // Connecting again applies nothing twice.
    PgStore::connect(&url).await.unwrap();

    raw.execute("INSERT INTO schema_version (version) VALUES (999)", &[])
        .await
        .unwrap();
    match PgStore::connect(&url).await.unwrap_err() {
        Error::NewerDatabase { found, supported } => {
            assert_eq!(found, 999);
            assert_eq!(supported, directory::pg::SUPPORTED_VERSION);
        }
        other => panic!("expected NewerDatabase, got {other}"),
    }
}

async fn append(db: &impl deadpool_postgres::GenericClient, n: usize) -> i64 {
    feed::append(
        db,
        "c1",
        "user.created",
        Some(&format!("u{n}")),
        None,
        "{}",
        "2026-12-07T00:00:00.000Z",
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_late_commit_is_never_skipped_by_a_reader_that_moved_on() {
    let url = postgres::fresh_database().await;
    let store = PgStore::connect(&url).await.unwrap();
    let mut reader = store.client().await.unwrap();
    let mut a = store.client().await.unwrap();
    let mut b = store.client().await.unwrap();

    // A writes first and commits last; B writes later and commits first.
    let ta = a.transaction().await.unwrap();
    let a_id = append(&ta, 1).await;
    let tb = b.transaction().await.unwrap();
    let b_id = append(&tb, 2).await;
    assert!(a_id < b_id);
    tb.commit().await.unwrap();

    let events = feed::read(&mut reader, 0, None, 100).await.unwrap();
    assert_eq!(events.len(), 1, "only what committed");
    assert_eq!(
        (events[0].seq, events[0].user_id.as_deref()),
        (1, Some("u2"))
    );
    // Numbered at insert, A's event (a smaller number than B's) would now land behind the
    // reader's cursor and never be read. It must come after it.
    ta.commit().await.unwrap();
    let events = feed::read(&mut reader, 1, None, 100).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].seq, events[0].user_id.as_deref()),
        (2, Some("u1"))
    );
    assert_eq!(feed::head(&mut reader).await.unwrap(), 2);

    // A rolled-back write is never numbered and leaves no gap.
    let tc = a.transaction().await.unwrap();
    append(&tc, 3).await;
    tc.rollback().await.unwrap();
    let tb = b.transaction().await.unwrap();
    append(&tb, 4).await;
    tb.commit().await.unwrap();
    let events = feed::read(&mut reader, 2, None, 100).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].seq, events[0].user_id.as_deref()),
        (3, Some("u4"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_consumer_reading_while_two_instances_write_gets_every_event_once_in_order() {
    let url = postgres::fresh_database().await;
    let one = PgStore::connect(&url).await.unwrap();
    let two = PgStore::connect(&url).await.unwrap();
    const WRITERS: usize = 6;
    const TRANSACTIONS: usize = 40;

    // Writers on both instances; transactions of one to three events held open across other
    // instances' commits, some rolled back. Each returns the events it committed.
    let mut writers = vec![];
    for w in 0..WRITERS {
        let store = if w % 2 == 0 { one.clone() } else { two.clone() };
        writers.push(tokio::spawn(async move {
            let mut client = store.client().await.unwrap();
            let mut committed = vec![];
            for t in 0..TRANSACTIONS {
                let tx = client.transaction().await.unwrap();
                let mut users = vec![];
                for e in 0..(1 + (w + t) % 3) {
                    let n = w * 10_000 + t * 10 + e;
                    append(&tx, n).await;
                    users.push(format!("u{n}"));
                    let pause = ((w * 7 + t * 13 + e) % 5) as u64 * 300;
                    tokio::time::sleep(Duration::from_micros(pause)).await;
                }
                if (w + t) % 11 == 0 {
                    tx.rollback().await.unwrap();
                } else {
                    tx.commit().await.unwrap();
                    committed.extend(users);
                }
            }
            committed
        }));
    }

    // The consumer reads from its cursor the whole time, through both instances in turn,
    // until the writers are done and it has read as many events as they committed.
    let expected = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(usize::MAX));
    let consumer = {
        let (one, two, expected) = (one.clone(), two.clone(), expected.clone());
        tokio::spawn(async move {
            let mut cursor = 0;
            let mut seen: Vec<String> = vec![];
            let mut reads = 0usize;
            let mut reads_with_events = 0usize;
            loop {
                let store = if reads.is_multiple_of(2) { &one } else { &two };
                reads += 1;
                let mut client = store.client().await.unwrap();
                let page = feed::read(&mut client, cursor, None, 50).await.unwrap();
                if !page.is_empty() {
                    reads_with_events += 1;
                }
                for e in &page {
                    assert_eq!(e.seq, cursor + 1, "the cursor moves one event at a time");
                    cursor = e.seq;
                    seen.push(e.user_id.clone().unwrap());
                }
                let total = expected.load(std::sync::atomic::Ordering::SeqCst);
                if page.is_empty() && seen.len() >= total {
                    return (seen, reads_with_events);
                }
                if page.is_empty() {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        })
    };

    let mut committed = vec![];
    for w in writers {
        committed.extend(w.await.unwrap());
    }
    expected.store(committed.len(), std::sync::atomic::Ordering::SeqCst);
    let (seen, reads_with_events) = tokio::time::timeout(Duration::from_secs(60), consumer)
        .await
        .expect("the consumer caught up")
        .unwrap();

    assert_eq!(seen.len(), committed.len(), "no event repeated or lost");
    let seen_set: HashSet<_> = seen.iter().cloned().collect();
    assert_eq!(seen_set.len(), seen.len(), "no event read twice");
    assert_eq!(seen_set, committed.iter().cloned().collect::<HashSet<_>>());
    assert!(
        reads_with_events > 5,
        "the consumer read while the writers wrote ({reads_with_events} reads found events)"
    );
    // Each transaction's events stay together and in their own order.
    for w in 0..WRITERS {
        let mine: Vec<_> = seen
            .iter()
            .filter(|u| u[1..].parse::<usize>().unwrap() / 10_000 == w)
            .collect();
        let mut sorted = mine.clone();
        sorted.sort_by_key(|u| u[1..].parse::<usize>().unwrap());
        assert_eq!(mine, sorted, "writer {w}'s events in its commit order");
    }
}

#[tokio::test]
async fn one_instance_holds_a_job_and_another_takes_it_when_the_holder_dies() {
    let url = postgres::fresh_database().await;
    let one = PgStore::connect(&url).await.unwrap();
    let two = PgStore::connect(&url).await.unwrap();

    let held = lease::try_acquire(&one, "purge").await.unwrap().unwrap();
    assert!(held.is_held().await);
    assert!(lease::try_acquire(&two, "purge").await.unwrap().is_none());
    // Another job is independent.
    let other = lease::try_acquire(&two, "retention")
        .await
        .unwrap()
        .unwrap();
    assert!(other.is_held().await);

    // The holder dies (its session ends without a word): the job is free for the other.
    let pid = held.backend_pid().await.unwrap();
    let raw = postgres::raw(&url).await;
    raw.execute("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .unwrap();
    let taken = async {
        loop {
            if let Some(l) = lease::try_acquire(&two, "purge").await.unwrap() {
                return l;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let taken = tokio::time::timeout(Duration::from_secs(10), taken)
        .await
        .expect("the lease came free");
    assert!(
        !held.is_held().await,
        "the dead holder knows it lost the lease"
    );
    assert!(
        held.client().execute("SELECT 1", &[]).await.is_err(),
        "a job on the lost lease's connection cannot run (fenced)"
    );
    assert!(taken.is_held().await);

    // A release hands it over at once.
    taken.release().await.unwrap();
    assert!(lease::try_acquire(&one, "purge").await.unwrap().is_some());
}

async fn next_change(rx: &mut broadcast::Receiver<Change>, within: Duration) -> Option<Change> {
    tokio::time::timeout(within, rx.recv())
        .await
        .ok()
        .map(|r| r.unwrap())
}

#[tokio::test]
async fn live_changes_reach_another_instance_only_when_committed() {
    let url = postgres::fresh_database().await;
    let one = PgStore::connect(&url).await.unwrap();
    let two = PgStore::connect(&url).await.unwrap();
    let (tx, mut rx) = broadcast::channel(64);
    let (_alive, listening) = tokio::sync::watch::channel(());
    live::listen(two.clone(), tx, listening).await.unwrap();

    let mut client = one.client().await.unwrap();
    let rolled_back = client.transaction().await.unwrap();
    live::notify(&rolled_back, &Change::user("c1", "u-rolled-back"))
        .await
        .unwrap();
    rolled_back.rollback().await.unwrap();
    let committed = client.transaction().await.unwrap();
    live::notify(&committed, &Change::user("c1", "u1"))
        .await
        .unwrap();
    assert!(
        next_change(&mut rx, Duration::from_millis(200))
            .await
            .is_none(),
        "nothing before the commit"
    );
    committed.commit().await.unwrap();
    let got = next_change(&mut rx, Duration::from_secs(5)).await.unwrap();
    assert_eq!(got, Change::user("c1", "u1"));

    // The listener loses its session: it says so (resync), reconnects, and hears on.
    let raw = postgres::raw(&url).await;
    raw.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE query LIKE 'LISTEN %' AND datname = current_database()",
        &[],
    )
    .await
    .unwrap();
    let got = next_change(&mut rx, Duration::from_secs(5)).await.unwrap();
    assert_eq!(got.kind, ChangeKind::Resync);
    let reconnected = async {
        loop {
            live::notify(&client, &Change::group("c1", "g1"))
                .await
                .unwrap();
            match next_change(&mut rx, Duration::from_millis(200)).await {
                Some(c) if c == Change::group("c1", "g1") => return,
                _ => continue,
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), reconnected)
        .await
        .expect("the listener came back");
}

/// Columns the PostgreSQL schema adds on purpose: explicit rowids (SQLite's are implicit) and
/// the feed's row id (its seq is assigned after commit, pg/feed.rs).
const EXTRA_COLUMNS: &[(&str, &str)] = &[
    ("users", "rowid"),
    ("groups", "rowid"),
    ("change_feed", "id"),
];
// feed_head: the feed numbered after commit; shared_keys: the cluster's cursor key.
const EXTRA_TABLES: &[&str] = &["feed_head", "shared_keys"];
const EXTRA_INDEXES: &[&str] = &["change_feed_unnumbered", "admins_email"];

/// The first column of every row `sql` returns.
async fn pg_strings(pg: &tokio_postgres::Client, sql: &str) -> Vec<String> {
    let rows = pg.query(sql, &[]).await.unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

#[tokio::test]
async fn the_postgresql_schema_has_every_table_column_and_index_of_the_sqlite_one() {
    // SQLite as a server opens it (every migration applied) ...
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("muster.db");
    drop(directory::Db::open(&path).unwrap());
    let lite = rusqlite::Connection::open(&path).unwrap();
    let strings = |sql: &str| -> Vec<String> {
        let mut stmt = lite.prepare(sql).unwrap();
        let rows = stmt.query_map((), |r| r.get(0)).unwrap();
        rows.map(Result::unwrap).collect()
    };
    let tables = strings(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
          AND name != 'schema_version' ORDER BY name",
    );
    // ... and PostgreSQL as a server migrates it.
    let url = postgres::fresh_database().await;
    PgStore::connect(&url).await.unwrap();
    let pg = postgres::raw(&url).await;
    let mut diffs = vec![];
    let type_of = |sqlite: &str| match sqlite.to_uppercase().as_str() {
        "TEXT" => "text",
        "INTEGER" => "bigint",
        "REAL" => "double precision",
        "BLOB" => "bytea",
        _ => "?",
    };
    for table in &tables {
        let pg_columns: Vec<(String, String, bool)> = pg
            .query(
                "SELECT column_name::text, data_type::text, is_nullable = 'YES'
                   FROM information_schema.columns
                  WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
                &[table],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        if pg_columns.is_empty() {
            diffs.push(format!("table {table}: missing"));
            continue;
        }
        let mut stmt = lite
            .prepare(&format!(
                "SELECT name, type, \"notnull\", pk FROM pragma_table_info('{table}')"
            ))
            .unwrap();
        let lite_columns: Vec<(String, String, bool, bool)> = stmt
            .query_map((), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)? > 0))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for (name, ty, not_null, pk) in &lite_columns {
            match pg_columns.iter().find(|c| &c.0 == name) {
                None => diffs.push(format!("{table}.{name}: missing")),
                Some((_, pg_type, nullable)) => {
                    if pg_type != type_of(ty) {
                        diffs.push(format!("{table}.{name}: {ty} became {pg_type}"));
                    }
                    // seq is numbered after the insert; a SQLite key may hold NULL, never on PostgreSQL.
                    let on_purpose = (table.as_str(), name.as_str()) == ("change_feed", "seq");
                    if !pk && !on_purpose && *not_null == *nullable {
                        diffs.push(format!("{table}.{name}: NOT NULL differs"));
                    }
                }
            }
        }
        for (name, _, _) in &pg_columns {
            let extra = EXTRA_COLUMNS.contains(&(table.as_str(), name.as_str()));
            if !extra && !lite_columns.iter().any(|c| &c.0 == name) {
                diffs.push(format!("{table}.{name}: only on PostgreSQL"));
            }
        }
    }
    let pg_tables = pg_strings(
        &pg,
        "SELECT table_name::text FROM information_schema.tables
          WHERE table_schema = 'public' AND table_name != 'schema_version'",
    )
    .await;
    for t in &pg_tables {
        if !tables.contains(t) && !EXTRA_TABLES.contains(&t.as_str()) {
            diffs.push(format!("table {t}: only on PostgreSQL"));
        }
    }
    let pg_indexes = pg_strings(
        &pg,
        "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public'",
    )
    .await;
    for index in
        strings("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'")
    {
        if !pg_indexes.contains(&index) {
            diffs.push(format!("index {index}: missing"));
        }
    }
    for index in EXTRA_INDEXES {
        if !pg_indexes.iter().any(|i| i == index) {
            diffs.push(format!("index {index}: expected, absent"));
        }
    }
    assert!(tables.len() > 25, "read the SQLite schema: {tables:?}");
    assert!(
        diffs.is_empty(),
        "the PostgreSQL schema drifted from SQLite's (add a migrations/postgres/ file):\n{}",
        diffs.join("\n")
    );
}

#[tokio::test]
async fn postgresql_folds_case_as_the_sqlite_store_does() {
    // Keys (userName, emails, displayName) are folded in Rust on both stores; SQL folds only
    // in filters on other attributes (muster_fold), and must agree there. Every code point,
    // as one string per 256. A letter newer than the database's ICU (U+1C89, Unicode 16, on
    // Debian 12's ICU 72) is left as it is, which a filter on it then matches exactly only:
    // allowed; any other difference is not.
    let url = postgres::fresh_database().await;
    PgStore::connect(&url).await.unwrap();
    let pg = postgres::raw(&url).await;
    let blocks: Vec<String> = (0u32..0x11_0000)
        .step_by(256)
        .map(|start| {
            (start..start + 256)
                .filter_map(char::from_u32)
                .filter(|c| !c.is_control())
                .collect()
        })
        .collect();
    let folded: Vec<String> = pg
        .query_one("SELECT array_agg(muster_fold(b) ORDER BY n) FROM unnest($1::text[]) WITH ORDINALITY AS t(b, n)", &[&blocks])
        .await
        .unwrap()
        .get(0);
    let mut differ = vec![];
    let mut unknown = vec![];
    for (block, pg_folded) in blocks.iter().zip(&folded) {
        if &directory::db::fold(block) == pg_folded {
            continue;
        }
        // Say which letters.
        for c in block.chars() {
            let rust = directory::db::fold(&c.to_string());
            let pg: String = pg
                .query_one("SELECT muster_fold($1)", &[&c.to_string()])
                .await
                .unwrap()
                .get(0);
            let unknown_to_icu = pg == c.to_string();
            if rust != pg && unknown_to_icu {
                unknown.push(c);
            } else if rust != pg {
                differ.push(format!(
                    "U+{:04X} {c}: Rust {rust:?}, PostgreSQL {pg:?}",
                    c as u32
                ));
            }
        }
    }
    assert!(
        differ.is_empty(),
        "{} differ:\n{}",
        differ.len(),
        differ.join("\n")
    );
    // A fold that knew no letters at all would pass the line above: it must know all but the
    // newest (55 on Debian 12; an ASCII-only fold leaves 1,462).
    assert!(
        unknown.len() < 200,
        "PostgreSQL left {} letters unfolded: {unknown:?}",
        unknown.len()
    );
}

/// The migration that makes externalId unique (PostgreSQL 3) is refused, naming them, while
/// live users share one; nothing is changed, and once they no longer do it applies. The
/// database is taken back to how version 2 left it: the index dropped, 3 not recorded.
#[tokio::test]
async fn the_external_id_migration_is_refused_while_live_users_share_one() {
    let url = postgres::fresh_database().await;
    PgStore::connect(&url).await.unwrap();
    let raw = postgres::raw(&url).await;
    raw.batch_execute(
        "DROP INDEX users_external_id_live;
         DELETE FROM schema_version WHERE version >= 3;
         DROP TABLE shared_keys;
         INSERT INTO connections (id, name, idp, created_at) VALUES ('c1', 'Okta', 'okta', '2026-12-07T00:00:00Z');
         INSERT INTO users (id, connection_id, user_name, user_name_key, external_id, active, created_at, updated_at, version, resource)
         VALUES ('u1', 'c1', 'a', 'a', '00u-shared', 1, 'now', 'now', 1, '{}'),
                ('u2', 'c1', 'b', 'b', '00u-shared', 1, 'now', 'now', 1, '{}');",
    )
    .await
    .unwrap();
    let refused = match PgStore::connect(&url).await {
        Ok(_) => panic!("migrated a database where two live users share an externalId"),
        Err(e) => e.to_string(),
    };
    assert!(
        refused.contains("connection c1: externalId '00u-shared' (2 users)"),
        "{refused}"
    );
    let version: i64 = raw
        .query_one("SELECT max(version) FROM schema_version", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(version, 2, "nothing applied");
    raw.execute("UPDATE users SET deleted_at = 'then' WHERE id = 'u2'", &[])
        .await
        .unwrap();
    PgStore::connect(&url).await.unwrap();
    let version: i64 = raw
        .query_one("SELECT max(version) FROM schema_version", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(version, directory::pg::SUPPORTED_VERSION);
}

#[tokio::test]
async fn two_instances_creating_one_user_name_give_one_user() {
    let url = postgres::fresh_database().await;
    let one = PgStore::connect(&url).await.unwrap();
    let two = PgStore::connect(&url).await.unwrap();
    let setup = one.client().await.unwrap();
    setup
        .execute(
            "INSERT INTO connections (id, name, idp, created_at) VALUES ('c1', 'Okta', 'okta', '2026-12-07T00:00:00Z')",
            &[],
        )
        .await
        .unwrap();
    let insert = "INSERT INTO users (id, connection_id, user_name, user_name_key, active, created_at, updated_at, version, resource)
                  VALUES ($1, 'c1', $2, muster_fold($2), 1, 'now', 'now', 1, '{}')";
    let mut a = one.client().await.unwrap();
    let mut b = two.client().await.unwrap();
    let ta = a.transaction().await.unwrap();
    ta.execute(insert, &[&"u1", &"Ada@Example.com"])
        .await
        .unwrap();
    // The second instance's insert waits on the first's uncommitted key, then is refused.
    let second = tokio::spawn(async move {
        let tb = b.transaction().await.unwrap();
        let r = tb.execute(insert, &[&"u2", &"ADA@example.COM"]).await;
        r.map(|_| ())
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !second.is_finished(),
        "the second insert waits for the first to decide"
    );
    ta.commit().await.unwrap();
    let err = second.await.unwrap().unwrap_err();
    assert!(directory::pg::is_unique_violation(&err), "{err}");
    let n: i64 = setup
        .query_one("SELECT count(*) FROM users", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
}

/// A job that records which instance ran it, on the lease's connection.
fn recorder(instance: &'static str) -> lease::Job {
    Box::new(move |client| {
        Box::pin(async move {
            client
                .execute("INSERT INTO job_runs (instance) VALUES ($1)", &[&instance])
                .await?;
            Ok(())
        })
    })
}

async fn runs(raw: &tokio_postgres::Client, instance: &str) -> i64 {
    raw.query_one(
        "SELECT count(*) FROM job_runs WHERE instance = $1",
        &[&instance],
    )
    .await
    .unwrap()
    .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_background_job_runs_on_one_instance_and_moves_when_it_dies() {
    let url = postgres::fresh_database().await;
    let one = PgStore::connect(&url).await.unwrap();
    let two = PgStore::connect(&url).await.unwrap();
    let raw = postgres::raw(&url).await;
    raw.batch_execute("CREATE TABLE job_runs (instance text NOT NULL)")
        .await
        .unwrap();
    let every = Duration::from_millis(30);
    let a = lease::run_exclusively(one.clone(), "purge", every, recorder("one"));
    // Let the first instance take the lease before the second starts trying.
    let started = async {
        while runs(&raw, "one").await == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), started)
        .await
        .expect("the first instance runs the job");
    let b = lease::run_exclusively(two.clone(), "purge", every, recorder("two"));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(runs(&raw, "one").await >= 5);
    assert_eq!(runs(&raw, "two").await, 0, "one holder at a time");

    // The holder dies (its process gone: its runner and its session): the job moves.
    a.abort();
    raw.execute(
        "SELECT pg_terminate_backend(l.pid) FROM pg_locks l
          WHERE l.locktype = 'advisory' AND l.granted AND l.database =
                (SELECT oid FROM pg_database WHERE datname = current_database())",
        &[],
    )
    .await
    .unwrap();
    let moved = async {
        while runs(&raw, "two").await < 5 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), moved)
        .await
        .expect("the second instance took the job over");
    b.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_instance_dying_mid_burst_loses_no_acknowledged_event_and_leaves_no_gap() {
    let url = postgres::fresh_database().await;
    let one = PgStore::connect(&url).await.unwrap();
    let two = PgStore::connect(&format!("{url}?application_name=instance_two"))
        .await
        .unwrap();
    // Each writer commits small transactions until told to stop or its instance dies, and
    // returns the events whose commit was acknowledged.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = vec![];
    for w in 0..6usize {
        let store = if w % 2 == 0 { one.clone() } else { two.clone() };
        let stop = stop.clone();
        writers.push(tokio::spawn(async move {
            let mut acknowledged = vec![];
            let mut failed = 0;
            for t in 0..10_000usize {
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let attempt = async {
                    let mut client = store.client().await?;
                    let tx = client.transaction().await?;
                    let mut users = vec![];
                    for e in 0..(1 + t % 2) {
                        let n = w * 100_000 + t * 10 + e;
                        feed::append(
                            &tx,
                            "c1",
                            "user.created",
                            Some(&format!("u{n}")),
                            None,
                            "{}",
                            "2026-12-07T00:00:00.000Z",
                        )
                        .await?;
                        users.push(format!("u{n}"));
                    }
                    tx.commit().await?;
                    Ok::<_, directory::Error>(users)
                };
                match attempt.await {
                    Ok(users) => acknowledged.extend(users),
                    // The dying instance's writers end with it.
                    Err(_) if w % 2 == 1 => {
                        failed += 1;
                        break;
                    }
                    Err(_) => failed += 1,
                }
            }
            (w, acknowledged, failed)
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Instance two dies mid-burst: every session it has is cut.
    let raw = postgres::raw(&url).await;
    let killed: i64 = raw
        .query_one(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE application_name = 'instance_two') k",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(killed > 0, "instance two had sessions to cut");
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);

    let mut acknowledged = HashSet::new();
    let mut failures_on_one = 0;
    for w in writers {
        let (w, users, failed) = w.await.unwrap();
        if w % 2 == 0 {
            failures_on_one += failed;
        }
        acknowledged.extend(users);
    }
    assert_eq!(failures_on_one, 0, "the surviving instance kept answering");

    let mut reader = one.client().await.unwrap();
    let mut seen = vec![];
    let mut cursor = 0;
    loop {
        let page = feed::read(&mut reader, cursor, None, 1000).await.unwrap();
        if page.is_empty() {
            break;
        }
        for e in page {
            assert_eq!(e.seq, cursor + 1, "gap-free");
            cursor = e.seq;
            seen.push(e.user_id.unwrap());
        }
    }
    let seen_set: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(seen_set.len(), seen.len(), "no event twice");
    let lost: Vec<_> = acknowledged.difference(&seen_set).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    // What is there but was never acknowledged can only be a commit cut before its answer.
    assert!(
        seen.len() - acknowledged.len() <= 3,
        "{} unacknowledged events",
        seen.len() - acknowledged.len()
    );
}

async fn uses_tls(store: &PgStore) -> bool {
    store
        .client()
        .await
        .unwrap()
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn tls_to_postgresql_verifies_the_server_and_never_falls_back_to_plain_text() {
    let (url, ca) = postgres::tls_cluster();
    let trusted = directory::pg::PgOptions {
        ca_file: Some(ca.clone()),
    };
    // A server whose certificate chains to the CA given: TLS, required or merely preferred.
    let store = PgStore::connect_with(&format!("{url}?sslmode=require"), &trusted)
        .await
        .unwrap();
    assert!(uses_tls(&store).await);
    let store = PgStore::connect_with(&url, &trusted).await.unwrap();
    assert!(
        uses_tls(&store).await,
        "a loopback server that offers TLS gets it"
    );
    // The leases' and the live listener's own connections go the same way.
    assert!(lease::try_acquire(&store, "tls").await.unwrap().is_some());

    // Without that CA the certificate does not verify: refused, required or preferred.
    for mode in ["?sslmode=require", ""] {
        let err = PgStore::connect(&format!("{url}{mode}")).await.unwrap_err();
        assert_eq!(err.code(), Code::Unavailable, "{mode}: {err}");
        assert!(
            err.to_string().to_lowercase().contains("certificate"),
            "{mode}: {err}"
        );
    }
    // Plain text only when the URL asks for it.
    let store = PgStore::connect(&format!("{url}?sslmode=disable"))
        .await
        .unwrap();
    assert!(!uses_tls(&store).await);
    // A server without TLS cannot satisfy sslmode=require.
    let plain = postgres::fresh_database().await;
    let err = PgStore::connect(&format!("{plain}?sslmode=require"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err}");
}
