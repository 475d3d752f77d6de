//! Retention (docs/retention.md): the provisioning log and the change feed are pruned by the
//! admin's retention in bounded batches, purge tombstones stay, events a live consumer has
//! not acknowledged stay up to feed::UNREAD_MAX_DAYS, and a cursor below what was pruned is
//! refused instead of silently skipping events.

#[path = "support/store.rs"]
mod store;

use chrono::{DateTime, Duration, TimeZone, Utc};
use directory::feed::{self, FeedRead};
use directory::log::{self, LogEntry};
use directory::retention::{self, Pruned};
use directory::{sessions, Db};
use serde_json::json;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap()
}

/// Appends one log row `days_ago` before now() with this outcome.
async fn log_row(db: &Db, days_ago: i64, outcome: &str) {
    let at = directory::clock::fmt_time(now() - Duration::days(days_ago));
    let outcome = log::LogOutcome::parse(outcome).expect("a known outcome");
    db.write(move |c| {
        log::append(
            c,
            &LogEntry {
                at,
                connection_id: Some("c1".into()),
                method: "POST".into(),
                path: "/Users".into(),
                status: 201,
                outcome,
                ..Default::default()
            },
        )
    })
    .await
    .unwrap();
}

/// Outcomes of the log rows left, oldest first, with their age in days.
async fn log_left(db: &Db) -> Vec<(String, i64)> {
    db.read(|c| {
        let mut stmt = c.prepare("SELECT outcome, at FROM provisioning_log ORDER BY id")?;
        let rows = stmt
            .query_map((), |r| {
                let at: String = r.get(1)?;
                let at = DateTime::parse_from_rfc3339(&at).unwrap();
                Ok((r.get(0)?, (now() - at.with_timezone(&Utc)).num_days()))
            })?
            .collect::<directory::Result<_>>()?;
        Ok(rows)
    })
    .await
    .unwrap()
}

/// Appends a feed event of `connection` `days_ago` before now(); returns its seq.
async fn event(db: &Db, connection: &str, days_ago: i64) -> i64 {
    let connection = connection.to_string();
    let appended = db
        .write(move |c| {
            feed::append(
                c,
                &connection,
                feed::USER_CREATED,
                Some("u1"),
                None,
                json!({}),
                now() - Duration::days(days_ago),
            )
        })
        .await
        .unwrap();
    if !store::on_postgres() {
        return appended;
    }
    // PostgreSQL numbers an event only once it has committed, when a reader numbers the feed
    // (src/pg/feed.rs), and `append` answers its row id: numbered now, it is the head.
    db.read(feed::head).await.unwrap()
}

async fn seqs_left(db: &Db) -> Vec<i64> {
    db.read(|c| {
        let mut stmt = c.prepare("SELECT seq FROM change_feed ORDER BY seq")?;
        let rows = stmt
            .query_map((), |r| r.get(0))?
            .collect::<directory::Result<_>>()?;
        Ok(rows)
    })
    .await
    .unwrap()
}

/// A live application key that has read the feed (or one connection of it) up to `cursor`.
async fn consumer(db: &Db, connection: Option<&str>, cursor: i64) -> String {
    let connection = connection.map(str::to_string);
    db.write(move |c| {
        let (secret, _) = sessions::issue_app_key(c, "consumer", now())?;
        let id = sessions::app_key_id(c, &secret)?.unwrap();
        feed::acknowledge(c, &id, connection.as_deref(), cursor, now())?;
        Ok(id)
    })
    .await
    .unwrap()
}

async fn read_from(db: &Db, after: i64, connection: Option<&str>) -> FeedRead {
    let connection = connection.map(str::to_string);
    db.read(move |c| feed::read_from(c, after, connection.as_deref(), 100))
        .await
        .unwrap()
}

fn seqs(read: FeedRead) -> Vec<i64> {
    match read {
        FeedRead::Events(events) => events.iter().map(|e| e.seq).collect(),
        other => panic!("expected events, got {other:?}"),
    }
}

