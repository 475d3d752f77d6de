//! Shared server state: the directory (store, clock, live changes), secrets and the
//! per-connection admission gates.

use directory::Directory;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

pub const DEFAULT_MAX_IN_FLIGHT: usize = 128;

/// Every SCIM request is answered within this by default, well inside Okta's 60-second limit.
pub const REQUEST_DEADLINE: std::time::Duration = std::time::Duration::from_secs(50);

#[derive(Clone)]
pub struct AppState {
    /// The one door into the store; its commands announce the changes they commit.
    pub dir: Directory,
    pub scim_base: String,
    pub origin: String,
    pub allowed_origins: Arc<Vec<String>>,
    admin_secret_hash: [u8; 32],
    gates: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
    max_in_flight: usize,
    /// Per token id: the second of its last recorded use, to write last-use at most 1/s.
    pub token_touches: Arc<Mutex<HashMap<String, i64>>>,
    /// Per connection: the dialect last recorded, to write it only when it changes.
    pub dialects: Arc<Mutex<HashMap<String, String>>>,
    /// Per connection: when its last failure was announced on the live stream.
    failure_events: Arc<Mutex<HashMap<String, std::time::Instant>>>,
    /// Per connection: moving average of its requests' durations, for `Retry-After`.
    durations: Arc<Mutex<HashMap<String, f64>>>,
    /// Every SCIM request is answered within this (`REQUEST_DEADLINE` by default).
    pub request_deadline: std::time::Duration,
    /// Host names (lower case, without port) the admin API answers to besides loopback.
    pub admin_hosts: Arc<Vec<String>>,
    /// One permit: large request bodies are parsed one at a time (`scim::parse_logged`).
    pub heavy: Arc<Semaphore>,
    pub demo: crate::demo::handle::Demo,
    /// Request metrics for `/metrics`; None when no metrics token is configured.
    pub metrics: Option<Arc<crate::metrics::Metrics>>,
    /// Silence after which an IdP's sync cycle has ended (`directory::sync_cycles`).
    pub sync_gap: std::time::Duration,
    /// Workload identity federation issuers' keys, for the token endpoint (`crate::oauth`).
    pub jwks: crate::oidc::keys::JwksCache,
    /// The identity provider admins sign in with (`crate::oidc`), if configured.
    pub oidc: crate::oidc::OidcSlot,
    /// Failed console sign-ins per source address (`api::auth`).
    pub sign_in_throttle: crate::throttle::Throttle,
}

impl AppState {
    pub fn new(
        dir: Directory,
        scim_base: String,
        admin_secret: &str,
        origin: String,
        allowed_origins: Vec<String>,
        max_in_flight: usize,
    ) -> Self {
        AppState {
            dir,
            scim_base,
            origin,
            allowed_origins: Arc::new(allowed_origins),
            admin_secret_hash: Sha256::digest(admin_secret.as_bytes()).into(),
            gates: Arc::new(Mutex::new(HashMap::new())),
            max_in_flight: max_in_flight.max(1),
            token_touches: Arc::new(Mutex::new(HashMap::new())),
            dialects: Arc::new(Mutex::new(HashMap::new())),
            failure_events: Arc::new(Mutex::new(HashMap::new())),
            durations: Arc::new(Mutex::new(HashMap::new())),
            request_deadline: REQUEST_DEADLINE,
            admin_hosts: Arc::new(Vec::new()),
            heavy: Arc::new(Semaphore::new(1)),
            demo: crate::demo::handle::Demo::default(),
            metrics: None,
            sync_gap: std::time::Duration::from_secs(directory::sync_cycles::DEFAULT_GAP_SECS),
            jwks: crate::oidc::keys::JwksCache::default(),
            oidc: crate::oidc::OidcSlot::default(),
            sign_in_throttle: Default::default(),
        }
    }

    /// Whether a request's Host (name and optional port) is one the admin API answers to:
    /// a loopback name or address, this server's own address, or a configured admin host.
    /// A missing Host is refused.
    pub fn host_allowed(&self, host: Option<&str>) -> bool {
        let Some(host) = host.map(|h| h.trim().to_ascii_lowercase()) else {
            return false;
        };
        let name = host_name(&host);
        if name == "localhost" || name.ends_with(".localhost") {
            return true;
        }
        if let Ok(ip) = name.parse::<std::net::IpAddr>() {
            if ip.is_loopback() {
                return true;
            }
        }
        let own = self.origin.split("://").nth(1).unwrap_or("");
        host == own || self.admin_hosts.iter().any(|h| h == name)
    }

    /// Records how long one of a connection's SCIM requests took.
    pub fn note_duration(&self, connection_id: &str, took: std::time::Duration) {
        let secs = took.as_secs_f64();
        let mut all = self.durations.lock().unwrap_or_else(|e| e.into_inner());
        match all.get_mut(connection_id) {
            Some(avg) => *avg = *avg * 0.9 + secs * 0.1,
            None => {
                all.insert(connection_id.to_string(), secs);
            }
        }
    }

    /// Seconds a refused client (429, 503) should wait before retrying: the longer of the
    /// writer's backlog and the connection's recent request time (a full gate frees a
    /// place when one of its requests ends), at least 1 and at most 60.
    pub fn retry_after(&self, connection_id: Option<&str>) -> u64 {
        let backlog = self.dir.estimated_wait().as_secs_f64();
        let request = connection_id
            .and_then(|c| {
                self.durations
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(c)
                    .copied()
            })
            .unwrap_or(0.0);
        (backlog.max(request).ceil() as u64).clamp(1, 60)
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
}

/// The name part of a Host header value: `[::1]:8737` -> `::1`, `a.test:443` -> `a.test`.
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
}
