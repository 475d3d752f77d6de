//! Outbound webhooks (Standard Webhooks): endpoints and their signing secrets, the queue of
//! deliveries taken from the change feed, the retry schedule, and the log of attempts.
//!
//! Each endpoint delivers its events strictly in feed order, one at a time: only the oldest
//! pending delivery of an endpoint (its head) is ever due, so while the head is retrying the
//! rest of that endpoint's queue waits. After the last scheduled attempt the head is marked
//! failed and the endpoint moves on to the next event (it is not disabled). The `webhook-id`
//! of an event is `msg_<feed seq>_<endpoint id>`: the same for every retry, resend and replay,
//! so a receiver can drop what it already processed.

use crate::audit::{self, Actor};
use crate::clock::fmt_time;
use crate::error::{Error, Result};
use crate::feed;
use crate::sealed::Sealer;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::{Rng, RngCore};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::Sha256;

/// Delay before each retry, after the attempt that failed (the first attempt is immediate):
/// 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h, 10 h — ten attempts over about 20 h 40 min
/// (each delay moved by up to ±10 % jitter, so at most ~23 h).
pub const RETRY_DELAYS_SECS: [i64; 9] =
    [5, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 10 * 3600];

/// Attempts a delivery gets before it is marked failed.
pub const MAX_ATTEMPTS: i64 = RETRY_DELAYS_SECS.len() as i64 + 1;

/// How much of a receiver's answer the attempt log keeps.
pub const EXCERPT_BYTES: usize = 1024;

/// Days a delivered or failed delivery and its attempts stay in the log.
pub const KEEP_FINISHED_DAYS: i64 = 30;

/// Default time the secret before a rotation keeps signing beside the new one.
pub const DEFAULT_ROTATION_OVERLAP_HOURS: i64 = 24;

/// Events an endpoint can subscribe to: the change feed's event types.
pub const EVENT_TYPES: &[&str] = &[
    feed::USER_CREATED,
    feed::USER_UPDATED,
    feed::USER_DEACTIVATED,
    feed::USER_REACTIVATED,
    feed::USER_DELETED,
    feed::USER_RESTORED,
    feed::USER_PURGED,
    feed::USER_SIGNED_IN,
    feed::USER_MERGED,
    feed::MEMBERSHIP_ADDED,
    feed::MEMBERSHIP_REMOVED,
    feed::ROLE_CHANGED,
    feed::SESSIONS_REVOKED,
    feed::GROUP_CREATED,
    feed::GROUP_UPDATED,
    feed::GROUP_DELETED,
    feed::GROUP_RESTORED,
    feed::GROUP_PURGED,
    feed::CONNECTION_DELETED,
];

/// An endpoint as the admin sees it: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Endpoint {
    pub id: String,
    /// None: every connection's events.
    pub connection_id: Option<String>,
    pub url: String,
    pub description: String,
    /// Empty: every event type.
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub created_at: String,
    /// Until when the secret before the last rotation still signs (both signatures are sent).
    pub previous_secret_until: Option<String>,
    /// The first failed attempt since the last success.
    pub failing_since: Option<String>,
    pub last_error: Option<String>,
    /// Deliveries waiting to be sent (the head may be retrying).
    pub pending: i64,
}

/// One event queued for one endpoint (or a resend or replay of it), with its attempts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    pub id: i64,
    pub endpoint_id: String,
    pub seq: i64,
    pub connection_id: String,
    pub event_type: String,
    pub message_id: String,
    /// pending, delivered or failed
    pub state: String,
    /// event, resend or replay
    pub origin: String,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
    /// Newest first.
    pub attempt_log: Vec<Attempt>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attempt {
    pub at: String,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub latency_ms: i64,
    pub response_excerpt: Option<String>,
}

/// A delivery that is due now, ready to send: signed, with the headers Standard Webhooks
/// names. The signing secret itself never leaves this module.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub delivery_id: i64,
    pub endpoint_id: String,
    pub url: String,
    pub webhook_id: String,
    pub webhook_timestamp: i64,
    /// `v1,<sig>`, or two space-separated during a rotation's overlap (new secret first).
    pub webhook_signature: String,
    pub body: String,
}

/// A due delivery that cannot be signed: its endpoint's secret does not open.
#[derive(Debug, Clone, PartialEq)]
pub struct Unsignable {
    pub delivery_id: i64,
    pub reason: String,
}

