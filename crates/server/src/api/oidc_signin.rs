//! Signing in to the console with the company's identity provider: which sign-in methods
//! this server offers, starting an authorization-code sign-in with PKCE, and finishing it
//! when the provider sends the browser back. Every refusal is audited.

use super::team_types::SignedIn;
use super::{AdminActor, ApiFailure, ApiJson, ApiResult};
use crate::error_body::ApiError;
use crate::oidc::{self, id_token};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use directory::audit::Actor;
use directory::oidc_logins::OidcRefusal;
use directory::service::SignInRefused;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// The identity provider this server signs admins in with.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct OidcProvider {
    pub issuer: String,
}

/// How one can sign in to this server.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SignInProviders {
    pub password: bool,
    pub oidc: Option<OidcProvider>,
}

/// Starts an identity-provider sign-in that comes back to `redirect_uri`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct OidcStart {
    pub redirect_uri: String,
}

/// Where to send the browser.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct OidcStarted {
    pub authorization_url: String,
}

/// What the provider sent back to the redirect URI.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct OidcFinish {
    pub state: String,
    pub code: String,
}

/// The sign-in methods this server offers.
#[utoipa::path(get, path = "/api/auth/providers", tag = "team",
    responses((status = 200, description = "Sign-in methods", body = SignInProviders)))]
pub async fn providers(State(st): State<AppState>) -> ApiResult<SignInProviders> {
    Ok(Json(SignInProviders {
        password: true,
        oidc: st.oidc.get().map(|o| OidcProvider {
            issuer: o.issuer.clone(),
        }),
    }))
}

fn config(st: &AppState) -> Result<std::sync::Arc<oidc::OidcConfig>, ApiFailure> {
    st.oidc.get().ok_or_else(|| {
        ApiFailure::new(
            StatusCode::NOT_FOUND,
            "oidc_not_configured",
            "this server has no identity provider configured (an owner sets one on the Team screen, or muster serve --oidc-issuer)",
        )
    })
}

/// Whether the provider may send the browser back to `uri`: this server's console callback
/// (`{origin}/auth/callback`, on its own origin or an `--admin-host` over HTTPS), or a
/// loopback port for the desktop app (RFC 8252 §7.3).
pub fn redirect_allowed(st: &AppState, uri: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(uri) else {
        return false;
    };
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return false;
    }
    let host = url.host_str().unwrap_or("");
    if url.scheme() == "http" && (host == "127.0.0.1" || host == "[::1]") {
        return url.port().is_some();
    }
    if url.path() != "/auth/callback" || url.query().is_some() {
        return false;
    }
    let origin = url.origin().ascii_serialization();
    origin == st.origin.trim_end_matches('/')
        || (url.scheme() == "https" && st.admin_hosts.iter().any(|h| h == host))
}

/// Starts a sign-in with the identity provider (authorization code flow with PKCE): the
/// answer is the provider's authorization URL to send the browser to. The state is good
/// for 10 minutes, once.
#[utoipa::path(post, path = "/api/auth/oidc/start", tag = "team",
    request_body = OidcStart,
    responses(
        (status = 200, description = "Send the browser here", body = OidcStarted),
        (status = 400, description = "The redirect URI is not this server's callback or a loopback port", body = ApiError),
        (status = 404, description = "oidc_not_configured", body = ApiError),
        (status = 503, description = "oidc_unavailable: the provider cannot be reached", body = ApiError),
    ))]
pub async fn start(
    State(st): State<AppState>,
    ApiJson(body): ApiJson<OidcStart>,
) -> ApiResult<OidcStarted> {
    let config = config(&st)?;
    if !redirect_allowed(&st, &body.redirect_uri) {
        return Err(ApiFailure::bad_request(format!(
            "redirect_uri must be {}/auth/callback or a loopback http://127.0.0.1:<port>/ address",
            st.origin.trim_end_matches('/')
        )));
    }
    let endpoint = st
        .jwks
        .discovery(&config.issuer)
        .await
        .ok()
        .and_then(|d| d.authorization_endpoint)
        .ok_or_else(|| unavailable("the identity provider's discovery document cannot be used"))?;
    let started = st.dir.start_oidc_login(&body.redirect_uri).await?;
    let url = oidc::authorization_url(
        &endpoint,
        &config,
        &body.redirect_uri,
        &started.state,
        &started.nonce,
        &started.verifier,
    )
    .map_err(|e| unavailable(&e))?;
    Ok(Json(OidcStarted {
        authorization_url: url,
    }))
}

