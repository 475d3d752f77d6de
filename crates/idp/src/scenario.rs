//! Lifecycle scenarios an IdP drives against a SCIM endpoint (pushed as they happen, or batched into Entra's provisioning cycles), and the summary plus expected directory state they leave.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::distributions::{Distribution, WeightedIndex};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::client::{
    ClientError, OutcomeKind, RequestRecord, RetryPolicy, ScimClient, ScimResponse,
};
use crate::dialect::{Dialect, MemberRef, Person, ScimRequest};

/// Okta Group Push and Entra both split large membership changes; we send at most this many
/// members per PATCH.
const MEMBERS_PER_PATCH: usize = 50;

/// Entra runs an incremental provisioning cycle about every 40 minutes.
pub const ENTRA_CYCLE: Duration = Duration::from_secs(40 * 60);

/// Entra hard-deletes a soft-deleted (disabled) user 30 days later: "30 days after a user is
/// deleted in Azure AD, they're permanently deleted from the tenant. At this point, the
/// provisioning service sends a DELETE request" (Microsoft Entra docs, how-provisioning-works).
pub const ENTRA_HARD_DELETE_AFTER: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// The longest the simulator will really sleep between two cycles; a slower time scale is
/// refused rather than leaving a terminal (or a test) waiting for 40 real minutes.
pub const MAX_REAL_WAIT: Duration = Duration::from_secs(10 * 60);

/// A named lifecycle scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// N users, M groups, Zipf-like membership, C requests in flight.
    InitialSync,
    /// Initial sync, then K rounds of joiners, movers (group changes), updates and leavers.
    JoinersMoversLeavers,
    /// Initial sync, then every group renamed.
    GroupRename,
    /// One user provisioned (and put in a group), then deactivated.
    Leaver,
    /// The same create sent R times at once: exactly one 201 is expected, the rest 409.
    RetryCreate,
    /// A group PATCH naming a member id that does not exist yet, then the user's create.
    GroupBeforeUser,
    /// Entra only: leavers disabled in one cycle, hard-deleted in the cycle 30 simulated days
    /// later; some are already gone from the target by then (a DELETE answered 404).
    LeaverDeleteLater,
}

impl Scenario {
    /// Every scenario, in CLI order.
    pub const ALL: [Scenario; 7] = [
        Scenario::InitialSync,
        Scenario::JoinersMoversLeavers,
        Scenario::GroupRename,
        Scenario::Leaver,
        Scenario::RetryCreate,
        Scenario::GroupBeforeUser,
        Scenario::LeaverDeleteLater,
    ];

    /// The CLI name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::InitialSync => "initial-sync",
            Scenario::JoinersMoversLeavers => "joiners-movers-leavers",
            Scenario::GroupRename => "group-rename",
            Scenario::Leaver => "leaver",
            Scenario::RetryCreate => "retry-create",
            Scenario::GroupBeforeUser => "group-before-user",
            Scenario::LeaverDeleteLater => "leaver-delete-later",
        }
    }
}

impl FromStr for Scenario {
    type Err = SimError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scenario::ALL
            .into_iter()
            .find(|sc| sc.as_str() == s)
            .ok_or_else(|| SimError::InvalidOptions(format!("unknown scenario {s:?}")))
    }
}

/// What to simulate, against what.
#[derive(Debug, Clone)]
pub struct SimulateOptions {
    /// The connection's SCIM base URL.
    pub url: String,
    /// The connection's bearer token.
    pub token: String,
    pub dialect: Dialect,
    pub scenario: Scenario,
    /// Users in the initial population.
    pub users: usize,
    /// Groups in the initial population (ignored for Google, which pushes no groups).
    pub groups: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Seeds names and membership; reuse a seed only against a fresh connection.
    pub seed: u64,
    /// Draw a progress bar on stderr.
    pub progress: bool,
    /// Rounds of joiners-movers-leavers.
    pub rounds: usize,
    /// Concurrent copies sent by retry-create.
    pub repeats: usize,
    pub retry: RetryPolicy,
    /// Simulated time between two provisioning cycles of a cycling IdP (Entra).
    pub cycle_interval: Duration,
    /// Simulated seconds per real second when waiting for the next cycle: 2400 plays a
    /// 40-minute cycle gap in one real second. None: no real waiting, cycles run back to back
    /// and only their simulated times are reported.
    pub time_scale: Option<f64>,
    /// Users leaver-delete-later disables and later deletes.
    pub leavers: usize,
    /// Simulated time from the disable to the hard DELETE.
    pub delete_after: Duration,
    /// Leavers leaver-delete-later removes from the target out of band (a plain DELETE, as an
    /// admin of the app would) before Entra's own DELETE arrives.
    pub deleted_out_of_band: usize,
}

impl SimulateOptions {
    /// Defaults for everything but the target.
    pub fn new(url: &str, token: &str, dialect: Dialect, scenario: Scenario) -> Self {
        Self {
            url: url.to_string(),
            token: token.to_string(),
            dialect,
            scenario,
            users: 100,
            groups: 10,
            concurrency: 8,
            seed: 1,
            progress: false,
            rounds: 3,
            repeats: 5,
            retry: RetryPolicy::default(),
            cycle_interval: ENTRA_CYCLE,
            time_scale: None,
            leavers: 3,
            delete_after: ENTRA_HARD_DELETE_AFTER,
            deleted_out_of_band: 1,
        }
    }
}