/// What one attempt got from the receiver.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptOutcome {
    /// The HTTP status, when the receiver answered.
    pub status: Option<u16>,
    /// Why the attempt failed when no 2xx came back: "timeout after 10s", "connection
    /// refused", "redirect to … not followed", "HTTP 500".
    pub error: Option<String>,
    pub latency_ms: i64,
    pub response_excerpt: Option<String>,
}

impl AttemptOutcome {
    pub fn succeeded(&self) -> bool {
        self.error.is_none() && self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// A new signing secret: `whsec_` and the base64 of 32 random bytes.
pub fn new_secret() -> String {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// `v1,` + base64(HMAC-SHA256(secret bytes, "{id}.{timestamp}.{body}")), where the secret
/// bytes are the base64 after `whsec_` (Standard Webhooks, "Signature scheme").
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String> {
    let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
    let key = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| Error::Corrupt("a webhook secret is not base64".into()))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key)
        .map_err(|_| Error::Corrupt("a webhook secret has no usable key".into()))?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-id` of feed event `seq` sent to endpoint `endpoint_id`.
pub fn message_id(seq: i64, endpoint_id: &str) -> String {
    format!("msg_{seq}_{endpoint_id}")
}

/// The body Standard Webhooks prescribes: the event type, when it happened, and the feed
/// event itself.
pub fn body_of(event: &feed::FeedEvent) -> Result<String> {
    Ok(serde_json::json!({
        "type": event.kind,
        "timestamp": event.at,
        "data": event,
    })
    .to_string())
}

/// A URL the endpoint may use: absolute http(s), at most 2,048 characters, no spaces.
/// (Whether it points back at this server is the transport's to judge: only it knows where
/// it listens.)
pub fn check_url(url: &str) -> Result<String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    let Some(rest) = rest else {
        return Err(Error::Invalid(format!(
            "webhook URL must be an absolute http:// or https:// URL, not {url:?}"
        )));
    };
    if rest.is_empty() || rest.starts_with('/') {
        return Err(Error::Invalid("webhook URL has no host".into()));
    }
    if url.len() > 2048 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::Invalid(
            "webhook URL must be at most 2,048 characters without spaces".into(),
        ));
    }
    Ok(url.to_string())
}

fn check_event_types(types: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = vec![];
    for t in types {
        if !EVENT_TYPES.contains(&t.as_str()) {
            return Err(Error::Invalid(format!(
                "unknown event type {t:?}; known: {}",
                EVENT_TYPES.join(", ")
            )));
        }
        if !out.contains(t) {
            out.push(t.clone());
        }
    }
    Ok(out)
}

const ENDPOINT_COLUMNS: &str =
    "e.id, e.connection_id, e.url, e.description, e.event_types, e.enabled,
    e.created_at, e.previous_secret_until, e.failing_since, e.last_error,
    (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.state = 'pending')";

fn endpoint_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Endpoint> {
    let types: String = r.get(4)?;
    Ok(Endpoint {
        id: r.get(0)?,
        connection_id: r.get(1)?,
        url: r.get(2)?,
        description: r.get(3)?,
        event_types: serde_json::from_str(&types).unwrap_or_default(),
        enabled: r.get(5)?,
        created_at: r.get(6)?,
        previous_secret_until: r.get(7)?,
        failing_since: r.get(8)?,
        last_error: r.get(9)?,
        pending: r.get(10)?,
    })
}

/// Endpoints of one connection (Some), or the server-wide ones (None), oldest first.
pub fn list(db: &Connection, connection_id: Option<&str>) -> Result<Vec<Endpoint>> {
    let mut stmt = db.prepare_cached(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints e WHERE e.connection_id IS ?1
         ORDER BY e.created_at, e.id"
    ))?;
    let rows = stmt
        .query_map([connection_id], endpoint_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub fn get(db: &Connection, id: &str) -> Result<Option<Endpoint>> {
    Ok(db
        .prepare_cached(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints e WHERE e.id = ?1"
        ))?
        .query_row([id], endpoint_row)
        .optional()?)
}

fn existing(db: &Connection, id: &str) -> Result<Endpoint> {
    get(db, id)?.ok_or_else(|| Error::NotFound(format!("webhook endpoint {id}")))
}

/// What a new endpoint is.
#[derive(Debug, Clone, Default)]
pub struct NewEndpoint {
    pub connection_id: Option<String>,
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
}

/// Creates an endpoint that receives events committed from now on; returns it and its
/// secret, which is shown this once.
pub fn create(
    db: &Connection,
    sealer: &Sealer,
    new: &NewEndpoint,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(Endpoint, String)> {
    let url = check_url(&new.url)?;
    let types = check_event_types(&new.event_types)?;
    if new.description.chars().count() > 200 {
        return Err(Error::Invalid(
            "description must be at most 200 characters".into(),
        ));
    }
    if let Some(c) = &new.connection_id {
        crate::connections::get(db, c)?
            .ok_or_else(|| Error::NotFound(format!("connection {c}")))?;
    }
    let id = format!("ep_{}", uuid::Uuid::new_v4().simple());
    let secret = new_secret();
    db.prepare_cached(
        "INSERT INTO webhook_endpoints (id, connection_id, url, description, event_types, enabled,
            secret, after_seq, created_at) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?7, ?8)",
    )?
    .execute(params![
        id,
        new.connection_id,
        url,
        new.description.trim(),
        serde_json::to_string(&types)?,
        sealer.seal(&secret, &id)?,
        feed::head(db)?,
        fmt_time(now)
    ])?;
    audit::record(
        db,
        new.connection_id.as_deref(),
        actor,
        "webhook_created",
        None,
        Some(&format!("{id} {url}")),
        now,
    )?;
    Ok((existing(db, &id)?, secret))
}

/// What an admin may change on an endpoint (None: unchanged).
#[derive(Debug, Clone, Default)]
pub struct EndpointChange {
    pub enabled: Option<bool>,
    pub event_types: Option<Vec<String>>,
    pub url: Option<String>,
    pub description: Option<String>,
}

pub fn update(
    db: &Connection,
    id: &str,
    change: &EndpointChange,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Endpoint> {
    let before = existing(db, id)?;
    let mut said = vec![];
    if let Some(url) = &change.url {
        let url = check_url(url)?;
        db.execute(
            "UPDATE webhook_endpoints SET url = ?2 WHERE id = ?1",
            params![id, url],
        )?;
        said.push(format!("url {url}"));
    }
    if let Some(types) = &change.event_types {
        let types = check_event_types(types)?;
        db.execute(
            "UPDATE webhook_endpoints SET event_types = ?2 WHERE id = ?1",
            params![id, serde_json::to_string(&types)?],
        )?;
        said.push(format!("event types [{}]", types.join(", ")));
    }
    if let Some(d) = &change.description {
        if d.chars().count() > 200 {
            return Err(Error::Invalid(
                "description must be at most 200 characters".into(),
            ));
        }
        db.execute(
            "UPDATE webhook_endpoints SET description = ?2 WHERE id = ?1",
            params![id, d.trim()],
        )?;
        said.push("description".to_string());
    }
    if let Some(enabled) = change.enabled {
        db.execute(
            "UPDATE webhook_endpoints SET enabled = ?2 WHERE id = ?1",
            params![id, enabled],
        )?;
        said.push(if enabled { "enabled" } else { "disabled" }.to_string());
    }
    audit::record(
        db,
        before.connection_id.as_deref(),
        actor,
        "webhook_updated",
        None,
        Some(&format!("{id}: {}", said.join("; "))),
        now,
    )?;
    existing(db, id)
}

/// Deletes an endpoint with its queue and log.
pub fn delete(db: &Connection, id: &str, actor: &Actor, now: DateTime<Utc>) -> Result<Endpoint> {
    let before = existing(db, id)?;
    db.execute(
        "DELETE FROM webhook_attempts WHERE delivery_id IN
            (SELECT id FROM webhook_deliveries WHERE endpoint_id = ?1)",
        [id],
    )?;
    db.execute(
        "DELETE FROM webhook_deliveries WHERE endpoint_id = ?1",
        [id],
    )?;
    db.execute("DELETE FROM webhook_endpoints WHERE id = ?1", [id])?;
    audit::record(
        db,
        before.connection_id.as_deref(),
        actor,
        "webhook_deleted",
        None,
        Some(&format!("{id} {}", before.url)),
        now,
    )?;
    Ok(before)
}

/// A new secret for the endpoint; the old one keeps signing beside it for `overlap`, so a
/// receiver can switch without losing a delivery. Returns the endpoint and the new secret,
/// shown this once.
pub fn rotate(
    db: &Connection,
    sealer: &Sealer,
    id: &str,
    overlap: chrono::Duration,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(Endpoint, String)> {
    let before = existing(db, id)?;
    let secret = new_secret();
    let until = (overlap > chrono::Duration::zero()).then(|| fmt_time(now + overlap));
    db.execute(
        "UPDATE webhook_endpoints SET previous_secret = CASE WHEN ?3 IS NULL THEN NULL ELSE secret END,
            previous_secret_until = ?3, secret = ?2 WHERE id = ?1",
        params![id, sealer.seal(&secret, id)?, until],
    )?;
    audit::record(
        db,
        before.connection_id.as_deref(),
        actor,
        "webhook_secret_rotated",
        None,
        Some(&format!(
            "{id}: the previous secret signs until {}",
            until.as_deref().unwrap_or("now (no overlap)")
        )),
        now,
    )?;
    Ok((existing(db, id)?, secret))
}

/// True when some endpoint has feed events it has not queued (or passed over) yet; a read,
/// so the deliverer's periodic tick writes nothing when there is nothing new.
pub fn behind_feed(db: &Connection) -> Result<bool> {
    let head = feed::head(db)?;
    Ok(db
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE after_seq < ?1)")?
        .query_row([head], |r| r.get(0))?)
}

/// Queues, for every endpoint, the feed events committed since it last looked that it
/// subscribes to (its connection, or all; its event types, or all); a disabled endpoint
/// passes over them. Returns how many deliveries were queued.
pub fn enqueue_from_feed(db: &Connection, now: DateTime<Utc>) -> Result<usize> {
    let endpoints: Vec<(String, Option<String>, String, bool, i64)> = db
        .prepare_cached(
            "SELECT id, connection_id, event_types, enabled, after_seq FROM webhook_endpoints",
        )?
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let now_s = fmt_time(now);
    let mut queued = 0;
    for (id, connection_id, types, enabled, after) in endpoints {
        let types: Vec<String> = serde_json::from_str(&types).unwrap_or_default();
        let mut after = after;
        loop {
            let events = feed::read(db, after, connection_id.as_deref(), 1000)?;
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
        // Past the head even when the connection's own events ended earlier, so
        // `behind_feed` is false once everything was looked at.
        let head = feed::head(db)?;
        db.prepare_cached(
            "UPDATE webhook_endpoints SET after_seq = max(?2, after_seq) WHERE id = ?1",
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
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?8, ?8)",
    )?
    .execute(params![
        endpoint_id,
        seq,
        connection_id,
        event_type,
        message_id(seq, endpoint_id),
        body,
        origin,
        now
    ])?;
    Ok(db.last_insert_rowid())
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
        .collect::<rusqlite::Result<Vec<_>>>()?;
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
        .collect::<rusqlite::Result<Vec<_>>>()?;
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
            .collect::<rusqlite::Result<Vec<_>>>()?;
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
        .collect::<rusqlite::Result<_>>()?;
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

/// Endpoints that carry this connection's events (its own and the server-wide ones) and
/// are failing: (url, failing since, last error).
pub fn failing_for(
    db: &Connection,
    connection_id: &str,
) -> Result<Vec<(String, String, Option<String>)>> {
    let rows = db
        .prepare_cached(
            "SELECT url, failing_since, last_error FROM webhook_endpoints
              WHERE failing_since IS NOT NULL AND enabled = 1
                AND (connection_id IS NULL OR connection_id = ?1)
              ORDER BY failing_since",
        )?
        .query_map([connection_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
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
    Ok(db
        .prepare_cached(
            "DELETE FROM webhook_deliveries WHERE id IN
            (SELECT id FROM webhook_deliveries WHERE state != 'pending' AND finished_at < ?1
              ORDER BY id LIMIT ?2)",
        )?
        .execute(params![old, batch as i64])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of the Standard Webhooks reference libraries (their test suites): this
    // secret, id, timestamp and payload sign to this value.
    #[test]
    fn signature_matches_the_reference_example() {
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn urls_must_be_absolute_http() {
        assert!(check_url("https://example.com/hook").is_ok());
        assert!(check_url("http://127.0.0.1:9000/").is_ok());
        for bad in [
            "ftp://example.com",
            "example.com",
            "https://",
            "file:///etc/passwd",
            "http://a b",
        ] {
            assert!(matches!(check_url(bad), Err(Error::Invalid(_))), "{bad}");
        }
    }

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
