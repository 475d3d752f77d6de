//! Failed console sign-ins per source address, so guessing passwords from one address
//! soon has to wait. Per instance: each server counts its own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Failed sign-ins one address may make in `THROTTLE_WINDOW` before it must wait.
pub const THROTTLE_FAILURES: u32 = 10;
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(600);

/// Per source address: failed sign-ins in the current window. Per instance (each server
/// counts its own).
#[derive(Clone, Default)]
pub struct Throttle(Arc<Mutex<HashMap<String, (u32, Instant)>>>);

impl Throttle {
    /// Seconds to wait, when this address has failed too often.
    pub fn wait(&self, source: &str) -> Option<u64> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (n, since) = map.get(source)?;
        let left = THROTTLE_WINDOW.checked_sub(since.elapsed())?;
        (*n >= THROTTLE_FAILURES).then(|| left.as_secs().max(1))
    }

    pub fn failed(&self, source: &str) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (_, t)| t.elapsed() < THROTTLE_WINDOW);
        }
        let e = map.entry(source.to_string()).or_insert((0, Instant::now()));
        if e.1.elapsed() >= THROTTLE_WINDOW {
            *e = (0, Instant::now());
        }
        e.0 += 1;
    }
}
