//! The delivery queue: feed events queued, signed when due, retried, resent, replayed, pruned.

use super::endpoints::{existing, get};
use super::{
    body_of, message_id, sign, Attempt, AttemptOutcome, Delivery, Endpoint, Outgoing, Unsignable,
    RETRY_DELAYS_SECS,
};
use crate::audit::{self, Actor};
use crate::clock::fmt_time;
use crate::error::{Error, Result};
use crate::feed;
use crate::sealed::Sealer;
use crate::sql::{params, Connection, OptionalExtension};
use chrono::{DateTime, Utc};
use rand::Rng;

/// True when some endpoint has feed events it has not queued (or passed over) yet; a read,
/// so the deliverer's periodic tick writes nothing when there is nothing new.
pub fn behind_feed(db: &Connection) -> Result<bool> {
    // Without endpoints nothing can be behind: on PostgreSQL the head costs a numbering
    // transaction, which every write's wake-up would otherwise pay.
    let any: bool = db
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM webhook_endpoints)")?
        .query_row((), |r| r.get(0))?;
    if !any {
        return Ok(false);
    }
    let head = feed::head(db)?;
    db.prepare_cached("SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE after_seq < ?1)")?
        .query_row([head], |r| r.get(0))
}

/// Queues, for every endpoint, the feed events committed since it last looked that it
/// subscribes to (its connection, or all; its event types, or all); a disabled endpoint
/// passes over them. Returns how many deliveries were queued.
pub fn enqueue_from_feed(db: &Connection, now: DateTime<Utc>) -> Result<usize> {
    let endpoints: Vec<(String, Option<String>, String, bool, i64)> = db
        .prepare_cached(
            "SELECT id, connection_id, event_types, enabled, after_seq FROM webhook_endpoints",
        )?
        .query_map((), |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<crate::Result<_>>()?;
    let now_s = fmt_time(now);
    let mut queued = 0;
    // This pass looks at the feed up to where it stands now, and no further: on PostgreSQL
    // other instances' events are numbered while it runs, and one numbered after an
    // endpoint's last read but at or below a later head would be passed over, never sent.
    let head = feed::head(db)?;
    for (id, connection_id, types, enabled, after) in endpoints {
        let types: Vec<String> = serde_json::from_str(&types).unwrap_or_default();
        let mut after = after;
        loop {
            let mut events = feed::read_numbered(db, after, connection_id.as_deref(), 1000)?;
            events.retain(|e| e.seq <= head);
            let Some(last) = events.last().map(|e| e.seq) else {
                break;
            };
            for e in events {
                if !enabled || !(types.is_empty() || types.contains(&e.kind)) {
                    continue;
                }
                insert_delivery(
                    db,
                    &id,
                    e.seq,
                    &e.connection_id,
                    &e.kind,
                    &body_of(&e)?,
                    "event",
                    &now_s,
                )?;
                queued += 1;
            }
            after = last;
        }
        // Up to the head even when the connection's own events ended earlier, so
        // `behind_feed` is false once everything was looked at.
        db.prepare_cached(
            "UPDATE webhook_endpoints SET after_seq = CASE WHEN ?2 > after_seq THEN ?2 ELSE after_seq END
             WHERE id = ?1",
        )?
        .execute(params![id, after.max(head)])?;
    }
    Ok(queued)
}

#[allow(clippy::too_many_arguments)]
fn insert_delivery(
    db: &Connection,
    endpoint_id: &str,
    seq: i64,
    connection_id: &str,
    event_type: &str,
    body: &str,
    origin: &str,
    now: &str,
) -> Result<i64> {
    db.prepare_cached(
        "INSERT INTO webhook_deliveries (endpoint_id, seq, connection_id, event_type, message_id,
            body, state, origin, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?8, ?8) RETURNING id",
    )?
    .query_row(
        params![
            endpoint_id,
            seq,
            connection_id,
            event_type,
            message_id(seq, endpoint_id),
            body,
            origin,
            now
        ],
        |r| r.get(0),
    )
}