/// Why a scenario could not run.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("{what}: server answered {status}: {body}")]
    Unexpected {
        what: String,
        status: u16,
        body: String,
    },
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    InvalidOptions(String),
}

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
    fn of(mut ms: Vec<f64>) -> Latency {
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
    fn from_records(
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

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// `+30d 0h40m` style offset for cycle lines.
fn format_sim_time(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    if d > 0 {
        format!("+{d}d{h}h{m:02}m")
    } else {
        format!("+{h}h{m:02}m")
    }
}

#[derive(Debug, Clone)]
struct SimUser {
    id: String,
    active: bool,
    groups: BTreeSet<String>,
}

#[derive(Debug, Clone)]
struct SimGroup {
    id: String,
}

/// What the IdP believes it has pushed so far.
#[derive(Default)]
struct SimState {
    users: BTreeMap<String, SimUser>,
    groups: BTreeMap<String, SimGroup>,
    /// Hard-deleted users: userName -> the id they had.
    deleted: BTreeMap<String, String>,
    failures: Vec<String>,
    /// Every failed operation, including those past the kept list's cap.
    failed_ops: usize,
    observations: BTreeMap<String, Value>,
}

impl SimState {
    fn expected(&self) -> ExpectedState {
        let mut groups: BTreeMap<String, ExpectedGroup> = self
            .groups
            .keys()
            .map(|g| {
                (
                    g.clone(),
                    ExpectedGroup {
                        members: BTreeSet::new(),
                    },
                )
            })
            .collect();
        let mut users = BTreeMap::new();
        for (name, u) in &self.users {
            for g in &u.groups {
                if let Some(eg) = groups.get_mut(g) {
                    eg.members.insert(name.clone());
                }
            }
            users.insert(
                name.clone(),
                ExpectedUser {
                    active: u.active,
                    groups: u.groups.clone(),
                },
            );
        }
        ExpectedState {
            users,
            groups,
            deleted: self.deleted.keys().cloned().collect(),
        }
    }

    fn fail(&mut self, what: String) {
        self.failed_ops += 1;
        // Keep the list readable on a large failing run.
        if self.failures.len() < 200 {
            self.failures.push(what);
        }
    }
}

/// Runs a scenario and summarises it.
pub async fn run(opts: SimulateOptions) -> Result<Summary, SimError> {
    if opts.concurrency == 0 {
        return Err(SimError::InvalidOptions(
            "concurrency must be at least 1".into(),
        ));
    }
    let needs_groups = matches!(
        opts.scenario,
        Scenario::GroupRename | Scenario::GroupBeforeUser
    );
    if needs_groups && !opts.dialect.provisions_groups() {
        return Err(SimError::Unsupported(format!(
            "{} pushes no groups, so {} does not apply",
            opts.dialect,
            opts.scenario.as_str()
        )));
    }
    validate_cycles(&opts)?;
    let bar = if opts.progress {
        let b = ProgressBar::with_draw_target(Some(estimate(&opts)), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} {pos}/{len} requests  {per_sec}  {elapsed_precise} {msg}",
        ) {
            b.set_style(style);
        }
        b.set_message(opts.scenario.as_str());
        b
    } else {
        ProgressBar::hidden()
    };
    let client = ScimClient::new(&opts.url, &opts.token, opts.dialect)?
        .with_retry(opts.retry)
        .with_progress(bar.clone());
    let mut sim = Sim {
        client: client.clone(),
        permits: Arc::new(Semaphore::new(opts.concurrency)),
        rng: StdRng::seed_from_u64(opts.seed),
        seed: opts.seed,
        next_user: 0,
        next_group: 0,
        state: SimState::default(),
        clock: SimClock {
            now: Duration::ZERO,
            time_scale: opts.time_scale,
        },
        cycles: Vec::new(),
        open_cycle: None,
    };
    let started = Instant::now();
    match opts.scenario {
        Scenario::InitialSync => sim.initial_sync(opts.users, groups_for(&opts)).await?,
        Scenario::JoinersMoversLeavers if opts.dialect.runs_in_cycles() => {
            // Entra: the initial cycle, then one incremental cycle per round carrying every
            // change made since the previous one.
            sim.begin_cycle();
            sim.initial_sync(opts.users, groups_for(&opts)).await?;
            sim.end_cycle();
            for round in 1..=opts.rounds {
                sim.clock
                    .advance_to(opts.cycle_interval.saturating_mul(round as u32))
                    .await;
                sim.begin_cycle();
                sim.jml_round(round, opts.users).await?;
                sim.end_cycle();
            }
        }
        Scenario::JoinersMoversLeavers => {
            sim.initial_sync(opts.users, groups_for(&opts)).await?;
            for round in 1..=opts.rounds {
                sim.jml_round(round, opts.users).await?;
            }
        }
        Scenario::LeaverDeleteLater => sim.leaver_delete_later(&opts).await?,
        Scenario::GroupRename => {
            sim.initial_sync(opts.users, opts.groups.max(1)).await?;
            sim.rename_all().await?;
        }
        Scenario::Leaver => sim.leaver().await?,
        Scenario::RetryCreate => sim.retry_create(opts.repeats.max(2)).await?,
        Scenario::GroupBeforeUser => sim.group_before_user().await?,
    }
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    Ok(Summary::from_records(
        &opts,
        &client.records(),
        elapsed,
        sim.state,
        sim.cycles,
    ))
}

/// Refuses cycle settings that make no sense or would really wait longer than [`MAX_REAL_WAIT`].
fn validate_cycles(opts: &SimulateOptions) -> Result<(), SimError> {
    let cycling = opts.dialect.runs_in_cycles()
        && matches!(
            opts.scenario,
            Scenario::JoinersMoversLeavers | Scenario::LeaverDeleteLater
        );
    if opts.scenario == Scenario::LeaverDeleteLater {
        if !opts.dialect.runs_in_cycles() {
            return Err(SimError::Unsupported(format!(
                "{} never hard-deletes a user 30 days after disabling it; leaver-delete-later models Entra (entra or entra-compliant)",
                opts.dialect
            )));
        }
        if opts.leavers == 0 {
            return Err(SimError::InvalidOptions(
                "leaver-delete-later needs at least one leaver".into(),
            ));
        }
        if opts.leavers > opts.users {
            return Err(SimError::InvalidOptions(format!(
                "{} leavers out of {} users",
                opts.leavers, opts.users
            )));
        }
        if opts.deleted_out_of_band > opts.leavers {
            return Err(SimError::InvalidOptions(format!(
                "{} users deleted out of band, but only {} leavers",
                opts.deleted_out_of_band, opts.leavers
            )));
        }
    }
    if !cycling {
        return Ok(());
    }
    if opts.cycle_interval.is_zero() {
        return Err(SimError::InvalidOptions(
            "the cycle interval must be at least one second".into(),
        ));
    }
    let Some(scale) = opts.time_scale else {
        return Ok(());
    };
    if !(scale.is_finite() && scale > 0.0) {
        return Err(SimError::InvalidOptions(format!(
            "time scale must be a positive number of simulated seconds per real second, got {scale}"
        )));
    }
    let longest_gap = if opts.scenario == Scenario::LeaverDeleteLater {
        opts.cycle_interval
            .max(opts.delete_after + opts.cycle_interval)
    } else {
        opts.cycle_interval
    };
    let real = longest_gap.as_secs_f64() / scale;
    if real > MAX_REAL_WAIT.as_secs_f64() {
        return Err(SimError::InvalidOptions(format!(
            "time scale {scale} would wait {:.0} real seconds between two cycles (limit {}); raise it or leave it out to run cycles back to back",
            real,
            MAX_REAL_WAIT.as_secs()
        )));
    }
    Ok(())
}

/// Simulated time: advancing it sleeps the scaled gap for real, or not at all.
struct SimClock {
    now: Duration,
    time_scale: Option<f64>,
}

impl SimClock {
    async fn advance_to(&mut self, at: Duration) {
        let gap = at.saturating_sub(self.now);
        if let Some(scale) = self.time_scale {
            // validate_cycles bounds the real wait.
            tokio::time::sleep(Duration::from_secs_f64(gap.as_secs_f64() / scale)).await;
        }
        self.now = self.now.max(at);
    }
}

fn groups_for(opts: &SimulateOptions) -> usize {
    if opts.dialect.provisions_groups() {
        opts.groups
    } else {
        0
    }
}

fn estimate(opts: &SimulateOptions) -> u64 {
    let per_user = if opts.dialect.looks_up_before_create() {
        2
    } else {
        1
    };
    let base = (opts.users * per_user + opts.groups * 3 + opts.users * 3 / MEMBERS_PER_PATCH.max(1))
        as u64;
    match opts.scenario {
        Scenario::JoinersMoversLeavers => base + (opts.rounds * (opts.users / 4 + 4) * 3) as u64,
        Scenario::GroupRename => base + opts.groups as u64,
        Scenario::RetryCreate => opts.repeats as u64,
        Scenario::Leaver | Scenario::GroupBeforeUser => 8,
        Scenario::LeaverDeleteLater => base + (opts.leavers * 2) as u64,
        Scenario::InitialSync => base,
    }
}

const GIVEN: [&str; 12] = [
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Radia", "Linus", "Frances", "Donald",
    "Margaret", "Tim",
];
const FAMILY: [&str; 12] = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Thompson",
    "Perlman",
    "Torvalds",
    "Allen",
    "Knuth",
    "Hamilton",
    "Berners-Lee",
];
const TEAMS: [&str; 12] = [
    "Engineering",
    "Sales",
    "Support",
    "Finance",
    "Design",
    "Legal",
    "Marketing",
    "Security",
    "People",
    "Data",
    "Platform",
    "Operations",
];