fn unavailable(detail: &str) -> ApiFailure {
    ApiFailure::new(
        StatusCode::SERVICE_UNAVAILABLE,
        OidcRefusal::Unavailable.code(),
        format!("{}: {detail}", OidcRefusal::Unavailable.message()),
    )
}

fn refused(why: SignInRefused, detail: Option<&str>) -> ApiFailure {
    let status = match why {
        SignInRefused::Disabled | SignInRefused::NotOnTeam => StatusCode::FORBIDDEN,
        SignInRefused::Oidc(OidcRefusal::Unavailable) => StatusCode::SERVICE_UNAVAILABLE,
        SignInRefused::Oidc(
            OidcRefusal::StateUnknown | OidcRefusal::StateReplayed | OidcRefusal::StateExpired,
        ) => StatusCode::BAD_REQUEST,
        _ => StatusCode::UNAUTHORIZED,
    };
    let message = match detail {
        Some(d) => format!("{} ({d})", why.message()),
        None => why.message().to_string(),
    };
    ApiFailure::new(status, why.code(), message)
}

/// Audits and answers a refusal found by the server (not the directory).
async fn refuse(st: &AppState, actor: Actor, (why, detail): id_token::Refused) -> ApiFailure {
    let why = SignInRefused::Oidc(why);
    tracing::info!(code = why.code(), detail = %detail, "identity provider sign-in refused");
    if let Err(e) = st.dir.sign_in_failed("identity provider", why, actor).await {
        return e.into();
    }
    refused(why, Some(&detail))
}

/// Finishes a sign-in when the provider has sent the browser back with `state` and `code`:
/// the state is spent, the code exchanged (with the PKCE verifier), the ID token verified
/// against the provider's keys (its email, when the ID token carries none, read from the
/// provider's UserInfo endpoint for the same subject), and the person it names signed in if
/// they are on the team.
#[utoipa::path(post, path = "/api/auth/oidc/finish", tag = "team",
    request_body = OidcFinish,
    responses(
        (status = 200, description = "Signed in", body = SignedIn),
        (status = 400, description = "oidc_state_unknown, oidc_state_replayed or oidc_state_expired", body = ApiError),
        (status = 401, description = "oidc_code, oidc_token, oidc_signature, oidc_issuer, oidc_audience, oidc_nonce or oidc_expired", body = ApiError),
        (status = 403, description = "not_on_team or disabled", body = ApiError),
        (status = 404, description = "oidc_not_configured", body = ApiError),
        (status = 503, description = "oidc_unavailable", body = ApiError),
    ))]
pub async fn finish(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    ApiJson(body): ApiJson<OidcFinish>,
) -> ApiResult<SignedIn> {
    let config = config(&st)?;
    let pending = match st.dir.take_oidc_login(&body.state, actor.clone()).await? {
        Ok(p) => p,
        Err(why) => return Err(refused(why, None)),
    };
    let discovery = match st.jwks.discovery(&config.issuer).await {
        Ok(d) => d,
        Err(e) => return Err(refuse(&st, actor, (OidcRefusal::Unavailable, e)).await),
    };
    let Some(token_endpoint) = discovery.token_endpoint.as_deref() else {
        let e = "the discovery document has no token_endpoint".to_string();
        return Err(refuse(&st, actor, (OidcRefusal::Unavailable, e)).await);
    };
    let tokens = match oidc::exchange_code(
        st.jwks.client(),
        token_endpoint,
        &config,
        &body.code,
        &pending.redirect_uri,
        &pending.verifier,
    )
    .await
    {
        Ok(t) => t,
        Err(r) => return Err(refuse(&st, actor, r).await),
    };
    let now = st.dir.now().timestamp();
    let mut who = match id_token::verify(
        &st.jwks,
        now,
        &tokens.id_token,
        &config.issuer,
        &config.client_id,
        &pending.nonce,
    )
    .await
    {
        Ok(v) => v,
        Err(r) => return Err(refuse(&st, actor, r).await),
    };
    // A provider that keeps the email out of the ID token serves it from UserInfo.
    if who.verified_email.is_none() {
        if let (Some(endpoint), Some(access)) = (
            discovery.userinfo_endpoint.as_deref(),
            tokens.access_token.as_deref(),
        ) {
            match oidc::userinfo_email(st.jwks.client(), endpoint, access, &who.subject).await {
                Ok(email) => who.verified_email = email,
                Err(r) => return Err(refuse(&st, actor, r).await),
            }
        }
    }
    match st
        .dir
        .sign_in_oidc(
            &config.issuer,
            &who.subject,
            who.verified_email.as_deref(),
            actor,
        )
        .await?
    {
        Ok(issued) => Ok(Json(issued.into())),
        Err(why) => Err(refused(why, None)),
    }
}
