//! What a run reports: latency, per-cycle counts, and the state it expects the server to hold.

use super::*;

/// What the server should hold for a user after the scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpectedUser {
    pub active: bool,
    /// displayNames of the groups the user is in.
    pub groups: BTreeSet<String>,
}

/// What the server should hold for a group after the scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpectedGroup {
    /// userNames of the members.
    pub members: BTreeSet<String>,
}

/// The directory the IdP believes it has pushed, keyed by userName and displayName.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExpectedState {
    pub users: BTreeMap<String, ExpectedUser>,
    pub groups: BTreeMap<String, ExpectedGroup>,
    /// userNames the IdP hard-deleted: in no list and no group, GET by id answers 404.
    pub deleted: BTreeSet<String>,
}

/// What one provisioning cycle of a cycling IdP (Entra) sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CycleReport {
    /// 1-based; cycle 1 is the initial cycle.
    pub cycle: usize,
    /// Simulated seconds from the start of cycle 1.
    pub at_secs: u64,
    /// HTTP exchanges in this cycle, retries included.
    pub requests: usize,
    pub users_created: usize,
    pub groups_created: usize,
    pub users_updated: usize,
    /// Users whose group membership changed (joiners' first groups not counted).
    pub users_moved: usize,
    pub users_disabled: usize,
    pub users_deleted: usize,
    /// DELETEs answered 404: the target had already removed the user, which counts as done.
    pub already_gone: usize,
    /// Operations that failed in this cycle.
    pub failures: usize,
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Latency {
    /// Nearest-rank percentiles of `ms`.
    pub(super) fn of(mut ms: Vec<f64>) -> Latency {
        ms.sort_by(f64::total_cmp);
        let pct = |p: f64| -> f64 {
            if ms.is_empty() {
                return 0.0;
            }
            let rank = ((p / 100.0) * ms.len() as f64).ceil().max(1.0) as usize;
            round2(ms[rank.min(ms.len()) - 1])
        };
        Latency {
            p50: pct(50.0),
            p90: pct(90.0),
            p99: pct(99.0),
            max: pct(100.0),
        }
    }
}

/// What a scenario did and what it left behind.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub scenario: Scenario,
    pub dialect: Dialect,
    pub target: String,
    pub seed: u64,
    /// HTTP exchanges, retries included.
    pub requests: usize,
    /// Exchanges by status code ("timeout"/"transport" when none arrived).
    pub by_status: BTreeMap<String, usize>,
    pub by_outcome: BTreeMap<OutcomeKind, usize>,
    /// 429 answers seen (each was waited out and retried, up to the retry limit).
    pub rate_limited: usize,
    pub throughput_rps: f64,
    pub latency_ms: Latency,
    /// The same percentiles per HTTP method ("GET", "POST", ...): a sync's reads and writes
    /// wait on different things (a reader vs the writer's group commit).
    pub latency_by_method_ms: BTreeMap<String, Latency>,
    pub elapsed_ms: u64,
    /// Operations that failed after retries; the expected state leaves them out.
    pub failures: Vec<String>,
    /// Scenario-specific facts (e.g. what the server answered to a group-before-user PATCH).
    pub observations: BTreeMap<String, Value>,
    /// One entry per provisioning cycle when the IdP runs in cycles (Entra); empty otherwise.
    pub cycles: Vec<CycleReport>,
    pub expected: ExpectedState,
}

impl Summary {
    pub(super) fn from_records(
        opts: &SimulateOptions,
        records: &[RequestRecord],
        elapsed: Duration,
        sim: SimState,
        cycles: Vec<CycleReport>,
    ) -> Self {
        let mut by_status = BTreeMap::new();
        let mut by_outcome = BTreeMap::new();
        for r in records {
            let key = match (r.status, r.outcome) {
                (Some(s), _) => s.to_string(),
                (None, OutcomeKind::Timeout) => "timeout".into(),
                (None, _) => "transport".into(),
            };
            *by_status.entry(key).or_insert(0) += 1;
            *by_outcome.entry(r.outcome).or_insert(0) += 1;
        }
        let ms = |r: &RequestRecord| r.latency.as_secs_f64() * 1000.0;
        let mut per_method: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for r in records {
            per_method
                .entry(r.method.as_str().to_string())
                .or_default()
                .push(ms(r));
        }
        let latency_by_method_ms = per_method
            .into_iter()
            .map(|(m, lat)| (m, Latency::of(lat)))
            .collect();
        let secs = elapsed.as_secs_f64().max(1e-9);
        Summary {
            scenario: opts.scenario,
            dialect: opts.dialect,
            target: opts.url.clone(),
            seed: opts.seed,
            requests: records.len(),
            rate_limited: records.iter().filter(|r| r.status == Some(429)).count(),
            by_status,
            by_outcome,
            throughput_rps: round2(records.len() as f64 / secs),
            latency_ms: Latency::of(records.iter().map(ms).collect()),
            latency_by_method_ms,
            elapsed_ms: elapsed.as_millis() as u64,
            expected: sim.expected(),
            failures: sim.failures,
            observations: sim.observations,
            cycles,
        }
    }

    /// A short report for a terminal.
    pub fn render_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} as {} against {}",
            self.scenario.as_str(),
            self.dialect,
            self.target
        );
        let _ = writeln!(
            s,
            "  {} requests in {:.2}s ({:.1} req/s), {} rate-limited (429)",
            self.requests,
            self.elapsed_ms as f64 / 1000.0,
            self.throughput_rps,
            self.rate_limited
        );
        let l = &self.latency_ms;
        let _ = writeln!(
            s,
            "  latency ms  p50 {:.1}  p90 {:.1}  p99 {:.1}  max {:.1}",
            l.p50, l.p90, l.p99, l.max
        );
        for (method, l) in &self.latency_by_method_ms {
            let _ = writeln!(
                s,
                "    {method:<7}   p50 {:.1}  p90 {:.1}  p99 {:.1}  max {:.1}",
                l.p50, l.p90, l.p99, l.max
            );
        }
        let statuses: Vec<String> = self
            .by_status
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        let _ = writeln!(s, "  statuses    {}", statuses.join(", "));
        let active = self.expected.users.values().filter(|u| u.active).count();
        let _ = writeln!(
            s,
            "  expected    {} users ({} active), {} groups, {} deleted",
            self.expected.users.len(),
            active,
            self.expected.groups.len(),
            self.expected.deleted.len()
        );
        for c in &self.cycles {
            let _ = writeln!(
                s,
                "  cycle {:>3} at {:>9}  {:>5} requests: {} users + {} groups created, {} updated, {} moved, {} disabled, {} deleted ({} already gone), {} failed",
                c.cycle,
                format_sim_time(c.at_secs),
                c.requests,
                c.users_created,
                c.groups_created,
                c.users_updated,
                c.users_moved,
                c.users_disabled,
                c.users_deleted,
                c.already_gone,
                c.failures
            );
        }
        for (k, v) in &self.observations {
            let _ = writeln!(s, "  {k}: {v}");
        }
        if !self.failures.is_empty() {
            let _ = writeln!(s, "  {} failed operations:", self.failures.len());
            for f in self.failures.iter().take(10) {
                let _ = writeln!(s, "    - {f}");
            }
        }
        s
    }
}

pub(super) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// `+30d 0h40m` style offset for cycle lines.
pub(super) fn format_sim_time(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    if d > 0 {
        format!("+{d}d{h}h{m:02}m")
    } else {
        format!("+{h}h{m:02}m")
    }
}