struct Sim {
    client: ScimClient,
    permits: Arc<Semaphore>,
    rng: StdRng,
    seed: u64,
    next_user: usize,
    next_group: usize,
    state: SimState,
    clock: SimClock,
    cycles: Vec<CycleReport>,
    /// The cycle being played, with the request and failure counts when it began.
    open_cycle: Option<(CycleReport, usize, usize)>,
}

/// Runs `jobs` with at most the semaphore's permits in flight, returning results in job order.
async fn bounded<T, F>(permits: &Arc<Semaphore>, jobs: Vec<F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let mut set = JoinSet::new();
    for (i, job) in jobs.into_iter().enumerate() {
        let permits = permits.clone();
        set.spawn(async move {
            let _permit = permits.acquire_owned().await;
            (i, job.await)
        });
    }
    let mut out: Vec<(usize, T)> = Vec::new();
    while let Some(joined) = set.join_next().await {
        if let Ok(r) = joined {
            out.push(r);
        }
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, t)| t).collect()
}

fn unexpected(what: &str, r: &ScimResponse) -> SimError {
    SimError::Unexpected {
        what: what.to_string(),
        status: r.status,
        body: r.text.chars().take(300).collect(),
    }
}

/// First resource of a ListResponse, if any.
fn first_resource(r: &ScimResponse) -> Option<Value> {
    if r.status != 200 {
        return None;
    }
    r.json()
        .get("Resources")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .cloned()
}

fn id_of(v: &Value) -> Option<String> {
    v.get("id").and_then(Value::as_str).map(str::to_string)
}

/// The IdP's create: look up by userName first where the IdP does, POST when absent, and
/// adopt the existing user on 409 (Okta links an existing account rather than failing).
async fn provision_user(client: ScimClient, p: Person) -> Result<(String, Value), SimError> {
    let d = client.dialect();
    if d.looks_up_before_create() {
        let found = client.send(&d.find_user(&p.user_name)).await?;
        if let Some(existing) = first_resource(&found) {
            if let Some(id) = id_of(&existing) {
                return Ok((id, existing));
            }
        }
    }
    let r = client.send(&d.create_user(&p)).await?;
    if r.status == 409 {
        let found = client.send(&d.find_user(&p.user_name)).await?;
        if let Some(existing) = first_resource(&found) {
            if let Some(id) = id_of(&existing) {
                return Ok((id, existing));
            }
        }
    }
    if !r.is_success() {
        return Err(unexpected(&format!("create user {}", p.user_name), &r));
    }
    let id = r
        .str_field("id")
        .ok_or_else(|| unexpected("create user returned no id", &r))?;
    Ok((id.to_string(), r.json().clone()))
}