/// The head of every enabled endpoint's queue whose next attempt is due, signed now,
/// leaving out endpoints in `busy` (an attempt of theirs is in flight). A head whose secret
/// does not open (the database restored without its key file) comes back as `Unsignable`
/// with the reason, to be recorded as a failed attempt: it never blocks the other endpoints.
pub fn due(
    db: &Connection,
    sealer: &Sealer,
    now: DateTime<Utc>,
    busy: &[String],
) -> Result<(Vec<Outgoing>, Vec<Unsignable>)> {
    let now_s = fmt_time(now);
    let mut stmt = db.prepare_cached(
        "SELECT d.id, e.id, e.url, d.message_id, d.body, e.secret, e.previous_secret,
                e.previous_secret_until
           FROM webhook_endpoints e
           JOIN webhook_deliveries d ON d.id =
                (SELECT min(id) FROM webhook_deliveries WHERE endpoint_id = e.id AND state = 'pending')
          WHERE e.enabled = 1 AND d.next_attempt_at <= ?1
          ORDER BY d.id",
    )?;
    let rows = stmt
        .query_map([&now_s], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })?
        .collect::<crate::Result<Vec<_>>>()?;
    let ts = now.timestamp();
    let (mut out, mut unsignable) = (vec![], vec![]);
    for (delivery_id, endpoint_id, url, webhook_id, body, secret, previous, until) in rows {
        if busy.contains(&endpoint_id) {
            continue;
        }
        let signed = (|| -> Result<String> {
            let mut signature = sign(&sealer.open(&secret, &endpoint_id)?, &webhook_id, ts, &body)?;
            if let (Some(previous), Some(until)) = (previous, until) {
                if until > now_s {
                    signature.push(' ');
                    let previous = sealer.open(&previous, &endpoint_id)?;
                    signature.push_str(&sign(&previous, &webhook_id, ts, &body)?);
                }
            }
            Ok(signature)
        })();
        let signature = match signed {
            Ok(signature) => signature,
            Err(e) => {
                unsignable.push(Unsignable {
                    delivery_id,
                    reason: format!("cannot sign: {e}"),
                });
                continue;
            }
        };
        out.push(Outgoing {
            delivery_id,
            endpoint_id,
            url,
            webhook_id,
            webhook_timestamp: ts,
            webhook_signature: signature,
            body,
        });
    }
    Ok((out, unsignable))
}

/// The delay before the retry that follows failed attempt number `attempts` (1-based), with
/// ±10 % jitter so many failing deliveries do not retry in lockstep; None after the last.
pub fn retry_delay(attempts: i64) -> Option<chrono::Duration> {
    let base = *RETRY_DELAYS_SECS.get(usize::try_from(attempts - 1).ok()?)?;
    let factor: f64 = rand::thread_rng().gen_range(0.9..1.1);
    Some(chrono::Duration::milliseconds(
        (base as f64 * 1000.0 * factor) as i64,
    ))
}

