//! The setup page's API (`/setup/v1`): what the customer's IT admin, holding a setup link and
//! no console account, may see and do for that link's one connection — read its setup view,
//! reveal its SCIM credential once — and nothing else.

use crate::bearer::bearer_token;
use crate::error_body::{ApiError, ApiFailure};
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::{header, request::Parts, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use directory::setup_links::{CredentialKind, LinkStatus, Progress, Revealed, SetupLink};
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
        let secret = bearer_token(&parts.headers)
            .map(str::to_string)
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
    pub idp: crate::wire::Idp,
    pub scim_url: String,
    pub expires_at: String,
    /// sent, opened, configured or first_sync (an expired or revoked link answers 410).
    pub status: LinkStatus,
    /// When the credential was revealed (then never again), and which kind it was.
    pub configured_at: Option<String>,
    /// bearer or oauth, once revealed.
    pub credential_kind: Option<String>,
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
    pub outcome: directory::log::LogOutcome,
}

/// Which credential the IT admin asks for: a bearer token (every IdP; the default) or OAuth
/// client credentials (Entra's recommended mode).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, TS, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum SetupCredentialKind {
    #[default]
    Bearer,
    Oauth,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct RevealRequest {
    #[serde(default)]
    pub kind: SetupCredentialKind,
}

/// The credential, shown once: the IdP's SCIM URL with a bearer token, or with the OAuth
/// client's token endpoint, client identifier and a client secret.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SetupCredential {
    pub scim_url: String,
    pub kind: SetupCredentialKind,
    /// The bearer token (kind bearer).
    pub token: Option<String>,
    /// The OAuth client (kind oauth): RFC 6749 §4.4 at `token_endpoint`.
    pub token_endpoint: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub client_secret_expires_at: Option<String>,
    /// The start of the token or client secret, as the console lists it.
    pub prefix: String,
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

fn status_of(st: &AppState, link: &SetupLink) -> LinkStatus {
    link.status(st.dir.now())
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
        idp: v.connection.idp.into(),
        scim_url: format!("{}/{}", st.scim_base, v.connection.id),
        expires_at: v.link.expires_at.clone(),
        status: status_of(&st, &v.link),
        configured_at: v.link.configured_at.clone(),
        credential_kind: v.link.credential_kind.clone(),
        progress: progress_of(v.progress),
    }))
}

/// Issues the connection's SCIM credential and shows it, once per link: a bearer token, or
/// (`{"kind": "oauth"}`) a client secret of its OAuth client. A second call is 409 (ask for a
/// new link, or the SaaS team issues another in the console). The body may be empty.
#[utoipa::path(post, path = "/setup/v1/link/reveal", tag = "setup link",
    request_body(content = Option<RevealRequest>, description = "Which credential (default: bearer)"),
    responses(
        (status = 201, description = "The credential, shown this once", body = SetupCredential),
        (status = 400, description = "Not a valid request body", body = ApiError),
        (status = 401, description = "No link secret given", body = ApiError),
        (status = 404, description = "Not a valid setup link", body = ApiError),
        (status = 409, description = "The credential was already shown", body = ApiError),
        (status = 410, description = "The link was revoked or has expired", body = ApiError),
    ))]
pub async fn reveal(
    State(st): State<AppState>,
    holder: LinkHolder,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, ApiFailure> {
    let req: RevealRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RevealRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiFailure::bad_request(format!(
                "not a reveal request ({{\"kind\": \"bearer\" | \"oauth\"}}): {e}"
            ))
        })?
    };
    let kind = match req.kind {
        SetupCredentialKind::Bearer => CredentialKind::Bearer,
        SetupCredentialKind::Oauth => CredentialKind::OAuth,
    };
    let (link, revealed) = st
        .dir
        .reveal_setup_credential(&holder.secret, kind, holder.actor)
        .await?;
    let scim_url = format!("{}/{}", st.scim_base, link.connection_id);
    let credential = match revealed {
        Revealed::Bearer(token) => SetupCredential {
            scim_url,
            kind: req.kind,
            token: Some(token.secret),
            token_endpoint: None,
            client_id: None,
            client_secret: None,
            client_secret_expires_at: None,
            prefix: token.prefix,
        },
        Revealed::OAuth(secret) => SetupCredential {
            scim_url,
            kind: req.kind,
            token: None,
            token_endpoint: Some(crate::oauth::endpoint(&st.origin)),
            client_id: Some(directory::oauth::client_id(&link.connection_id)),
            client_secret: Some(secret.secret),
            client_secret_expires_at: Some(secret.record.expires_at),
            prefix: secret.record.prefix,
        },
    };
    Ok((StatusCode::CREATED, Json(credential)))
}
