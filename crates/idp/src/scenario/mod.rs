//! Lifecycle scenarios an IdP drives against a SCIM endpoint (pushed as they happen, or batched into Entra's provisioning cycles), and the summary plus expected directory state they leave.

mod options;
mod scripts;
mod simulator;
mod summary;

use options::validate_cycles;
pub use options::{Scenario, SimulateOptions};
use simulator::*;
pub use summary::{CycleReport, ExpectedGroup, ExpectedState, ExpectedUser, Latency, Summary};

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
        assert_eq!(summary::format_sim_time(0), "+0h00m");
        assert_eq!(summary::format_sim_time(2400), "+0h40m");
        assert_eq!(summary::format_sim_time(1081 * 2400), "+30d0h40m");
    }
}