async fn provision_group(
    client: ScimClient,
    name: String,
    external_id: String,
) -> Result<String, SimError> {
    let d = client.dialect();
    // Okta Group Push and Entra both match by displayName before creating.
    if matches!(d, Dialect::Okta | Dialect::Entra | Dialect::EntraCompliant) {
        let found = client.send(&d.find_group(&name)).await?;
        if let Some(id) = first_resource(&found).as_ref().and_then(id_of) {
            return Ok(id);
        }
    }
    let r = client.send(&d.create_group(&name, &external_id)).await?;
    if !r.is_success() {
        return Err(unexpected(&format!("create group {name}"), &r));
    }
    r.str_field("id")
        .map(str::to_string)
        .ok_or_else(|| unexpected("create group returned no id", &r))
}

async fn send_ok(
    client: ScimClient,
    what: String,
    req: ScimRequest,
) -> Result<ScimResponse, SimError> {
    let r = client.send(&req).await?;
    if r.is_success() {
        Ok(r)
    } else {
        Err(unexpected(&what, &r))
    }
}

impl Sim {
    /// Opens a cycle at the clock's current simulated time.
    fn begin_cycle(&mut self) {
        let report = CycleReport {
            cycle: self.cycles.len() + 1,
            at_secs: self.clock.now.as_secs(),
            ..CycleReport::default()
        };
        self.open_cycle = Some((report, self.client.records().len(), self.state.failed_ops));
    }

    /// Closes the open cycle, counting the requests and failures it caused.
    fn end_cycle(&mut self) {
        if let Some((mut report, requests_before, failures_before)) = self.open_cycle.take() {
            report.requests = self.client.records().len() - requests_before;
            report.failures = self.state.failed_ops - failures_before;
            self.cycles.push(report);
        }
    }

    /// Adds to the open cycle's counts; a no-op for IdPs that push instead of cycling.
    fn tally(&mut self, f: impl FnOnce(&mut CycleReport)) {
        if let Some((report, _, _)) = self.open_cycle.as_mut() {
            f(report);
        }
    }

    fn new_person(&mut self) -> Person {
        self.next_user += 1;
        let g = GIVEN[self.rng.gen_range(0..GIVEN.len())];
        let f = FAMILY[self.rng.gen_range(0..FAMILY.len())];
        let user_name = format!("sim{}.u{:05}@example.com", self.seed, self.next_user);
        Person {
            user_name: user_name.clone(),
            given_name: g.to_string(),
            family_name: f.to_string(),
            email: user_name,
            external_id: uuid_from(&mut self.rng),
        }
    }

    fn new_group_name(&mut self) -> String {
        self.next_group += 1;
        let team = TEAMS[(self.next_group - 1) % TEAMS.len()];
        format!("sim{} {} {:03}", self.seed, team, self.next_group)
    }

    async fn create_users(&mut self, count: usize) -> Vec<String> {
        let people: Vec<Person> = (0..count).map(|_| self.new_person()).collect();
        let jobs = people
            .iter()
            .map(|p| provision_user(self.client.clone(), p.clone()))
            .collect();
        let results = bounded(&self.permits, jobs).await;
        let mut made = Vec::new();
        for (p, r) in people.into_iter().zip(results) {
            match r {
                Ok((id, _)) => {
                    self.state.users.insert(
                        p.user_name.clone(),
                        SimUser {
                            id,
                            active: true,
                            groups: BTreeSet::new(),
                        },
                    );
                    made.push(p.user_name);
                }
                Err(e) => self.state.fail(e.to_string()),
            }
        }
        let n = made.len();
        self.tally(|c| c.users_created += n);
        made
    }

    async fn create_groups(&mut self, count: usize) -> Vec<String> {
        let names: Vec<String> = (0..count).map(|_| self.new_group_name()).collect();
        let jobs = names
            .iter()
            .map(|n| provision_group(self.client.clone(), n.clone(), uuid_from(&mut self.rng)))
            .collect::<Vec<_>>();
        let results = bounded(&self.permits, jobs).await;
        let mut made = Vec::new();
        for (n, r) in names.into_iter().zip(results) {
            match r {
                Ok(id) => {
                    self.state.groups.insert(n.clone(), SimGroup { id });
                    made.push(n);
                }
                Err(e) => self.state.fail(e.to_string()),
            }
        }
        let n = made.len();
        self.tally(|c| c.groups_created += n);
        made
    }

    /// Draws 1-5 distinct groups for a user, biased by Zipf-like weights so a few groups are
    /// large and most are small, as in real directories.
    fn draw_groups(&mut self, groups: &[String]) -> BTreeSet<String> {
        let mut picked = BTreeSet::new();
        if groups.is_empty() {
            return picked;
        }
        let k = self.rng.gen_range(1..=5usize).min(groups.len());
        let weights: Vec<f64> = (0..groups.len())
            .map(|i| 1.0 / ((i + 1) as f64).powf(1.07))
            .collect();
        let Ok(dist) = WeightedIndex::new(&weights) else {
            return picked;
        };
        let mut tries = 0;
        while picked.len() < k && tries < 100 {
            picked.insert(groups[dist.sample(&mut self.rng)].clone());
            tries += 1;
        }
        picked
    }

    /// Sends membership additions, one group at a time in chunks, and records what landed.
    async fn add_memberships(&mut self, wanted: BTreeMap<String, Vec<String>>) {
        let d = self.client.dialect();
        let mut jobs = Vec::new();
        let mut meta = Vec::new();
        for (group, members) in wanted {
            let Some(g) = self.state.groups.get(&group) else {
                continue;
            };
            for chunk in members.chunks(MEMBERS_PER_PATCH) {
                let refs: Vec<MemberRef> = chunk
                    .iter()
                    .filter_map(|u| {
                        self.state.users.get(u).map(|su| MemberRef {
                            id: su.id.clone(),
                            user_name: u.clone(),
                        })
                    })
                    .collect();
                let req = d.add_members(&g.id, &group, &refs);
                jobs.push(send_ok(
                    self.client.clone(),
                    format!("add {} members to {group}", refs.len()),
                    req,
                ));
                meta.push((group.clone(), chunk.to_vec()));
            }
        }
        for ((group, users), r) in meta.into_iter().zip(bounded(&self.permits, jobs).await) {
            match r {
                Ok(_) => {
                    for u in users {
                        if let Some(su) = self.state.users.get_mut(&u) {
                            su.groups.insert(group.clone());
                        }
                    }
                }
                Err(e) => self.state.fail(e.to_string()),
            }
        }
    }

