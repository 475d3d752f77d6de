//! `muster check`: the readiness report against a SCIM endpoint (with an OAuth client
//! credentials start when asked), printed and written as HTML or PDF; exit 2 when it fails.

use super::{block_on, fail};
use clap::Args;
use std::path::PathBuf;

// The options of `muster check` (its help text is the `Command::Check` variant's).
#[derive(Args)]
pub struct CheckArgs {
    #[arg(long)]
    url: String,
    #[arg(
        long,
        env = "MUSTER_SCIM_TOKEN",
        hide_env_values = true,
        required_unless_present = "oauth_token_endpoint"
    )]
    token: Option<String>,
    /// The target's OAuth token endpoint: the run starts with the `oauth.*` checks (a
    /// client credentials grant, a wrong secret refused) and uses the access token it gets.
    #[arg(long, requires_all = ["oauth_client_id", "oauth_client_secret"])]
    oauth_token_endpoint: Option<String>,
    #[arg(long)]
    oauth_client_id: Option<String>,
    #[arg(long, env = "MUSTER_OAUTH_CLIENT_SECRET", hide_env_values = true)]
    oauth_client_secret: Option<String>,
    #[arg(long)]
    json: bool,
    /// Also write a self-contained HTML report here.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Also write the report as a PDF here (server, date, version, IPSIE level verdict,
    /// each check with its RFC, Okta and Entra references).
    #[arg(long)]
    pdf: Option<PathBuf>,
}

/// Runs the checks and reports them; the exit code says whether they passed.
pub fn run(args: CheckArgs) -> i32 {
    let CheckArgs {
        url,
        token,
        oauth_token_endpoint,
        oauth_client_id,
        oauth_client_secret,
        json,
        html,
        pdf,
    } = args;
    block_on(async move {
        let oauth = match (oauth_token_endpoint, oauth_client_id, oauth_client_secret) {
            (Some(token_endpoint), Some(client_id), Some(client_secret)) => {
                Some(idp::oauth_check::OAuthClient {
                    token_endpoint,
                    client_id,
                    client_secret,
                })
            }
            _ => None,
        };
        let opts = idp::check::CheckOptions {
            oauth,
            ..Default::default()
        };
        let report = idp::check::run_checks(&url, token.as_deref().unwrap_or(""), opts).await;
        type Render = fn(&idp::check::Report) -> Vec<u8>;
        let files: [(Option<PathBuf>, Render); 2] = [
            (html, |r| r.render_html().into_bytes()),
            (pdf, crate::readiness_pdf::readiness_pdf),
        ];
        for (path, render) in files {
            if let Some(path) = path {
                if let Err(e) = std::fs::write(&path, render(&report)) {
                    return fail(format!("cannot write {}: {e}", path.display()));
                }
            }
        }
        if json {
            println!("{}", serde_json::to_string(&report).unwrap_or_default());
        } else {
            println!("{}", report.render_table());
        }
        if report.passed() {
            0
        } else {
            2
        }
    })
}
