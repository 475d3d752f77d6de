//! A connection's lifecycle in the admin API: rename, pause and resume (SCIM answers 503
//! meanwhile), the connection test, and delete with its impact said first and the name
//! typed back. Each change is audited as the admin (`AdminActor`) with the console's address.

use super::types::*;
use super::AdminActor;
use super::{ApiJson, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use directory::connections::{ConnectionRecord, DeletionImpact};

/// The connection as the console lists it, after a change.
async fn summary(st: &AppState, c: ConnectionRecord) -> ApiResult<ConnectionSummary> {
    let o = st.dir.overview(&c.id).await?;
    Ok(Json(super::summarize(st, o)))
}

fn deletion_view(d: DeletionImpact) -> ConnectionDeletion {
    ConnectionDeletion {
        id: d.id,
        name: d.name,
        users: d.users,
        deleted_users: d.deleted_users,
        groups: d.groups,
        live_sessions: d.live_sessions,
        live_tokens: d.live_tokens,
    }
}

/// PATCH /connections/{id} `{"name"}`: 1 to 100 characters, trimmed; 400 otherwise.
#[utoipa::path(patch, path = "/api/connections/{id}", tag = "connections",
    params(("id" = String, Path, description = "Connection id")), request_body = RenameConnectionRequest,
    responses(
        (status = 200, description = "The renamed connection", body = ConnectionSummary),
        (status = 400, description = "An empty or too long name; nothing changed", body = ApiError),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub async fn rename(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RenameConnectionRequest>,
) -> ApiResult<ConnectionSummary> {
    let c = st.dir.rename_connection(&id, &req.name, actor).await?;
    summary(&st, c).await
}

/// POST /connections/{id}/pause: SCIM answers 503 with Retry-After until resumed.
#[utoipa::path(post, path = "/api/connections/{id}/pause", tag = "connections",
    params(("id" = String, Path, description = "Connection id")),
    responses(
        (status = 200, description = "The paused connection", body = ConnectionSummary),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub async fn pause(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path(id): Path<String>,
) -> ApiResult<ConnectionSummary> {
    let c = st.dir.set_paused(&id, true, actor).await?;
    summary(&st, c).await
}

/// POST /connections/{id}/resume: SCIM answers again at once.
#[utoipa::path(post, path = "/api/connections/{id}/resume", tag = "connections",
    params(("id" = String, Path, description = "Connection id")),
    responses(
        (status = 200, description = "The running connection", body = ConnectionSummary),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub async fn resume(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path(id): Path<String>,
) -> ApiResult<ConnectionSummary> {
    let c = st.dir.set_paused(&id, false, actor).await?;
    summary(&st, c).await
}

/// GET /connections/{id}/deletion: what a delete would do, counted now.
#[utoipa::path(get, path = "/api/connections/{id}/deletion", tag = "connections",
    params(("id" = String, Path, description = "Connection id")),
    responses(
        (status = 200, description = "What a delete would do", body = ConnectionDeletion),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub async fn deletion(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<ConnectionDeletion> {
    let d = st.dir.deletion_impact(&id).await?;
    Ok(Json(deletion_view(d)))
}

/// DELETE /connections/{id} `{"confirm": "<its name>"}`: what it did. A missing body or a
/// confirmation that is not the name is 400 and deletes nothing.
#[utoipa::path(delete, path = "/api/connections/{id}", tag = "connections",
    params(("id" = String, Path, description = "Connection id")), request_body = DeleteConnectionRequest,
    responses(
        (status = 200, description = "What the delete did", body = ConnectionDeletion),
        (status = 400, description = "No body, or `confirm` is not the name; nothing deleted", body = ApiError),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub async fn delete(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<DeleteConnectionRequest>,
) -> ApiResult<ConnectionDeletion> {
    let d = st.dir.delete_connection(&id, &req.confirm, actor).await?;
    Ok(Json(deletion_view(d)))
}

/// POST /connections/{id}/test: the SCIM round trip (`roundtrip::run`), each step with its
/// status and time. Steps that fail are in the answer (200); only a connection that does
/// not exist is an error.
#[utoipa::path(post, path = "/api/connections/{id}/test", tag = "connections",
    params(("id" = String, Path, description = "Connection id")),
    responses(
        (status = 200, description = "Each step as it was answered, failed ones included", body = ConnectionTestResult),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub async fn test(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path(id): Path<String>,
) -> ApiResult<ConnectionTestResult> {
    super::ensure_connection(&st, &id).await?;
    let result = super::roundtrip::run(&st, &id, actor).await?;
    st.dir.touched(&id);
    Ok(Json(result))
}
