//! The setup page's API (`/setup/v1`): what the customer's IT admin, holding a setup link and
//! no console account, may see and do for that link's one connection — read its setup view,
//! reveal its SCIM credential once — and nothing else.

use crate::error_body::{ApiError, ApiFailure};
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::{header, request::Parts, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use directory::setup_links::{Progress, SetupLink};
use directory::Actor;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use ts_rs::TS;
use utoipa::ToSchema;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/link", get(view))
        .route("/link/reveal", post(reveal))
        .layer(middleware::from_fn(no_store))
        .with_state(state)
        .fallback(|| async { ApiFailure::not_found("no such endpoint") })
}

/// Every answer may carry a secret or a connection's progress: never cached.
async fn no_store(req: axum::extract::Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The link's secret from `Authorization: Bearer msl_…`, and who holds it (their address),
/// as the audit trail records them.
pub struct LinkHolder {
    secret: String,
    actor: Actor,
}

impl<S: Send + Sync> FromRequestParts<S> for LinkHolder {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let secret = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, secret)| {
                scheme.eq_ignore_ascii_case("bearer") && !secret.trim().is_empty()
            })
            .map(|(_, secret)| secret.trim().to_string())
            .ok_or_else(|| {
                ApiFailure::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "the setup link's secret is required (Authorization: Bearer msl_…)",
                )
            })?;
        let source = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".to_string());
        Ok(LinkHolder {
            secret,
            actor: Actor::SetupLink { source },
        })
    }
}

/// What the setup page shows: the one connection its link configures, the link's state,
/// and what the IdP has sent so far.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SetupPage {
    pub connection_name: String,
    /// The IdP the SaaS team named; the page offers the others too.
    pub idp: crate::api::types::Idp,
    pub scim_url: String,
    pub expires_at: String,
    /// sent, opened, configured or first_sync
    pub status: String,
    /// When the credential was revealed (then never again), and its prefix to recognise it.
    pub configured_at: Option<String>,
    pub progress: SetupProgress,
}

/// The IdP's requests since the link was created, and what arrived.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SetupProgress {
    #[ts(type = "number")]
    pub requests: i64,
    /// Of those, refused for their credential (401/403): a wrong or old token in the IdP.
    #[ts(type = "number")]
    pub refused: i64,
    /// The latest, newest first (at most 8): method, path and answer, never a body.
    pub recent: Vec<SetupRequest>,
    #[ts(type = "number")]
    pub users: i64,
    #[ts(type = "number")]
    pub groups: i64,
    pub last_received_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SetupRequest {
    pub at: String,
    pub method: String,
    pub path: String,
    #[ts(type = "number")]
    pub status: i64,
    pub outcome: String,
}

/// The credential, shown once: the IdP's SCIM URL and bearer token.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SetupCredential {
    pub scim_url: String,
    pub token: String,
    pub token_prefix: String,
}

fn progress_of(p: Progress) -> SetupProgress {
    SetupProgress {
        requests: p.requests,
        refused: p.refused,
        recent: p
            .recent
            .into_iter()
            .map(|r| SetupRequest {
                at: r.at,
                method: r.method,
                path: r.path,
                status: r.status,
                outcome: r.outcome,
            })
            .collect(),
        users: p.users,
        groups: p.groups,
        last_received_at: p.last_received_at,
    }
}

fn status_of(st: &AppState, link: &SetupLink) -> String {
    link.status(st.dir.now()).as_str().to_string()
}

/// The setup view for the link presented; its first opening is recorded (status "opened").
#[utoipa::path(get, path = "/setup/v1/link", tag = "setup link",
    responses(
        (status = 200, description = "The setup view of the link's connection", body = SetupPage),
        (status = 401, description = "No link secret given", body = ApiError),
        (status = 404, description = "Not a valid setup link", body = ApiError),
        (status = 410, description = "The link was revoked or has expired (the message says which)", body = ApiError),
    ))]
pub async fn view(
    State(st): State<AppState>,
    holder: LinkHolder,
) -> Result<Json<SetupPage>, ApiFailure> {
    let v = st.dir.open_setup_link(&holder.secret, holder.actor).await?;
    Ok(Json(SetupPage {
        connection_name: v.connection.name.clone(),
        idp: crate::api::idp_of(v.connection.idp),
        scim_url: format!("{}/{}", st.scim_base, v.connection.id),
        expires_at: v.link.expires_at.clone(),
        status: status_of(&st, &v.link),
        configured_at: v.link.configured_at.clone(),
        progress: progress_of(v.progress),
    }))
}

/// Issues the connection's SCIM bearer token and shows it, once per link: a second call is
/// 409 (ask for a new link, or the SaaS team rotates the token in the console).
#[utoipa::path(post, path = "/setup/v1/link/reveal", tag = "setup link",
    responses(
        (status = 201, description = "The SCIM URL and token, shown this once", body = SetupCredential),
        (status = 401, description = "No link secret given", body = ApiError),
        (status = 404, description = "Not a valid setup link", body = ApiError),
        (status = 409, description = "The credential was already shown", body = ApiError),
        (status = 410, description = "The link was revoked or has expired", body = ApiError),
    ))]
pub async fn reveal(
    State(st): State<AppState>,
    holder: LinkHolder,
) -> Result<impl IntoResponse, ApiFailure> {
    let (link, token) = st
        .dir
        .reveal_setup_credential(&holder.secret, holder.actor)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(SetupCredential {
            scim_url: format!("{}/{}", st.scim_base, link.connection_id),
            token: token.secret,
            token_prefix: token.prefix,
        }),
    ))
}