/// Records one attempt of a delivery: delivered on a 2xx; otherwise retried on the schedule,
/// or failed after the last attempt (and the endpoint moves on to its next delivery). The
/// endpoint's failing state follows: set at the first failure, cleared by a success.
/// Returns the endpoint as it is after (None when it was deleted meanwhile).
pub fn record_attempt(
    db: &Connection,
    delivery_id: i64,
    outcome: &AttemptOutcome,
    now: DateTime<Utc>,
) -> Result<Option<Endpoint>> {
    let now_s = fmt_time(now);
    let Some((endpoint_id, attempts, state)) = db
        .prepare_cached(
            "SELECT endpoint_id, attempts, state FROM webhook_deliveries WHERE id = ?1",
        )?
        .query_row([delivery_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .optional()?
    else {
        // Deleted with its endpoint while the attempt was in flight.
        return Ok(None);
    };
    db.prepare_cached(
        "INSERT INTO webhook_attempts (delivery_id, at, status, error, latency_ms, response_excerpt)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        delivery_id,
        now_s,
        outcome.status,
        outcome.error,
        outcome.latency_ms,
        outcome.response_excerpt
    ])?;
    if state != "pending" {
        return get(db, &endpoint_id);
    }
    let attempts = attempts + 1;
    if outcome.succeeded() {
        db.prepare_cached(
            "UPDATE webhook_deliveries SET state = 'delivered', attempts = ?2, finished_at = ?3 WHERE id = ?1",
        )?
        .execute(params![delivery_id, attempts, now_s])?;
        db.prepare_cached(
            "UPDATE webhook_endpoints SET failing_since = NULL, last_error = NULL WHERE id = ?1",
        )?
        .execute([&endpoint_id])?;
        return get(db, &endpoint_id);
    }
    match retry_delay(attempts) {
        Some(delay) => db
            .prepare_cached(
                "UPDATE webhook_deliveries SET attempts = ?2, next_attempt_at = ?3 WHERE id = ?1",
            )?
            .execute(params![delivery_id, attempts, fmt_time(now + delay)])?,
        None => db
            .prepare_cached(
                "UPDATE webhook_deliveries SET state = 'failed', attempts = ?2, finished_at = ?3 WHERE id = ?1",
            )?
            .execute(params![delivery_id, attempts, now_s])?,
    };
    let error = outcome
        .error
        .clone()
        .or_else(|| outcome.status.map(|s| format!("HTTP {s}")))
        .unwrap_or_else(|| "failed".into());
    db.prepare_cached(
        "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, ?2), last_error = ?3 WHERE id = ?1",
    )?
    .execute(params![endpoint_id, now_s, error])?;
    get(db, &endpoint_id)
}

/// An endpoint's deliveries, newest first, each with its attempts (newest first).
pub fn deliveries(db: &Connection, endpoint_id: &str, limit: u32) -> Result<Vec<Delivery>> {
    existing(db, endpoint_id)?;
    let mut stmt = db.prepare_cached(
        "SELECT id, endpoint_id, seq, connection_id, event_type, message_id, state, origin,
                attempts, next_attempt_at, created_at, finished_at
           FROM webhook_deliveries WHERE endpoint_id = ?1 ORDER BY id DESC LIMIT ?2",
    )?;
    let mut rows = stmt
        .query_map(params![endpoint_id, limit.clamp(1, 500)], |r| {
            let state: String = r.get(6)?;
            let next: String = r.get(9)?;
            Ok(Delivery {
                id: r.get(0)?,
                endpoint_id: r.get(1)?,
                seq: r.get(2)?,
                connection_id: r.get(3)?,
                event_type: r.get(4)?,
                message_id: r.get(5)?,
                next_attempt_at: (state == "pending").then_some(next),
                state,
                origin: r.get(7)?,
                attempts: r.get(8)?,
                created_at: r.get(10)?,
                finished_at: r.get(11)?,
                attempt_log: vec![],
            })
        })?
        .collect::<crate::Result<Vec<_>>>()?;
    let mut attempts = db.prepare_cached(
        "SELECT at, status, error, latency_ms, response_excerpt FROM webhook_attempts
          WHERE delivery_id = ?1 ORDER BY id DESC",
    )?;
    for d in &mut rows {
        d.attempt_log = attempts
            .query_map([d.id], |r| {
                Ok(Attempt {
                    at: r.get(0)?,
                    status: r.get(1)?,
                    error: r.get(2)?,
                    latency_ms: r.get(3)?,
                    response_excerpt: r.get(4)?,
                })
            })?
            .collect::<crate::Result<Vec<_>>>()?;
    }
    Ok(rows)
}

/// Sends one delivery again, with the same `webhook-id` and body, at the end of the
/// endpoint's queue. Returns the new delivery's id.
pub fn resend(
    db: &Connection,
    endpoint_id: &str,
    delivery_id: i64,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<i64> {
    let ep = existing(db, endpoint_id)?;
    let found: Option<(i64, String, String, String)> = db
        .prepare_cached(
            "SELECT seq, connection_id, event_type, body FROM webhook_deliveries
              WHERE id = ?1 AND endpoint_id = ?2",
        )?
        .query_row(params![delivery_id, endpoint_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((seq, connection_id, event_type, body)) = found else {
        return Err(Error::NotFound(format!(
            "delivery {delivery_id} of webhook endpoint {endpoint_id}"
        )));
    };
    let id = insert_delivery(
        db,
        endpoint_id,
        seq,
        &connection_id,
        &event_type,
        &body,
        "resend",
        &fmt_time(now),
    )?;
    audit::record(
        db,
        ep.connection_id.as_deref(),
        actor,
        "webhook_resent",
        None,
        Some(&format!("{endpoint_id}: {}", message_id(seq, endpoint_id))),
        now,
    )?;
    Ok(id)
}

/// Queues again every event this endpoint was sent from feed seq `from` on (each once, in
/// feed order, same `webhook-id`s), at the end of its queue. Returns how many.
pub fn replay(
    db: &Connection,
    endpoint_id: &str,
    from: i64,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<usize> {
    let ep = existing(db, endpoint_id)?;
    let rows: Vec<(i64, String, String, String)> = db
        .prepare_cached(
            "SELECT seq, connection_id, event_type, body FROM webhook_deliveries
              WHERE id IN (SELECT min(id) FROM webhook_deliveries
                            WHERE endpoint_id = ?1 AND seq >= ?2 GROUP BY seq)
              ORDER BY seq",
        )?
        .query_map(params![endpoint_id, from], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<crate::Result<_>>()?;
    let now_s = fmt_time(now);
    for (seq, connection_id, event_type, body) in &rows {
        insert_delivery(
            db,
            endpoint_id,
            *seq,
            connection_id,
            event_type,
            body,
            "replay",
            &now_s,
        )?;
    }
    audit::record(
        db,
        ep.connection_id.as_deref(),
        actor,
        "webhook_replayed",
        None,
        Some(&format!(
            "{endpoint_id}: {} event(s) from seq {from}",
            rows.len()
        )),
        now,
    )?;
    Ok(rows.len())
}

/// Removes at most `batch` finished deliveries (delivered or failed) older than `keep_days`,
/// with their attempts; pending ones stay whatever their age. Returns how many went.
pub fn prune(db: &Connection, now: DateTime<Utc>, keep_days: i64, batch: usize) -> Result<usize> {
    let old = fmt_time(now - chrono::Duration::days(keep_days));
    db.prepare_cached(
        "DELETE FROM webhook_attempts WHERE delivery_id IN
            (SELECT id FROM webhook_deliveries WHERE state != 'pending' AND finished_at < ?1
              ORDER BY id LIMIT ?2)",
    )?
    .execute(params![old, batch as i64])?;
    db.prepare_cached(
        "DELETE FROM webhook_deliveries WHERE id IN
            (SELECT id FROM webhook_deliveries WHERE state != 'pending' AND finished_at < ?1
              ORDER BY id LIMIT ?2)",
    )?
    .execute(params![old, batch as i64])
}

#[cfg(test)]
mod tests {
    use super::super::MAX_ATTEMPTS;
    use super::*;

    #[test]
    fn the_schedule_ends_within_a_day() {
        let total: i64 = RETRY_DELAYS_SECS.iter().sum();
        assert!(total * 11 / 10 < 24 * 3600, "{total}");
        assert_eq!(MAX_ATTEMPTS, 10);
        assert!(retry_delay(MAX_ATTEMPTS).is_none());
        let first = retry_delay(1).unwrap().num_milliseconds();
        assert!((4500..=5500).contains(&first), "{first}");
    }
}
