//! Outbound webhooks (Standard Webhooks): endpoints and their signing secrets, the queue of
//! deliveries taken from the change feed, the retry schedule, and the log of attempts.
//!
//! Each endpoint delivers its events strictly in feed order, one at a time: only the oldest
//! pending delivery of an endpoint (its head) is ever due, so while the head is retrying the
//! rest of that endpoint's queue waits. After the last scheduled attempt the head is marked
//! failed and the endpoint moves on to the next event (it is not disabled). The `webhook-id`
//! of an event is `msg_<feed seq>_<endpoint id>`: the same for every retry, resend and replay,
//! so a receiver can drop what it already processed.

mod deliveries;
mod endpoints;
mod signing;

pub use deliveries::{
    behind_feed, deliveries, due, enqueue_from_feed, prune, record_attempt, replay, resend,
    retry_delay,
};
pub use endpoints::{
    check_url, create, delete, failing_for, get, list, rotate, update, EndpointChange, NewEndpoint,
};
pub use signing::{body_of, message_id, new_secret, sign};

use crate::feed;
use serde::Serialize;

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
