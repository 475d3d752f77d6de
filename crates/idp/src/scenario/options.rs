//! What a simulation is asked to run: the scenario, its knobs, and the checks on them.

use super::*;

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

/// Refuses cycle settings that make no sense or would really wait longer than [`MAX_REAL_WAIT`].
pub(super) fn validate_cycles(opts: &SimulateOptions) -> Result<(), SimError> {
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