    async fn initial_sync(&mut self, users: usize, groups: usize) -> Result<(), SimError> {
        // Both Okta and Entra provision the users first, then groups (Entra creates them empty),
        // then memberships by PATCH.
        let user_names = self.create_users(users).await;
        if user_names.is_empty() && users > 0 {
            return Err(SimError::Unsupported(format!(
                "no user could be created; first failure: {}",
                self.state.failures.first().cloned().unwrap_or_default()
            )));
        }
        let group_names = self.create_groups(groups).await;
        let mut wanted: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for u in &user_names {
            for g in self.draw_groups(&group_names) {
                wanted.entry(g).or_default().push(u.clone());
            }
        }
        self.add_memberships(wanted).await;
        Ok(())
    }

    fn active_users(&self) -> Vec<String> {
        self.state
            .users
            .iter()
            .filter(|(_, u)| u.active)
            .map(|(n, _)| n.clone())
            .collect()
    }

    async fn jml_round(&mut self, round: usize, population: usize) -> Result<(), SimError> {
        let joiners = (population / 20).max(1);
        let movers = (population / 20).max(1);
        let updaters = (population / 50).max(1);
        let leavers = (population / 50).max(1);
        let group_names: Vec<String> = self.state.groups.keys().cloned().collect();

        // Joiners: created, then added to their groups one PATCH per group, as an IdP does for
        // an incremental assignment.
        let joined = self.create_users(joiners).await;
        let mut wanted: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for u in &joined {
            for g in self.draw_groups(&group_names) {
                wanted.entry(g).or_default().push(u.clone());
            }
        }
        self.add_memberships(wanted).await;

        // Pick disjoint movers, updaters and leavers from the active population.
        let mut pool = self.active_users();
        pool.retain(|u| !joined.contains(u));
        pool.shuffle(&mut self.rng);
        let mut take = |n: usize| -> Vec<String> { pool.drain(..n.min(pool.len())).collect() };
        let moving = take(movers);
        let updating = take(updaters);
        let leaving = take(leavers);

        if group_names.len() >= 2 {
            self.move_users(&moving, &group_names).await;
        }
        self.update_users(&updating, round).await;
        self.deactivate_users(&leaving).await;
        Ok(())
    }

    async fn move_users(&mut self, users: &[String], group_names: &[String]) {
        let d = self.client.dialect();
        let plans = self.plan_moves(users, group_names);
        if d.runs_in_cycles() {
            return self.move_users_per_group(plans).await;
        }
        self.move_users_one_by_one(plans).await;
    }

    /// For each mover: their first group (left) and a group they are not in (joined).
    fn plan_moves(
        &mut self,
        users: &[String],
        group_names: &[String],
    ) -> Vec<(String, String, Option<String>, String)> {
        let mut plans = Vec::new();
        for u in users {
            let Some(su) = self.state.users.get(u) else {
                continue;
            };
            let from = su.groups.iter().next().cloned();
            let candidates: Vec<&String> = group_names
                .iter()
                .filter(|g| !su.groups.contains(*g))
                .collect();
            let Some(to) = candidates.choose(&mut self.rng).map(|s| (*s).clone()) else {
                continue;
            };
            plans.push((u.clone(), su.id.clone(), from, to));
        }
        plans
    }

    /// Okta pushes each mover's change as it happens: remove from the old group, then add to
    /// the new one.
    async fn move_users_one_by_one(
        &mut self,
        plans: Vec<(String, String, Option<String>, String)>,
    ) {
        let d = self.client.dialect();
        let mut jobs = Vec::new();
        for (u, uid, from, to) in &plans {
            let client = self.client.clone();
            let from = from
                .as_ref()
                .and_then(|f| self.state.groups.get(f).map(|g| (f.clone(), g.id.clone())));
            let to_id = self
                .state
                .groups
                .get(to)
                .map(|g| g.id.clone())
                .unwrap_or_default();
            let (u, uid, to) = (u.clone(), uid.clone(), to.clone());
            jobs.push(async move {
                let mut removed = false;
                if let Some((fname, fid)) = from {
                    send_ok(
                        client.clone(),
                        format!("remove {u} from {fname}"),
                        d.remove_members(&fid, &fname, std::slice::from_ref(&uid)),
                    )
                    .await?;
                    removed = true;
                }
                let member = MemberRef {
                    id: uid,
                    user_name: u.clone(),
                };
                send_ok(
                    client,
                    format!("add {u} to {to}"),
                    d.add_members(&to_id, &to, &[member]),
                )
                .await?;
                Ok::<bool, SimError>(removed)
            });
        }
        let results = bounded(&self.permits, jobs).await;
        let mut moved = 0;
        for ((u, _, from, to), r) in plans.into_iter().zip(results) {
            match r {
                Ok(removed) => {
                    if let Some(su) = self.state.users.get_mut(&u) {
                        if let (true, Some(f)) = (removed, from) {
                            su.groups.remove(&f);
                        }
                        su.groups.insert(to);
                        moved += 1;
                    }
                }
                Err(e) => self.state.fail(e.to_string()),
            }
        }
        self.tally(|c| c.users_moved += moved);
    }