#[tokio::test]
async fn old_log_rows_go_recent_ones_and_purge_tombstones_stay() {
    let db = store::open_async().await;
    for (days, outcome) in [
        (45, "created"),
        (45, "purged"),
        (40, "updated"),
        (31, "read"),
        (29, "created"),
        (0, "read"),
    ] {
        log_row(&db, days, outcome).await;
    }
    // The default retention, 30 days.
    let pruned = retention::prune(&db, now(), 1000).await.unwrap();
    assert_eq!(pruned.log_rows, 3, "{pruned:?}");
    assert_eq!(
        log_left(&db).await,
        vec![
            ("purged".to_string(), 45),
            ("created".to_string(), 29),
            ("read".to_string(), 0)
        ]
    );
    // The admin's setting decides: at 7 days the 29-day-old row goes too, the tombstone stays.
    db.write(|c| log::set_retention_days(c, 7)).await.unwrap();
    let pruned = retention::prune(&db, now(), 1000).await.unwrap();
    assert_eq!(pruned.log_rows, 1);
    assert_eq!(
        log_left(&db).await,
        vec![("purged".to_string(), 45), ("read".to_string(), 0)]
    );
    // Nothing left to remove: one write for the log, one for the feed.
    let pruned = retention::prune(&db, now(), 1000).await.unwrap();
    assert_eq!(
        pruned,
        Pruned {
            log_rows: 0,
            feed_events: 0,
            writes: 2
        }
    );
}

#[tokio::test]
async fn pruning_n_rows_in_batches_of_b_takes_ceil_n_over_b_writes() {
    let db = store::open_async().await;
    db.write(|c| {
        let old = directory::clock::fmt_time(now() - Duration::days(60));
        for i in 0..2_500 {
            log::append(
                c,
                &LogEntry {
                    at: old.clone(),
                    method: "GET".into(),
                    path: format!("/Users/{i}"),
                    status: 200,
                    outcome: directory::log::LogOutcome::Read,
                    ..Default::default()
                },
            )?;
        }
        Ok(())
    })
    .await
    .unwrap();
    log_row(&db, 1, "created").await;
    // One batch is bounded: a call removes at most its batch, whatever is due.
    let first = db.write(|c| log::prune(c, now(), 1_000)).await.unwrap();
    assert_eq!(first, 1_000);
    // The rest, 1,500 rows in batches of 1,000: two log writes (1,000 then 500, which ends
    // the log), then one feed write that finds nothing.
    let pruned = retention::prune(&db, now(), 1_000).await.unwrap();
    assert_eq!(
        pruned,
        Pruned {
            log_rows: 1_500,
            feed_events: 0,
            writes: 3
        }
    );
    assert_eq!(log_left(&db).await, vec![("created".to_string(), 1)]);

    // From the start, 2,500 rows in batches of 1,000 are ceil(2,500 / 1,000) = 3 log writes.
    let db2 = store::open_async().await;
    db2.write(|c| {
        let old = directory::clock::fmt_time(now() - Duration::days(60));
        for _ in 0..2_500 {
            log::append(
                c,
                &LogEntry {
                    at: old.clone(),
                    method: "GET".into(),
                    path: "/Users".into(),
                    status: 200,
                    outcome: directory::log::LogOutcome::Read,
                    ..Default::default()
                },
            )?;
        }
        Ok(())
    })
    .await
    .unwrap();
    let pruned = retention::prune(&db2, now(), 1_000).await.unwrap();
    assert_eq!((pruned.log_rows, pruned.writes), (2_500, 3 + 1));
}

