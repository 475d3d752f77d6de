//! The live demo's state as the console reads it — its steps, phase and speed — and the
//! pacing the story plays at. Shared by the admin API and the story (`demo::story`); it knows
//! nothing of the server's state.

use crate::api::types::{DemoPhase, DemoState, DemoStep, StepStatus};
use chrono::{DateTime, Utc};
use directory::clock::fmt_time;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The demo's state, shared by the runner and the admin API.
#[derive(Clone)]
pub struct Demo {
    pub(super) inner: Arc<Mutex<DemoState>>,
    pub(super) task: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl Default for Demo {
    fn default() -> Self {
        Demo {
            inner: Arc::new(Mutex::new(initial(1.0))),
            task: Arc::new(Mutex::new(None)),
        }
    }
}

const STEPS: &[(&str, &str, &str)] = &[
    ("connections", "Two customers connect", "Acme uses Okta and Contoso uses Entra ID; each gets its own SCIM URL and token."),
    ("okta-sync", "Okta's initial sync", "Okta pushes Acme's users and groups — a first sync is a load event, taken concurrently."),
    ("entra-sync", "Entra's initial sync", "Entra (with aadOptscim062020) filters, creates, then fills empty groups by PATCH."),
    ("roles", "Groups decide roles", "Acme's admin maps the first group to admin and the rest to member, in precedence order."),
    ("mover", "A mover changes group", "Okta adds a member to the admin group: their role changes in the same transaction."),
    ("leaver", "A leaver loses access at once", "The leaver has a live session; Okta deactivates them and the session is revoked within the same second."),
    ("rotate", "The token is rotated", "Acme rotates its SCIM token; the old one keeps working for the grace period while Okta moves over."),
    ("rejected", "A user is rejected, then found", "Entra sends Dana with an empty userName (her mail attribute is empty); Muster refuses it, and triage explains why."),
];

pub(super) fn initial(speed: f64) -> DemoState {
    DemoState {
        phase: DemoPhase::Idle,
        speed,
        steps: STEPS
            .iter()
            .map(|(id, title, narrative)| DemoStep {
                id: id.to_string(),
                title: title.to_string(),
                narrative: narrative.to_string(),
                status: StepStatus::Pending,
                started_at: None,
                finished_at: None,
                detail: None,
                link: None,
            })
            .collect(),
        connection_ids: vec![],
    }
}

impl Demo {
    pub fn snapshot(&self) -> DemoState {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(super) fn update(&self, f: impl FnOnce(&mut DemoState)) {
        f(&mut self.inner.lock().unwrap_or_else(|e| e.into_inner()));
    }

    pub fn set_paused(&self, paused: bool) {
        self.update(|s| {
            if paused && s.phase == DemoPhase::Running {
                s.phase = DemoPhase::Paused;
            } else if !paused && s.phase == DemoPhase::Paused {
                s.phase = DemoPhase::Running;
            }
        });
    }

    pub fn set_speed(&self, speed: f64) {
        self.update(|s| s.speed = speed.clamp(0.25, 100.0));
    }

    /// Waits `secs` of story time between two steps. Story time runs at the current speed,
    /// read every slice so a speed change applies at once, and stands still while paused: a
    /// pause lets the running step finish but never lets the next one start.
    pub(super) async fn beat(&self, secs: f64) {
        const SLICE: Duration = Duration::from_millis(50);
        let mut left = secs;
        loop {
            let s = self.snapshot();
            if s.phase != DemoPhase::Paused {
                if left <= 0.0 {
                    return;
                }
                left -= SLICE.as_secs_f64() * s.speed;
            }
            tokio::time::sleep(SLICE).await;
        }
    }

    /// Step `id` starts at `now` (the server's clock, as every other time the console shows).
    pub(super) fn begin(&self, id: &str, now: DateTime<Utc>) {
        self.update(|s| {
            if let Some(step) = s.steps.iter_mut().find(|x| x.id == id) {
                step.status = StepStatus::Running;
                step.started_at = Some(fmt_time(now));
            }
        });
    }

    pub(super) fn done(&self, id: &str, now: DateTime<Utc>, detail: String, link: Option<String>) {
        self.update(|s| {
            if let Some(step) = s.steps.iter_mut().find(|x| x.id == id) {
                step.status = StepStatus::Done;
                step.finished_at = Some(fmt_time(now));
                step.detail = Some(detail);
                step.link = link;
            }
        });
    }
}