    /// Entra's cycle evaluates groups, not people: every group that lost members since the
    /// last cycle gets one Remove PATCH listing them, then every group that gained members
    /// one Add PATCH (chunked like any membership PATCH).
    async fn move_users_per_group(&mut self, plans: Vec<(String, String, Option<String>, String)>) {
        let d = self.client.dialect();
        let mut leaving: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        let mut joining: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for (u, uid, from, to) in &plans {
            if let Some(f) = from {
                leaving
                    .entry(f.clone())
                    .or_default()
                    .push((u.clone(), uid.clone()));
            }
            joining
                .entry(to.clone())
                .or_default()
                .push((u.clone(), uid.clone()));
        }
        let mut left: BTreeSet<(String, String)> = BTreeSet::new();
        let mut joined: BTreeSet<(String, String)> = BTreeSet::new();
        for (removing, batches) in [(true, leaving), (false, joining)] {
            let mut jobs = Vec::new();
            let mut meta = Vec::new();
            for (group, members) in batches {
                let Some(gid) = self.state.groups.get(&group).map(|g| g.id.clone()) else {
                    continue;
                };
                for chunk in members.chunks(MEMBERS_PER_PATCH) {
                    let req = if removing {
                        let ids: Vec<String> = chunk.iter().map(|(_, id)| id.clone()).collect();
                        d.remove_members(&gid, &group, &ids)
                    } else {
                        let refs: Vec<MemberRef> = chunk
                            .iter()
                            .map(|(u, id)| MemberRef {
                                id: id.clone(),
                                user_name: u.clone(),
                            })
                            .collect();
                        d.add_members(&gid, &group, &refs)
                    };
                    let verb = if removing { "remove" } else { "add" };
                    jobs.push(send_ok(
                        self.client.clone(),
                        format!("{verb} {} members of {group}", chunk.len()),
                        req,
                    ));
                    meta.push((group.clone(), chunk.to_vec()));
                }
            }
            for ((group, members), r) in meta.into_iter().zip(bounded(&self.permits, jobs).await) {
                match r {
                    Ok(_) => {
                        for (u, _) in members {
                            if removing {
                                left.insert((u, group.clone()));
                            } else {
                                joined.insert((u, group.clone()));
                            }
                        }
                    }
                    Err(e) => self.state.fail(e.to_string()),
                }
            }
        }
        let mut moved = 0;
        for (u, _, from, to) in plans {
            let Some(su) = self.state.users.get_mut(&u) else {
                continue;
            };
            let mut changed = false;
            if let Some(f) = from {
                if left.contains(&(u.clone(), f.clone())) {
                    su.groups.remove(&f);
                    changed = true;
                }
            }
            if joined.contains(&(u.clone(), to.clone())) {
                su.groups.insert(to);
                changed = true;
            }
            if changed {
                moved += 1;
            }
        }
        self.tally(|c| c.users_moved += moved);
    }

    async fn update_users(&mut self, users: &[String], round: usize) {
        let d = self.client.dialect();
        let mut jobs = Vec::new();
        for u in users {
            let Some(su) = self.state.users.get(u) else {
                continue;
            };
            let (client, id, u) = (self.client.clone(), su.id.clone(), u.clone());
            let given = GIVEN[round % GIVEN.len()].to_string();
            jobs.push(async move {
                // Okta reads the user first and PUTs the whole object back.
                let current = if matches!(d, Dialect::Okta | Dialect::Google) {
                    send_ok(
                        client.clone(),
                        format!("get {u}"),
                        ScimRequest::get(format!("/Users/{id}")),
                    )
                    .await?
                    .json()
                    .clone()
                } else {
                    Value::Null
                };
                send_ok(
                    client,
                    format!("update {u}"),
                    d.update_name(&id, &current, &given, "Renamed"),
                )
                .await
            });
        }
        let mut updated = 0;
        for r in bounded(&self.permits, jobs).await {
            match r {
                Ok(_) => updated += 1,
                Err(e) => self.state.fail(e.to_string()),
            }
        }
        self.tally(|c| c.users_updated += updated);
    }

    async fn deactivate_users(&mut self, users: &[String]) {
        let d = self.client.dialect();
        let jobs = users
            .iter()
            .filter_map(|u| self.state.users.get(u).map(|su| (u.clone(), su.id.clone())))
            .map(|(u, id)| {
                send_ok(
                    self.client.clone(),
                    format!("deactivate {u}"),
                    d.deactivate_user(&id),
                )
            })
            .collect::<Vec<_>>();
        let results = bounded(&self.permits, jobs).await;
        let mut disabled = 0;
        for (u, r) in users.iter().zip(results) {
            match r {
                Ok(_) => {
                    if let Some(su) = self.state.users.get_mut(u) {
                        // Neither Okta nor Entra touches memberships on deactivation.
                        su.active = false;
                        disabled += 1;
                    }
                }
                Err(e) => self.state.fail(e.to_string()),
            }
        }
        self.tally(|c| c.users_disabled += disabled);
    }

    /// Hard-deletes users. A 404 means the target already removed the user: the IdP's goal is
    /// reached, so it is "already gone", not a failure. (Microsoft documents the DELETE 30 days
    /// after the disable but not how it treats a 404 answer; any other answer is a failure.)
    async fn delete_users(&mut self, users: &[String]) {
        let d = self.client.dialect();
        let targets: Vec<(String, String)> = users
            .iter()
            .filter_map(|u| self.state.users.get(u).map(|su| (u.clone(), su.id.clone())))
            .collect();
        let jobs = targets
            .iter()
            .map(|(_, id)| {
                let (client, req) = (self.client.clone(), d.delete_user(id));
                async move { client.send(&req).await }
            })
            .collect();
        let results = bounded(&self.permits, jobs).await;
        let (mut deleted, mut gone) = (0, 0);
        for ((u, id), r) in targets.into_iter().zip(results) {
            match r {
                Ok(resp) if resp.is_success() || resp.status == 404 => {
                    if resp.status == 404 {
                        gone += 1;
                    } else {
                        deleted += 1;
                    }
                    self.state.users.remove(&u);
                    self.state.deleted.insert(u, id);
                }
                Ok(resp) => self
                    .state
                    .fail(unexpected(&format!("delete {u}"), &resp).to_string()),
                Err(e) => self.state.fail(format!("delete {u}: {e}")),
            }
        }
        self.tally(|c| {
            c.users_deleted += deleted;
            c.already_gone += gone;
        });
    }

