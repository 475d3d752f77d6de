//! A connection's sync as the overview shows it: the cycle its IdP is pushing now and the
//! last ended cycles with their summaries (`directory::sync_cycles` finds them in the log).

use super::types::ApiError;
use super::{ensure_connection, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use directory::sync_cycles::SyncActivity;

/// The running sync cycle (since when, requests per second, created / updated / deactivated /
/// deleted / failed so far) and the last ten ended cycles, newest first. A cycle is a run of
/// the IdP's own requests with no silence longer than the server's gap (`gap_secs`; `muster
/// serve --sync-gap-secs`, 5 minutes by default); readiness runs and stray requests do not count.
#[utoipa::path(get, path = "/api/connections/{id}/sync", tag = "log",
    params(("id" = String, Path, description = "Connection id")),
    responses(
        (status = 200, description = "The running cycle, if any, and the recent ended ones", body = SyncActivity),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub(crate) async fn sync_activity(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<SyncActivity> {
    ensure_connection(&st, &id).await?;
    let gap = chrono::Duration::from_std(st.sync_gap).unwrap_or(chrono::Duration::seconds(
        directory::sync_cycles::DEFAULT_GAP_SECS as i64,
    ));
    let activity = st.dir.sync_activity(&id, gap).await?;
    Ok(Json(activity))
}
