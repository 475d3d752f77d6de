//! `Db::write_detached_then`: the follow-up runs only after the write's group has committed
//! (so a reader already sees it), and never when the write failed.

#[path = "support/store.rs"]
mod store;

use directory::log;
use std::time::Duration;

// Two workers: the test's thread waits on a plain channel, and on PostgreSQL the detached
// writes and their follow-ups run as tasks on the runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_up_runs_after_commit_and_only_on_success() {
    let db = store::open_async().await;
    let (tx, rx) = std::sync::mpsc::channel::<i64>();

    let ok = tx.clone();
    db.write_detached_then(
        |c| {
            log::append(
                c,
                &log::LogEntry {
                    at: "2026-11-22T10:00:00.000Z".into(),
                    method: "GET".into(),
                    path: "/Users".into(),
                    status: 401,
                    outcome: directory::log::LogOutcome::AuthFailed,
                    ..Default::default()
                },
            )
        },
        move |row| ok.send(row).unwrap(),
    );
    let row = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("follow-up ran");
    // Told about the row, a reader finds it.
    let found = db
        .read(move |c| {
            c.query_row(
                "SELECT status FROM provisioning_log WHERE id = ?1",
                [row],
                |r| r.get::<_, i64>(0),
            )
        })
        .await
        .unwrap();
    assert_eq!(found, 401);

    // A write that fails is rolled back and its follow-up never runs.
    let bad = tx.clone();
    db.write_detached_then(
        |c| Ok(c.execute("INSERT INTO no_such_table VALUES (1)", ())? as i64),
        move |n| bad.send(-n - 1000).unwrap(),
    );
    // A later write's follow-up arriving first proves the failed one was processed and skipped.
    db.write_detached_then(|_| Ok(7), move |v| tx.send(v).unwrap());
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), 7);
    // PostgreSQL runs detached writes side by side, where 7 arriving first proves less: a
    // write awaited now runs only after every detached write started before it has finished
    // (on SQLite, behind them in the writer's queue).
    db.write(|_| Ok(())).await.unwrap();
    assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
}
