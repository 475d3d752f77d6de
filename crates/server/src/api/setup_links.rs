//! Setup links in the admin API: the SaaS team creates one per connection for its customer's
//! IT admin, follows its status (sent, opened, configured, first sync) and revokes it.

use super::{AdminActor, ApiFailure, ApiJson, ApiResult};
use crate::error_body::ApiError;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use directory::setup_links::{LinkStatus, SetupLink, MAX_TTL_HOURS, MIN_TTL_HOURS};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// How long a link lives unless told otherwise: three days.
const DEFAULT_TTL_HOURS: i64 = 72;

/// A setup link as the console lists it: never its secret.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SetupLinkRow {
    pub id: String,
    pub prefix: String,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    pub opened_at: Option<String>,
    /// When the setup page revealed the SCIM token.
    pub configured_at: Option<String>,
    /// The first user or group created on the connection after that.
    pub first_sync_at: Option<String>,
    pub status: LinkStatus,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct CreateSetupLinkRequest {
    /// How long the link works: 1 to 720 hours (default 72).
    #[ts(type = "number | null")]
    pub expires_in_hours: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct CreatedSetupLink {
    /// The link to send, shown once: its secret is in the fragment (never sent to a server
    /// log by a browser), and only its hash is stored.
    pub url: String,
    pub link: SetupLinkRow,
}

fn row(st: &AppState, l: SetupLink) -> SetupLinkRow {
    let status = l.status(st.dir.now());
    SetupLinkRow {
        id: l.id,
        prefix: l.prefix,
        created_at: l.created_at,
        expires_at: l.expires_at,
        revoked_at: l.revoked_at,
        opened_at: l.opened_at,
        configured_at: l.configured_at,
        first_sync_at: l.first_sync_at,
        status,
    }
}

/// The connection's setup links, newest first.
#[utoipa::path(get, path = "/api/connections/{id}/setup-links", tag = "setup link",
    params(("id" = String, Path, description = "Connection id")),
    responses((status = 200, description = "Its links", body = Vec<SetupLinkRow>), (status = 404, description = "No such connection", body = ApiError)))]
pub async fn list(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Vec<SetupLinkRow>> {
    super::ensure_connection(&st, &id).await?;
    let links = st.dir.setup_links(&id).await?;
    Ok(Json(links.into_iter().map(|l| row(&st, l)).collect()))
}

/// A new setup link for the customer's IT admin (audited); its URL is shown this once.
#[utoipa::path(post, path = "/api/connections/{id}/setup-links", tag = "setup link",
    params(("id" = String, Path, description = "Connection id")), request_body = CreateSetupLinkRequest,
    responses(
        (status = 201, description = "The link, shown once", body = CreatedSetupLink),
        (status = 400, description = "A lifetime outside 1 to 720 hours", body = ApiError),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub async fn create(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CreateSetupLinkRequest>,
) -> Result<(StatusCode, Json<CreatedSetupLink>), ApiFailure> {
    super::ensure_connection(&st, &id).await?;
    let hours = req.expires_in_hours.unwrap_or(DEFAULT_TTL_HOURS);
    if !(MIN_TTL_HOURS..=MAX_TTL_HOURS).contains(&hours) {
        return Err(ApiFailure::bad_request(format!(
            "expires_in_hours must be {MIN_TTL_HOURS} to {MAX_TTL_HOURS}, not {hours}"
        )));
    }
    let issued = st.dir.create_setup_link(&id, hours, actor).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedSetupLink {
            url: format!("{}/setup#{}", st.origin, issued.secret),
            link: row(&st, issued.link),
        }),
    ))
}

/// Revokes a setup link at once (audited). The token it revealed stays live: revoke that on
/// the token list if the IdP should stop too.
#[utoipa::path(post, path = "/api/connections/{id}/setup-links/{lid}/revoke", tag = "setup link",
    params(("id" = String, Path, description = "Connection id"), ("lid" = String, Path, description = "Setup link id")),
    responses(
        (status = 200, description = "The revoked link", body = SetupLinkRow),
        (status = 404, description = "No such connection or link", body = ApiError),
    ))]
pub async fn revoke(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path((id, lid)): Path<(String, String)>,
) -> ApiResult<SetupLinkRow> {
    super::ensure_connection(&st, &id).await?;
    let link = st.dir.revoke_setup_link(&id, &lid, actor).await?;
    Ok(Json(row(&st, link)))
}