    /// Entra's soft delete then hard delete: cycle 1 provisions everyone; cycle 2 disables the
    /// leavers (PATCH active false / "False"); meanwhile some leavers are removed from the
    /// target out of band; the first cycle at least `delete_after` later DELETEs every leaver.
    async fn leaver_delete_later(&mut self, opts: &SimulateOptions) -> Result<(), SimError> {
        self.begin_cycle();
        self.initial_sync(opts.users, groups_for(opts)).await?;
        self.end_cycle();

        let disable_at = opts.cycle_interval;
        self.clock.advance_to(disable_at).await;
        self.begin_cycle();
        let mut pool = self.active_users();
        pool.shuffle(&mut self.rng);
        pool.truncate(opts.leavers);
        pool.sort();
        self.deactivate_users(&pool).await;
        self.end_cycle();
        let leavers: Vec<String> = pool
            .into_iter()
            .filter(|u| self.state.users.get(u).is_some_and(|su| !su.active))
            .collect();

        // Out of band: the app's own admin (or its retention purge) removes some leavers
        // before Entra gets to them. Not the IdP's traffic, so not in the summary's counts.
        let outsider = ScimClient::new(self.client.base(), &opts.token, Dialect::Generic)?
            .with_retry(opts.retry);
        let mut removed = Vec::new();
        for u in leavers.iter().take(opts.deleted_out_of_band) {
            let id = self.state.users[u].id.clone();
            let r = outsider
                .send(&ScimRequest::delete(format!("/Users/{id}")))
                .await?;
            if !r.is_success() {
                return Err(unexpected(&format!("out-of-band delete of {u}"), &r));
            }
            removed.push(u.clone());
        }

        // The first cycle boundary at or after disable + delete_after.
        let due = disable_at + opts.delete_after;
        let interval = opts.cycle_interval.as_secs().max(1);
        let delete_at = Duration::from_secs(due.as_secs().div_ceil(interval) * interval);
        self.clock.advance_to(delete_at).await;
        self.begin_cycle();
        self.delete_users(&leavers).await;
        self.end_cycle();

        self.state.observations.insert(
            "leaver_delete_later".into(),
            json!({
                "disabled": leavers,
                "deleted_out_of_band": removed,
                "disabled_at_secs": disable_at.as_secs(),
                "deleted_at_secs": delete_at.as_secs(),
            }),
        );
        Ok(())
    }

    async fn rename_all(&mut self) -> Result<(), SimError> {
        let d = self.client.dialect();
        let renames: Vec<(String, String, String)> = self
            .state
            .groups
            .iter()
            .map(|(n, g)| (n.clone(), format!("{n} renamed"), g.id.clone()))
            .collect();
        let jobs = renames
            .iter()
            .map(|(old, new, id)| {
                send_ok(
                    self.client.clone(),
                    format!("rename {old}"),
                    d.rename_group(id, new),
                )
            })
            .collect();
        let results = bounded(&self.permits, jobs).await;
        for ((old, new, _), r) in renames.into_iter().zip(results) {
            match r {
                Ok(_) => {
                    if let Some(g) = self.state.groups.remove(&old) {
                        self.state.groups.insert(new.clone(), g);
                    }
                    for su in self.state.users.values_mut() {
                        if su.groups.remove(&old) {
                            su.groups.insert(new.clone());
                        }
                    }
                }
                Err(e) => self.state.fail(e.to_string()),
            }
        }
        Ok(())
    }

    async fn leaver(&mut self) -> Result<(), SimError> {
        let users = self.create_users(1).await;
        let Some(u) = users.first().cloned() else {
            return Err(SimError::Unsupported(format!(
                "could not create the leaver: {:?}",
                self.state.failures
            )));
        };
        if self.client.dialect().provisions_groups() {
            let groups = self.create_groups(1).await;
            if let Some(g) = groups.first() {
                self.add_memberships(BTreeMap::from([(g.clone(), vec![u.clone()])]))
                    .await;
            }
        }
        self.deactivate_users(std::slice::from_ref(&u)).await;
        let su = &self.state.users[&u];
        self.state.observations.insert(
            "leaver".into(),
            json!({ "id": su.id, "userName": u, "active": su.active }),
        );
        Ok(())
    }

    async fn retry_create(&mut self, repeats: usize) -> Result<(), SimError> {
        let p = self.new_person();
        let req = self.client.dialect().create_user(&p);
        let jobs = (0..repeats)
            .map(|_| {
                let (client, req) = (self.client.clone(), req.clone());
                async move { client.send(&req).await }
            })
            .collect();
        // Every copy in flight at once, regardless of --concurrency: that is the race.
        let wide = Arc::new(Semaphore::new(repeats));
        let results = bounded(&wide, jobs).await;
        let statuses: Vec<u16> = results
            .iter()
            .map(|r| r.as_ref().map(|r| r.status).unwrap_or(0))
            .collect();
        let created: Vec<&ScimResponse> = results
            .iter()
            .flatten()
            .filter(|r| r.status == 201)
            .collect();
        let conflicts = statuses.iter().filter(|s| **s == 409).count();
        let ok = created.len() == 1 && conflicts == repeats - 1;
        if let Some(id) = created.first().and_then(|r| r.str_field("id")) {
            self.state.users.insert(
                p.user_name.clone(),
                SimUser {
                    id: id.to_string(),
                    active: true,
                    groups: BTreeSet::new(),
                },
            );
        } else {
            self.state.fail(format!(
                "no 201 among {repeats} identical creates: {statuses:?}"
            ));
        }
        self.state.observations.insert(
            "retry_create".into(),
            json!({ "userName": p.user_name, "statuses": statuses, "created": created.len(),
                    "conflicts": conflicts, "exactly_one_created": ok }),
        );
        Ok(())
    }

