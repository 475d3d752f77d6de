//! The team in the admin API, for owners: the admin accounts and their roles, enrolment
//! links, and every live console session, with revocation.

use super::team_types::{AdminChange, AdminRow, ConsoleSessionRow, EnrolmentIssued, NewAdmin};
use super::{AdminActor, ApiJson, ApiResult, Who};
use crate::error_body::ApiError;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use directory::admins::IssuedEnrolment;

/// The console URL that completes an enrolment: the secret rides in the fragment, which a
/// browser never sends to a server.
pub fn enrolment_url(origin: &str, secret: &str) -> String {
    format!("{}/#enrol={secret}", origin.trim_end_matches('/'))
}

fn issued(st: &AppState, e: IssuedEnrolment) -> EnrolmentIssued {
    EnrolmentIssued {
        url: enrolment_url(&st.origin, &e.secret),
        expires_at: e.expires_at,
        admin: e.admin.into(),
    }
}

/// The team's accounts.
#[utoipa::path(get, path = "/api/team/admins", tag = "team",
    responses((status = 200, description = "Every account", body = Vec<AdminRow>)))]
pub async fn list_admins(State(st): State<AppState>) -> ApiResult<Vec<AdminRow>> {
    let list = st.dir.admins().await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Adds a person with a role; the answer holds their one-time enrolment link.
#[utoipa::path(post, path = "/api/team/admins", tag = "team",
    request_body = NewAdmin,
    responses(
        (status = 200, description = "Added; send them the link", body = EnrolmentIssued),
        (status = 400, description = "Not an email address", body = ApiError),
        (status = 409, description = "Already on the team", body = ApiError),
    ))]
pub async fn add_admin(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    ApiJson(body): ApiJson<NewAdmin>,
) -> ApiResult<EnrolmentIssued> {
    let e = st
        .dir
        .add_admin(&body.email, body.name.as_deref(), body.role, actor)
        .await?;
    Ok(Json(issued(&st, e)))
}

/// Changes a person's role or disables them. Takes effect on their very next request; a
/// disabled person's sessions end at once. The last owner stays an active owner.
#[utoipa::path(patch, path = "/api/team/admins/{aid}", tag = "team",
    params(("aid" = String, Path, description = "Admin id")),
    request_body = AdminChange,
    responses(
        (status = 200, description = "Changed", body = AdminRow),
        (status = 404, description = "No such admin", body = ApiError),
        (status = 409, description = "It would leave the team without an owner", body = ApiError),
    ))]
pub async fn change_admin(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path(aid): Path<String>,
    ApiJson(body): ApiJson<AdminChange>,
) -> ApiResult<AdminRow> {
    let mut admin = st.dir.admin(&aid).await?;
    if let Some(role) = body.role {
        admin = st.dir.set_admin_role(&aid, role, actor.clone()).await?;
    }
    if let Some(disabled) = body.disabled {
        admin = st.dir.set_admin_disabled(&aid, disabled, actor).await?;
    }
    Ok(Json(admin.into()))
}

/// A new enrolment link for a person (the old one stops working).
#[utoipa::path(post, path = "/api/team/admins/{aid}/enrolment", tag = "team",
    params(("aid" = String, Path, description = "Admin id")),
    responses(
        (status = 200, description = "The new link", body = EnrolmentIssued),
        (status = 404, description = "No such admin", body = ApiError),
    ))]
pub async fn reissue_enrolment(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path(aid): Path<String>,
) -> ApiResult<EnrolmentIssued> {
    let e = st.dir.reissue_enrolment(&aid, actor).await?;
    Ok(Json(issued(&st, e)))
}

/// Every live console session on the server.
#[utoipa::path(get, path = "/api/team/sessions", tag = "team",
    responses((status = 200, description = "Live sessions, newest first", body = Vec<ConsoleSessionRow>)))]
pub async fn all_sessions(
    State(st): State<AppState>,
    Who(p): Who,
) -> ApiResult<Vec<ConsoleSessionRow>> {
    let list = st.dir.admin_sessions(None).await?;
    Ok(Json(
        list.into_iter()
            .map(|s| ConsoleSessionRow::of(s, p.session_id()))
            .collect(),
    ))
}

/// Ends anyone's session.
#[utoipa::path(post, path = "/api/team/sessions/{sid}/revoke", tag = "team",
    params(("sid" = String, Path, description = "Session id")),
    responses(
        (status = 200, description = "Revoked", body = ConsoleSessionRow),
        (status = 404, description = "No such session", body = ApiError),
    ))]
pub async fn revoke_any_session(
    State(st): State<AppState>,
    Who(p): Who,
    AdminActor(actor): AdminActor,
    Path(sid): Path<String>,
) -> ApiResult<ConsoleSessionRow> {
    let s = st
        .dir
        .end_admin_session(&sid, "session.revoke", actor)
        .await?;
    Ok(Json(ConsoleSessionRow::of(s, p.session_id())))
}
