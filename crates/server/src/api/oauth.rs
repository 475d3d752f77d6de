//! Admin routes for a connection's OAuth client: its client id and token endpoint, the
//! access-token lifetime and federation settings, and client secrets (issue, revoke).

use super::types::*;
use super::AdminActor;
use super::{ApiFailure, ApiJson, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use directory::oauth::{self, ClientSecretRecord, OAuthSettings};

fn secret_row(s: ClientSecretRecord, now: &str) -> ClientSecretRow {
    let state = if s.revoked_at.is_some() {
        "revoked"
    } else if s.expires_at.as_str() <= now {
        "expired"
    } else {
        "active"
    };
    ClientSecretRow {
        id: s.id,
        prefix: s.prefix,
        created_at: s.created_at,
        expires_at: s.expires_at,
        revoked_at: s.revoked_at,
        last_used_at: s.last_used_at,
        state: state.to_string(),
    }
}

fn settings_body(s: OAuthSettings) -> OAuthSettingsBody {
    OAuthSettingsBody {
        token_lifetime_secs: s.token_lifetime_secs,
        federation_issuer: s.federation_issuer,
        federation_subject: s.federation_subject,
        federation_audience: s.federation_audience,
    }
}

async fn view(st: &AppState, id: &str) -> Result<OAuthClientView, ApiFailure> {
    let settings = st.dir.oauth_settings(id).await?;
    let now = directory::clock::fmt_time(st.dir.now());
    let secrets = st.dir.oauth_secrets(id).await?;
    Ok(OAuthClientView {
        client_id: oauth::client_id(id),
        token_endpoint: crate::oauth::endpoint(&st.origin),
        settings: settings_body(settings),
        secrets: secrets.into_iter().map(|s| secret_row(s, &now)).collect(),
    })
}

/// The connection's OAuth client: client id, token endpoint, settings and secrets.
#[utoipa::path(get, path = "/api/connections/{id}/oauth", tag = "tokens",
    params(("id" = String, Path, description = "Connection id")),
    responses((status = 200, description = "Its OAuth client", body = OAuthClientView), (status = 404, description = "No such connection", body = ApiError)))]
pub async fn oauth_client(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<OAuthClientView> {
    super::ensure_connection(&st, &id).await?;
    Ok(Json(view(&st, &id).await?))
}

/// Saves the access-token lifetime (3600–21600 s) and the federation settings (audited).
#[utoipa::path(put, path = "/api/connections/{id}/oauth/settings", tag = "tokens",
    params(("id" = String, Path, description = "Connection id")), request_body = OAuthSettingsBody,
    responses(
        (status = 200, description = "The OAuth client as saved", body = OAuthClientView),
        (status = 400, description = "Lifetime out of range, or not a valid issuer", body = ApiError),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub async fn save_oauth_settings(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<OAuthSettingsBody>,
) -> ApiResult<OAuthClientView> {
    super::ensure_connection(&st, &id).await?;
    let settings = OAuthSettings {
        token_lifetime_secs: req.token_lifetime_secs,
        federation_issuer: req.federation_issuer,
        federation_subject: req.federation_subject,
        federation_audience: req.federation_audience,
    };
    st.dir.save_oauth_settings(&id, settings, actor).await?;
    Ok(Json(view(&st, &id).await?))
}

/// Issues a client secret (shown once); the connection's other secrets stay live (audited).
#[utoipa::path(post, path = "/api/connections/{id}/oauth/secrets", tag = "tokens",
    params(("id" = String, Path, description = "Connection id")), request_body = IssueClientSecretRequest,
    responses(
        (status = 201, description = "The new secret, shown once", body = IssuedClientSecret),
        (status = 400, description = "Lifetime out of range", body = ApiError),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub async fn issue_secret(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<IssueClientSecretRequest>,
) -> Result<(StatusCode, Json<IssuedClientSecret>), ApiFailure> {
    super::ensure_connection(&st, &id).await?;
    let days = req.lifetime_days.unwrap_or(oauth::DEFAULT_SECRET_DAYS);
    let issued = st.dir.issue_oauth_secret(&id, days, actor).await?;
    let now = directory::clock::fmt_time(st.dir.now());
    Ok((
        StatusCode::CREATED,
        Json(IssuedClientSecret {
            secret: issued.secret,
            client_id: oauth::client_id(&id),
            row: secret_row(issued.record, &now),
        }),
    ))
}

/// Revokes a client secret and the access tokens it obtained, at once (audited).
#[utoipa::path(post, path = "/api/connections/{id}/oauth/secrets/{sid}/revoke", tag = "tokens",
    params(("id" = String, Path, description = "Connection id"), ("sid" = String, Path, description = "Secret id or prefix")),
    responses(
        (status = 200, description = "The revoked secret", body = ClientSecretRow),
        (status = 404, description = "No such connection or live secret", body = ApiError),
    ))]
pub async fn revoke_secret(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path((id, sid)): Path<(String, String)>,
) -> ApiResult<ClientSecretRow> {
    super::ensure_connection(&st, &id).await?;
    let s = st.dir.revoke_oauth_secret(&id, &sid, actor).await?;
    Ok(Json(secret_row(
        s,
        &directory::clock::fmt_time(st.dir.now()),
    )))
}
