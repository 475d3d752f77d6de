//! Connections as the console lists and opens them: their summaries with health and
//! counts, creating one with its first token, one connection with its recent log, and its
//! provisioning log page by page.

use super::types::*;
use super::{observe, AdminActor, ApiFailure, ApiQuery, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use directory::health;
use directory::log::{LogEntry, LogOutcome, LogQuery};
use serde::Deserialize;

fn health_of(s: health::HealthState) -> HealthState {
    match s {
        health::HealthState::NeverConnected => HealthState::NeverConnected,
        health::HealthState::Healthy => HealthState::Healthy,
        health::HealthState::Idle => HealthState::Idle,
        health::HealthState::Failing => HealthState::Failing,
        health::HealthState::Degraded => HealthState::Degraded,
        health::HealthState::Misconfigured => HealthState::Misconfigured,
        health::HealthState::NoLiveToken => HealthState::NoLiveToken,
        health::HealthState::Paused => HealthState::Paused,
    }
}

pub(crate) fn summarize(st: &AppState, o: directory::service::Overview) -> ConnectionSummary {
    let directory::service::Overview {
        connection: c,
        stats,
        health: h,
    } = o;
    ConnectionSummary {
        id: c.id.clone(),
        name: c.name.clone(),
        idp: c.idp.into(),
        scim_url: format!("{}/{}", st.scim_base, c.id),
        created_at: c.created_at.clone(),
        health: health_of(h.state),
        health_reason: format!("{} {}", h.reason, h.next_step),
        health_notices: h.notices,
        dialect: c.dialect.clone(),
        user_count: stats.users,
        group_count: stats.groups,
        deleted_user_count: stats.deleted_users,
        last_sync_at: stats.last_sync_at,
        last_request_at: stats.last_request_at,
        requests_24h: stats.requests_24h,
        failures_24h: stats.failures_24h,
        demo: c.demo,
        expected_sync_minutes: c.expected_sync_minutes,
        default_sync_minutes: health::default_cadence_secs(c.idp.as_str()) / 60,
        retention_days: c.retention_days,
        paused_at: c.paused_at.clone(),
    }
}

/// Every connection with its health and counts, as the console's overview lists them.
#[utoipa::path(get, path = "/api/connections", tag = "connections",
    responses((status = 200, description = "All connections", body = Vec<ConnectionSummary>)))]
pub(super) async fn list_connections(
    State(st): State<AppState>,
) -> ApiResult<Vec<ConnectionSummary>> {
    let all = st.dir.overviews().await?;
    Ok(Json(all.into_iter().map(|o| summarize(&st, o)).collect()))
}

/// Creates a connection and its first SCIM token (shown once in the answer).
#[utoipa::path(post, path = "/api/connections", tag = "connections",
    request_body = CreateConnectionRequest,
    responses(
        (status = 201, description = "Created, with its SCIM token", body = CreatedConnection),
        (status = 400, description = "Not a valid request body", body = ApiError),
    ))]
pub(super) async fn create_connection(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    body: Result<Json<CreateConnectionRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<CreatedConnection>), ApiFailure> {
    let Json(req) = body.map_err(|e| ApiFailure::bad_request(e.body_text()))?;
    let idp = match req.idp {
        Idp::Okta => directory::connections::Idp::Okta,
        Idp::Entra => directory::connections::Idp::Entra,
        Idp::Google => directory::connections::Idp::Google,
        Idp::Generic => directory::connections::Idp::Generic,
    };
    let (conn, token) = st.dir.create_connection(&req.name, idp, actor).await?;
    let summary = summarize(&st, st.dir.overview(&conn.id).await?);
    Ok((
        StatusCode::CREATED,
        Json(CreatedConnection {
            connection: summary,
            token: token.secret,
        }),
    ))
}

pub(crate) fn row(e: LogEntry) -> LogRow {
    LogRow {
        id: e.id,
        at: e.at,
        connection_id: e.connection_id,
        method: e.method,
        path: e.path,
        status: e.status as i32,
        outcome: e.outcome,
        resource_type: e.resource_type,
        resource_id: e.resource_id,
        user_name: e.user_name,
        external_id: e.external_id,
        duration_ms: e.duration_ms,
        dialect: e.dialect,
        user_agent: e.user_agent,
        token_prefix: e.token_prefix,
        detail: e.detail,
        request_id: e.request_id,
    }
}

/// One connection with its 25 newest provisioning-log rows.
#[utoipa::path(get, path = "/api/connections/{id}", tag = "connections",
    params(("id" = String, Path, description = "Connection id")),
    responses(
        (status = 200, description = "The connection", body = ConnectionDetail),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub(super) async fn connection_detail(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<ConnectionDetail> {
    let overview = st.dir.overview(&id).await?;
    let recent = st
        .dir
        .log_rows(LogQuery {
            connection_id: Some(id.clone()),
            limit: 25,
            ..Default::default()
        })
        .await?;
    Ok(Json(ConnectionDetail {
        connection: summarize(&st, overview),
        recent_log: recent.into_iter().map(row).collect(),
    }))
}

pub(crate) async fn ensure_connection(st: &AppState, id: &str) -> Result<(), ApiFailure> {
    match st.dir.connection(id).await? {
        Some(_) => Ok(()),
        None => Err(ApiFailure::not_found(format!("connection {id}"))),
    }
}

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct LogParams {
    /// One outcome (created, updated, deactivated, deleted, auth_failed, invalid, ...); an
    /// unknown one is 400.
    #[serde(default, deserialize_with = "super::observe::outcome_filter")]
    #[param(value_type = Option<LogOutcome>)]
    outcome: Option<LogOutcome>,
    /// success or failure.
    status: Option<String>,
    /// An identity (userName, externalId, resource id; equal or prefix) or free text.
    q: Option<String>,
    /// Keyset cursor: rows with a smaller id (the last row's id of the previous page).
    before_id: Option<i64>,
    /// RFC 3339 time, inclusive.
    since: Option<String>,
    /// RFC 3339 time, exclusive.
    until: Option<String>,
    /// Rows per page (default 100, at most 1000).
    limit: Option<u32>,
}

/// A connection's provisioning log, newest first, keyset-paged by `before_id`.
#[utoipa::path(get, path = "/api/connections/{id}/log", tag = "log",
    params(("id" = String, Path, description = "Connection id"), LogParams),
    responses(
        (status = 200, description = "One page of rows", body = LogPage),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub(super) async fn connection_log(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<LogParams>,
) -> ApiResult<LogPage> {
    ensure_connection(&st, &id).await?;
    let q = LogQuery {
        connection_id: Some(id),
        resource_id: None,
        outcome: p.outcome,
        status: p.status.filter(|s| !s.is_empty()),
        text: p.q,
        before_id: p.before_id,
        since: p.since,
        until: p.until,
        limit: p.limit.unwrap_or(100),
        search_window: None,
    };
    observe::log_page(&st, q).await
}
