//! The identity provider for console sign-in, for owners: what is in force and where it was
//! set, and saving (after checking the issuer's discovery document answers) or clearing the
//! one kept in the database. A provider set on the command line is shown, not changed here.

use super::{AdminActor, ApiFailure, ApiJson, ApiResult};
use crate::error_body::ApiError;
use crate::oidc::{OidcConfig, OidcSource};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// The identity provider in force for console sign-in.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct OidcSettings {
    /// None: sign-in is with local accounts only.
    pub source: Option<OidcSource>,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    /// A client secret is in use (only ever set in the server's environment).
    pub confidential: bool,
}

/// A provider to save: a public client (PKCE), registered with this server's
/// `{origin}/auth/callback` and the desktop app's `http://127.0.0.1/callback`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct OidcSettingsInput {
    pub issuer: String,
    pub client_id: String,
}

fn settings(st: &AppState) -> OidcSettings {
    let config = st.oidc.get();
    OidcSettings {
        source: st.oidc.source(),
        issuer: config.as_ref().map(|c| c.issuer.clone()),
        client_id: config.as_ref().map(|c| c.client_id.clone()),
        confidential: config.is_some_and(|c| c.client_secret.is_some()),
    }
}

fn fixed_by_command_line(st: &AppState) -> Result<(), ApiFailure> {
    if st.oidc.source() == Some(OidcSource::CommandLine) {
        return Err(ApiFailure::new(
            StatusCode::CONFLICT,
            "oidc_from_command_line",
            "this server's identity provider is set on its command line (--oidc-issuer); change it there",
        ));
    }
    Ok(())
}

/// The identity provider in force and where it was set.
#[utoipa::path(get, path = "/api/team/oidc", tag = "team",
    responses((status = 200, description = "The provider in force, if any", body = OidcSettings)))]
pub async fn get_settings(State(st): State<AppState>) -> ApiResult<OidcSettings> {
    Ok(Json(settings(&st)))
}

/// Saves the identity provider admins sign in with. The issuer's discovery document must
/// answer, name that issuer exactly and have authorization and token endpoints, else nothing
/// is saved. Takes effect at once; audited as `oidc.settings`.
#[utoipa::path(put, path = "/api/team/oidc", tag = "team",
    request_body = OidcSettingsInput,
    responses(
        (status = 200, description = "Saved and in force", body = OidcSettings),
        (status = 400, description = "Not an https issuer URL or client id, or oidc_issuer_unusable: its discovery document cannot be used", body = ApiError),
        (status = 409, description = "oidc_from_command_line", body = ApiError),
    ))]
pub async fn save_settings(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    ApiJson(body): ApiJson<OidcSettingsInput>,
) -> ApiResult<OidcSettings> {
    fixed_by_command_line(&st)?;
    let issuer = body.issuer.trim().to_string();
    let client_id = body.client_id.trim().to_string();
    directory::oidc_settings::check(&issuer, &client_id)?;
    let usable = match st.jwks.discovery(&issuer).await {
        Ok(d) if d.authorization_endpoint.is_some() && d.token_endpoint.is_some() => Ok(()),
        Ok(_) => Err("its discovery document has no authorization or token endpoint".to_string()),
        Err(e) => Err(e),
    };
    if let Err(why) = usable {
        return Err(ApiFailure::new(
            StatusCode::BAD_REQUEST,
            "oidc_issuer_unusable",
            format!("{issuer} cannot be used as the identity provider: {why}"),
        ));
    }
    let saved = st
        .dir
        .save_oidc_settings(&issuer, &client_id, actor)
        .await?;
    st.oidc.set(Some((
        OidcConfig::public(saved.issuer, saved.client_id),
        OidcSource::Console,
    )));
    Ok(Json(settings(&st)))
}

/// Turns identity-provider sign-in off: local accounts only. Audited.
#[utoipa::path(delete, path = "/api/team/oidc", tag = "team",
    responses(
        (status = 200, description = "Off", body = OidcSettings),
        (status = 409, description = "oidc_from_command_line", body = ApiError),
    ))]
pub async fn clear_settings(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
) -> ApiResult<OidcSettings> {
    fixed_by_command_line(&st)?;
    st.dir.clear_oidc_settings(actor).await?;
    st.oidc.set(None);
    Ok(Json(settings(&st)))
}
