//! SCIM on a connection its admin paused: every request is answered 503 with Retry-After,
//! which Okta and Entra treat as "try again later" (RFC 9110 §15.6.4), so nothing the IdP
//! sends is lost; the refusal is logged apart and never counts against health.

use super::Trace;
use directory::log;
use scim::ScimError;

/// Seconds a paused connection asks the IdP to wait before it retries.
pub const RETRY_AFTER_SECS: u64 = 3600;

/// Err(503) when `paused_at` is set. The log row is tagged paused traffic (a readiness
/// run's stays tagged as such), so it stays out of health and raises no failure toast.
pub(super) fn refuse_if_paused(
    trace: &mut Trace,
    paused_at: Option<&str>,
) -> Result<(), ScimError> {
    let Some(since) = paused_at else {
        return Ok(());
    };
    trace.traffic.get_or_insert(log::traffic::PAUSED);
    trace.retry_after = Some(RETRY_AFTER_SECS);
    Err(ScimError::new(
        503,
        None,
        format!(
            "this connection is paused by its admin (since {since}); nothing was applied. \
             Retry after {RETRY_AFTER_SECS} seconds: requests are accepted again once the admin resumes it"
        ),
    ))
}
