//! Shared server state: the store, the clock, secrets, live-change fan-out and the
//! per-connection admission gates.

use directory::{Clock, Db};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use subtle::ConstantTimeEq;
use tokio::sync::{broadcast, Semaphore};

pub const DEFAULT_MAX_IN_FLIGHT: usize = 128;

/// A change the console should see; carries ids only, never data.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ChangeEvent {
    pub kind: String,
    pub connection_id: String,
    pub id: Option<String>,
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub scim_base: String,
    pub origin: String,
    pub allowed_origins: Arc<Vec<String>>,
    admin_secret_hash: [u8; 32],
    pub events: broadcast::Sender<ChangeEvent>,
    gates: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
    max_in_flight: usize,
    /// Per token id: the second of its last recorded use, to write last-use at most 1/s.
    pub token_touches: Arc<Mutex<HashMap<String, i64>>>,
    /// Per connection: the dialect last recorded, to write it only when it changes.
    pub dialects: Arc<Mutex<HashMap<String, String>>>,
    /// Per connection: when its last failure was announced on the live stream.
    failure_events: Arc<Mutex<HashMap<String, std::time::Instant>>>,
    pub demo: crate::demo::Demo,
}

impl AppState {
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        scim_base: String,
        admin_secret: &str,
        origin: String,
        allowed_origins: Vec<String>,
        max_in_flight: usize,
    ) -> Self {
        let (events, _) = broadcast::channel(1024);
        AppState {
            db,
            clock,
            scim_base,
            origin,
            allowed_origins: Arc::new(allowed_origins),
            admin_secret_hash: Sha256::digest(admin_secret.as_bytes()).into(),
            events,
            gates: Arc::new(Mutex::new(HashMap::new())),
            max_in_flight: max_in_flight.max(1),
            token_touches: Arc::new(Mutex::new(HashMap::new())),
            dialects: Arc::new(Mutex::new(HashMap::new())),
            failure_events: Arc::new(Mutex::new(HashMap::new())),
            demo: crate::demo::Demo::default(),
        }
    }

    /// Constant-time comparison of a presented admin secret.
    pub fn admin_secret_matches(&self, presented: &str) -> bool {
        let h: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        bool::from(h.ct_eq(&self.admin_secret_hash))
    }

    /// Whether a failed request on this connection should be announced live: at most one
    /// a second per connection, so a flood of refused requests (anyone who knows the SCIM
    /// URL can send bad tokens) cannot flood every open console. Every request is still
    /// logged; the console reads the rows when the event comes.
    pub fn failure_event_due(&self, connection_id: &str) -> bool {
        let now = std::time::Instant::now();
        let mut last = self
            .failure_events
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match last.get(connection_id) {
            Some(t) if now.duration_since(*t) < std::time::Duration::from_secs(1) => false,
            _ => {
                last.insert(connection_id.to_string(), now);
                true
            }
        }
    }

    /// The admission gate of a connection.
    pub fn gate(&self, connection_id: &str) -> Arc<Semaphore> {
        let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        gates
            .entry(connection_id.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.max_in_flight)))
            .clone()
    }

    pub fn publish(&self, kind: &str, connection_id: &str, id: Option<&str>) {
        let _ = self.events.send(ChangeEvent {
            kind: kind.to_string(),
            connection_id: connection_id.to_string(),
            id: id.map(str::to_string),
        });
    }
}
