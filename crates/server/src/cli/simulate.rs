//! `muster simulate`: Muster acts as an IdP (Okta, Entra, Google) against any SCIM
//! endpoint, with the scenario's summary as text or JSON.

use super::{block_on, fail};
use clap::Args;

// The options of `muster simulate` (its help text is the `Command::Simulate` variant's).
#[derive(Args)]
pub struct SimulateArgs {
    #[arg(long)]
    url: String,
    #[arg(long, env = "MUSTER_SCIM_TOKEN", hide_env_values = true)]
    token: String,
    /// okta, entra, entra-compliant (Entra with aadOptscim062020), google, generic
    #[arg(long, default_value = "okta")]
    idp: String,
    /// initial-sync, joiners-movers-leavers, group-rename, leaver, retry-create,
    /// group-before-user, leaver-delete-later (Entra only)
    #[arg(long, default_value = "initial-sync")]
    scenario: String,
    #[arg(long, default_value_t = 100)]
    users: usize,
    #[arg(long, default_value_t = 10)]
    groups: usize,
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Simulated seconds between Entra provisioning cycles (Entra: about 40 minutes).
    #[arg(long, default_value_t = 2400)]
    cycle_interval: u64,
    /// Simulated seconds per real second between cycles (2400: a 40-minute gap takes one
    /// second). Without it cycles run back to back; only their simulated times are reported.
    #[arg(long)]
    time_scale: Option<f64>,
    /// leaver-delete-later: users disabled, then hard-deleted.
    #[arg(long, default_value_t = 3)]
    leavers: usize,
    /// leaver-delete-later: simulated days from the disable to the DELETE (Entra: 30;
    /// at most ten years, so simulated time never overflows).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=3650))]
    delete_after_days: u64,
    /// leaver-delete-later: leavers removed from the target out of band before Entra's
    /// DELETE arrives (it then gets 404, which counts as already gone).
    #[arg(long, default_value_t = 1)]
    deleted_out_of_band: usize,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs the scenario against the endpoint and prints its summary.
pub fn run(args: SimulateArgs) -> i32 {
    let SimulateArgs {
        url,
        token,
        idp,
        scenario,
        users,
        groups,
        concurrency,
        seed,
        rounds,
        cycle_interval,
        time_scale,
        leavers,
        delete_after_days,
        deleted_out_of_band,
        json,
    } = args;
    let (Ok(dialect), Ok(scenario)) = (
        idp.parse::<idp::Dialect>(),
        scenario.parse::<idp::scenario::Scenario>(),
    ) else {
        return fail("unknown --idp or --scenario (see --help)");
    };
    let mut opts = idp::SimulateOptions::new(&url, &token, dialect, scenario);
    opts.users = users;
    opts.groups = groups;
    opts.concurrency = concurrency.max(1);
    opts.seed = seed;
    opts.rounds = rounds;
    opts.cycle_interval = std::time::Duration::from_secs(cycle_interval);
    opts.time_scale = time_scale;
    opts.leavers = leavers;
    opts.delete_after = std::time::Duration::from_secs(delete_after_days.saturating_mul(86_400));
    opts.deleted_out_of_band = deleted_out_of_band;
    opts.progress = !json;
    block_on(async move {
        match idp::run(opts).await {
            Ok(summary) => {
                if json {
                    println!("{}", serde_json::to_string(&summary).unwrap_or_default());
                } else {
                    println!("{}", summary.render_text());
                }
                0
            }
            Err(e) => fail(e),
        }
    })
}
