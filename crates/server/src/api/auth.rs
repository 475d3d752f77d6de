//! Signing in to the console as oneself: password (and TOTP) sign-in, enrolment from a
//! one-time link, who am I, signing out, and one's own sessions. Failed sign-ins are
//! audited and, per source address, throttled.

use super::team_types::{
    AdminRow, ConsoleSessionRow, Enrol, EnrolmentView, Me, PasswordSignIn, SignedIn,
};
use super::{AdminActor, ApiFailure, ApiJson, ApiResult, Who};
use crate::error_body::ApiError;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use directory::admins::totp;
use directory::service::{SignInRefused, TotpProof};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

fn refused(why: SignInRefused) -> ApiFailure {
    let status = match why {
        SignInRefused::Disabled | SignInRefused::NotOnTeam => StatusCode::FORBIDDEN,
        _ => StatusCode::UNAUTHORIZED,
    };
    ApiFailure::new(status, why.code(), why.message())
}

/// Signs in with an email and password (and the authenticator code, for an account with
/// TOTP). The answer's `session` is the bearer credential for every later request.
#[utoipa::path(post, path = "/api/auth/password", tag = "team",
    request_body = PasswordSignIn,
    responses(
        (status = 200, description = "Signed in", body = SignedIn),
        (status = 401, description = "bad_credentials, totp_required or bad_totp", body = ApiError),
        (status = 403, description = "disabled", body = ApiError),
        (status = 429, description = "Too many failed sign-ins from this address", body = ApiError),
    ))]
pub async fn sign_in_password(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    ApiJson(body): ApiJson<PasswordSignIn>,
) -> ApiResult<SignedIn> {
    let source = actor.source().unwrap_or("unknown").to_string();
    if let Some(secs) = st.sign_in_throttle.wait(&source) {
        return Err(ApiFailure::new(
            StatusCode::TOO_MANY_REQUESTS,
            "throttled",
            format!("too many failed sign-ins from this address; try again in {secs} seconds"),
        ));
    }
    let answer = st
        .dir
        .sign_in_password(&body.email, &body.password, body.totp.as_deref(), actor)
        .await?;
    match answer {
        Ok(issued) => Ok(Json(issued.into())),
        Err(why) => {
            if why != SignInRefused::TotpRequired {
                st.sign_in_throttle.failed(&source);
            }
            Err(refused(why))
        }
    }
}

/// An enrolment link's secret, sent in a body (never in a URL).
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct EnrolmentLookup {
    pub enrolment: String,
}

/// Who an enrolment link is for, and a fresh TOTP seed they may turn on.
#[utoipa::path(post, path = "/api/auth/enrolment", tag = "team",
    request_body = EnrolmentLookup,
    responses(
        (status = 200, description = "The link works", body = EnrolmentView),
        (status = 404, description = "No such link", body = ApiError),
        (status = 410, description = "Used, expired, or the account is disabled", body = ApiError),
    ))]
pub async fn enrolment(
    State(st): State<AppState>,
    ApiJson(body): ApiJson<EnrolmentLookup>,
) -> ApiResult<EnrolmentView> {
    let admin = st.dir.enrolment(&body.enrolment).await?;
    let seed = totp::new_seed();
    Ok(Json(EnrolmentView {
        totp_uri: totp::uri(&seed, &admin.email, "Muster"),
        totp_seed: seed,
        email: admin.email,
        role: admin.role,
    }))
}

/// Sets the password (and, with a seed and a code proving the app has it, TOTP) of the
/// account an enrolment link is for. The link works once.
#[utoipa::path(post, path = "/api/auth/enrol", tag = "team",
    request_body = Enrol,
    responses(
        (status = 200, description = "Enrolled: sign in with the new password", body = AdminRow),
        (status = 400, description = "Password too short or long, or a wrong authenticator code", body = ApiError),
        (status = 404, description = "No such link", body = ApiError),
        (status = 410, description = "Used, expired, or the account is disabled", body = ApiError),
    ))]
pub async fn enrol(
    State(st): State<AppState>,
    ApiJson(body): ApiJson<Enrol>,
) -> ApiResult<AdminRow> {
    let proof = match (body.totp_seed, body.totp_code) {
        (Some(seed), Some(code)) => Some(TotpProof { seed, code }),
        (None, None) => None,
        _ => {
            return Err(ApiFailure::bad_request(
                "to turn on TOTP send both totp_seed and totp_code",
            ))
        }
    };
    let admin = st
        .dir
        .enrol_admin(&body.enrolment, &body.password, proof)
        .await?;
    Ok(Json(admin.into()))
}

/// Who the console is signed in as, and what their role allows.
#[utoipa::path(get, path = "/api/auth/me", tag = "team",
    responses((status = 200, description = "The caller", body = Me)))]
pub async fn me(Who(p): Who) -> ApiResult<Me> {
    Ok(Json(p.me()))
}

/// Ends the caller's own session.
#[utoipa::path(post, path = "/api/auth/signout", tag = "team",
    responses(
        (status = 204, description = "Signed out"),
        (status = 400, description = "The admin secret has no session to end", body = ApiError),
    ))]
pub async fn sign_out(
    State(st): State<AppState>,
    Who(p): Who,
    AdminActor(actor): AdminActor,
) -> Result<StatusCode, ApiFailure> {
    let Some(id) = p.session_id() else {
        return Err(ApiFailure::bad_request(
            "the admin secret has no session to end",
        ));
    };
    st.dir.end_admin_session(id, "signout", actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's own live sessions (other browsers, the desktop app).
#[utoipa::path(get, path = "/api/auth/sessions", tag = "team",
    responses((status = 200, description = "Live sessions, newest first", body = Vec<ConsoleSessionRow>)))]
pub async fn my_sessions(
    State(st): State<AppState>,
    Who(p): Who,
) -> ApiResult<Vec<ConsoleSessionRow>> {
    let super::access::Principal::Person { admin, session } = &p else {
        return Ok(Json(Vec::new()));
    };
    let list = st.dir.admin_sessions(Some(&admin.id)).await?;
    Ok(Json(
        list.into_iter()
            .map(|s| ConsoleSessionRow::of(s, Some(&session.id)))
            .collect(),
    ))
}

/// Ends one of the caller's own sessions (say, a browser left signed in elsewhere).
#[utoipa::path(post, path = "/api/auth/sessions/{sid}/revoke", tag = "team",
    params(("sid" = String, Path, description = "Session id")),
    responses(
        (status = 200, description = "Revoked", body = ConsoleSessionRow),
        (status = 404, description = "None of the caller's sessions", body = ApiError),
    ))]
pub async fn revoke_my_session(
    State(st): State<AppState>,
    Who(p): Who,
    AdminActor(actor): AdminActor,
    Path(sid): Path<String>,
) -> ApiResult<ConsoleSessionRow> {
    let mine = match &p {
        super::access::Principal::Person { admin, .. } => st
            .dir
            .admin_session(&sid)
            .await
            .ok()
            .filter(|s| s.admin_id == admin.id),
        super::access::Principal::Secret => None,
    };
    if mine.is_none() {
        return Err(ApiFailure::not_found("no such session of yours"));
    }
    let s = st.dir.end_admin_session(&sid, "signout", actor).await?;
    Ok(Json(ConsoleSessionRow::of(s, p.session_id())))
}