    async fn group_before_user(&mut self) -> Result<(), SimError> {
        let d = self.client.dialect();
        let groups = self.create_groups(1).await;
        let Some(gname) = groups.first().cloned() else {
            return Err(SimError::Unsupported(format!(
                "could not create the group: {:?}",
                self.state.failures
            )));
        };
        let gid = self.state.groups[&gname].id.clone();
        let p = self.new_person();
        // The IdP's membership PATCH races ahead of the user's POST (Stytch: a transient 404).
        let ghost = MemberRef {
            id: uuid_from(&mut self.rng),
            user_name: p.user_name.clone(),
        };
        let early = self
            .client
            .send(&d.add_members(&gid, &gname, std::slice::from_ref(&ghost)))
            .await?;
        let (uid, _) = match provision_user(self.client.clone(), p.clone()).await {
            Ok(v) => v,
            Err(e) => return Err(e),
        };
        self.state.users.insert(
            p.user_name.clone(),
            SimUser {
                id: uid.clone(),
                active: true,
                groups: BTreeSet::new(),
            },
        );
        // Next cycle the IdP retries with the real id.
        self.add_memberships(BTreeMap::from([(gname.clone(), vec![p.user_name.clone()])]))
            .await;
        let after = self
            .client
            .send(&ScimRequest::get(format!("/Groups/{gid}")))
            .await?;
        let ghost_kept = crate::dialect::member_ids(after.json()).contains(&ghost.id);
        self.state.observations.insert(
            "group_before_user".into(),
            json!({
                "missing_member_id": ghost.id,
                "early_patch_status": early.status,
                "early_patch_body": early.body.clone().unwrap_or(Value::String(early.text.chars().take(500).collect())),
                "dangling_member_kept": ghost_kept,
                "user_id": uid,
            }),
        );
        Ok(())
    }
}

fn uuid_from(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.gen())
        .into_uuid()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_names_round_trip() {
        for s in Scenario::ALL {
            assert_eq!(s.as_str().parse::<Scenario>().unwrap(), s);
        }
    }

    #[test]
    fn draws_between_one_and_five_distinct_groups() {
        let mut sim = Sim {
            client: ScimClient::new("http://127.0.0.1:9", "t", Dialect::Generic).unwrap(),
            permits: Arc::new(Semaphore::new(1)),
            rng: StdRng::seed_from_u64(7),
            seed: 7,
            next_user: 0,
            next_group: 0,
            state: SimState::default(),
            clock: SimClock {
                now: Duration::ZERO,
                time_scale: None,
            },
            cycles: Vec::new(),
            open_cycle: None,
        };
        let groups: Vec<String> = (0..20).map(|i| format!("g{i}")).collect();
        let mut sizes = BTreeMap::<String, usize>::new();
        for _ in 0..2000 {
            let picked = sim.draw_groups(&groups);
            assert!((1..=5).contains(&picked.len()));
            for g in picked {
                *sizes.entry(g).or_default() += 1;
            }
        }
        // Zipf-like: the first group is far larger than the last.
        assert!(sizes["g0"] > 4 * sizes["g19"], "{sizes:?}");
    }
}

#[cfg(test)]
mod cycle_option_tests {
    use super::*;

    /// Nothing listens here: every case must be refused before the first request.
    const NOWHERE: &str = "http://127.0.0.1:9";

    fn opts(dialect: Dialect, scenario: Scenario) -> SimulateOptions {
        SimulateOptions::new(NOWHERE, "t", dialect, scenario)
    }

    async fn refused(o: SimulateOptions) -> SimError {
        match run(o).await {
            Err(e @ (SimError::InvalidOptions(_) | SimError::Unsupported(_))) => e,
            other => panic!("expected a refusal before any request, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn leaver_delete_later_is_entra_only() {
        for d in [Dialect::Okta, Dialect::Google, Dialect::Generic] {
            let e = refused(opts(d, Scenario::LeaverDeleteLater)).await;
            assert!(matches!(e, SimError::Unsupported(_)), "{d}: {e}");
            assert!(e.to_string().contains("Entra"), "{e}");
        }
    }

    #[tokio::test]
    async fn refuses_bad_cycle_settings() {
        let mut o = opts(Dialect::Entra, Scenario::JoinersMoversLeavers);
        o.cycle_interval = Duration::ZERO;
        assert!(refused(o).await.to_string().contains("cycle interval"));

        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let mut o = opts(Dialect::EntraCompliant, Scenario::JoinersMoversLeavers);
            o.time_scale = Some(bad);
            assert!(refused(o).await.to_string().contains("time scale"), "{bad}");
        }

        // Real time: a 40-minute gap at 1:1 would wait 40 real minutes.
        let mut o = opts(Dialect::Entra, Scenario::JoinersMoversLeavers);
        o.time_scale = Some(1.0);
        assert!(refused(o).await.to_string().contains("real seconds"));

        // 30 days at 2400x is 18 real minutes: refused too.
        let mut o = opts(Dialect::Entra, Scenario::LeaverDeleteLater);
        o.time_scale = Some(2400.0);
        assert!(refused(o).await.to_string().contains("real seconds"));
    }

    #[tokio::test]
    async fn refuses_impossible_leaver_counts() {
        let mut o = opts(Dialect::Entra, Scenario::LeaverDeleteLater);
        o.leavers = 0;
        assert!(refused(o).await.to_string().contains("at least one leaver"));

        let mut o = opts(Dialect::Entra, Scenario::LeaverDeleteLater);
        (o.users, o.leavers) = (2, 3);
        assert!(refused(o).await.to_string().contains("3 leavers out of 2"));

        let mut o = opts(Dialect::Entra, Scenario::LeaverDeleteLater);
        (o.leavers, o.deleted_out_of_band) = (1, 2);
        assert!(refused(o).await.to_string().contains("out of band"));
    }

    #[test]
    fn formats_simulated_offsets() {
        assert_eq!(format_sim_time(0), "+0h00m");
        assert_eq!(format_sim_time(2400), "+0h40m");
        assert_eq!(format_sim_time(1081 * 2400), "+30d0h40m");
    }
}
