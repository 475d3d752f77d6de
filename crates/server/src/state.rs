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
            demo: crate::demo::Demo::default(),
        }
    }

    /// Constant-time comparison of a presented admin secret.
    pub fn admin_secret_matches(&self, presented: &str) -> bool {
        let h: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        bool::from(h.ct_eq(&self.admin_secret_hash))
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
