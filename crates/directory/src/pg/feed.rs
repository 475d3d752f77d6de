//! The change feed on PostgreSQL, where several instances commit at once. A sequence
//! assigned at insert is not commit order: a transaction can take seq 9 and commit after
//! another's seq 10, and a reader that already moved past 10 would never see 9. So a row is
//! written unnumbered and numbered only once it has committed: one numberer at a time (an
//! advisory lock) gives every committed unnumbered row the next numbers, and its own commit
//! publishes them at once. A late commit simply gets a later number; readers see numbered
//! rows only, and every number they can see extends the ones they saw before.
//!
//! What it costs: numbering is serialised (a short transaction under one lock, run by the
//! reader, so an event is readable as soon as it is committed and someone reads) but writers
//! never wait for it; events are in the order they became visible, which for two writes of
//! one user is the order they committed.

use crate::error::Result;
use crate::feed::FeedEvent;
use deadpool_postgres::GenericClient;
use serde_json::Value;

/// The advisory lock numbering runs under.
const NUMBER_LOCK: i64 = 0x6d75_7374_6572_6601; // "muster" + feed

/// Appends an event inside the caller's transaction, unnumbered; returns its row id (the
/// provisioning log keeps it to find the events a request produced).
#[allow(clippy::too_many_arguments)]
pub async fn append(
    db: &impl GenericClient,
    connection_id: &str,
    kind: &str,
    user_id: Option<&str>,
    group_id: Option<&str>,
    data: &str,
    at: &str,
) -> Result<i64> {
    let row = db
        .query_one(
            "INSERT INTO change_feed (at, connection_id, kind, user_id, group_id, data)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            &[&at, &connection_id, &kind, &user_id, &group_id, &data],
        )
        .await?;
    Ok(row.get(0))
}

/// Numbers every committed event not numbered yet, in insertion order; returns the head (the
/// last seq numbered, 0 before the first event).
pub async fn number(client: &mut deadpool_postgres::Client) -> Result<i64> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&NUMBER_LOCK])
        .await?;
    // A statement of its own after the lock, so its snapshot sees the numbering committed by
    // whoever held the lock before (the lock is released only once that commit is visible).
    let head: i64 = tx
        .query_one(
            "WITH pending AS (
                 SELECT id, row_number() OVER (ORDER BY id) AS n
                   FROM change_feed WHERE seq IS NULL
             ), head AS (
                 UPDATE feed_head SET seq = seq + (SELECT count(*) FROM pending)
                 RETURNING seq, seq - (SELECT count(*) FROM pending) AS base
             ), numbered AS (
                 UPDATE change_feed c SET seq = head.base + pending.n
                   FROM pending, head WHERE c.id = pending.id
                 RETURNING c.seq
             )
             SELECT head.seq FROM head",
            &[],
        )
        .await?
        .get(0);
    tx.commit().await?;
    Ok(head)
}

/// The last seq numbered, numbering what is ready first.
pub async fn head(client: &mut deadpool_postgres::Client) -> Result<i64> {
    number(client).await
}

/// Events after `after` (exclusive), oldest first, numbering what is ready first; the last
/// event's seq is the next cursor.
pub async fn read(
    client: &mut deadpool_postgres::Client,
    after: i64,
    connection_id: Option<&str>,
    limit: u32,
) -> Result<Vec<FeedEvent>> {
    number(client).await?;
    let limit = i64::from(limit.clamp(1, 1000));
    let rows = client
        .query(
            "SELECT seq, at, connection_id, kind, user_id, group_id, data FROM change_feed
              WHERE seq > $1 AND ($2::text IS NULL OR connection_id = $2)
              ORDER BY seq LIMIT $3",
            &[&after, &connection_id, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let data: &str = r.get(6);
            FeedEvent {
                seq: r.get(0),
                at: r.get(1),
                connection_id: r.get(2),
                kind: r.get(3),
                user_id: r.get(4),
                group_id: r.get(5),
                data: serde_json::from_str(data).unwrap_or(Value::Null),
            }
        })
        .collect())
}
