//! Retention: the background pass that keeps the provisioning log and the change feed
//! within what the admin set (docs/retention.md), in small batches, each its own write, so
//! the single writer is never held for long and other writes run between batches.

use crate::{feed, log, Db, Result};
use chrono::{DateTime, Utc};
use std::time::{Duration, Instant};

/// Rows (or events) one write removes at most. BENCHMARKS.md ("Retention pruning"): a batch
/// of 2,000 log rows (each in seven indexes) is about 20 ms of the debug build's writer; 5,000
/// tripled create p99 during a large prune, 1,000 did not lower it.
pub const BATCH: usize = 2_000;

/// What one pass removed, and in how many writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub log_rows: usize,
    pub feed_events: usize,
    pub writes: usize,
}

/// Prunes the provisioning log, then the change feed, `batch` at a time, each batch its own
/// write, until a batch removes fewer than `batch`; rests between full batches (`rest`).
pub async fn prune(db: &Db, now: DateTime<Utc>, batch: usize) -> Result<Pruned> {
    let batch = batch.max(1);
    let mut out = Pruned::default();
    loop {
        let started = Instant::now();
        let n = db.write(move |c| log::prune(c, now, batch)).await?;
        out.writes += 1;
        out.log_rows += n;
        if n < batch {
            break;
        }
        rest(started).await;
    }
    loop {
        let started = Instant::now();
        let n = db
            .write(move |c| feed::prune(c, now, log::retention_days(c)?, batch))
            .await?;
        out.writes += 1;
        out.feed_events += n;
        if n < batch {
            break;
        }
        rest(started).await;
    }
    Ok(out)
}

/// Between two full batches, waits as long as the last one took from queueing to commit, so
/// a long prune (a first pass over millions of rows) takes at most about half of the writer's
/// time and backs off further when other writes queue ahead of it.
async fn rest(batch_started: Instant) {
    tokio::time::sleep(batch_started.elapsed().min(Duration::from_secs(1))).await;
}