#[tokio::test]
async fn feed_events_past_the_window_go_and_old_cursors_are_refused() {
    let db = store::open_async().await;
    let a1 = event(&db, "A", 40).await;
    let b1 = event(&db, "B", 35).await;
    let a2 = event(&db, "A", 10).await;
    let b2 = event(&db, "B", 0).await;
    let pruned = retention::prune(&db, now(), 1000).await.unwrap();
    assert_eq!(pruned.feed_events, 2, "{pruned:?}");
    assert_eq!(seqs_left(&db).await, vec![a2, b2]);

    // A reader whose cursor is below a pruned event is told, with the head to resync from.
    for after in [0, a1] {
        assert_eq!(
            read_from(&db, after, None).await,
            FeedRead::Pruned {
                pruned_through: b1,
                head: b2
            }
        );
    }
    // Past what was pruned, reading goes on.
    assert_eq!(seqs(read_from(&db, b1, None).await), vec![a2, b2]);
    // Per connection: connection A's reader at a1 missed nothing of A (b1 was B's).
    assert_eq!(seqs(read_from(&db, a1, Some("A")).await), vec![a2]);
    assert_eq!(
        read_from(&db, 0, Some("A")).await,
        FeedRead::Pruned {
            pruned_through: a1,
            head: b2
        }
    );
    assert!(matches!(
        read_from(&db, a1, Some("B")).await,
        FeedRead::Pruned { pruned_through, .. } if pruned_through == b1
    ));
    // The head stays where the feed got to even when everything is pruned.
    let pruned = retention::prune(&db, now() + Duration::days(31), 1000)
        .await
        .unwrap();
    assert_eq!(pruned.feed_events, 2);
    assert_eq!(seqs_left(&db).await, Vec::<i64>::new());
    assert!(matches!(
        read_from(&db, b1, None).await,
        FeedRead::Pruned { pruned_through, head } if pruned_through == b2 && head == b2
    ));
    assert_eq!(seqs(read_from(&db, b2, None).await), Vec::<i64>::new());
}

#[tokio::test]
async fn unacknowledged_events_are_kept_up_to_the_hard_maximum() {
    let db = store::open_async().await;
    let e1 = event(&db, "A", 95).await;
    let e2 = event(&db, "A", 60).await;
    let e3 = event(&db, "A", 45).await;
    let e4 = event(&db, "A", 1).await;
    // A consumer of the whole feed has read up to e2.
    let key = consumer(&db, None, e2).await;
    let k = key.clone();
    assert_eq!(
        db.read(move |c| feed::acknowledged(c, &k, None))
            .await
            .unwrap(),
        Some(e2)
    );
    retention::prune(&db, now(), 1000).await.unwrap();
    // e1 and e2 are acknowledged and past 30 days; e3 is past 30 days but unread.
    assert_eq!(seqs_left(&db).await, vec![e3, e4]);
    // 50 days on, e3 is 95 days old: past the hard maximum, unread or not. e4 (51 days,
    // unread) stays.
    let later = now() + Duration::days(50);
    retention::prune(&db, later, 1000).await.unwrap();
    assert_eq!(seqs_left(&db).await, vec![e4]);
    assert!(matches!(
        read_from(&db, e2, None).await,
        FeedRead::Pruned { pruned_through, .. } if pruned_through == e3
    ));
    // Acknowledging moves the cursor forward only, never past the head.
    let acked = db
        .write(move |c| {
            feed::acknowledge(c, &key, None, e1, later)?;
            let backwards = feed::acknowledged(c, &key, None)?;
            feed::acknowledge(c, &key, None, e4 + 1_000, later)?;
            Ok((backwards, feed::acknowledged(c, &key, None)?))
        })
        .await
        .unwrap();
    assert_eq!(acked, (Some(e2), Some(e4)));
    retention::prune(&db, later, 1000).await.unwrap();
    assert_eq!(seqs_left(&db).await, Vec::<i64>::new());
}

#[tokio::test]
async fn only_live_consumers_of_an_events_connection_keep_it() {
    let db = store::open_async().await;
    let a1 = event(&db, "A", 40).await;
    let b1 = event(&db, "B", 39).await;
    let a2 = event(&db, "A", 38).await;
    let a3 = event(&db, "A", 1).await;
    // A revoked key protects nothing.
    let revoked = consumer(&db, None, 0).await;
    db.write(move |c| {
        c.execute(
            "UPDATE app_keys SET revoked_at = '2026-10-01T00:00:00.000Z' WHERE id = ?1",
            [&revoked],
        )?;
        Ok(())
    })
    .await
    .unwrap();
    // A consumer of connection B only, which has read nothing yet.
    consumer(&db, Some("B"), 0).await;
    retention::prune(&db, now(), 1000).await.unwrap();
    // a1 is nobody's unread event and goes; b1 is unread by B's consumer and stays, and the
    // feed is pruned from the front only, so a2 after it stays as well.
    assert_eq!(seqs_left(&db).await, vec![b1, a2, a3]);
    assert_eq!(seqs(read_from(&db, 0, Some("B")).await), vec![b1]);
    assert!(matches!(
        read_from(&db, 0, Some("A")).await,
        FeedRead::Pruned { pruned_through, .. } if pruned_through == a1
    ));
}
